package schemas

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// buildAppSchema writes json/app.json, the schema of a whole document in both
// shapes, from the verb and alias tables, so that it cannot drift from them.
func buildAppSchema() ([]byte, error) {
	verbs := verbFiles()
	aliases := verbAliases()
	var names []string
	for n := range verbs {
		names = append(names, n)
	}
	for n := range aliases {
		names = append(names, n)
	}
	sort.Strings(names)

	ref := func(name string) map[string]any {
		canon, vendor := name, ""
		if a, ok := aliases[name]; ok {
			canon, vendor = a.Verb, a.Vendor
		}
		if vendor != "" {
			// The alias sets vendor, so the document need not.
			return map[string]any{"$ref": "#/$defs/vendorLLM"}
		}
		return map[string]any{"$ref": "verbs/" + verbs[canon]}
	}
	var flat []any
	keyed := make(map[string]any)
	for _, n := range names {
		flat = append(flat, map[string]any{
			"if":   map[string]any{"properties": map[string]any{"verb": map[string]any{"const": n}}},
			"then": ref(n),
		})
		desc := "The attributes of the " + n + " verb."
		if a, ok := aliases[n]; ok {
			desc = "The attributes of " + n + ", a synonym of the " + a.Verb + " verb."
		}
		keyed[n] = map[string]any{
			"description": desc,
			"type":        "object",
			"allOf":       []any{ref(n)},
			"properties":  map[string]any{"verb": map[string]any{"const": n, "description": "The verb's name again, which must match its key."}},
		}
	}
	enum := make([]any, len(names))
	for i, n := range names {
		enum[i] = n
	}
	s := map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         baseURL + "app.json",
		"title":       "Verb document",
		"description": "A jambonz application document: an array of verbs run in order. Each verb is written either as {\"verb\": name, ...attributes} or as {name: {...attributes}}. This file is generated from the validator's verb table (go test ./schemas -run TestAppSchema -update); the validator enforces the same rules plus limits on size, depth and string length.",
		"type":        "array",
		"items":       map[string]any{"$ref": "#/$defs/verb"},
		"$defs": map[string]any{
			"verb": map[string]any{
				"description": "One verb, in either shape.",
				"type":        "object",
				"if":          map[string]any{"required": []any{"verb"}},
				"then":        map[string]any{"$ref": "#/$defs/flat"},
				"else":        map[string]any{"$ref": "#/$defs/keyed"},
			},
			"flat": map[string]any{
				"description": "A verb written as {\"verb\": name, ...attributes}.",
				"properties":  map[string]any{"verb": map[string]any{"enum": enum, "description": "The verb's name."}},
				"allOf":       flat,
			},
			"keyed": map[string]any{
				"description":   "A verb written as {name: {...attributes}}.",
				"minProperties": 1,
				"maxProperties": 1,
				"propertyNames": map[string]any{"enum": enum},
				"properties":    keyed,
			},
			"vendorLLM": map[string]any{
				"description": "The llm verb under a <vendor>_s2s name, which sets vendor itself.",
				"type":        "object",
				"allOf":       []any{map[string]any{"$ref": "components/llmBase.json"}},
				"required":    []any{"llmOptions"},
			},
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func TestAppSchemaUpToDate(t *testing.T) {
	want, err := buildAppSchema()
	require.NoError(t, err)
	path := filepath.Join("json", "app.json")
	if *update {
		require.NoError(t, os.WriteFile(path, want, 0o644))
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "json/app.json is stale; run go test ./schemas -run TestAppSchema -update")
}

// TestAppSchemaAgrees runs the corpus through json/app.json with a plain
// JSON Schema validator, as an editor or another tool would, and requires the
// validator's verdict, except on the documents that only the validator's
// limits reject.
func TestAppSchemaAgrees(t *testing.T) {
	v := newTestValidator(t)
	docs, err := loadFiles()
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	for url, d := range docs {
		require.NoError(t, c.AddResource(url, d))
	}
	app, err := c.Compile(baseURL + "app.json")
	require.NoError(t, err)
	for _, f := range corpus(t) {
		t.Run(f.name, func(t *testing.T) {
			b, err := os.ReadFile(f.path)
			require.NoError(t, err)
			_, _, verr := v.Load(b, Options{})
			if isLimit(verr) {
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			require.NoError(t, err)
			serr := app.Validate(doc)
			require.Equal(t, verr == nil, serr == nil, "validator: %v; app.json: %v", verr, serr)
		})
	}
}
