// Package schemas holds voxrun's JSON Schemas (draft 2020-12) for the jambonz
// verb documents that applications return, embedded in the binary, and the
// validator that checks a document against them before anything of it runs.
//
// A document is an array of verbs, each in either of jambonz's two shapes,
// {"verb":"say","text":"hi"} or {"say":{"text":"hi"}}, with jambonz's aliases
// (stream → listen, room → conference, s2s and <vendor>_s2s → llm). A
// [Validator], built once with [NewValidator] and shared, checks the limits
// (verb count, nesting depth, string length), the verb names and every verb's
// attributes, and reports the JSON path of the first problem. Attributes that
// no schema names are accepted, as jambonz accepts them, but each is returned
// as a warning; [Options.Strict] turns them into errors. [Validator.Load]
// validates and normalises in one step: the result is a [Plan], a list of
// canonical verb names with their raw attributes, which the verb registry
// decodes.
//
// The schemas are voxrun's own, written from the documented semantics of the
// npm package @jambonz/schema; a test checks that both agree on a corpus of
// documents, and lists where voxrun is deliberately stricter.
//
// This package is a leaf: it imports no other voxrun package. It does not
// decode verbs into Go types, run them, or know anything about calls; that is
// the job of the verbs registry and the runtime.
package schemas
