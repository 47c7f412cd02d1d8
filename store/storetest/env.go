package storetest

import (
	"os"
	"testing"
)

// Environment variables that point the tests at real servers; scripts/test-deps.sh
// starts the servers and `make test` exports them.
const (
	// RedisEnv holds a Redis URL, e.g. redis://127.0.0.1:6399/0.
	RedisEnv = "VOXRUN_TEST_REDIS"
	// MySQLEnv holds a go-sql-driver DSN without a database name, e.g.
	// voxrun_test:voxrun_test@tcp(127.0.0.1:3306)/ ; tests create databases
	// named voxrun_test_* under it.
	MySQLEnv = "VOXRUN_TEST_MYSQL"
)

// Server returns the value of env, or skips the test when it is unset. With
// CI=true an unset server is a failure, never a skip: CI must exercise the
// real servers.
func Server(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: with CI=true the real server is required (run scripts/test-deps.sh)", env)
	}
	t.Skipf("%s is not set; run `make test` to start the real server", env)
	return ""
}
