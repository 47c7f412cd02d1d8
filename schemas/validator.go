package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed json
var files embed.FS

// baseURL is the root of the $id of every embedded schema file.
const baseURL = "https://voxrun.dev/schemas/"

// mixinKeyword marks a schema that is only ever included with allOf; strict
// mode does not close it, so that the including schema can close the union.
const mixinKeyword = "x-voxrun-mixin"

// Limits bound what a document may contain. The zero value of a field means
// the default of [DefaultLimits].
type Limits struct {
	// MaxVerbs is the most verbs a document may hold at its top level.
	MaxVerbs int
	// MaxDepth is the deepest a value may be nested inside a verb: a verb's
	// attribute that is an object or array is at depth 1, its members at 2.
	MaxDepth int
	// MaxStringBytes is the longest, in bytes, that any string (or object
	// key) may be.
	MaxStringBytes int
}

// DefaultLimits returns the limits of issue 6: 1,000 verbs, a depth of 8 and
// strings of 64 KiB.
func DefaultLimits() Limits {
	return Limits{MaxVerbs: 1000, MaxDepth: 8, MaxStringBytes: 64 << 10}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxVerbs <= 0 {
		l.MaxVerbs = d.MaxVerbs
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxStringBytes <= 0 {
		l.MaxStringBytes = d.MaxStringBytes
	}
	return l
}

// Options changes how a document is validated.
type Options struct {
	// Strict turns unknown attributes, which are otherwise warnings, into
	// errors; it is the application setting strict_verbs.
	Strict bool
	// Limits bounds the document; zero fields take the defaults.
	Limits Limits
}

// Validator validates and normalises verb documents. It is built once by
// [NewValidator], holds the compiled schemas, and is safe for concurrent use.
type Validator struct {
	open    map[string]*jsonschema.Schema // the schemas as written
	strict  map[string]*jsonschema.Schema // the same, closed to unknown attributes
	hooks   map[string]*jsonschema.Schema // hook payloads, by kind
	aliases map[string]Alias
	raw     map[string][]byte // verb → schema file, for documentation
	printer *message.Printer
}

// NewValidator compiles the embedded schemas. It fails only if the embedded
// files are broken, which a test rules out.
func NewValidator() (*Validator, error) {
	docs, err := loadFiles()
	if err != nil {
		return nil, err
	}
	v := &Validator{
		aliases: verbAliases(),
		raw:     make(map[string][]byte),
		printer: message.NewPrinter(language.English),
	}
	if v.open, err = compileVerbs(docs, false); err != nil {
		return nil, err
	}
	if v.strict, err = compileVerbs(docs, true); err != nil {
		return nil, err
	}
	if v.hooks, err = compileHooks(docs); err != nil {
		return nil, err
	}
	for verb, file := range verbFiles() {
		b, err := files.ReadFile("json/verbs/" + file)
		if err != nil {
			return nil, fmt.Errorf("schemas: %w", err)
		}
		v.raw[verb] = b
	}
	return v, nil
}

// Schema returns the JSON Schema file of a canonical verb, as embedded.
func (v *Validator) Schema(verb string) ([]byte, bool) {
	b, ok := v.raw[verb]
	return bytes.Clone(b), ok
}

// loadFiles reads every embedded schema file, keyed by its URL.
func loadFiles() (map[string]any, error) {
	docs := make(map[string]any)
	err := fs.WalkDir(files, "json", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".json" {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		docs[baseURL+strings.TrimPrefix(p, "json/")] = doc
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("schemas: loading embedded schemas: %w", err)
	}
	return docs, nil
}

func compileVerbs(docs map[string]any, strict bool) (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	for url, doc := range docs {
		if strict {
			doc = closeSchema(deepCopy(doc))
		}
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("schemas: adding %s: %w", url, err)
		}
	}
	out := make(map[string]*jsonschema.Schema)
	for verb, file := range verbFiles() {
		s, err := c.Compile(baseURL + "verbs/" + file)
		if err != nil {
			return nil, fmt.Errorf("schemas: compiling %s: %w", file, err)
		}
		out[verb] = s
	}
	return out, nil
}

// closeSchema makes a schema reject attributes it does not name: every schema
// of "type": "object" with "properties" and no additionalProperties or
// unevaluatedProperties of its own gets "unevaluatedProperties": false,
// except mixins (which the including schema closes). The subschemas of if,
// then, else and not are left alone: they are conditions on a value that
// another schema describes, and closing them would change their meaning.
func closeSchema(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	_, hasProps := m["properties"]
	_, hasAdd := m["additionalProperties"]
	_, hasUneval := m["unevaluatedProperties"]
	_, mixin := m[mixinKeyword]
	if m["type"] == "object" && hasProps && !hasAdd && !hasUneval && !mixin {
		m["unevaluatedProperties"] = false
	}
	for _, kw := range []string{"properties", "$defs", "patternProperties"} {
		if sub, ok := m[kw].(map[string]any); ok {
			for k, s := range sub {
				sub[k] = closeSchema(s)
			}
		}
	}
	for _, kw := range []string{"items", "additionalProperties", "contains"} {
		if s, ok := m[kw]; ok {
			m[kw] = closeSchema(s)
		}
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf", "prefixItems"} {
		if arr, ok := m[kw].([]any); ok {
			for i, s := range arr {
				arr[i] = closeSchema(s)
			}
		}
	}
	return m
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = deepCopy(x)
		}
		return a
	default:
		return v
	}
}

