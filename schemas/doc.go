// Package schemas holds voxrun's JSON Schemas (draft 2020-12) for the jambonz
// verb documents that applications return and for the hook payloads voxrun
// sends, embedded in the binary, and the validator that checks a document
// against them before anything of it runs.
//
// A document is an array of verbs, each in either of jambonz's two shapes,
// {"verb":"say","text":"hi"} or {"say":{"text":"hi"}}, with jambonz's aliases
// (stream → listen, room → conference, s2s and <vendor>_s2s → llm). A
// [Validator], built once with [NewValidator] and shared, checks the limits
// (verb count, nesting depth, string length, numbers that overflow), the
// shapes and verb names, and every verb's attributes, and reports the JSON
// path of the first problem as a [*DocumentError]. Attributes that no schema
// names are accepted, as jambonz accepts them, but each is returned as a
// warning; [Options.Strict] (the application setting strict_verbs) turns them
// into errors. [Validator.Load] validates and normalises in one step: the
// result is a [Plan], a list of canonical verb names with their attributes as
// written, which the verb registry decodes. [Validator.ValidateHook] checks a
// hook payload, and [Validator.AppSchema] gives the schema of a whole
// document to editors and other tools.
//
// The schemas are voxrun's own, written from the documented semantics of the
// npm package @jambonz/schema; tests check that both agree on a corpus of
// documents and on thousands of mutants of it and of jambonz's own examples.
// voxrun is deliberately stricter in a few places, each listed with its reason
// in agreement_test.go: the limits; a verb body that is not an object; digit
// counts that are not integers; a sip:decline status outside 400-699; gather's
// nested say and play validated as verbs; hook credentials that are neither
// strings nor numbers. It accepts two things jambonz's schema rejects by
// mistake: a string confirmHook, and Gladia recognizer options.
//
// This package is a leaf: it imports no other voxrun package. It does not
// decode verbs into Go types, run them, or know anything about calls; that is
// the job of the verbs registry and the runtime.
package schemas
