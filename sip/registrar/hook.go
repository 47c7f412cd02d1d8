package registrar

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// HookPayload is the body of a registration hook request, as jambonz's
// registration webhook sends it: the digest fields of the request's
// Authorization, the request method and expiry, and where the request came
// from. The customer's server recomputes the digest response with the
// user's password (RFC 7616 §3.4.1) and answers a HookReply.
type HookPayload struct {
	// Method is the SIP request method ("REGISTER", "INVITE").
	Method string `json:"method"`
	// Realm is the SIP realm the client authenticates in.
	Realm string `json:"realm"`
	// Username is the user named in the credentials.
	Username string `json:"username"`
	// Expires is the expiry the REGISTER asks for, in seconds (absent for
	// other methods).
	Expires *int `json:"expires,omitempty"`
	// Scheme is always "digest".
	Scheme string `json:"scheme"`
	// Nonce is the nonce the client answered.
	Nonce string `json:"nonce"`
	// URI is the digest-uri of the credentials.
	URI string `json:"uri"`
	// Response is the digest response the client computed.
	Response string `json:"response"`
	// Algorithm is the digest algorithm ("MD5", "SHA-256").
	Algorithm string `json:"algorithm"`
	// QOP is the quality of protection ("auth").
	QOP string `json:"qop,omitempty"`
	// Cnonce is the client nonce.
	Cnonce string `json:"cnonce,omitempty"`
	// NC is the nonce count as the client sent it (8 hex digits).
	NC string `json:"nc,omitempty"`
	// SourceAddress is the IP address the request came from.
	SourceAddress string `json:"source_address"`
	// SourcePort is the port the request came from.
	SourcePort int `json:"source_port"`
}

// HookRequest is one delivery of the account's registration hook.
type HookRequest struct {
	// URL is the hook's URL.
	URL string
	// Method is the HTTP method (POST unless the hook says otherwise).
	Method string
	// Username and Password are the hook's basic-auth credentials, if any.
	Username string
	Password string
	// Secret is the account's webhook secret: the sender signs the exact
	// bytes it sends with it (Jambonz-Signature). Empty: no signature.
	Secret string
	// Payload is the body, to be encoded as compact JSON without HTML
	// escaping (as JavaScript's JSON.stringify writes it).
	Payload HookPayload
}

// HookSender delivers registration hooks. cmd implements it with
// apps/webhook's guarded HTTP client, its JSON encoding and its
// Jambonz-Signature; this package never builds an HTTP client.
type HookSender interface {
	// SendHook delivers req and returns the body of the customer's 2xx
	// reply. Any other outcome (no connection, a timeout, a non-2xx status)
	// is an error.
	SendHook(ctx context.Context, req HookRequest) ([]byte, error)
}

// HookSenderFunc adapts a function to HookSender.
type HookSenderFunc func(ctx context.Context, req HookRequest) ([]byte, error)

// SendHook calls f.
func (f HookSenderFunc) SendHook(ctx context.Context, req HookRequest) ([]byte, error) {
	return f(ctx, req)
}

// HookReply is the customer's verdict, as jambonz's registration webhook
// defines it.
type HookReply struct {
	// OK is true when status is "ok": the client is admitted.
	OK bool
	// Message is the customer's human-readable message (logged only).
	Message string
	// Expires is the expiry to grant instead of the requested one, in
	// seconds; 0 when absent.
	Expires int
	// Blacklist asks to ban the request's source address (it gets the
	// lockout of too many failures).
	Blacklist bool
	// ApplicationSID is the application the customer names for calls from
	// this client, "" when absent.
	ApplicationSID string
}

// ParseHookReply reads a registration hook reply body.
func ParseHookReply(body []byte) (HookReply, error) {
	var raw struct {
		Status         string          `json:"status"`
		Message        string          `json:"message"`
		Msg            string          `json:"msg"`
		Expires        *float64        `json:"expires"`
		Blacklist      json.RawMessage `json:"blacklist"`
		ApplicationSID string          `json:"application_sid"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		return HookReply{}, fmt.Errorf("%w: %v", ErrHookReply, err)
	}
	var r HookReply
	switch strings.ToLower(strings.TrimSpace(raw.Status)) {
	case "ok":
		r.OK = true
	case "fail":
	default:
		return HookReply{}, fmt.Errorf("%w: status %q", ErrHookReply, raw.Status)
	}
	r.Message = raw.Message
	if r.Message == "" {
		r.Message = raw.Msg
	}
	if raw.Expires != nil && *raw.Expires > 0 {
		r.Expires = int(*raw.Expires)
	}
	r.Blacklist = truthy(raw.Blacklist)
	r.ApplicationSID = raw.ApplicationSID
	return r, nil
}

// truthy reads jambonz's blacklist attribute: true, a non-empty object or
// string, or a non-zero number ask for a ban; false, null, "" and 0 do not.
func truthy(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	switch s {
	case "", "null", "false", "0", `""`, "{}", "[]":
		return false
	}
	return true
}
