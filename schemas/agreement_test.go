package schemas

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// deliberateDifferences lists the corpus documents on which voxrun and
// @jambonz/schema's validate() disagree on purpose. Every other document must
// get the same verdict from both.
var deliberateDifferences = []struct {
	file   string
	voxrun bool // voxrun's verdict: true = valid
	reason string
}{
	{"bad/keyed_body_null.json", false, `jambonz spreads {"say":null} into a say with no attributes; a verb body that is not an object is a mistake, so voxrun rejects it`},
	{"bad/keyed_body_string.json", false, `jambonz spreads {"say":"hello"} into a say with attributes "0".."4"; voxrun rejects a body that is not an object`},
	{"bad/gather_numdigits_fraction.json", false, "numDigits, minDigits and maxDigits count digits, so voxrun requires integers where jambonz accepts any number (1.5 could never be reached)"},
	{"bad/sip_decline_status_range.json", false, "sip:decline sends a final failure response, so voxrun requires an integer status from 400 to 699 where jambonz accepts any number"},
	{"bad/gather_nested_say_bad.json", false, "jambonz's schema accepts any object as gather's nested say and fails only when the verb runs; voxrun validates nested say and play against their own schemas before anything runs"},
	{"bad/gather_nested_play_no_url.json", false, "as above: a nested play without url is rejected up front instead of failing mid-call"},
	{"bad/number_overflow.json", false, "1e400 overflows a float64 (JavaScript reads it as Infinity and jambonz accepts it); voxrun rejects numbers that overflow"},
	{"bad/too_many_verbs.json", false, "voxrun limits a document to 1,000 verbs (issue 6); jambonz has no limit"},
	{"bad/too_deep.json", false, "voxrun limits nesting inside a verb to 8 levels (issue 6); jambonz has no limit"},
	{"bad/string_too_long.json", false, "voxrun limits strings to 64 KiB (issue 6); jambonz has no limit"},
	{"bad/hook_password_boolean.json", false, "voxrun types a hook object's username and password as strings (or numbers, which jambonz apps write for numeric passwords); jambonz's schema does not name them, so any value passes"},
	{"bad/llm_tools_too_deep.json", false, "the depth limit of 8 (issue 6) also rejects deep LLM tool definitions, which jambonz accepts (its own gptlive_s2s example is one); Limits.MaxDepth can raise it"},
	{"good/gladia_options.json", true, "jambonz's gladiaOptions schema is closed without naming any option, so it rejects every option its description points to; voxrun passes them to Gladia"},
	{"good/confirm_hook_string.json", true, "jambonz's target.confirmHook is oneOf [uri string, actionHook], and actionHook is itself a string or an object, so a string matches twice and fails oneOf; its documentation says confirmHook is a URL, so voxrun accepts one"},
}

type oracleVerdict struct {
	File  string `json:"file"`
	Valid bool   `json:"valid"`
	Error string `json:"error"`
}

// oracle runs a script of testdata/oracle (verdicts.js: @jambonz/schema's
// validate() on documents; callbacks.js: its callback schemas on payloads)
// and returns its verdicts by file. It installs the oracle's node_modules
// when they are missing, and skips the test when node is missing, unless CI
// is "true".
func oracle(t *testing.T, script string, args []string) map[string]oracleVerdict {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node is required under CI to run the @jambonz/schema oracle: %v", err)
		}
		t.Skip("node not found; the agreement test with @jambonz/schema needs it (required when CI=true)")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "oracle"))
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@jambonz", "schema")); err != nil {
		npm, err := exec.LookPath("npm")
		require.NoError(t, err, "npm is needed to install the oracle's node_modules")
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci in %s: %s", dir, out)
	}
	cmd := exec.Command(node, append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	require.NoError(t, err, "running the oracle")
	var verdicts []oracleVerdict
	require.NoError(t, json.Unmarshal(out, &verdicts))
	byFile := make(map[string]oracleVerdict, len(verdicts))
	for _, v := range verdicts {
		byFile[v.File] = v
	}
	return byFile
}

func TestAgreesWithJambonzSchema(t *testing.T) {
	v := newTestValidator(t)
	files := corpus(t)
	paths := make([]string, len(files))
	for i, f := range files {
		abs, err := filepath.Abs(f.path)
		require.NoError(t, err)
		paths[i] = abs
	}
	verdicts := oracle(t, "verdicts.js", paths)

	differs := make(map[string]bool)
	for _, d := range deliberateDifferences {
		require.NotEmpty(t, d.reason)
		differs[d.file] = d.voxrun
	}
	used := make(map[string]bool)
	for i, f := range files {
		t.Run(f.name, func(t *testing.T) {
			jv, ok := verdicts[paths[i]]
			require.True(t, ok, "the oracle gave no verdict")
			doc, err := os.ReadFile(f.path)
			require.NoError(t, err)
			_, _, err = v.Load(doc, Options{})
			ours := err == nil
			require.Equal(t, f.good, ours, "voxrun's verdict does not match the corpus directory (err: %v)", err)
			if want, listed := differs[f.name]; listed {
				used[f.name] = true
				require.Equal(t, want, ours, "the table of differences has the wrong verdict")
				require.NotEqual(t, ours, jv.Valid, "listed as a deliberate difference, but both agree now: remove it from the table")
				return
			}
			require.Equal(t, jv.Valid, ours, "voxrun and @jambonz/schema disagree (voxrun: %v; jambonz: %s)", err, jv.Error)
		})
	}
	for _, d := range deliberateDifferences {
		require.True(t, used[d.file], "deliberate difference %s names no corpus document", d.file)
	}
}
