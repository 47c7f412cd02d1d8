package registrar

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	icholy "github.com/icholy/digest"

	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/digest"
	"github.com/voxrun/voxrun/store"
)

// Identity is a SIP client that passed authentication.
type Identity struct {
	// Username is the authenticated user.
	Username string
	// Realm is the account's SIP realm it authenticated in.
	Realm string
	// Account is the account whose realm it is.
	Account store.Account
	// Client is the client record; zero when the account's registration
	// hook admitted the user (the customer keeps the users then).
	Client store.Client
	// ViaHook is true when the registration hook admitted the user.
	ViaHook bool
	// ApplicationSID is the application the registration hook named for
	// this client's calls ("" when none).
	ApplicationSID string
}

// attempt is one request to authenticate.
type attempt struct {
	realm  string
	source netip.AddrPort
	// header is "Authorization" (401) or "Proxy-Authorization" (407).
	header string
	// expires is the REGISTER's requested expiry, for the hook.
	expires *int
}

func (a attempt) sourceKey() string { return "src:" + a.source.Addr().String() }

func (a attempt) transport(req *sip.Request) string { return strings.ToLower(req.Transport()) }

func userKey(user, realm string) string { return "user:" + user + "@" + realm }

// grant is a successful authentication.
type grant struct {
	id Identity
	// hookExpires is the expiry the registration hook granted, 0 if none.
	hookExpires int
}

// Authenticate authenticates a request from a SIP client (an INVITE, a
// MESSAGE) in the realm of its From address: it challenges a request
// without credentials (401, RFC 3261 §22.2), verifies credentials in the
// Authorization or Proxy-Authorization header as HandleRegister does
// (password or registration hook, lockout, security events), and requires
// the authenticated user to be the From user. On failure it has answered
// the request (or, for a locked-out source, deliberately not) and returns
// false; on success it has sent nothing and returns who the client is, for
// routing. Call it only for requests that are not from a carrier: a
// carrier's INVITE is recognised by its source address (sip/route).
func (r *Registrar) Authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) (Identity, bool) {
	if r.lock.Locked(attempt{source: sourceOf(req)}.sourceKey()) {
		return Identity{}, false // see authorize
	}
	from := req.From()
	if from == nil || from.Address.User == "" || from.Address.Host == "" {
		r.respond(tx, newResponse(req, 400, "Bad Request: From"))
		return Identity{}, false
	}
	a := attempt{realm: normalizeRealm(from.Address.Host), source: sourceOf(req), header: "Authorization"}
	if req.GetHeader("Authorization") == nil && req.GetHeader("Proxy-Authorization") != nil {
		a.header = "Proxy-Authorization"
	}
	g, ok := r.authorize(ctx, req, tx, a)
	if !ok {
		return Identity{}, false
	}
	if g.id.Username != from.Address.User {
		// No calling as another user of the account.
		r.securityEvent("sip_auth_foreign_user", a, g.id.Username, "authenticated user is not the From user", "from_user", from.Address.User)
		r.respond(tx, newResponse(req, 403, "Forbidden"))
		return Identity{}, false
	}
	return g.id, true
}

// authorize runs the authentication of a request: lockout of the source,
// challenge, lockout of the user, then verification by password or hook.
// On failure it answers the request and returns false.
func (r *Registrar) authorize(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, a attempt) (grant, bool) {
	if r.lock.Locked(a.sourceKey()) {
		// Silence: a flood from a locked-out source costs one lookup in
		// memory and earns no answer to count, and the tool gives up.
		// sipgo terminates a server transaction left without a final
		// response when the handler returns.
		r.log.Debug("sip/registrar: locked-out source ignored", "source", a.source.String())
		return grant{}, false
	}
	authz := headerValue(req, a.header)
	if authz == "" {
		// Challenge before any lookup: known and unknown realms and users
		// get the same answer (RFC 3261 §22.1).
		r.challenge(req, tx, a, false)
		return grant{}, false
	}
	cred, err := icholy.ParseCredentials(authz)
	if err != nil || cred.Username == "" {
		r.failure(a, "", "malformed credentials")
		r.respond(tx, newResponse(req, 400, "Bad Request: Authorization"))
		return grant{}, false
	}
	user := cred.Username
	if r.lock.Locked(userKey(user, a.realm)) {
		r.respond(tx, newResponse(req, 403, "Forbidden"))
		return grant{}, false
	}
	acct, known, err := r.account(ctx, a.realm)
	if err != nil {
		r.fail(req, tx, "account lookup", err)
		return grant{}, false
	}
	dreq := digest.Request{Method: string(req.Method), Authorization: authz, Realm: a.realm}
	if known && acct.RegistrationHook != nil && acct.RegistrationHook.URL != "" {
		return r.viaHook(ctx, req, tx, a, acct, cred, dreq)
	}
	var client store.Client
	lookup := func(ctx context.Context, realm, name string) (string, error) {
		accountSID := ""
		if known {
			accountSID = acct.AccountSID
		}
		// The query runs for unknown realms too, so that they cost the same.
		cs, err := r.cfg.Provisioning.Clients(store.Admin()).List(ctx, store.Filter{"account_sid": accountSID, "username": name})
		if err != nil {
			return "", err
		}
		if !known || len(cs) != 1 || !cs[0].IsActive || cs[0].Password == "" {
			return "", digest.ErrUnknownUser
		}
		client = cs[0]
		return client.Password, nil
	}
	name, err := r.cfg.Digest.Verify(ctx, dreq, lookup)
	if err != nil {
		r.refuse(req, tx, a, user, err)
		return grant{}, false
	}
	r.lock.Succeed(userKey(name, a.realm))
	return grant{id: Identity{Username: name, Realm: a.realm, Account: acct, Client: client}}, true
}

