package api

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/voxrun/voxrun/store"
)

// localKey types the keys this package keeps in fiber's per-request locals.
type localKey int

const (
	localScope localKey = iota
	localKeySID
)

// msgUnauthorized is the one answer for a missing, unknown, expired or
// revoked key, so that nobody learns which of them it was.
const msgUnauthorized = "invalid or missing api key"

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// limitByAddress is the first /v1 middleware: a token bucket per source address.
func (v *v1) limitByAddress(c *fiber.Ctx) error {
	if v.byAddr == nil {
		return c.Next()
	}
	if ok, wait := v.byAddr.allow(c.IP()); !ok {
		return tooMany(c, wait)
	}
	return c.Next()
}

// authenticate resolves the bearer key into a scope, then applies the per-key limit.
func (v *v1) authenticate(c *fiber.Ctx) error {
	tok, ok := bearer(c.Get(fiber.HeaderAuthorization))
	if !ok {
		return fiber.NewError(fiber.StatusUnauthorized, msgUnauthorized)
	}
	key, err := v.prov.AuthenticateAPIKey(c.UserContext(), tok)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fiber.NewError(fiber.StatusUnauthorized, msgUnauthorized)
	case err != nil:
		return v.fail(c, "authenticate", err)
	}
	if v.byKey != nil {
		if ok, wait := v.byKey.allow(key.APIKeySID); !ok {
			return tooMany(c, wait)
		}
	}
	c.Locals(localScope, key.Scope())
	c.Locals(localKeySID, key.APIKeySID)
	return c.Next()
}

func tooMany(c *fiber.Ctx, wait time.Duration) error {
	secs := int(wait / time.Second)
	if wait%time.Second != 0 {
		secs++
	}
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(secs, 1)))
	return fiber.NewError(fiber.StatusTooManyRequests, "too many requests")
}

// scopeOf is the scope that authenticate stored for this request.
func scopeOf(c *fiber.Ctx) store.Scope {
	s, ok := c.Locals(localScope).(store.Scope)
	if !ok {
		// Unreachable behind authenticate; an impossible scope sees nothing.
		return store.Scope{Kind: store.ScopeAccount}
	}
	return s
}

// fail answers a store error with a deliberate public message and logs the
// internal one. op names what was attempted, for the log only.
func (v *v1) fail(c *fiber.Ctx, op string, err error) error {
	code, msg := publicError(err)
	if code >= 500 {
		v.log.Error("api: request failed", "op", op, "method", c.Method(), "path", c.Path(), "err", err)
	} else {
		v.log.Debug("api: request refused", "op", op, "method", c.Method(), "path", c.Path(), "status", code, "err", err)
	}
	return fiber.NewError(code, msg)
}

// publicError maps an error onto the status and message a tenant sees. No
// message carries a value from the error itself.
func publicError(err error) (int, string) {
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		return fe.Code, fe.Message
	case errors.Is(err, store.ErrNotFound):
		return fiber.StatusNotFound, "not found"
	case errors.Is(err, store.ErrInUse):
		return fiber.StatusUnprocessableEntity, "resource is in use"
	case errors.Is(err, store.ErrConflict):
		return fiber.StatusUnprocessableEntity, "a record with that value already exists"
	case errors.Is(err, store.ErrForbidden):
		return fiber.StatusForbidden, "insufficient privileges"
	case errors.Is(err, store.ErrInvalid):
		return fiber.StatusUnprocessableEntity, "invalid request"
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return fiber.StatusServiceUnavailable, "service temporarily unavailable"
	}
	return fiber.StatusInternalServerError, "internal error"
}
