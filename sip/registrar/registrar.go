package registrar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/admission"
	"github.com/voxrun/voxrun/sip/digest"
	"github.com/voxrun/voxrun/store"
)

// Defaults of Config's zero values (RFC 3261 §10.2.1.1, §10.3 step 7).
const (
	DefaultMinExpires     = 60 * time.Second
	DefaultMaxExpires     = 3600 * time.Second
	DefaultDefaultExpires = 3600 * time.Second
)

// Live is the live state the registrar needs: the bindings, and values
// to count the nonces answered through a registration hook. store.Live
// satisfies it.
type Live interface {
	store.Registrations
	store.Values
}

// Config configures a Registrar.
type Config struct {
	// Provisioning is where accounts (by sip_realm) and their clients are
	// read, in the admin scope. Required.
	Provisioning store.Provisioning
	// Live keeps the bindings and the nonce counts of hook attempts.
	// Required.
	Live Live
	// Digest issues challenges and verifies credentials. Required.
	Digest *digest.Authenticator
	// Hooks delivers registration hooks. Nil: a request for an account that
	// has a registration hook is refused with 403 (and logged as an error).
	Hooks HookSender
	// Node is this node's name, recorded in each binding.
	Node string
	// MinExpires is the shortest expiry accepted; a REGISTER asking for
	// less (and more than zero) gets 423 with Min-Expires. Default 60 s.
	MinExpires time.Duration
	// MaxExpires is the longest expiry granted. Default 3600 s.
	MaxExpires time.Duration
	// DefaultExpires is granted when a REGISTER names no expiry. Default
	// 3600 s.
	DefaultExpires time.Duration
	// Lockout limits failed attempts per source address and per user.
	Lockout admission.LockoutConfig
	// Clock is the time source of the lockout and the bindings' expiry;
	// nil means time.Now.
	Clock func() time.Time
	// Logger receives security events and errors; nil means slog.Default().
	Logger *slog.Logger
}

// Registrar answers REGISTER requests and authenticates SIP clients. It is
// safe for concurrent use and starts no goroutines.
type Registrar struct {
	cfg  Config
	log  *slog.Logger
	lock *admission.Lockout
	// maxFailures is the lockout's threshold, to ban a source at once.
	maxFailures int
}

