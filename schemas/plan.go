package schemas

import "encoding/json"

// Step is one verb of a normalised document.
type Step struct {
	// Verb is the canonical verb name (listen, never stream).
	Verb string `json:"verb"`
	// As is the name the document used when it was an alias ("stream",
	// "openai_s2s"), and empty otherwise.
	As string `json:"as,omitempty"`
	// Path is the JSON pointer of the verb's attributes in the document, for
	// messages about the verb at run time.
	Path string `json:"path"`
	// Attrs is a JSON object of the verb's attributes without the "verb" key,
	// with keys sorted and values exactly as written; an alias's vendor is
	// added when the document did not set one.
	Attrs json.RawMessage `json:"attrs"`
}

// Plan is a normalised document: its verbs in order, in one shape.
type Plan []Step

// Normalize turns a document in either shape into a [Plan] with aliases
// resolved, checking the shape, the verb names and the limits but not the
// attributes; [Validator.Load] does both.
func (v *Validator) Normalize(doc []byte, lim Limits) (Plan, error) {
	items, raws, err := parseDocument(doc, lim.withDefaults())
	if err != nil {
		return nil, err
	}
	plan := make(Plan, 0, len(items))
	for i, x := range items {
		it, err := v.parseItem(i, x, raws[i])
		if err != nil {
			return nil, err
		}
		s, err := it.step()
		if err != nil {
			return nil, err
		}
		plan = append(plan, s)
	}
	return plan, nil
}
