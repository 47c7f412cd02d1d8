package verbs

import "encoding/json"

// NotYet returns the names among names that attrs (a verb's attributes)
// gives: attributes of jambonz's schema that a verb accepts but does not run
// yet. The verb logs them with WarnNotYet each time it runs, so that a tenant
// reading the call's log sees what was ignored; it never fakes them.
func NotYet(attrs json.RawMessage, names ...string) []string {
	var given map[string]json.RawMessage
	if json.Unmarshal(attrs, &given) != nil {
		return nil
	}
	var out []string
	for _, k := range names {
		if _, ok := given[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// WarnNotYet logs one warning per attribute that the verb accepts but does
// not run yet ("not supported yet; ignored").
func WarnNotYet(call Call, verb string, attrs []string) {
	for _, k := range attrs {
		call.Logger().Warn(verb+": attribute not supported yet; ignored", "attribute", k)
	}
}
