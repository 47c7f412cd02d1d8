package schemas

import (
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"testing"
)

// FuzzValidateApp checks that no input makes the validator panic, that every
// rejection is a *DocumentError, and that an accepted document normalises
// into one step per verb.
func FuzzValidateApp(f *testing.F) {
	for _, c := range corpus(f) {
		doc, err := os.ReadFile(c.path)
		if err != nil {
			f.Fatal(err)
		}
		if len(doc) < 4<<10 {
			f.Add(doc, false)
		}
	}
	f.Add([]byte(`[{"verb":"say","text":"hi","x":1}]`), true)
	f.Add([]byte(`[{"gather":{"say":{"text":"a"},"play":{"url":"b"}}}]`), false)
	f.Add([]byte(`[{"a/b~":{}}]`), false)
	v, err := NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc []byte, strict bool) {
		plan, warnings, err := v.Load(doc, Options{Strict: strict, Limits: Limits{MaxVerbs: 50, MaxDepth: 8, MaxStringBytes: 1 << 10}})
		if err != nil {
			var de *DocumentError
			if !errors.As(err, &de) || !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("rejection is not a *DocumentError: %T %v", err, err)
			}
			return
		}
		if strict && len(warnings) > 0 {
			t.Fatalf("strict mode accepted a document with warnings: %v", warnings)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(doc, &items); err != nil {
			t.Fatalf("accepted a document that is not an array: %v", err)
		}
		if len(plan) != len(items) {
			t.Fatalf("plan has %d steps for %d verbs", len(plan), len(items))
		}
		for _, s := range plan {
			if !json.Valid(s.Attrs) {
				t.Fatalf("step %s has invalid attributes %s", s.Verb, s.Attrs)
			}
			// What the closed schemas accept, the open ones must accept too.
			var attrs any
			if err := json.Unmarshal(s.Attrs, &attrs); err != nil {
				t.Fatal(err)
			}
			if err := v.open[s.Verb].Validate(toNumbers(attrs)); err != nil {
				t.Fatalf("accepted %s, which its schema rejects: %v", s.Attrs, err)
			}
		}
	})
}

// toNumbers turns float64s into json.Number, as the validator decodes them.
func toNumbers(x any) any {
	switch t := x.(type) {
	case float64:
		return json.Number(strconv.FormatFloat(t, 'g', -1, 64))
	case map[string]any:
		for k, c := range t {
			t[k] = toNumbers(c)
		}
	case []any:
		for i, c := range t {
			t[i] = toNumbers(c)
		}
	}
	return x
}
