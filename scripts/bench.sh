#!/usr/bin/env bash
# bench.sh: the benchmarks behind docs/benchmarks.md. Each is bounded in count
# and time and stops by itself; all traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
. ./.cache/test-env.sh

echo "== cold start: voxrun serve to /readyz 200, embedded defaults (median of 10)"
go run ./bench/coldstart -bin bin/voxrun -n 10

for pkg in bench/*/; do
  pkg=${pkg%/}
  [ "$pkg" = bench/coldstart ] && continue
  echo "== $pkg"
  go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-3s}" -timeout 20m "./$pkg"
done
