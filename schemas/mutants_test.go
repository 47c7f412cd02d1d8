package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/voxrun/voxrun/schemas/schematest"
)

// mutantRules are the only reasons voxrun and @jambonz/schema may disagree on
// a mutant (a good document with one value replaced). Each names the
// disagreement by voxrun's verdict and a pattern: when voxrun rejects, on
// voxrun's error written as "<verb>:<path inside the verb>: <message>"
// (gather:/say/text: expected string or array, got number); when voxrun
// accepts, on jambonz's error. They are the deliberate differences of the
// corpus table, in general form.
var mutantRules = []struct {
	voxrun  bool // voxrun's verdict: true = valid
	pattern *regexp.Regexp
	reason  string
}{
	{false, regexp.MustCompile(`: (nested deeper than|number .* out of range|string longer than|attribute name longer than)`), "voxrun's limits (issue 6)"},
	{false, regexp.MustCompile(`^.+?:: expected an object of attributes`), "a {name: body} verb whose body is not an object"},
	{false, regexp.MustCompile(`^gather:/(numDigits|minDigits|maxDigits): expected integer`), "digit counts are integers"},
	{false, regexp.MustCompile(`^sip:decline:/status: (expected integer|must be at (least 400|most 699))`), "sip:decline's status is a final failure code"},
	{false, regexp.MustCompile(`^gather:/(say|play)(/[^:]*)?: `), "gather's nested say and play are validated as verbs"},
	{false, regexp.MustCompile(`Hook/(username|password): expected number or string`), "hook credentials are strings or numbers"},
	{true, regexp.MustCompile(`/confirmHook': must match exactly one schema in oneOf`), "jambonz's confirmHook oneOf rejects every string"},
	{true, regexp.MustCompile(`/gladiaOptions': must NOT have additional properties`), "jambonz's gladiaOptions admits no option at all"},
}

// qualify writes a DocumentError as "<verb>:<path inside the verb>: <message>".
func qualify(doc []byte, err error) string {
	var de *DocumentError
	if !errors.As(err, &de) {
		return err.Error()
	}
	var items []map[string]any
	if json.Unmarshal(doc, &items) != nil {
		return de.Issue.String()
	}
	parts := strings.SplitN(strings.TrimPrefix(de.Path, "/"), "/", 2)
	i, convErr := strconv.Atoi(parts[0])
	if convErr != nil || i >= len(items) {
		return de.Issue.String()
	}
	rest := ""
	if len(parts) == 2 {
		rest = "/" + parts[1]
	}
	item := items[i]
	if name, ok := item["verb"].(string); ok {
		return name + ":" + rest + ": " + de.Message
	}
	for name := range item {
		return name + ":" + strings.TrimPrefix(rest, "/"+escapePointer(name)) + ": " + de.Message
	}
	return de.Issue.String()
}

// mutate returns copies of doc with one value replaced by a value of another
// type, or one attribute removed, for every value below the verbs (never a
// verb name), in a deterministic order.
func mutate(doc []any) [][]byte {
	replacements := []any{"s", 1.5, 7, true, nil, map[string]any{}, []any{}, map[string]any{"zz": 1}, []any{"a"}}
	var out [][]byte
	emit := func() {
		b, err := json.Marshal(doc)
		if err == nil {
			out = append(out, b)
		}
	}
	var walk func(x any, set func(any))
	walk = func(x any, set func(any)) {
		for _, r := range replacements {
			set(r)
			emit()
		}
		set(x)
		switch t := x.(type) {
		case map[string]any:
			for _, k := range sortedKeys(t) {
				if k == "verb" {
					continue
				}
				c := t[k]
				delete(t, k) // the attribute missing
				emit()
				t[k] = c
				walk(c, func(y any) { t[k] = y })
			}
		case []any:
			for i, c := range t {
				walk(c, func(y any) { t[i] = y })
			}
		}
	}
	for _, item := range doc {
		if m, ok := item.(map[string]any); ok {
			for _, k := range sortedKeys(m) {
				if k == "verb" {
					continue
				}
				c := m[k]
				delete(m, k)
				emit()
				m[k] = c
				walk(c, func(y any) { m[k] = y })
			}
		}
	}
	return out
}

