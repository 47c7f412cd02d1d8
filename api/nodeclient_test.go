package api

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

// nodeOrSkip returns the path of node and npm, or skips the test when node is
// absent; with CI=true an absent node fails instead.
func nodeOrSkip(t *testing.T) (node, npm string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		npm, err = exec.LookPath("npm")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and npm are required with CI=true: %v", err)
		}
		t.Skipf("node or npm not installed: %v", err)
	}
	return node, npm
}

// TestNodeClientOracle drives the API with jambonz's own npm client,
// @jambonz/node-client (pinned in testdata/nodeclient/package.json): it
// creates, lists, retrieves, updates and deletes applications against a
// server on 127.0.0.1.
func TestNodeClientOracle(t *testing.T) {
	node, npm := nodeOrSkip(t)
	dir, err := filepath.Abs(filepath.Join("testdata", "nodeclient"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@jambonz", "node-client")); err != nil {
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci: %s", out)
	}

	e := newEnv(t)
	base := e.serve(t)
	a := e.accounts[0][0]
	cmd := exec.CommandContext(ctx, node, "oracle.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VOXRUN_BASE_URL="+base, "VOXRUN_ACCOUNT_SID="+a.account, "VOXRUN_API_KEY="+a.key)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "node oracle.js: %s", stderr.String())

	var got struct {
		SID     string           `json:"sid"`
		List    []map[string]any `json:"list"`
		One     map[string]any   `json:"one"`
		Renamed string           `json:"renamed"`
		Missing string           `json:"missing"`
		After   []map[string]any `json:"after"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &got), stdout.String())
	require.NotEmpty(t, got.SID)
	require.Len(t, got.List, 1)
	require.Equal(t, got.SID, got.List[0]["application_sid"])
	require.Equal(t, "node-client oracle", got.One["name"])
	require.Equal(t, a.account, got.One["account_sid"])
	hook := got.One["call_hook"].(map[string]any)
	require.Equal(t, "https://example.com/call", hook["url"])
	require.Equal(t, "user", hook["username"])
	require.Equal(t, "renamed by node-client", got.Renamed)
	require.Contains(t, got.Missing, "not found")
	require.Len(t, got.After, 1, "the second application was deleted")

	// What the client did is what the store holds.
	app, err := e.prov.Applications(store.ForAccount(a.sp, a.account)).Get(context.Background(), got.SID)
	require.NoError(t, err)
	require.Equal(t, "renamed by node-client", app.Name)
	require.Equal(t, "https://example.com/status", app.CallStatusHook.URL)
}
