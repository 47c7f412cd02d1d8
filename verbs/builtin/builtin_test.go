package builtin_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/schemas"
	"github.com/voxrun/voxrun/verbs"
	"github.com/voxrun/voxrun/verbs/builtin"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func registry(t *testing.T) (*verbs.Registry, *schemas.Validator) {
	t.Helper()
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	r := verbs.NewRegistry(v)
	builtin.Register(r)
	return r, v
}

// Every registered verb has a schema, a section in docs/verbs.md and a golden test.
func TestEveryVerbHasSchemaDocsAndGolden(t *testing.T) {
	r, v := registry(t)
	docs, err := os.ReadFile(filepath.Join("..", "..", "docs", "verbs.md"))
	require.NoError(t, err)
	for _, name := range r.Names() {
		_, ok := v.Schema(name)
		require.True(t, ok, "verb %s has no JSON schema", name)
		require.Contains(t, string(docs), "\n## "+name+"\n", "docs/verbs.md has no section for %s", name)
		_, err := os.Stat(filepath.Join("testdata", "golden", goldenName(name)+".in.json"))
		require.NoError(t, err, "verb %s has no golden test", name)
	}
}

func goldenName(verb string) string { return strings.ReplaceAll(verb, ":", "_") }

// Golden: each document decodes into the verbs shown in its .out.json.
func TestGoldenDecode(t *testing.T) {
	r, _ := registry(t)
	ins, err := filepath.Glob(filepath.Join("testdata", "golden", "*.in.json"))
	require.NoError(t, err)
	require.NotEmpty(t, ins)
	for _, in := range ins {
		t.Run(filepath.Base(in), func(t *testing.T) {
			doc, err := os.ReadFile(in)
			require.NoError(t, err)
			entries, _, err := r.Decode(doc, verbs.DecodeOptions{})
			require.NoError(t, err)
			type decoded struct {
				Verb  string     `json:"verb"`
				Path  string     `json:"path"`
				Value verbs.Verb `json:"value"`
			}
			var got []decoded
			for _, e := range entries {
				got = append(got, decoded{Verb: e.Verb.Name(), Path: e.Step.Path, Value: e.Verb})
			}
			b, err := json.MarshalIndent(got, "", "  ")
			require.NoError(t, err)
			out := strings.TrimSuffix(in, ".in.json") + ".out.json"
			if *update {
				require.NoError(t, os.WriteFile(out, append(b, '\n'), 0o644))
			}
			want, err := os.ReadFile(out)
			require.NoError(t, err, "run with -update to create it")
			require.JSONEq(t, string(want), string(b))
		})
	}
}

func TestDecodeRefusesWholeDocument(t *testing.T) {
	r, _ := registry(t)
	cases := []struct{ name, doc, path string }{
		{"unsupported verb", `[{"verb":"pause","length":1},{"verb":"conference","name":"x"}]`, "/1"},
		{"bad decline status", `[{"verb":"sip:decline","status":200}]`, "/0"},
		{"bad dtmf key", `[{"verb":"dtmf","dtmf":"12x"}]`, "/0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries, _, err := r.Decode([]byte(tc.doc), verbs.DecodeOptions{})
			require.Error(t, err)
			require.Nil(t, entries)
			require.Contains(t, err.Error(), tc.path)
		})
	}
}
