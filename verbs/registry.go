package verbs

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/voxrun/voxrun/schemas"
)

// Factory decodes one verb's attributes (a JSON object, the "verb" key
// removed) into a runnable Verb. Nested verbs are decoded through d.
type Factory func(attrs json.RawMessage, d *Decoder) (Verb, error)

// Registry maps verb names to factories and decodes documents. Build it once
// in cmd (verbs/builtin lists every verb) and share it; it is read-only after
// construction.
type Registry struct {
	validator *schemas.Validator
	factories map[string]Factory
}

// NewRegistry builds an empty registry that validates with v.
func NewRegistry(v *schemas.Validator) *Registry {
	return &Registry{validator: v, factories: map[string]Factory{}}
}

// Register adds a verb. A duplicate name is a programming error and panics at
// start-up.
func (r *Registry) Register(name string, f Factory) {
	if _, dup := r.factories[name]; dup {
		panic("verbs: verb " + name + " registered twice")
	}
	r.factories[name] = f
}

// Names lists the registered verbs, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.factories))
	for n := range r.factories {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Step and Plan are the schemas package's normalised verbs, re-exported so
// that the runtime keeps checkpoints without importing schemas.
type (
	Step = schemas.Step
	Plan = schemas.Plan
	// Issue is one problem (or warning) found in a document.
	Issue = schemas.Issue
)

// DecodeOptions change how a document is decoded.
type DecodeOptions struct {
	// Strict turns unknown attributes into errors (strict_verbs).
	Strict bool
}

// Entry is one verb of a decoded document: the runnable verb and the
// normalised step it came from (kept for checkpoints and messages).
type Entry struct {
	Step Step
	Verb Verb
}

// Decode validates a whole document and decodes every verb; nothing of an
// invalid document is returned. Warnings (unknown attributes) come back with
// the verbs. A verb that validates but that voxrun cannot run yet is an
// error naming its path.
func (r *Registry) Decode(doc []byte, opts DecodeOptions) ([]Entry, []Issue, error) {
	plan, warnings, err := r.validator.Load(doc, schemas.Options{Strict: opts.Strict})
	if err != nil {
		return nil, warnings, err
	}
	out, err := r.DecodePlan(plan)
	return out, warnings, err
}

// DecodePlan decodes an already validated plan, such as one restored from a
// checkpoint.
func (r *Registry) DecodePlan(plan Plan) ([]Entry, error) {
	d := &Decoder{r: r}
	out := make([]Entry, 0, len(plan))
	for _, step := range plan {
		v, err := d.decode(step.Verb, step.Attrs, step.Path)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Step: step, Verb: v})
	}
	return out, nil
}

// Decoder decodes nested verbs for a factory.
type Decoder struct {
	r *Registry
}

// Decode decodes a nested verb (gather's say) by name.
func (d *Decoder) Decode(name string, attrs json.RawMessage) (Verb, error) {
	return d.decode(name, attrs, "")
}

func (d *Decoder) decode(name string, attrs json.RawMessage, path string) (Verb, error) {
	f, ok := d.r.factories[name]
	if !ok {
		return nil, &schemas.DocumentError{Issue: schemas.Issue{
			Path: path, Kind: schemas.KindUnknownVerb,
			Message: fmt.Sprintf("verb %q is not supported by voxrun yet", name),
		}}
	}
	v, err := f(attrs, d)
	if err != nil {
		return nil, &schemas.DocumentError{Issue: schemas.Issue{Path: path, Kind: schemas.KindSchema, Message: err.Error()}}
	}
	return v, nil
}
