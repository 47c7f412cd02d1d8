package schemas

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenMaxInput skips corpus documents too large to be worth a golden file
// (the limit documents); the corpus test still covers them.
const goldenMaxInput = 16 << 10

// golden is what a document turns into: the normalised plan and the warnings
// of a good document, or the error of a bad one.
type golden struct {
	Plan     Plan    `json:"plan,omitempty"`
	Warnings []Issue `json:"warnings,omitempty"`
	Error    *Issue  `json:"error,omitempty"`
}

// TestGolden checks each corpus document against testdata/golden/<name>.json;
// run with -update to rewrite them after a deliberate change.
func TestGolden(t *testing.T) {
	v := newTestValidator(t)
	seen := make(map[string]string)
	for _, f := range corpus(t) {
		doc, err := os.ReadFile(f.path)
		require.NoError(t, err)
		if len(doc) > goldenMaxInput {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(f.path), ".json")
		require.NotContains(t, seen, name, "good and bad corpus documents share a name")
		seen[name] = f.name
		t.Run(f.name, func(t *testing.T) {
			plan, warnings, err := v.Load(doc, Options{})
			g := golden{Plan: plan, Warnings: warnings}
			if err != nil {
				de, ok := err.(*DocumentError)
				require.True(t, ok)
				g = golden{Error: &de.Issue}
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(g))
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "missing golden file; run go test ./schemas -run TestGolden -update")
			require.Equal(t, string(want), buf.String())
		})
	}
}