// New builds a Registrar.
func New(cfg Config) (*Registrar, error) {
	switch {
	case cfg.Provisioning == nil:
		return nil, fmt.Errorf("%w: Provisioning is required", ErrConfig)
	case cfg.Live == nil:
		return nil, fmt.Errorf("%w: Live is required", ErrConfig)
	case cfg.Digest == nil:
		return nil, fmt.Errorf("%w: Digest is required", ErrConfig)
	}
	if cfg.MinExpires <= 0 {
		cfg.MinExpires = DefaultMinExpires
	}
	if cfg.MaxExpires <= 0 {
		cfg.MaxExpires = DefaultMaxExpires
	}
	if cfg.DefaultExpires <= 0 {
		cfg.DefaultExpires = DefaultDefaultExpires
	}
	if cfg.MaxExpires < cfg.MinExpires {
		return nil, fmt.Errorf("%w: MaxExpires %s below MinExpires %s", ErrConfig, cfg.MaxExpires, cfg.MinExpires)
	}
	if cfg.DefaultExpires < cfg.MinExpires || cfg.DefaultExpires > cfg.MaxExpires {
		return nil, fmt.Errorf("%w: DefaultExpires %s outside [%s, %s]", ErrConfig, cfg.DefaultExpires, cfg.MinExpires, cfg.MaxExpires)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Lockout.MaxFailures <= 0 {
		cfg.Lockout.MaxFailures = 5
	}
	return &Registrar{
		cfg:         cfg,
		log:         cfg.Logger.With("component", "sip/registrar"),
		lock:        admission.NewLockout(cfg.Lockout, cfg.Clock),
		maxFailures: cfg.Lockout.MaxFailures,
	}, nil
}

var _ sip.Handler = (*Registrar)(nil).HandleRegister

// HandleRegister answers a REGISTER (RFC 3261 §10.3): challenge,
// authenticate, then add, refresh, remove or list the To user's binding.
// Plug it in with srv.Handle("REGISTER", r.HandleRegister).
func (r *Registrar) HandleRegister(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
	if r.lock.Locked(attempt{source: sourceOf(req)}.sourceKey()) {
		return // see authorize: a locked-out source gets no answer at all
	}
	to := req.To()
	if to == nil || to.Address.User == "" || to.Address.Host == "" {
		// RFC 3261 §10.3 step 5: the To header names the address of record.
		r.respond(tx, newResponse(req, 400, "Bad Request: no address of record"))
		return
	}
	realm := normalizeRealm(to.Address.Host)
	b, status, reason := parseBinding(req)
	if status != 0 {
		r.respond(tx, newResponse(req, status, reason))
		return
	}
	a := attempt{realm: realm, source: sourceOf(req), header: "Authorization"}
	if b.requested >= 0 {
		e := b.requested
		a.expires = &e
	}
	g, ok := r.authorize(ctx, req, tx, a)
	if !ok {
		return
	}
	// RFC 3261 §10.3 step 4: the authenticated user may only change the
	// bindings of its own address of record.
	if g.id.Username != to.Address.User {
		r.securityEvent("sip_register_foreign_user", a, g.id.Username, "authenticated user is not the To user", "to_user", to.Address.User)
		r.respond(tx, newResponse(req, 403, "Forbidden"))
		return
	}
	r.bind(ctx, req, tx, a, g, b)
}

// bind applies an authenticated REGISTER to live state and answers it.
func (r *Registrar) bind(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, a attempt, g grant, b binding) {
	user, realm := g.id.Username, a.realm
	switch {
	case b.query:
		// RFC 3261 §10.3 step 8 (a REGISTER without Contact lists the bindings).
		reg, err := r.cfg.Live.Registration(ctx, user, realm)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			r.fail(req, tx, "registration lookup", err)
			return
		}
		res := newResponse(req, 200, "OK")
		if err == nil {
			left := int(reg.ExpiresAt.Sub(r.cfg.Clock()).Round(time.Second) / time.Second)
			if left > 0 {
				res.AppendHeader(contactHeader(reg.Contact, left))
			}
		}
		addDate(res, r.cfg.Clock())
		r.respond(tx, res)
		return
	case b.remove:
		// RFC 3261 §10.3 step 7: expires 0 removes the binding of that
		// contact, and Contact * every binding. A device that unregisters
		// a contact that is no longer the user's binding (another device
		// took it over) removes nothing, and the 200 lists what remains.
		cur, err := r.cfg.Live.Registration(ctx, user, realm)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			r.fail(req, tx, "registration lookup", err)
			return
		}
		res := newResponse(req, 200, "OK")
		if err == nil && !b.wildcard && cur.Contact != b.contactURI {
			if left := int(cur.ExpiresAt.Sub(r.cfg.Clock()).Round(time.Second) / time.Second); left > 0 {
				res.AppendHeader(contactHeader(cur.Contact, left))
			}
			addDate(res, r.cfg.Clock())
			r.respond(tx, res)
			return
		}
		if err := r.cfg.Live.Unregister(ctx, user, realm); err != nil && !errors.Is(err, store.ErrNotFound) {
			r.fail(req, tx, "unregister", err)
			return
		}
		addDate(res, r.cfg.Clock())
		r.respond(tx, res)
		r.log.Debug("sip/registrar: unregistered", "user", user, "realm", realm, "source", a.source.String())
		return
	}
	requested := b.requested
	if requested < 0 {
		requested = int(r.cfg.DefaultExpires / time.Second)
	}
	if g.hookExpires > 0 {
		requested = g.hookExpires
	}
	minSecs := int(r.cfg.MinExpires / time.Second)
	if b.requested > 0 && b.requested < minSecs && g.hookExpires == 0 {
		// RFC 3261 §10.3 step 7, §20.23: too brief.
		res := newResponse(req, 423, "Interval Too Brief")
		res.AppendHeader(header("Min-Expires", fmt.Sprint(minSecs)))
		r.respond(tx, res)
		return
	}
	granted := clamp(requested, minSecs, int(r.cfg.MaxExpires/time.Second))
	nat := behindNAT(b.contact, a.source, a.transport(req))
	if nat {
		granted = int(store.NATRegistrationTTL / time.Second)
	}
	ttl := time.Duration(granted) * time.Second
	reg := store.Registration{
		Name:          user,
		Domain:        realm,
		Contact:       b.contactURI,
		SourceAddress: a.source.Addr().String(),
		SourcePort:    int(a.source.Port()),
		Transport:     a.transport(req),
		Node:          r.cfg.Node,
		UserAgent:     headerValue(req, "User-Agent"),
		CallID:        headerValue(req, "Call-ID"),
		ExpiresAt:     r.cfg.Clock().Add(ttl),
	}
	if err := r.cfg.Live.Register(ctx, reg, ttl); err != nil {
		r.fail(req, tx, "register", err)
		return
	}
	res := newResponse(req, 200, "OK")
	res.AppendHeader(contactHeader(b.contactURI, granted))
	res.AppendHeader(header("Expires", fmt.Sprint(granted)))
	addDate(res, r.cfg.Clock())
	r.respond(tx, res)
	r.log.Debug("sip/registrar: registered", "user", user, "realm", realm, "source", a.source.String(),
		"expires", granted, "nat", nat, "transport", reg.Transport)
}

// fail answers 500 for a store failure and logs it.
func (r *Registrar) fail(req *sip.Request, tx sip.ServerTransaction, what string, err error) {
	r.log.Error("sip/registrar: "+what+" failed", "error", err, "call_id", headerValue(req, "Call-ID"))
	r.respond(tx, newResponse(req, 500, "Server Internal Error"))
}

func (r *Registrar) respond(tx sip.ServerTransaction, res *sip.Response) {
	if err := tx.Respond(res); err != nil {
		r.log.Debug("sip/registrar: respond failed", "status", res.StatusCode, "error", err)
	}
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