// viaHook lets the account's registration hook decide (jambonz's
// registration webhook). The nonce is checked here first: it must have
// been issued by this cluster for this realm and not be stale, and each
// nonce count is accepted once.
func (r *Registrar) viaHook(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, a attempt, acct store.Account, cred *icholy.Credentials, dreq digest.Request) (grant, bool) {
	user := cred.Username
	// digest.Verify checks the nonce, realm, algorithm and qop before it
	// looks the user up; a lookup that is reached means they passed. It
	// answers "unknown user", so Verify ends with ErrBadCredentials.
	reached := false
	probe := func(context.Context, string, string) (string, error) {
		reached = true
		return "", digest.ErrUnknownUser
	}
	_, err := r.cfg.Digest.Verify(ctx, dreq, probe)
	if !reached || !errors.Is(err, digest.ErrBadCredentials) {
		if err == nil {
			err = digest.ErrBadCredentials
		}
		r.refuse(req, tx, a, user, err)
		return grant{}, false
	}
	if r.cfg.Hooks == nil {
		r.log.Error("sip/registrar: account has a registration hook but no hook sender is configured", "account_sid", acct.AccountSID)
		r.respond(tx, newResponse(req, 403, "Forbidden"))
		return grant{}, false
	}
	nc := fmt.Sprintf("%08x", cred.Nc)
	// RFC 7616 §3.3: each nonce count once, on any node.
	first, err := r.cfg.Live.SetValueNX(ctx, "registrar:hook-nc:"+cred.Nonce+":"+nc, []byte(user), digest.MaxNonceTTL)
	if err != nil {
		r.fail(req, tx, "record nonce count", err)
		return grant{}, false
	}
	if !first {
		r.refuse(req, tx, a, user, &digest.Error{Status: 401, Err: digest.ErrReplay})
		return grant{}, false
	}
	hook := acct.RegistrationHook
	body, err := r.cfg.Hooks.SendHook(ctx, HookRequest{
		URL:      hook.URL,
		Method:   hook.Method,
		Username: hook.Username,
		Password: hook.Password,
		Secret:   acct.WebhookSecret,
		Payload: HookPayload{
			Method:        string(req.Method),
			Realm:         a.realm,
			Username:      user,
			Expires:       a.expires,
			Scheme:        "digest",
			Nonce:         cred.Nonce,
			URI:           cred.URI,
			Response:      cred.Response,
			Algorithm:     algorithmOf(cred),
			QOP:           cred.QOP,
			Cnonce:        cred.Cnonce,
			NC:            nc,
			SourceAddress: a.source.Addr().String(),
			SourcePort:    int(a.source.Port()),
		},
	})
	if err != nil {
		// The customer's server is away: the client may retry later
		// (RFC 3261 §21.5.4); not a failure of the client's.
		r.log.Error("sip/registrar: registration hook failed", "account_sid", acct.AccountSID, "error", err)
		res := newResponse(req, 503, "Service Unavailable")
		res.AppendHeader(header("Retry-After", "30"))
		r.respond(tx, res)
		return grant{}, false
	}
	reply, err := ParseHookReply(body)
	if err != nil {
		r.log.Error("sip/registrar: registration hook reply", "account_sid", acct.AccountSID, "error", err)
		r.respond(tx, newResponse(req, 500, "Server Internal Error"))
		return grant{}, false
	}
	if reply.Blacklist {
		r.ban(a, user)
	}
	if !reply.OK {
		r.refuse(req, tx, a, user, &digest.Error{Status: 401, Err: digest.ErrBadCredentials})
		return grant{}, false
	}
	r.lock.Succeed(userKey(user, a.realm))
	return grant{
		id:          Identity{Username: user, Realm: a.realm, Account: acct, ViaHook: true, ApplicationSID: reply.ApplicationSID},
		hookExpires: reply.Expires,
	}, true
}

