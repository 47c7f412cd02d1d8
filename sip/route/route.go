package route

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/store"
)

// DefaultGatewayTTL is how long the inbound gateways are cached.
const DefaultGatewayTTL = 5 * time.Second

// Config configures a Router.
type Config struct {
	// Provisioning is where carriers, numbers, accounts and applications
	// are read (admin scope). Required.
	Provisioning store.Provisioning
	// Limiter, when set, admits each routed call against its account's
	// limits (package sip/limits); a refused call is a *RejectError.
	Limiter Limiter
	// Registrations are the live bindings read to call registered users
	// (User). Optional: without them User fails.
	Registrations store.Registrations
	// GatewayTTL is how long the list of inbound gateways is kept before it
	// is read again. Default 5 s; a negative value disables the cache.
	GatewayTTL time.Duration
	// Now is the clock of the cache; nil means time.Now.
	Now func() time.Time
	// Rand returns a random int in [0, n): the draws of outbound routing
	// (LCR workload, carrier order). Nil means math/rand/v2's IntN.
	Rand func(n int) int
}

// Router routes inbound calls. It is safe for concurrent use.
type Router struct {
	cfg Config

	mu       sync.Mutex
	gateways []gateway
	loaded   time.Time
	regexps  map[string]*regexp.Regexp // LCR expressions, compiled
}

// gateway is an inbound SIP gateway with its carrier.
type gateway struct {
	prefix  netip.Prefix
	port    int
	gw      store.SipGateway
	carrier store.VoipCarrier
}

// New builds a router.
func New(cfg Config) (*Router, error) {
	if cfg.Provisioning == nil {
		return nil, fmt.Errorf("%w: Provisioning is required", ErrConfig)
	}
	if cfg.GatewayTTL == 0 {
		cfg.GatewayTTL = DefaultGatewayTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.IntN
	}
	return &Router{cfg: cfg}, nil
}

// Identity is a client that passed digest authentication.
type Identity struct {
	// Username is the authenticated user.
	Username string
	// Realm is the account's SIP realm it authenticated in.
	Realm string
}

// Call is what routing reads of an INVITE.
type Call struct {
	// Source is where the INVITE came from (the packet's address).
	Source netip.AddrPort
	// Called is the called number or user: the Request-URI user.
	Called string
	// Identity is the authenticated client, nil when there is none.
	Identity *Identity
}

