package schemas

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// TestSchemaFiles keeps the embedded schema files in order: draft 2020-12, an
// $id that matches the file, a title, and a description in full sentences on
// the schema and on every property, since they become the reference docs.
func TestSchemaFiles(t *testing.T) {
	n := 0
	err := fs.WalkDir(files, "json", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		t.Run(p, func(t *testing.T) {
			require.Equal(t, ".json", path.Ext(p))
			b, err := files.ReadFile(p)
			require.NoError(t, err)
			var s map[string]any
			require.NoError(t, json.Unmarshal(b, &s))
			require.Equal(t, "https://json-schema.org/draft/2020-12/schema", s["$schema"])
			require.Equal(t, baseURL+strings.TrimPrefix(p, "json/"), s["$id"])
			require.NotEmpty(t, s["title"])
			checkDescriptions(t, "", s)
		})
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, n, 30)
}

func checkDescriptions(t *testing.T, at string, s map[string]any) {
	t.Helper()
	if d, ok := s["description"]; ok {
		requireSentence(t, at, d)
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for name, p := range props {
			ps, ok := p.(map[string]any)
			require.True(t, ok, "%s/%s is not a schema object", at, name)
			require.Contains(t, ps, "description", "%s/%s has no description", at, name)
			checkDescriptions(t, at+"/properties/"+name, ps)
		}
	}
	for _, kw := range []string{"items", "additionalProperties"} { // not then/else: constraints, not documentation
		if sub, ok := s[kw].(map[string]any); ok {
			checkDescriptions(t, at+"/"+kw, sub)
		}
	}
	for _, kw := range []string{"oneOf", "anyOf", "allOf"} {
		if arr, ok := s[kw].([]any); ok {
			for _, x := range arr {
				if sub, ok := x.(map[string]any); ok {
					checkDescriptions(t, at+"/"+kw, sub)
				}
			}
		}
	}
	if defs, ok := s["$defs"].(map[string]any); ok {
		for name, d := range defs {
			if sub, ok := d.(map[string]any); ok {
				checkDescriptions(t, at+"/$defs/"+name, sub)
			}
		}
	}
}

func requireSentence(t *testing.T, at string, d any) {
	t.Helper()
	s, ok := d.(string)
	require.True(t, ok, "%s: description is not a string", at)
	require.NotEmpty(t, s, at)
	first := []rune(s)[0]
	require.True(t, unicode.IsUpper(first) || unicode.IsDigit(first) || strings.HasPrefix(s, "A "), "%s: description %q does not start a sentence", at, s)
	require.True(t, strings.HasSuffix(s, "."), "%s: description %q is not a full sentence", at, s)
}

// TestEveryVerbHasASchema ties the verb table to the files.
func TestEveryVerbHasASchema(t *testing.T) {
	v := newTestValidator(t)
	for verb, file := range verbFiles() {
		b, ok := v.Schema(verb)
		require.True(t, ok, verb)
		var s map[string]any
		require.NoError(t, json.Unmarshal(b, &s), file)
		require.Equal(t, verb, s["title"], "the title of %s names its verb", file)
	}
}

// TestOneOfBranchesAreDisjoint guards an assumption of Load: closing object
// schemas only ever removes documents, which fails if a oneOf had two object
// branches (a value matching both fails oneOf when open, and could match only
// one, and pass, when closed).
func TestOneOfBranchesAreDisjoint(t *testing.T) {
	err := fs.WalkDir(files, "json", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		require.NoError(t, err)
		var s any
		require.NoError(t, json.Unmarshal(b, &s))
		var walk func(x any, at string)
		walk = func(x any, at string) {
			switch t2 := x.(type) {
			case map[string]any:
				if branches, ok := t2["oneOf"].([]any); ok {
					objects := 0
					for _, br := range branches {
						m, _ := br.(map[string]any)
						_, isRef := m["$ref"]
						if m["type"] == "object" || isRef {
							objects++
						}
					}
					require.LessOrEqual(t, objects, 1, "%s%s: a oneOf with more than one object branch", p, at)
				}
				for k, c := range t2 {
					walk(c, at+"/"+k)
				}
			case []any:
				for i, c := range t2 {
					walk(c, fmt.Sprintf("%s/%d", at, i))
				}
			}
		}
		walk(s, "")
		return nil
	})
	require.NoError(t, err)
}
