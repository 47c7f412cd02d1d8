package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// checkAttrs validates a verb's attributes against its schema as written, and
// turns the first failure into a DocumentError.
func (v *Validator) checkAttrs(it *item) error {
	err := v.open[it.verb].Validate(it.attrs)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return docErr(it.prefix, KindSchema, "%v", err)
	}
	return v.describe(it.prefix, ve)
}

// unknownAttrs turns the failure of a verb's closed schema, on attributes that
// its open schema accepts, into an issue per unknown attribute, sorted by path.
func unknownAttrs(prefix string, err error) []Issue {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	leaves, _ := unevaluated(ve)
	seen := make(map[string]bool)
	var out []Issue
	for _, l := range leaves {
		p := prefix + pointer(l.InstanceLocation)
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, Issue{Path: p, Kind: KindUnknownAttr, Message: "unknown attribute"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// unevaluated returns the unknown-attribute failures under e, and whether
// every failure under e is one. For oneOf and anyOf it keeps the first branch
// that fails only for unknown attributes: that is the branch that matched
// before the schema was closed.
func unevaluated(e *jsonschema.ValidationError) ([]*jsonschema.ValidationError, bool) {
	if len(e.Causes) == 0 {
		if _, ok := e.ErrorKind.(*kind.FalseSchema); ok && strings.HasSuffix(e.SchemaURL, "/unevaluatedProperties") {
			return []*jsonschema.ValidationError{e}, true
		}
		return nil, false
	}
	switch e.ErrorKind.(type) {
	case *kind.OneOf, *kind.AnyOf:
		for _, c := range e.Causes {
			if leaves, ok := unevaluated(c); ok {
				return leaves, true
			}
		}
		return nil, false
	}
	var all []*jsonschema.ValidationError
	ok := true
	for _, c := range e.Causes {
		leaves, cok := unevaluated(c)
		all = append(all, leaves...)
		ok = ok && cok
	}
	return all, ok
}

// describe turns a validation failure into the error of its first problem.
func (v *Validator) describe(prefix string, e *jsonschema.ValidationError) *DocumentError {
	leaf, msg := v.first(e)
	path := prefix + pointer(leaf.InstanceLocation)
	switch k := leaf.ErrorKind.(type) {
	case *kind.Required:
		if len(k.Missing) > 0 {
			path += "/" + escapePointer(k.Missing[0])
		}
	case *kind.AdditionalProperties:
		if len(k.Properties) > 0 {
			props := append([]string(nil), k.Properties...)
			sort.Strings(props)
			path += "/" + escapePointer(props[0])
		}
	}
	return &DocumentError{Issue{Path: path, Kind: KindSchema, Message: msg}}
}

// first picks the most telling failure under e: among siblings the first in
// document order, and in a oneOf or anyOf the branch that got furthest into
// the value (or, when every branch failed on the value's type, all of them).
func (v *Validator) first(e *jsonschema.ValidationError) (*jsonschema.ValidationError, string) {
	if len(e.Causes) == 0 {
		return e, v.message(e)
	}
	switch e.ErrorKind.(type) {
	case *kind.OneOf, *kind.AnyOf:
		var wants []string
		allTypes := true
		for _, c := range e.Causes {
			t, ok := c.ErrorKind.(*kind.Type)
			if !ok || len(c.Causes) > 0 || len(c.InstanceLocation) != len(e.InstanceLocation) {
				allTypes = false
				break
			}
			wants = append(wants, t.Want...)
		}
		if allTypes {
			got := e.Causes[0].ErrorKind.(*kind.Type).Got
			return e, fmt.Sprintf("expected %s, got %s", strings.Join(wants, " or "), got)
		}
		best := e.Causes[0]
		bestDepth := -1
		for _, c := range e.Causes {
			leaf, _ := v.first(c)
			d := len(leaf.InstanceLocation)
			if _, isType := leaf.ErrorKind.(*kind.Type); !isType {
				d++ // a branch of the right type says more than a type mismatch
			}
			if d > bestDepth {
				best, bestDepth = c, d
			}
		}
		return v.first(best)
	}
	causes := append([]*jsonschema.ValidationError(nil), e.Causes...)
	sort.SliceStable(causes, func(i, j int) bool {
		return pointer(causes[i].InstanceLocation) < pointer(causes[j].InstanceLocation)
	})
	return v.first(causes[0])
}

func (v *Validator) message(e *jsonschema.ValidationError) string {
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		return fmt.Sprintf("expected %s, got %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Required:
		return "missing required attribute"
	case *kind.Enum:
		return "expected one of " + displayList(k.Want)
	case *kind.Const:
		return "expected " + display(k.Want)
	case *kind.AdditionalProperties:
		return "attribute not allowed here"
	case *kind.FalseSchema:
		return "attribute not allowed here"
	case *kind.MinItems:
		return fmt.Sprintf("expected at least %d items, got %d", k.Want, k.Got)
	case *kind.Minimum:
		return "must be at least " + ratString(k.Want)
	case *kind.Maximum:
		return "must be at most " + ratString(k.Want)
	case *kind.OneOf:
		return "matches more than one alternative"
	}
	return e.ErrorKind.LocalizedString(v.printer)
}

func ratString(r *big.Rat) string {
	s := strings.TrimRight(r.FloatString(6), "0")
	return strings.TrimSuffix(s, ".")
}

func display(x any) string {
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprint(x)
	}
	return string(b)
}

func displayList(xs []any) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = display(x)
	}
	return strings.Join(parts, ", ")
}

// pointer joins an instance location into a JSON pointer.
func pointer(loc []string) string {
	var b strings.Builder
	for _, t := range loc {
		b.WriteByte('/')
		b.WriteString(escapePointer(t))
	}
	return b.String()
}
