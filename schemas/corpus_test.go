package schemas

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// corpusFile is one document of testdata/corpus: good ones must be accepted,
// bad ones rejected.
type corpusFile struct {
	name string // "good/say_text.json"
	path string
	good bool
}

func corpus(t testing.TB) []corpusFile {
	t.Helper()
	var out []corpusFile
	for _, dir := range []string{"good", "bad"} {
		paths, err := filepath.Glob(filepath.Join("testdata", "corpus", dir, "*.json"))
		require.NoError(t, err)
		require.NotEmpty(t, paths)
		for _, p := range paths {
			out = append(out, corpusFile{name: dir + "/" + filepath.Base(p), path: p, good: dir == "good"})
		}
	}
	return out
}

func newTestValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := NewValidator()
	require.NoError(t, err)
	return v
}

func TestCorpus(t *testing.T) {
	v := newTestValidator(t)
	files := corpus(t)
	require.GreaterOrEqual(t, len(files), 60, "the corpus should hold at least 60 documents")
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			doc, err := os.ReadFile(f.path)
			require.NoError(t, err)
			plan, warnings, err := v.Load(doc, Options{})
			if f.good {
				require.NoError(t, err)
				require.NotNil(t, plan)
				if !strings.Contains(f.name, "unknown") {
					require.Empty(t, warnings, "only documents named *unknown* have unknown attributes")
				}
				return
			}
			require.Error(t, err)
			require.ErrorIs(t, err, ErrInvalidDocument)
			var de *DocumentError
			require.True(t, errors.As(err, &de))
			require.True(t, strings.HasPrefix(err.Error(), "schemas: "), err.Error())
		})
	}
}

// TestCorpusCoversEveryVerb keeps the corpus honest: every canonical verb and
// every alias appears in a good document, in both shapes across the corpus.
func TestCorpusCoversEveryVerb(t *testing.T) {
	v := newTestValidator(t)
	seen := make(map[string]bool)
	shapes := map[string]bool{}
	for _, f := range corpus(t) {
		if !f.good {
			continue
		}
		doc, err := os.ReadFile(f.path)
		require.NoError(t, err)
		plan, err := v.Normalize(doc, Limits{})
		require.NoError(t, err, f.name)
		for _, s := range plan {
			seen[s.Verb] = true
			if s.As != "" {
				seen[s.As] = true
			}
			if strings.Count(s.Path, "/") == 1 {
				shapes["flat"] = true
			} else {
				shapes["keyed"] = true
			}
		}
	}
	for _, name := range v.Verbs() {
		require.True(t, seen[name], "no good corpus document uses verb %q", name)
	}
	for _, name := range []string{"stream", "room", "s2s", "openai_s2s", "elevenlabs_s2s"} {
		require.True(t, seen[name], "no good corpus document uses alias %q", name)
	}
	require.True(t, shapes["flat"] && shapes["keyed"])
}