// CallOf reads a Call from an INVITE (Identity left nil).
func CallOf(req *sip.Request) Call {
	c := Call{Called: req.Recipient.User}
	if ap, err := netip.ParseAddrPort(req.Source()); err == nil {
		c.Source = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return c
}

// Kind says where a routed call came from.
type Kind uint8

// Kinds.
const (
	// FromCarrier is a call from an inbound gateway of a carrier.
	FromCarrier Kind = iota + 1
	// FromClient is a call from an authenticated client of an account.
	FromClient
)

// Result is a routed call: whose it is and which application runs it.
type Result struct {
	// Kind says where the call came from.
	Kind Kind
	// Account owns the call.
	Account store.Account
	// Application runs the call.
	Application store.Application
	// Carrier is the carrier the call came from (FromCarrier only).
	Carrier store.VoipCarrier
	// Gateway is the inbound gateway the source matched (FromCarrier only).
	Gateway store.SipGateway
	// PhoneNumber is the called number's record (FromCarrier only).
	PhoneNumber store.PhoneNumber
	// Called is the called number as normalised for the lookup.
	Called string
	// Client is the calling client (FromClient only).
	Client store.Client
	// Release gives back the call's slot of its account's limits (see
	// Track); idempotent, never nil for a routed call.
	Release func()
}

// CarrierName is the name of the carrier the call came from, "" for others.
func (r Result) CarrierName() string { return r.Carrier.Name }

// Route decides where a call goes. It returns a *RejectError when the call
// is to be refused, and other errors (a database failure) wrapped.
//
// A routed call holds a slot of its account's limits (Config.Limiter) until
// Result.Release is called, or the Track release of ctx.
func (r *Router) Route(ctx context.Context, c Call) (Result, error) {
	res, err := r.route(ctx, c)
	if err != nil {
		return Result{}, err
	}
	if res.Release, err = r.admit(ctx, res.Account); err != nil {
		return Result{}, err
	}
	return res, nil
}

// Resolve routes like Route without taking a slot of the account's limits:
// for requests that are not calls (an out-of-dialog MESSAGE). Its
// Result.Release is nil.
func (r *Router) Resolve(ctx context.Context, c Call) (Result, error) {
	return r.route(ctx, c)
}

func (r *Router) route(ctx context.Context, c Call) (Result, error) {
	if c.Identity != nil {
		return r.fromClient(ctx, c)
	}
	gws, err := r.inboundGateways(ctx)
	if err != nil {
		return Result{}, err
	}
	var matched []gateway
	for _, g := range gws {
		if g.matches(c.Source) {
			matched = append(matched, g)
		}
	}
	if len(matched) == 0 {
		return Result{}, reject(403, "Forbidden", ErrUnknownSource, nil)
	}
	// Several carriers may share an address (two tenants' gateways on one
	// provider): the first one allowed to reach the called number wins.
	var lastErr error = reject(404, "Not Found", ErrNumberNotFound, nil)
	for _, g := range matched {
		res, err := r.fromCarrier(ctx, g, c.Called)
		if err == nil {
			return res, nil
		}
		var re *RejectError
		if !errors.As(err, &re) || re.Status != 404 {
			return Result{}, err
		}
		lastErr = err
	}
	return Result{}, lastErr
}

func (g gateway) matches(src netip.AddrPort) bool {
	if !src.IsValid() || !g.prefix.Contains(src.Addr().Unmap()) {
		return false
	}
	return g.port == 0 || g.port == int(src.Port())
}

// fromCarrier finds the number the carrier may reach and its application.
func (r *Router) fromCarrier(ctx context.Context, g gateway, called string) (Result, error) {
	p := r.cfg.Provisioning
	digits := normalise(called, g.carrier.TechPrefix)
	if digits == "" {
		return Result{}, reject(404, "Not Found", ErrNumberNotFound, nil)
	}
	for _, candidate := range []string{digits, "+" + digits} {
		nums, err := p.PhoneNumbers(store.Admin()).List(ctx, store.Filter{"number": candidate})
		if err != nil {
			return Result{}, fmt.Errorf("sip/route: phone numbers: %w", err)
		}
		for _, n := range nums {
			acct, ok, err := r.reachable(ctx, g.carrier, n)
			if err != nil {
				return Result{}, err
			}
			if !ok {
				continue
			}
			res := Result{Kind: FromCarrier, Account: acct, Carrier: g.carrier, Gateway: g.gw, PhoneNumber: n, Called: digits}
			if !acct.IsActive {
				return Result{}, reject(403, "Forbidden", ErrInactive, nil)
			}
			appSID := n.ApplicationSID
			if appSID == "" {
				appSID = g.carrier.ApplicationSID // the carrier's default application
			}
			res.Application, err = r.application(ctx, appSID, acct.AccountSID)
			if err != nil {
				return Result{}, err
			}
			return res, nil
		}
	}
	return Result{}, reject(404, "Not Found", ErrNumberNotFound, nil)
}

// reachable says whether a carrier may deliver calls to number n: a
// carrier of an account reaches that account's numbers, a carrier of a
// service provider the numbers of its accounts, a platform carrier any
// number. So a tenant's gateway (whose address the tenant chooses) never
// reaches another tenant's numbers.
func (r *Router) reachable(ctx context.Context, carrier store.VoipCarrier, n store.PhoneNumber) (store.Account, bool, error) {
	if n.AccountSID == "" {
		return store.Account{}, false, nil
	}
	if carrier.AccountSID != "" && carrier.AccountSID != n.AccountSID {
		return store.Account{}, false, nil
	}
	if n.VoipCarrierSID != "" && n.VoipCarrierSID != carrier.VoipCarrierSID && carrier.AccountSID == "" && carrier.ServiceProviderSID == "" {
		// A number bound to another carrier is not reachable through a
		// platform carrier that merely shares an address.
		return store.Account{}, false, nil
	}
	acct, err := r.cfg.Provisioning.Accounts(store.Admin()).Get(ctx, n.AccountSID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, false, nil
	}
	if err != nil {
		return store.Account{}, false, fmt.Errorf("sip/route: account: %w", err)
	}
	if carrier.ServiceProviderSID != "" && carrier.ServiceProviderSID != acct.ServiceProviderSID {
		return store.Account{}, false, nil
	}
	return acct, true, nil
}

// application loads the application sid of account, or refuses with 480
// and X-Reason when there is none (jambonz's "no configured application").
func (r *Router) application(ctx context.Context, sid, accountSID string) (store.Application, error) {
	noApp := reject(480, "Temporarily Unavailable", ErrNoApplication, map[string]string{"X-Reason": "no configured application"})
	if sid == "" {
		return store.Application{}, noApp
	}
	app, err := r.cfg.Provisioning.Applications(store.Admin()).Get(ctx, sid)
	if errors.Is(err, store.ErrNotFound) {
		return store.Application{}, noApp
	}
	if err != nil {
		return store.Application{}, fmt.Errorf("sip/route: application: %w", err)
	}
	if app.AccountSID != "" && app.AccountSID != accountSID {
		// Never run another account's application.
		return store.Application{}, noApp
	}
	return app, nil
}

// fromClient routes a call from an authenticated client to its account's
// device-calling application.
func (r *Router) fromClient(ctx context.Context, c Call) (Result, error) {
	p := r.cfg.Provisioning
	id := c.Identity
	accts, err := p.Accounts(store.Admin()).List(ctx, store.Filter{"sip_realm": strings.ToLower(id.Realm)})
	if err != nil {
		return Result{}, fmt.Errorf("sip/route: accounts: %w", err)
	}
	if len(accts) != 1 {
		return Result{}, reject(403, "Forbidden", ErrUnknownSource, nil)
	}
	acct := accts[0]
	clients, err := p.Clients(store.Admin()).List(ctx, store.Filter{"account_sid": acct.AccountSID, "username": id.Username})
	if err != nil {
		return Result{}, fmt.Errorf("sip/route: clients: %w", err)
	}
	if len(clients) != 1 {
		return Result{}, reject(403, "Forbidden", ErrUnknownSource, nil)
	}
	if !acct.IsActive || !clients[0].IsActive {
		return Result{}, reject(403, "Forbidden", ErrInactive, nil)
	}
	res := Result{Kind: FromClient, Account: acct, Client: clients[0], Called: c.Called}
	res.Application, err = r.application(ctx, acct.DeviceCallingApplicationSID, acct.AccountSID)
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// normalise strips the carrier's tech prefix, a leading + and visual
// separators from a called number; "" when what remains is not digits.
func normalise(called, techPrefix string) string {
	s := strings.TrimSpace(called)
	if techPrefix != "" {
		s = strings.TrimPrefix(s, techPrefix)
	}
	s = strings.TrimPrefix(s, "+")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return ""
		}
	}
	return b.String()
}

