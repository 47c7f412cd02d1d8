package schemas

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/voxrun/voxrun/schemas/schematest"
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

func TestAgreesWithJambonzSchema(t *testing.T) {
	v := newTestValidator(t)
	files := corpus(t)
	paths := make([]string, len(files))
	for i, f := range files {
		abs, err := filepath.Abs(f.path)
		require.NoError(t, err)
		paths[i] = abs
	}
	verdicts := schematest.Documents(t, paths)

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
