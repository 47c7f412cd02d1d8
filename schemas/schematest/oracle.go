package schematest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Verdict is the reference's answer on one file.
type Verdict struct {
	// File is the path of the document or payload, as given.
	File string `json:"file"`
	// Valid is true when the reference accepts it.
	Valid bool `json:"valid"`
	// Error is the reference's message when it rejects it.
	Error string `json:"error,omitempty"`
}

// installMu serialises npm ci between tests of one process.
var installMu sync.Mutex

// Dir returns the directory of the oracle (schemas/testdata/oracle).
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("schematest: cannot locate the oracle")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata", "oracle")
}

// node returns the node binary, installing the oracle's node_modules when
// they are missing. It skips t when node is missing, unless CI is "true".
func node(t testing.TB) (bin, dir string) {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("schematest: node is required under CI to run the @jambonz/schema oracle: %v", err)
		}
		t.Skip("schematest: node not found; tests against @jambonz/schema need it (required when CI=true)")
	}
	dir = Dir(t)
	installMu.Lock()
	defer installMu.Unlock()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@jambonz", "schema")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("schematest: npm is needed to install the oracle's node_modules: %v", err)
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("schematest: npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	return bin, dir
}

// run runs one of the oracle's scripts and returns its verdicts by file.
func run(t testing.TB, script string, args []string) map[string]Verdict {
	t.Helper()
	bin, dir := node(t)
	cmd := exec.Command(bin, append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("schematest: running %s: %v", script, err)
	}
	var verdicts []Verdict
	if err := json.Unmarshal(out, &verdicts); err != nil {
		t.Fatalf("schematest: reading the verdicts of %s: %v", script, err)
	}
	byFile := make(map[string]Verdict, len(verdicts))
	for _, v := range verdicts {
		byFile[v.File] = v
	}
	return byFile
}

// Documents runs @jambonz/schema's validate() on verb documents (JSON files)
// and returns its verdicts by file. Paths should be absolute.
func Documents(t testing.TB, files []string) map[string]Verdict {
	t.Helper()
	return run(t, "verdicts.js", files)
}

// Callbacks validates hook payloads (JSON files) against @jambonz/schema's
// callback schemas; callbacks maps each file to the name of its schema
// ("call-status", "gather", "dial", "session-new", ...). Paths should be
// absolute.
func Callbacks(t testing.TB, callbacks map[string]string) map[string]Verdict {
	t.Helper()
	args := make([]string, 0, len(callbacks))
	for file, cb := range callbacks {
		args = append(args, cb+"="+file)
	}
	return run(t, "callbacks.js", args)
}

// RequireCallback fails t unless jambonz's callback schema accepts payload.
func RequireCallback(t testing.TB, callback string, payload []byte) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "payload.json")
	if err := os.WriteFile(f, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	v, ok := Callbacks(t, map[string]string{f: callback})[f]
	if !ok {
		t.Fatalf("schematest: no verdict for the %s payload", callback)
	}
	if !v.Valid {
		t.Fatalf("schematest: jambonz's %s schema rejects the payload: %s\n%s", callback, v.Error, payload)
	}
}