// ValidateApp validates a verb document. It returns the unknown attributes as
// warnings (verb by verb, sorted by path within a verb) and, when the
// document must not run, a
// [*DocumentError] naming the first problem. In strict mode the first unknown
// attribute is that error.
func (v *Validator) ValidateApp(doc []byte, opts Options) ([]Issue, error) {
	_, warnings, err := v.Load(doc, opts)
	return warnings, err
}

// Load validates a verb document and, when it is valid, normalises it into a
// [Plan]: aliases resolved, both shapes turned into one. Warnings are returned
// with a valid plan as with [Validator.ValidateApp].
func (v *Validator) Load(doc []byte, opts Options) (Plan, []Issue, error) {
	lim := opts.Limits.withDefaults()
	items, raws, err := parseDocument(doc, lim)
	if err != nil {
		return nil, nil, err
	}
	plan := make(Plan, 0, len(items))
	var warnings []Issue
	for i, x := range items {
		it, err := v.parseItem(i, x, raws[i])
		if err != nil {
			return nil, nil, err
		}
		// The closed schemas accept a subset of what the open ones accept (a
		// oneOf never has two object branches: TestOneOfBranchesAreDisjoint),
		// so a verb without unknown attributes needs one pass.
		var unknown []Issue
		if serr := v.strict[it.verb].Validate(it.attrs); serr != nil {
			if err := v.checkAttrs(it); err != nil {
				return nil, nil, err
			}
			unknown = unknownAttrs(it.prefix, serr)
		}
		if opts.Strict && len(unknown) > 0 {
			u := unknown[0]
			return nil, nil, &DocumentError{u}
		}
		warnings = append(warnings, unknown...)
		step, err := it.step()
		if err != nil {
			return nil, nil, err
		}
		plan = append(plan, step)
	}
	return plan, warnings, nil
}

// ValidateVerb validates the attributes of one verb (without its "verb" key),
// as found nested in another verb or sent on its own; name may be an alias.
// Paths in the result are relative to the attributes object.
func (v *Validator) ValidateVerb(name string, attrs []byte, opts Options) ([]Issue, error) {
	doc, err := json.Marshal([]map[string]json.RawMessage{{name: json.RawMessage(attrs)}})
	if err != nil {
		return nil, docErr("", KindSyntax, "invalid JSON: %v", err)
	}
	warnings, err := v.ValidateApp(doc, opts)
	prefix := "/0/" + escapePointer(name)
	for i := range warnings {
		warnings[i].Path = strings.TrimPrefix(warnings[i].Path, prefix)
	}
	if de, ok := err.(*DocumentError); ok {
		de.Path = strings.TrimPrefix(de.Path, prefix)
	}
	return warnings, err
}

// AppSchema returns json/app.json: the JSON Schema of a whole document in
// both shapes, for editors and other tools. It is generated from the verb
// table; the validator applies the same rules plus the limits.
func (v *Validator) AppSchema() []byte {
	b, err := files.ReadFile("json/app.json")
	if err != nil {
		return nil // unreachable: TestAppSchemaUpToDate keeps the file
	}
	return b
}
