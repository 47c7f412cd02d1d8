package schemas

import (
	"errors"
	"fmt"
)

// ErrInvalidDocument is matched (with errors.Is) by every error that rejects a
// verb document: bad JSON, a wrong shape, an unknown verb, a schema violation,
// an exceeded limit or, in strict mode, an unknown attribute. It also matches
// the errors of [Validator.ValidateHook] for a payload that breaks its schema.
var ErrInvalidDocument = errors.New("schemas: invalid document")

// ErrLimit is matched by the errors that reject a document for exceeding a
// limit (too many verbs, too deep, too long a string or too big a number).
var ErrLimit = errors.New("schemas: limit exceeded")

// Kind says what kind of problem an [Issue] describes.
type Kind string

// The kinds of problem a document can have.
const (
	KindSyntax      Kind = "syntax"            // the bytes are not one JSON value
	KindShape       Kind = "shape"             // not an array of verb objects
	KindUnknownVerb Kind = "unknown-verb"      // a verb name that no schema knows
	KindSchema      Kind = "schema"            // an attribute violates its schema
	KindLimit       Kind = "limit"             // a limit of Limits is exceeded
	KindUnknownAttr Kind = "unknown-attribute" // an attribute that no schema names
)

// Issue is one problem in a document: where it is, as a JSON pointer into the
// document as written, and what is wrong.
type Issue struct {
	// Path is the JSON pointer (RFC 6901) of the offending value, such as
	// "/2/gather/numDigits"; "" is the whole document.
	Path string `json:"path"`
	// Kind says what kind of problem this is.
	Kind Kind `json:"kind"`
	// Message says what is wrong, in lower case, without the path.
	Message string `json:"message"`
}

// String formats the issue as "path: message".
func (i Issue) String() string {
	p := i.Path
	if p == "" {
		p = "/"
	}
	return p + ": " + i.Message
}

// DocumentError is the error returned for a rejected document. It names the
// first problem found; errors.Is matches it with [ErrInvalidDocument], and
// also with [ErrLimit] when a limit was exceeded.
type DocumentError struct {
	Issue
}

// Error implements error.
func (e *DocumentError) Error() string {
	return fmt.Sprintf("schemas: %s", e.Issue)
}

// Is reports whether target is ErrInvalidDocument, or ErrLimit for a limit.
func (e *DocumentError) Is(target error) bool {
	return target == ErrInvalidDocument || (target == ErrLimit && e.Kind == KindLimit)
}

func docErr(path string, kind Kind, format string, args ...any) *DocumentError {
	return &DocumentError{Issue{Path: path, Kind: kind, Message: fmt.Sprintf(format, args...)}}
}
