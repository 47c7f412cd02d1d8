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
	index  int
	name   string                     // the verb name as written
	verb   string                     // the canonical verb
	prefix string                     // JSON pointer of the attributes object
	attrs  map[string]any             // decoded attributes, without "verb"
	raw    map[string]json.RawMessage // the same attributes, as written
}

// parseDocument checks that doc is one JSON array within the limits, and
// returns its items as written.
func parseDocument(doc []byte, lim Limits) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, docErr("", KindSyntax, "invalid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, docErr("", KindSyntax, "invalid JSON: data after the document")
	}
	arr, ok := top.([]any)
	if !ok {
		return nil, docErr("", KindShape, "expected an array of verbs, got %s", jsonType(top))
	}
	if len(arr) > lim.MaxVerbs {
		return nil, docErr("/"+strconv.Itoa(lim.MaxVerbs), KindLimit, "more than %d verbs", lim.MaxVerbs)
	}
	for i, it := range arr {
		if err := checkItemLimits(it, "/"+strconv.Itoa(i), lim); err != nil {
			return nil, err
		}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(doc, &items); err != nil {
		return nil, docErr("", KindSyntax, "invalid JSON: %v", err)
	}
	return items, nil
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

// parseItem reads one verb in either shape and resolves its name.
func (v *Validator) parseItem(i int, raw json.RawMessage) (*item, error) {
	path := "/" + strconv.Itoa(i)
	obj, err := decodeObject(raw)
	if err != nil {
		return nil, docErr(path, KindShape, "expected a verb object, got %s", rawType(raw))
	}
	it := &item{index: i}
	var body json.RawMessage
	if nameRaw, flat := obj["verb"]; flat {
		if err := json.Unmarshal(nameRaw, &it.name); err != nil {
			return nil, docErr(path+"/verb", KindUnknownVerb, "expected a verb name, got %s", rawType(nameRaw))
		}
		delete(obj, "verb")
		it.prefix = path
		it.raw = obj
		body = nil
	} else if len(obj) == 1 {
		for k, b := range obj {
			it.name, body = k, b
		}
		it.prefix = path + "/" + escapePointer(it.name)
	} else {
		return nil, docErr(path, KindShape, `expected a "verb" attribute or exactly one verb name as key, got %d keys`, len(obj))
	}
	alias, ok := v.Resolve(it.name)
	if !ok {
		p := it.prefix
		if body == nil {
			p = path + "/verb"
		}
		return nil, docErr(p, KindUnknownVerb, "unknown verb %q", truncate(it.name, 64))
	}
	it.verb = alias.Verb
	if body != nil {
		if it.raw, err = decodeObject(body); err != nil {
			return nil, docErr(it.prefix, KindShape, "expected an object of attributes, got %s", rawType(body))
		}
		if nameRaw, ok := it.raw["verb"]; ok {
			var inner string
			if json.Unmarshal(nameRaw, &inner) != nil || inner != it.name {
				return nil, docErr(it.prefix+"/verb", KindShape, "expected %q (the key of this verb)", it.name)
			}
			delete(it.raw, "verb")
		}
	}
	if alias.Vendor != "" {
		if _, ok := it.raw["vendor"]; !ok {
			it.raw["vendor"], _ = json.Marshal(alias.Vendor)
		}
	}
	it.attrs = make(map[string]any, len(it.raw))
	for k, r := range it.raw {
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.UseNumber()
		var x any
		if err := dec.Decode(&x); err != nil {
			return nil, docErr(it.prefix+"/"+escapePointer(k), KindSyntax, "invalid JSON: %v", err)
		}
		it.attrs[k] = x
	}
	return it, nil
}

// decodeObject decodes a JSON object keeping its values as written; a later
// duplicate key wins, as in JavaScript's JSON.parse.
func decodeObject(raw json.RawMessage) (map[string]json.RawMessage, error) {
	t := bytes.TrimLeft(raw, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return nil, errors.New("not an object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil {
		return nil, err
	}
	return m, nil
}

func (it *item) step() (Step, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(it.raw); err != nil {
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

func rawType(raw json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if dec.Decode(&x) != nil {
		return "invalid JSON"
	}
	return jsonType(x)
}
