package storetest

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/google/uuid"
)

// MySQLDatabase creates a fresh database voxrun_test_<random> on the test
// server (MySQLEnv), drops it when the test ends, and returns its DSN. Like
// Server, it skips without a server, or fails under CI=true.
func MySQLDatabase(t testing.TB) string {
	t.Helper()
	base := Server(t, MySQLEnv)
	mc, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("%s: %v", MySQLEnv, err)
	}
	name := "voxrun_test_" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
	mc.DBName = ""
	admin, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
		_ = admin.Close()
	})
	mc.DBName = name
	return mc.FormatDSN()
}