func algorithmOf(cred *icholy.Credentials) string {
	if cred.Algorithm == "" {
		return digest.MD5 // RFC 7616 §3.4: absent means MD5
	}
	return cred.Algorithm
}

// account returns the active account whose SIP realm is realm.
func (r *Registrar) account(ctx context.Context, realm string) (store.Account, bool, error) {
	accts, err := r.cfg.Provisioning.Accounts(store.Admin()).List(ctx, store.Filter{"sip_realm": realm})
	if err != nil {
		return store.Account{}, false, fmt.Errorf("sip/registrar: accounts: %w", err)
	}
	if len(accts) != 1 || !accts[0].IsActive {
		return store.Account{}, false, nil
	}
	return accts[0], true, nil
}

// refuse answers a failed verification. Wrong credentials (and unknown
// users and realms, which look the same) get 403; a stale, foreign or
// replayed nonce, missing credentials or an algorithm not offered get a
// fresh challenge; malformed credentials get 400.
func (r *Registrar) refuse(req *sip.Request, tx sip.ServerTransaction, a attempt, user string, err error) {
	var de *digest.Error
	if !errors.As(err, &de) {
		r.fail(req, tx, "verify", err)
		return
	}
	switch {
	case errors.Is(err, digest.ErrStale):
		r.challenge(req, tx, a, true)
		return
	case errors.Is(err, digest.ErrMissing), errors.Is(err, digest.ErrUnsupported):
		r.challenge(req, tx, a, false)
		return
	}
	r.failure(a, user, de.Err.Error())
	switch {
	case de.Status == 400:
		r.respond(tx, newResponse(req, 400, "Bad Request: Authorization"))
	case errors.Is(err, digest.ErrBadCredentials):
		r.respond(tx, newResponse(req, 403, "Forbidden"))
	default: // a bad or replayed nonce: try again with a fresh one
		r.challenge(req, tx, a, false)
	}
}

// challenge answers 401 (or 407 for Proxy-Authorization) with one
// challenge per algorithm (RFC 3261 §22.1, RFC 8760 §2.4).
func (r *Registrar) challenge(req *sip.Request, tx sip.ServerTransaction, a attempt, stale bool) {
	chals, err := r.cfg.Digest.Challenge(a.realm, stale)
	if err != nil {
		r.fail(req, tx, "challenge", err)
		return
	}
	status, reason, name := 401, "Unauthorized", "WWW-Authenticate"
	if a.header == "Proxy-Authorization" {
		status, reason, name = 407, "Proxy Authentication Required", "Proxy-Authenticate"
	}
	res := newResponse(req, status, reason)
	for _, c := range chals {
		res.AppendHeader(header(name, c))
	}
	r.respond(tx, res)
}

// failure counts a failed attempt of the source and the user and logs it
// as a security event, and the lockout it triggers.
func (r *Registrar) failure(a attempt, user, reason string) {
	r.securityEvent("sip_auth_failure", a, user, reason)
	if r.lock.Fail(a.sourceKey()) {
		r.securityEvent("sip_auth_lockout", a, user, "too many failures from this source", "locked", "source")
	}
	if user != "" && r.lock.Fail(userKey(user, a.realm)) {
		r.securityEvent("sip_auth_lockout", a, user, "too many failures for this user", "locked", "user")
	}
}

// ban locks the source out at once (the registration hook's blacklist).
func (r *Registrar) ban(a attempt, user string) {
	for i := 0; i <= r.maxFailures && !r.lock.Locked(a.sourceKey()); i++ {
		r.lock.Fail(a.sourceKey())
	}
	r.securityEvent("sip_auth_lockout", a, user, "blacklisted by the registration hook", "locked", "source")
}

func (r *Registrar) securityEvent(event string, a attempt, user, reason string, extra ...any) {
	args := append([]any{
		"security_event", event,
		"source", a.source.String(),
		"realm", a.realm,
		"user", user,
		"reason", reason,
	}, extra...)
	r.log.Warn("sip/registrar: "+strings.ReplaceAll(event, "_", " "), args...)
}
