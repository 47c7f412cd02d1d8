package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

func TestCLIUsageAndHelp(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no command", nil, 2, "Commands:"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"help", []string{"help"}, 0, "migrate status"},
		{"version", []string{"version"}, 0, "voxrun "},
		{"serve help", []string{"serve", "--help"}, 0, "--http-addr"},
		{"serve help names env", []string{"serve", "--help"}, 0, "VOXRUN_MYSQL_DSN"},
		{"migrate help", []string{"migrate", "--help"}, 0, "migrate up"},
		{"migrate up help", []string{"migrate", "up", "--help"}, 0, "--mysql-dsn"},
		{"migrate bad sub", []string{"migrate", "sideways"}, 2, "up"},
		{"serve stray arg", []string{"serve", "now"}, 2, "unexpected argument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			require.Contains(t, out+errOut, tc.contains)
		})
	}
}

// Every setting is documented where users look: README and docs/configuration.md.
func TestEverySettingIsDocumented(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	conf, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	require.NoError(t, err)
	for _, st := range settings() {
		require.Contains(t, string(readme), "`"+st.key+"`", "README configuration table lacks %s", st.key)
		for _, name := range []string{"`" + st.key + "`", "`" + st.env() + "`", "`--" + st.flag() + "`"} {
			require.True(t, strings.Contains(string(conf), name), "docs/configuration.md lacks %s", name)
		}
	}
}

func TestMigrateUpIsIdempotentAndStatusPrintsVersions(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "migrate", "up", "--data-dir", dir)
	require.Equal(t, 0, code, errOut)
	code, _, errOut = runCLI(t, "migrate", "up", "--data-dir", dir)
	require.Equal(t, 0, code, "second run: %s", errOut)
	code, out, errOut := runCLI(t, "migrate", "status", "--data-dir", dir)
	require.Equal(t, 0, code, errOut)
	for _, table := range []string{"accounts", "applications", "api_keys", "cdrs"} {
		require.Contains(t, out, table)
	}
}
