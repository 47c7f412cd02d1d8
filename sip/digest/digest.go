package digest

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"

	icholy "github.com/icholy/digest"

	"github.com/voxrun/voxrun/store"
)

// MaxNonceTTL is the longest a nonce is accepted.
const MaxNonceTTL = 5 * time.Minute

// Algorithms this package verifies.
const (
	SHA256 = "SHA-256"
	MD5    = "MD5"
)

// Config configures an Authenticator.
type Config struct {
	// Secret keys the nonces' MAC. Every node of a cluster must share it;
	// at least 16 bytes.
	Secret []byte
	// NonceTTL is how long a nonce is accepted; default and maximum 5 minutes.
	NonceTTL time.Duration
	// Algorithms are offered in challenges in this order, one
	// WWW-Authenticate each (RFC 8760 §2.4); default SHA-256 then MD5.
	Algorithms []string
	// Clock is the time source; nil means time.Now.
	Clock func() time.Time
}

// Lookup returns the password of user in realm, or ErrUnknownUser.
type Lookup func(ctx context.Context, realm, user string) (password string, err error)

// Request is what Verify needs of a SIP request.
type Request struct {
	// Method is the request method (the A2 of the digest).
	Method string
	// Authorization is the value of the Authorization or
	// Proxy-Authorization header ("" when absent).
	Authorization string
	// Realm is the realm the request must authenticate in (the account's
	// SIP realm).
	Realm string
}

// Authenticator issues challenges and verifies credentials.
type Authenticator struct {
	cfg    Config
	values store.Values
}

