#!/usr/bin/env bash
# test-deps.sh: install and start what voxrun's tests need on a fresh Debian machine.
#
# Safe to run twice: it installs only what is missing, starts only what is not
# running, and (re)creates the throwaway test database. It prints the settings
# the tests read (VOXRUN_TEST_REDIS, VOXRUN_TEST_MYSQL) as shell exports to
# .cache/test-env.sh, which `make test` sources.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache="$here/.cache"
mkdir -p "$cache"

REDIS_PORT=${VOXRUN_TEST_REDIS_PORT:-6399}
MYSQL_SOCK=${VOXRUN_TEST_MYSQL_SOCK:-/run/mysqld/mysqld.sock}
MYSQL_PORT=${VOXRUN_TEST_MYSQL_PORT:-3306}
TEST_DB=voxrun_test
TEST_USER=voxrun_test
TEST_PASS=voxrun_test

log() { printf 'test-deps: %s\n' "$*" >&2; }

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 || need+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || command -v mysql >/dev/null 2>&1 || need+=(mariadb-client)
# node and npm run the jambonz npm packages that the tests use as oracles.
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v flite >/dev/null 2>&1 || need+=(flite)
command -v baresip >/dev/null 2>&1 || need+=(baresip)
command -v svwar >/dev/null 2>&1 || need+=(sipvicious)
# Debian's Chromium, driven headless by playwright-core in the console test.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Redis: our own instance on its own port, so a system Redis is never touched.
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --logfile "$cache/redis.log" --pidfile "$cache/redis.pid"
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
redis-cli -p "$REDIS_PORT" ping >/dev/null

# MariaDB: the system service, started if it is not running.
mysql_cli=$(command -v mariadb || command -v mysql)
if ! "$mysql_cli" --protocol=socket -S "$MYSQL_SOCK" -uroot -e 'select 1' >/dev/null 2>&1; then
  log "starting mariadb"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  if [ ! -d /var/lib/mysql/mysql ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null 2>&1 || true
  fi
  daemon=$(command -v mariadbd || command -v mysqld)
  # setsid: its own session, so that ending the shell (or the process
  # group) that ran this script does not take the database down with it.
  setsid nohup "$daemon" --user=mysql --datadir=/var/lib/mysql --socket="$MYSQL_SOCK" \
    --bind-address=127.0.0.1 --port="$MYSQL_PORT" >>"$cache/mariadb.log" 2>&1 &
  for _ in $(seq 1 100); do
    "$mysql_cli" --protocol=socket -S "$MYSQL_SOCK" -uroot -e 'select 1' >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
"$mysql_cli" --protocol=socket -S "$MYSQL_SOCK" -uroot <<SQL
CREATE USER IF NOT EXISTS '$TEST_USER'@'localhost' IDENTIFIED BY '$TEST_PASS';
CREATE USER IF NOT EXISTS '$TEST_USER'@'127.0.0.1' IDENTIFIED BY '$TEST_PASS';
GRANT ALL PRIVILEGES ON \`voxrun\_test%\`.* TO '$TEST_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`voxrun\_test%\`.* TO '$TEST_USER'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL

# playwright-core (no browser of its own: it drives /usr/bin/chromium) for
# the console test, in .cache/playwright.
PW_VERSION=1.65.1
pw="$cache/playwright"
if ! grep -qs "\"version\": \"$PW_VERSION\"" "$pw/node_modules/playwright-core/package.json"; then
  log "installing playwright-core $PW_VERSION into $pw"
  mkdir -p "$pw"
  npm install --no-audit --no-fund --silent --prefix "$pw" "playwright-core@$PW_VERSION" >/dev/null
fi

cat >"$cache/test-env.sh" <<SH
export VOXRUN_TEST_REDIS='redis://127.0.0.1:$REDIS_PORT/0'
export VOXRUN_TEST_MYSQL='$TEST_USER:$TEST_PASS@tcp(127.0.0.1:$MYSQL_PORT)/'
SH
log "ready: redis 127.0.0.1:$REDIS_PORT, mariadb 127.0.0.1:$MYSQL_PORT (user $TEST_USER, databases voxrun_test*)"
