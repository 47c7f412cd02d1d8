package admission

import (
	"errors"
	"fmt"
	"time"
)

// ErrOverload is wrapped by every *OverloadError.
var ErrOverload = errors.New("sip/admission: over budget")

// OverloadError refuses a new call. Callers answer Status with a Retry-After
// of RetryAfter (RFC 3261 §21.5.4, §20.33).
type OverloadError struct {
	// Status is the SIP status to answer with (503).
	Status int
	// RetryAfter is when the caller may try again.
	RetryAfter time.Duration
	// Reason says which budget is spent ("calls per second", "concurrent calls").
	Reason string
}

func (e *OverloadError) Error() string {
	return fmt.Sprintf("sip/admission: %s over budget, retry after %s", e.Reason, e.RetryAfter)
}

func (e *OverloadError) Unwrap() error { return ErrOverload }