// inboundGateways returns the active inbound gateways of active carriers,
// from the cache while it is fresh.
func (r *Router) inboundGateways(ctx context.Context) ([]gateway, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	if r.cfg.GatewayTTL > 0 && !r.loaded.IsZero() && now.Sub(r.loaded) < r.cfg.GatewayTTL {
		return r.gateways, nil
	}
	p := r.cfg.Provisioning
	rows, err := p.SipGateways(store.Admin()).List(ctx, store.Filter{"inbound": true, "is_active": true})
	if err != nil {
		return nil, fmt.Errorf("sip/route: sip gateways: %w", err)
	}
	carriers := map[string]*store.VoipCarrier{}
	var out []gateway
	for _, gw := range rows {
		c, ok := carriers[gw.VoipCarrierSID]
		if !ok {
			vc, err := p.VoipCarriers(store.Admin()).Get(ctx, gw.VoipCarrierSID)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return nil, fmt.Errorf("sip/route: voip carrier: %w", err)
			default:
				c = &vc
			}
			carriers[gw.VoipCarrierSID] = c
		}
		if c == nil || !c.IsActive {
			continue
		}
		addr, err := netip.ParseAddr(strings.TrimSpace(gw.IPv4))
		if err != nil {
			continue // a host name: not an inbound match (jambonz matches addresses)
		}
		bits := gw.Netmask
		if bits <= 0 || bits > addr.BitLen() {
			bits = addr.BitLen()
		}
		prefix, err := addr.Unmap().Prefix(bits)
		if err != nil {
			continue
		}
		out = append(out, gateway{prefix: prefix, port: gw.Port, gw: gw, carrier: *c})
	}
	r.gateways, r.loaded = out, now
	return out, nil
}