// New returns an Authenticator that records used nonce counts in values.
func New(cfg Config, values store.Values) (*Authenticator, error) {
	if len(cfg.Secret) < 16 {
		return nil, fmt.Errorf("%w: secret shorter than 16 bytes", ErrConfig)
	}
	if values == nil {
		return nil, fmt.Errorf("%w: no live state for nonce counts", ErrConfig)
	}
	if cfg.NonceTTL <= 0 || cfg.NonceTTL > MaxNonceTTL {
		cfg.NonceTTL = MaxNonceTTL
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{SHA256, MD5}
	}
	for _, a := range cfg.Algorithms {
		if newHash(a) == nil {
			return nil, fmt.Errorf("%w: algorithm %q", ErrConfig, a)
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Authenticator{cfg: cfg, values: values}, nil
}

// Challenge returns the values of the WWW-Authenticate (or
// Proxy-Authenticate) headers of a 401 (407) for realm: one per algorithm,
// sharing one fresh nonce. It touches no store and looks no user up.
func (a *Authenticator) Challenge(realm string, stale bool) ([]string, error) {
	nonce, err := a.newNonce(realm)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(a.cfg.Algorithms))
	for _, alg := range a.cfg.Algorithms {
		c := icholy.Challenge{Realm: realm, Nonce: nonce, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		out = append(out, c.String())
	}
	return out, nil
}

// Verify checks the credentials of req and returns the authenticated user.
// Every failure is an *Error: unknown users and wrong passwords alike are
// ErrBadCredentials, after the same work.
func (a *Authenticator) Verify(ctx context.Context, req Request, lookup Lookup) (string, error) {
	fail := func(status int, err error) (string, error) {
		return "", &Error{Status: status, Err: err, Stale: errors.Is(err, ErrStale)}
	}
	if req.Authorization == "" {
		return fail(401, ErrMissing)
	}
	cred, err := icholy.ParseCredentials(req.Authorization)
	if err != nil {
		return fail(400, fmt.Errorf("%w: %v", ErrMalformed, err))
	}
	if cred.Username == "" || cred.Nonce == "" || cred.URI == "" || cred.Response == "" {
		return fail(400, ErrMalformed)
	}
	// RFC 3261 §22.4: credentials for another realm do not answer this challenge.
	if cred.Realm != req.Realm {
		return fail(401, ErrBadNonce)
	}
	alg := cred.Algorithm
	if alg == "" {
		alg = MD5 // RFC 7616 §3.4: absent means MD5
	}
	if !a.offers(alg) || newHash(alg) == nil {
		return fail(401, ErrUnsupported)
	}
	// Only qop=auth (RFC 7616 §3.4: qop absent is RFC 2069 legacy).
	if cred.QOP != "auth" || cred.Cnonce == "" || cred.Nc <= 0 {
		return fail(401, ErrUnsupported)
	}
	expires, err := a.checkNonce(cred.Nonce, req.Realm)
	if err != nil {
		return fail(401, err)
	}
	password, lerr := lookup(ctx, req.Realm, cred.Username)
	known := lerr == nil
	if lerr != nil && !errors.Is(lerr, ErrUnknownUser) {
		return "", fmt.Errorf("sip/digest: lookup: %w", lerr)
	}
	if !known {
		// Same work as for a known user, so that timing says nothing.
		password = "\x00unknown-user\x00"
	}
	h := newHash(alg)
	nc := fmt.Sprintf("%08x", cred.Nc)
	ha1 := hashJoin(h, cred.Username, req.Realm, password)
	ha2 := hashJoin(h, req.Method, cred.URI)
	want := hashJoin(h, ha1, cred.Nonce, nc, cred.Cnonce, cred.QOP, ha2)
	match := hmac.Equal([]byte(want), []byte(strings.ToLower(cred.Response)))
	if !known || !match {
		return fail(401, ErrBadCredentials)
	}
	// Each nonce count is good once, on any node (RFC 7616 §3.3 nc).
	ttl := expires.Sub(a.cfg.Clock())
	if ttl < time.Second {
		ttl = time.Second
	}
	first, err := a.values.SetValueNX(ctx, "digest:nc:"+cred.Nonce+":"+nc, []byte(cred.Username), ttl)
	if err != nil {
		return "", fmt.Errorf("sip/digest: record nonce count: %w", err)
	}
	if !first {
		return fail(401, ErrReplay)
	}
	return cred.Username, nil
}

func (a *Authenticator) offers(alg string) bool {
	for _, x := range a.cfg.Algorithms {
		if strings.EqualFold(x, alg) {
			return true
		}
	}
	return false
}

// Nonces are base64url(expiry(8) | random(12) | mac(16)), the MAC being
// HMAC-SHA-256 over realm, expiry and random bytes.
const (
	nonceRandom = 12
	nonceMAC    = 16
	nonceLen    = 8 + nonceRandom + nonceMAC
)

func (a *Authenticator) newNonce(realm string) (string, error) {
	b := make([]byte, nonceLen)
	binary.BigEndian.PutUint64(b, uint64(a.cfg.Clock().Add(a.cfg.NonceTTL).Unix()))
	if _, err := rand.Read(b[8 : 8+nonceRandom]); err != nil {
		return "", fmt.Errorf("sip/digest: nonce: %w", err)
	}
	copy(b[8+nonceRandom:], a.mac(realm, b[:8+nonceRandom]))
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// checkNonce verifies that nonce was issued here for realm and is not
// expired, and returns its expiry.
func (a *Authenticator) checkNonce(nonce, realm string) (time.Time, error) {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != nonceLen {
		return time.Time{}, ErrBadNonce
	}
	if !hmac.Equal(b[8+nonceRandom:], a.mac(realm, b[:8+nonceRandom])) {
		return time.Time{}, ErrBadNonce
	}
	expires := time.Unix(int64(binary.BigEndian.Uint64(b)), 0)
	now := a.cfg.Clock()
	if !now.Before(expires) {
		return time.Time{}, ErrStale
	}
	if expires.Sub(now) > a.cfg.NonceTTL+time.Second {
		return time.Time{}, ErrBadNonce // not one of ours
	}
	return expires, nil
}

func (a *Authenticator) mac(realm string, body []byte) []byte {
	m := hmac.New(sha256.New, a.cfg.Secret)
	m.Write([]byte(realm))
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)[:nonceMAC]
}

func newHash(alg string) hash.Hash {
	switch strings.ToUpper(alg) {
	case MD5:
		return md5.New()
	case SHA256:
		return sha256.New()
	}
	return nil
}

// hashJoin is H(p1 ":" p2 ":" ...) in lower-case hex (RFC 7616 §3.4.1).
func hashJoin(h hash.Hash, parts ...string) string {
	h.Reset()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{':'})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}