// TestMutantsAgreeWithJambonzSchema replaces each value of the good corpus
// documents and of @jambonz/schema's own examples, one at a time, by values
// of other types (or removes it), and requires voxrun and jambonz to agree on every mutant
// except for the deliberate differences of mutantRules.
func TestMutantsAgreeWithJambonzSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("runs thousands of documents through node")
	}
	v := newTestValidator(t)
	dir := t.TempDir()
	var sources [][]byte
	for _, f := range corpus(t) {
		if b, err := os.ReadFile(f.path); err == nil && f.good && len(b) < 8<<10 {
			sources = append(sources, b)
		}
	}
	// jambonz's own examples, once the oracle is installed (oracle() below
	// installs it; the examples are read after that).
	var paths []string
	ours := make(map[string]error)
	write := func(docs [][]byte) {
		for _, b := range docs {
			p := filepath.Join(dir, fmt.Sprintf("m%05d.json", len(paths)))
			require.NoError(t, os.WriteFile(p, b, 0o644))
			paths = append(paths, p)
			_, _, err := v.Load(b, Options{})
			ours[p] = err
		}
	}
	schematest.Documents(t, nil) // skips without node; installs node_modules
	examples, err := jambonzExamples()
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	for _, b := range examples {
		_, _, err := v.Load(b, Options{})
		if err != nil {
			require.Regexp(t, mutantRules[0].pattern, qualify(b, err), "voxrun rejects a jambonz example for a reason other than its limits: %s", b)
		}
	}
	sources = append(sources, examples...)
	for _, src := range sources {
		var doc []any
		require.NoError(t, json.Unmarshal(src, &doc))
		write(mutate(doc))
	}
	require.Greater(t, len(paths), 2000)
	verdicts := schematest.Documents(t, paths)

	used := make(map[int]int)
	var unexplained []string
	for _, p := range paths {
		jv := verdicts[p]
		err := ours[p]
		if (err == nil) == jv.Valid {
			continue
		}
		msg := jv.Error
		if err != nil {
			b, rerr := os.ReadFile(p)
			require.NoError(t, rerr)
			msg = qualify(b, err)
		}
		explained := false
		for i, r := range mutantRules {
			if r.voxrun == (err == nil) && r.pattern.MatchString(msg) {
				used[i]++
				explained = true
				break
			}
		}
		if !explained {
			b, _ := os.ReadFile(p)
			unexplained = append(unexplained, fmt.Sprintf("voxrun valid=%v (%v), jambonz valid=%v (%s): %s", err == nil, err, jv.Valid, jv.Error, b))
		}
	}
	sort.Strings(unexplained)
	if len(unexplained) > 10 {
		unexplained = append(unexplained[:10], fmt.Sprintf("... and %d more", len(unexplained)-10))
	}
	require.Empty(t, unexplained, "disagreements with no deliberate reason:\n%s", strings.Join(unexplained, "\n"))
	t.Logf("%d mutants; deliberate disagreements by rule: %v", len(paths), used)
}

// jambonzExamples returns the examples embedded in @jambonz/schema's verb and
// app schemas, each as a document.
func jambonzExamples() ([][]byte, error) {
	root := filepath.Join("testdata", "oracle", "node_modules", "@jambonz", "schema")
	files, err := filepath.Glob(filepath.Join(root, "verbs", "*.schema.json"))
	if err != nil || len(files) == 0 {
		return nil, errors.Join(errors.New("schemas: no jambonz verb schemas found"), err)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var s struct {
			Examples []json.RawMessage `json:"examples"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, ex := range s.Examples {
			out = append(out, append(append([]byte("["), ex...), ']'))
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "jambonz-app.schema.json"))
	if err != nil {
		return nil, err
	}
	var app struct {
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(b, &app); err != nil {
		return nil, err
	}
	for _, ex := range app.Examples {
		out = append(out, ex)
	}
	return out, nil
}
