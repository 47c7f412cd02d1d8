package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
)

// item is one verb of a document, parsed from either shape.
type item struct {
	name   string          // the verb name as written
	verb   string          // the canonical verb
	prefix string          // JSON pointer of the attributes object
	attrs  map[string]any  // the attributes without "verb", decoded with json.Number
	raw    json.RawMessage // the item as written
	keyed  bool            // written as {"name": {...}}
	vendor string          // the vendor an alias adds, if the item has none
}

// parseDocument checks that doc is one JSON array within the limits, and
// returns its items decoded (numbers as json.Number) and as written.
func parseDocument(doc []byte, lim Limits) ([]any, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, nil, docErr("", KindSyntax, "invalid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, docErr("", KindSyntax, "invalid JSON: data after the document")
	}
	arr, ok := top.([]any)
	if !ok {
		return nil, nil, docErr("", KindShape, "expected an array of verbs, got %s", jsonType(top))
	}
	if len(arr) > lim.MaxVerbs {
		return nil, nil, docErr("/"+strconv.Itoa(lim.MaxVerbs), KindLimit, "more than %d verbs", lim.MaxVerbs)
	}
	for i, it := range arr {
		if err := checkItemLimits(it, "/"+strconv.Itoa(i), lim); err != nil {
			return nil, nil, err
		}
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(doc, &raws); err != nil || len(raws) != len(arr) {
		return nil, nil, docErr("", KindSyntax, "invalid JSON: %v", err)
	}
	return arr, raws, nil
}

// checkItemLimits checks one verb against the limits. Depth counts from the
// verb's attributes object: the item itself in the {"verb":...} shape, the
// value of its one key in the {"say":{...}} shape.
func checkItemLimits(it any, path string, lim Limits) error {
	if m, ok := it.(map[string]any); ok {
		if _, flat := m["verb"]; !flat && len(m) == 1 {
			for k, body := range m {
				if len(k) > lim.MaxStringBytes {
					return docErr(path, KindLimit, "verb name longer than %d bytes", lim.MaxStringBytes)
				}
				return checkLimits(body, path+"/"+escapePointer(k), 0, lim)
			}
		}
	}
	return checkLimits(it, path, 0, lim)
}

func checkLimits(v any, path string, depth int, lim Limits) error {
	switch t := v.(type) {
	case string:
		if len(t) > lim.MaxStringBytes {
			return docErr(path, KindLimit, "string longer than %d bytes", lim.MaxStringBytes)
		}
	case json.Number:
		if _, err := strconv.ParseFloat(string(t), 64); err != nil {
			return docErr(path, KindLimit, "number %s out of range", truncate(string(t), 32))
		}
	case []any:
		if depth > lim.MaxDepth {
			return docErr(path, KindLimit, "nested deeper than %d levels", lim.MaxDepth)
		}
		for i, x := range t {
			if err := checkLimits(x, path+"/"+strconv.Itoa(i), depth+1, lim); err != nil {
				return err
			}
		}
	case map[string]any:
		if depth > lim.MaxDepth {
			return docErr(path, KindLimit, "nested deeper than %d levels", lim.MaxDepth)
		}
		for _, k := range sortedKeys(t) {
			p := path + "/" + escapePointer(k)
			if len(k) > lim.MaxStringBytes {
				return docErr(p, KindLimit, "attribute name longer than %d bytes", lim.MaxStringBytes)
			}
			if err := checkLimits(t[k], p, depth+1, lim); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseItem reads one verb in either shape and resolves its name. The
// attributes are a new map; the document's values are shared, not copied.
func (v *Validator) parseItem(i int, x any, raw json.RawMessage) (*item, error) {
	path := "/" + strconv.Itoa(i)
	obj, ok := x.(map[string]any)
	if !ok {
		return nil, docErr(path, KindShape, "expected a verb object, got %s", jsonType(x))
	}
	it := &item{raw: raw}
	var body any
	if nameVal, flat := obj["verb"]; flat {
		name, ok := nameVal.(string)
		if !ok {
			return nil, docErr(path+"/verb", KindUnknownVerb, "expected a verb name, got %s", jsonType(nameVal))
		}
		it.name, it.prefix, body = name, path, obj
	} else if len(obj) == 1 {
		for k, b := range obj {
			it.name, body = k, b
		}
		it.prefix = path + "/" + escapePointer(it.name)
		it.keyed = true
	} else {
		return nil, docErr(path, KindShape, `expected a "verb" attribute or exactly one verb name as key, got %d keys`, len(obj))
	}
	alias, ok := v.Resolve(it.name)
	if !ok {
		p := it.prefix
		if !it.keyed {
			p = path + "/verb"
		}
		return nil, docErr(p, KindUnknownVerb, "unknown verb %q", truncate(it.name, 64))
	}
	it.verb = alias.Verb
	attrs, ok := body.(map[string]any)
	if !ok {
		return nil, docErr(it.prefix, KindShape, "expected an object of attributes, got %s", jsonType(body))
	}
	if it.keyed {
		if inner, has := attrs["verb"]; has && inner != it.name {
			return nil, docErr(it.prefix+"/verb", KindShape, "expected %q (the key of this verb)", it.name)
		}
	}
	it.attrs = make(map[string]any, len(attrs)+1)
	for k, a := range attrs {
		if k != "verb" {
			it.attrs[k] = a
		}
	}
	if _, has := it.attrs["vendor"]; alias.Vendor != "" && !has {
		it.attrs["vendor"] = alias.Vendor
		it.vendor = alias.Vendor
	}
	return it, nil
}

// step writes the item as a Step: its attributes with keys sorted and each
// value exactly as written (compacted), which keeps pass-through objects such
// as tag's data in their order.
func (it *item) step() (Step, error) {
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(it.raw, &attrs); err != nil {
		return Step{}, docErr(it.prefix, KindSyntax, "invalid JSON: %v", err)
	}
	if it.keyed {
		body := attrs[it.name]
		attrs = nil
		if err := json.Unmarshal(body, &attrs); err != nil {
			return Step{}, docErr(it.prefix, KindSyntax, "invalid JSON: %v", err)
		}
	}
	delete(attrs, "verb")
	if it.vendor != "" {
		attrs["vendor"], _ = json.Marshal(it.vendor)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(attrs); err != nil {
		return Step{}, docErr(it.prefix, KindSyntax, "invalid JSON: %v", err)
	}
	s := Step{
		Verb:  it.verb,
		Path:  it.prefix,
		Attrs: json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n")),
	}
	if it.name != it.verb {
		s.As = it.name
	}
	return s, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// escapePointer escapes a key as a JSON pointer token (RFC 6901 §3).
func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}
