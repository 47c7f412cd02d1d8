package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// hookFiles maps each hook payload that voxrun describes to its schema file
// under json/hooks.
func hookFiles() map[string]string {
	return map[string]string{
		"call":        "call.json",
		"call-info":   "call-info.json",
		"call-status": "call-status.json",
		"dial":        "dial.json",
		"dial-dtmf":   "dial-dtmf.json",
		"gather":      "gather.json",
		"play":        "play.json",
	}
}

func compileHooks(docs map[string]any) (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	for url, doc := range docs {
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("schemas: adding %s: %w", url, err)
		}
	}
	out := make(map[string]*jsonschema.Schema)
	for name, file := range hookFiles() {
		s, err := c.Compile(baseURL + "hooks/" + file)
		if err != nil {
			return nil, fmt.Errorf("schemas: compiling %s: %w", file, err)
		}
		out[name] = s
	}
	return out, nil
}

// Hooks returns the names of the hook payloads that have a schema, sorted.
func (v *Validator) Hooks() []string {
	return sortedKeys(v.hooks)
}

// ValidateHook checks a hook payload that voxrun is about to send (or has
// sent) against the schema of its kind (see [Validator.Hooks]: "call",
// "call-status", "gather", "dial", ...). Fields the schema does not name are allowed: payloads
// carry customerData, sip and env_vars untouched. The error names the JSON
// path of the first problem.
func (v *Validator) ValidateHook(kind string, payload []byte) error {
	s, ok := v.hooks[kind]
	if !ok {
		return fmt.Errorf("schemas: unknown hook payload %q", kind)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return docErr("", KindSyntax, "invalid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return docErr("", KindSyntax, "invalid JSON: data after the payload")
	}
	err := s.Validate(x)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("schemas: %w", err)
	}
	return v.describe("", ve)
}
