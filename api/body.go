package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/voxrun/voxrun/store"
)

// checkDepth refuses a /v1 body nested deeper than the configured limit
// before anything decodes it.
func (v *v1) checkDepth(c *fiber.Ctx) error {
	if isSourceUpload(c) {
		return c.Next() // JavaScript, not JSON: read as text, never decoded
	}
	if b := c.Body(); len(b) > 0 && jsonDepth(b, v.maxDepth) > v.maxDepth {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("request body is nested deeper than %d levels", v.maxDepth))
	}
	return c.Next()
}

// readObject decodes the request body as one JSON object. An empty body is
// an empty object.
func readObject(c *fiber.Ctx) (map[string]any, error) {
	b := bytes.TrimSpace(c.Body())
	if len(b) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fiber.NewError(fiber.StatusBadRequest, "request body is not valid JSON")
	}
	if dec.More() {
		return nil, fiber.NewError(fiber.StatusBadRequest, "request body is not valid JSON")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fiber.NewError(fiber.StatusBadRequest, "request body must be a JSON object")
	}
	return m, nil
}

// fieldKind is how a record field is written on the wire.
type fieldKind int

const (
	kindString fieldKind = iota
	kindInt
	kindBool
	kindHook
	kindOther // times and anything else: never taken from a body
)

type wireField struct {
	name  string
	kind  fieldKind
	index []int
}

// wireFields lists T's fields by their JSON names.
func wireFields[T any]() map[string]wireField {
	t := reflect.TypeFor[T]()
	out := map[string]wireField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		k := kindOther
		switch {
		case f.Type == reflect.TypeFor[*store.Webhook]():
			k = kindHook
		case f.Type.Kind() == reflect.String:
			k = kindString
		case f.Type.Kind() == reflect.Int:
			k = kindInt
		case f.Type.Kind() == reflect.Bool:
			k = kindBool
		}
		out[name] = wireField{name: name, kind: k, index: f.Index}
	}
	return out
}

// badValue is the 400 for a property of the wrong type; the name is the
// caller's own input.
func badValue(name string) error {
	return fiber.NewError(fiber.StatusBadRequest, "invalid value for "+name)
}

// wireValue converts one decoded JSON value to the Go value of field f:
// string, int, bool, *store.Webhook, or nil for JSON null. It is lenient
// where jambonz clients are: booleans as 0/1 or "true", integers as strings,
// a hook as a bare URL string.
func wireValue(f wireField, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch f.kind {
	case kindString:
		switch s := v.(type) {
		case string:
			return s, nil
		case json.Number: // a phone number sent as a number
			return s.String(), nil
		}
		return nil, badValue(f.name)
	case kindInt:
		var s string
		switch n := v.(type) {
		case json.Number:
			s = n.String()
		case string:
			s = strings.TrimSpace(n)
		default:
			return nil, badValue(f.name)
		}
		if i, err := strconv.ParseInt(s, 10, 0); err == nil {
			return int(i), nil
		}
		if fl, err := strconv.ParseFloat(s, 64); err == nil && fl == math.Trunc(fl) && math.Abs(fl) < 1<<31 {
			return int(fl), nil
		}
		return nil, badValue(f.name)
	case kindBool:
		switch b := v.(type) {
		case bool:
			return b, nil
		case json.Number:
			switch b.String() {
			case "0":
				return false, nil
			case "1":
				return true, nil
			}
		case string:
			if p, err := strconv.ParseBool(b); err == nil {
				return p, nil
			}
		}
		return nil, badValue(f.name)
	case kindHook:
		return hookValue(f.name, v)
	}
	return nil, badValue(f.name)
}

// hookValue reads a webhook: {url, method, username, password} or a bare URL.
// An empty URL means no hook, as in jambonz.
func hookValue(name string, v any) (*store.Webhook, error) {
	switch h := v.(type) {
	case string:
		if h == "" {
			return nil, nil
		}
		return &store.Webhook{URL: h, Method: "POST"}, nil
	case map[string]any:
		var w store.Webhook
		for k, dst := range map[string]*string{"url": &w.URL, "method": &w.Method, "username": &w.Username, "password": &w.Password} {
			switch s := h[k].(type) {
			case nil:
			case string:
				*dst = s
			default:
				return nil, badValue(name + "." + k)
			}
		}
		if w.URL == "" {
			return nil, nil
		}
		w.Method = strings.ToUpper(w.Method)
		switch w.Method {
		case "":
			w.Method = "POST"
		case "GET", "POST":
		default:
			return nil, badValue(name + ".method")
		}
		return &w, nil
	}
	return nil, badValue(name)
}

// wireValues converts the body's known properties, skipping unknown ones and
// those in skip. Unknown properties are ignored rather than refused, because
// jambonz clients send properties voxrun does not store (see docs/rest.md).
func wireValues(fields map[string]wireField, body map[string]any, skip map[string]bool) (map[string]any, error) {
	out := map[string]any{}
	for k, raw := range body {
		f, ok := fields[k]
		if !ok || skip[k] || f.kind == kindOther {
			continue
		}
		val, err := wireValue(f, raw)
		if err != nil {
			return nil, err
		}
		out[k] = val
	}
	return out, nil
}

// setFields writes converted values into rec.
func setFields[T any](fields map[string]wireField, rec *T, vals map[string]any) {
	rv := reflect.ValueOf(rec).Elem()
	for k, val := range vals {
		if val == nil {
			continue
		}
		fv := rv.FieldByIndex(fields[k].index)
		fv.Set(reflect.ValueOf(val))
	}
}

// toPatch turns converted values into a store.Patch; a nil hook clears it.
func toPatch(fields map[string]wireField, vals map[string]any) store.Patch {
	p := store.Patch{}
	for k, val := range vals {
		if fields[k].kind == kindHook {
			w, _ := val.(*store.Webhook)
			p[k] = w
			continue
		}
		p[k] = val
	}
	return p
}

// parseTime reads a query time: RFC 3339, or a date (YYYY-MM-DD, UTC).
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
