package route

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/voxrun/voxrun/sip/leg"
	"github.com/voxrun/voxrun/store"
)

// OutboundTarget is one way to reach a phone number: an outbound SIP
// gateway of a carrier, with what the INVITE needs to pass it. Outbound
// returns them in the order to try (failover).
type OutboundTarget struct {
	// URI is the Request-URI and To: sip:[tech prefix][+]number@host[:port]
	// ;transport=udp|tcp|tls. Its host is the gateway, or the carrier's SIP
	// realm when the carrier requires registration (then Proxy is the
	// gateway).
	URI string
	// Proxy is where the INVITE goes when that is not URI's host
	// (host:port;transport=...), "" otherwise.
	Proxy string
	// Transport is "udp", "tcp" or "tls" (the gateway's protocol).
	Transport string
	// Auth answers the carrier's digest challenge (its register_username
	// and register_password); nil when the carrier has none.
	Auth *leg.Credentials
	// FromHost is the host of the From URI the carrier wants (its
	// register_from_domain); "" leaves voxrun's own.
	FromHost string
	// Headers are headers the carrier asks for (Diversion).
	Headers map[string]string
	// Number is the number as dialled on this carrier (tech prefix and +
	// applied): the URI's user part.
	Number string
	// Carrier is the carrier (its name is the CDR's trunk).
	Carrier store.VoipCarrier
	// Gateway is the outbound gateway.
	Gateway store.SipGateway
}

// DialRequest fills base (From, Timeout, OnProvisional, the application's
// headers) with the target: Target, Proxy, Auth, the From host, and the
// carrier's headers where base has none of the same name.
func (t OutboundTarget) DialRequest(base leg.DialRequest) leg.DialRequest {
	r := base
	r.Target, r.Proxy, r.Auth = t.URI, t.Proxy, t.Auth
	if t.FromHost != "" {
		r.From.Host = t.FromHost
	}
	if len(t.Headers) > 0 {
		h := make(map[string]string, len(base.Headers)+len(t.Headers))
		for k, v := range t.Headers {
			h[k] = v
		}
		for k, v := range base.Headers {
			h[k] = v
		}
		r.Headers = h
	}
	return r
}

// OutboundRequest asks for the ways to reach a phone number.
type OutboundRequest struct {
	// AccountSID is the account placing the call. It must come from an
	// authenticated source (the account of a routed call or of an API key):
	// it decides whose carriers may carry the call and who pays (toll fraud).
	AccountSID string
	// Number is the called number as the application wrote it (digits,
	// with or without a leading +).
	Number string
	// Trunk, when set, names the carrier to use (the dial verb's trunk): a
	// carrier of the account or of its service provider. LCR is skipped.
	Trunk string
	// InboundCarrierSID is the carrier the parent call came in on, if any:
	// without LCR, jambonz sends the call back out on it when it has
	// outbound gateways.
	InboundCarrierSID string
}

// Outbound returns the outbound SIP gateways that may carry a call from
// accountSID to number, in the order to try them. See OutboundFor.
func (r *Router) Outbound(ctx context.Context, accountSID, number string) ([]OutboundTarget, error) {
	return r.OutboundFor(ctx, OutboundRequest{AccountSID: accountSID, Number: number})
}

// OutboundFor resolves an outbound call to a phone number the way jambonz
// does:
//
//  1. the requested trunk, when one is named;
//  2. else LCR: the account's LCR table (or, without one, its service
//     provider's); the first route, by priority, whose regex matches the
//     number (or that is a prefix of it) gives the carrier set; its entries
//     are tried by priority, and within one priority the first is drawn at
//     random weighted by workload; no matching route uses the table's
//     default carrier set entry;
//  3. else the carrier the call came in on, when it has outbound gateways;
//  4. else every active carrier of the account with outbound gateways, or
//     when it has none those of its service provider, in random order.
//
// Every outbound gateway of each carrier becomes a target, ordered by
// address and port. The
// number is dialled with the carrier's tech prefix, and with a leading +
// when the carrier wants E.164 (e164_leading_plus) and the number does not
// start with 0.
//
// Only carriers of the account or of its service provider are ever used,
// and only for an active account: an unknown or inactive account, or a
// number that is not a phone number, is refused (*RejectError 403 or 404).
// No carrier is a *RejectError 603 wrapping ErrNoCarrier, as jambonz.
func (r *Router) OutboundFor(ctx context.Context, req OutboundRequest) ([]OutboundTarget, error) {
	p := r.cfg.Provisioning
	digits := normalise(req.Number, "")
	if digits == "" {
		return nil, reject(404, "Not Found", ErrBadNumber, nil)
	}
	acct, err := p.Accounts(store.Admin()).Get(ctx, req.AccountSID)
	if errors.Is(err, store.ErrNotFound) || req.AccountSID == "" {
		return nil, reject(403, "Forbidden", ErrNotAllowed, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("sip/route: account: %w", err)
	}
	if !acct.IsActive {
		return nil, reject(403, "Forbidden", ErrInactive, nil)
	}
	o := outbound{r: r, acct: acct, digits: digits, original: strings.TrimSpace(req.Number)}
	var carriers []store.VoipCarrier
	switch {
	case req.Trunk != "":
		carriers, err = o.trunk(ctx, req.Trunk)
	default:
		carriers, err = o.lcr(ctx)
		if err == nil && len(carriers) == 0 && req.InboundCarrierSID != "" {
			carriers, err = o.inbound(ctx, req.InboundCarrierSID)
		}
		if err == nil && len(carriers) == 0 {
			carriers, err = o.own(ctx)
		}
	}
	if err != nil {
		return nil, err
	}
	var out []OutboundTarget
	for _, c := range carriers {
		ts, err := o.targets(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	if len(out) == 0 {
		return nil, reject(603, "Decline", ErrNoCarrier, nil)
	}
	return out, nil
}

// outbound is one resolution in progress.
type outbound struct {
	r        *Router
	acct     store.Account
	digits   string // the number without + or separators
	original string // the number as asked
}

// allowed says whether the account may use carrier c: its own, or its
// service provider's shared carriers, and active.
func (o *outbound) allowed(c store.VoipCarrier) bool {
	if !c.IsActive {
		return false
	}
	if c.AccountSID != "" {
		return c.AccountSID == o.acct.AccountSID
	}
	return c.ServiceProviderSID != "" && c.ServiceProviderSID == o.acct.ServiceProviderSID
}

func (o *outbound) carrier(ctx context.Context, sid string) (store.VoipCarrier, bool, error) {
	c, err := o.r.cfg.Provisioning.VoipCarriers(store.Admin()).Get(ctx, sid)
	if errors.Is(err, store.ErrNotFound) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("sip/route: voip carrier: %w", err)
	}
	return c, o.allowed(c), nil
}

// trunk finds the carrier named name among the account's, then its
// service provider's.
func (o *outbound) trunk(ctx context.Context, name string) ([]store.VoipCarrier, error) {
	vcs := o.r.cfg.Provisioning.VoipCarriers(store.Admin())
	for _, f := range []store.Filter{
		{"account_sid": o.acct.AccountSID, "name": name},
		{"service_provider_sid": o.acct.ServiceProviderSID, "account_sid": nil, "name": name},
	} {
		cs, err := vcs.List(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("sip/route: voip carriers: %w", err)
		}
		for _, c := range cs {
			if o.allowed(c) {
				return []store.VoipCarrier{c}, nil
			}
		}
	}
	return nil, reject(404, "Not Found", ErrNoCarrier, nil)
}

// inbound is the carrier the parent call came in on, if it may carry this one.
func (o *outbound) inbound(ctx context.Context, sid string) ([]store.VoipCarrier, error) {
	c, ok, err := o.carrier(ctx, sid)
	if err != nil || !ok {
		return nil, err
	}
	return []store.VoipCarrier{c}, nil
}

// own lists the account's active carriers, or its service provider's
// shared ones when it has none with outbound gateways, shuffled.
func (o *outbound) own(ctx context.Context) ([]store.VoipCarrier, error) {
	vcs := o.r.cfg.Provisioning.VoipCarriers(store.Admin())
	for _, f := range []store.Filter{
		{"account_sid": o.acct.AccountSID, "is_active": true},
		{"service_provider_sid": o.acct.ServiceProviderSID, "account_sid": nil, "is_active": true},
	} {
		cs, err := vcs.List(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("sip/route: voip carriers: %w", err)
		}
		var usable []store.VoipCarrier
		for _, c := range cs {
			if !o.allowed(c) {
				continue
			}
			gws, err := o.gateways(ctx, c.VoipCarrierSID)
			if err != nil {
				return nil, err
			}
			if len(gws) > 0 {
				usable = append(usable, c)
			}
		}
		if len(usable) > 0 {
			for i := len(usable) - 1; i > 0; i-- {
				j := o.r.cfg.Rand(i + 1)
				usable[i], usable[j] = usable[j], usable[i]
			}
			return usable, nil
		}
	}
	return nil, nil
}

// lcr applies the account's (or its service provider's) LCR table; no
// table, or no route and no default, is an empty list.
func (o *outbound) lcr(ctx context.Context) ([]store.VoipCarrier, error) {
	table, ok, err := o.table(ctx)
	if err != nil || !ok {
		return nil, err
	}
	p := o.r.cfg.Provisioning
	routes, err := p.LCRRoutes(store.Admin()).List(ctx, store.Filter{"lcr_sid": table.LCRSID})
	if err != nil {
		return nil, fmt.Errorf("sip/route: lcr routes: %w", err)
	}
	slices.SortStableFunc(routes, func(a, b store.LCRRoute) int { return cmp.Compare(a.Priority, b.Priority) })
	var entries []store.LCRCarrierSetEntry
	for _, rt := range routes {
		if !o.matches(rt.Regex) {
			continue
		}
		entries, err = p.LCRCarrierSetEntries(store.Admin()).List(ctx, store.Filter{"lcr_route_sid": rt.LCRRouteSID})
		if err != nil {
			return nil, fmt.Errorf("sip/route: lcr carrier set: %w", err)
		}
		break
	}
	if entries == nil && table.DefaultCarrierSetEntrySID != "" {
		e, err := p.LCRCarrierSetEntries(store.Admin()).Get(ctx, table.DefaultCarrierSetEntrySID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("sip/route: lcr default carrier: %w", err)
		default:
			entries = []store.LCRCarrierSetEntry{e}
		}
	}
	var out []store.VoipCarrier
	for _, e := range o.order(entries) {
		c, ok, err := o.carrier(ctx, e.VoipCarrierSID)
		if err != nil {
			return nil, err
		}
		if ok && !slices.ContainsFunc(out, func(x store.VoipCarrier) bool { return x.VoipCarrierSID == c.VoipCarrierSID }) {
			out = append(out, c)
		}
	}
	return out, nil
}

// table finds the active LCR table of the account, else of its service
// provider (jambonz: lcr where account_sid = ? or service_provider_sid = ?).
func (o *outbound) table(ctx context.Context) (store.LCR, bool, error) {
	p := o.r.cfg.Provisioning
	lcrs := p.LCRs(store.Admin())
	get := func(sid string) (store.LCR, bool, error) {
		if sid == "" {
			return store.LCR{}, false, nil
		}
		t, err := lcrs.Get(ctx, sid)
		if errors.Is(err, store.ErrNotFound) {
			return t, false, nil
		}
		if err != nil {
			return t, false, fmt.Errorf("sip/route: lcr: %w", err)
		}
		return t, t.IsActive && o.owns(t), nil
	}
	if t, ok, err := get(o.acct.LCRSID); err != nil || ok {
		return t, ok, err
	}
	list := func(f store.Filter) (store.LCR, bool, error) {
		ts, err := lcrs.List(ctx, f)
		if err != nil {
			return store.LCR{}, false, fmt.Errorf("sip/route: lcr: %w", err)
		}
		for _, t := range ts {
			if t.IsActive && o.owns(t) {
				return t, true, nil
			}
		}
		return store.LCR{}, false, nil
	}
	if t, ok, err := list(store.Filter{"account_sid": o.acct.AccountSID}); err != nil || ok {
		return t, ok, err
	}
	sp, err := p.ServiceProviders(store.Admin()).Get(ctx, o.acct.ServiceProviderSID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return store.LCR{}, false, fmt.Errorf("sip/route: service provider: %w", err)
	default:
		if t, ok, err := get(sp.LCRSID); err != nil || ok {
			return t, ok, err
		}
	}
	return list(store.Filter{"service_provider_sid": o.acct.ServiceProviderSID, "account_sid": nil})
}

// owns says whether an LCR table belongs to the account or its provider.
func (o *outbound) owns(t store.LCR) bool {
	if t.AccountSID != "" {
		return t.AccountSID == o.acct.AccountSID
	}
	return t.ServiceProviderSID == o.acct.ServiceProviderSID
}

// matches says whether an LCR route's regex selects the number: a prefix
// of it (jambonz accepts "1" for every +1 number) or a regular expression
// that matches it, with or without its leading +.
func (o *outbound) matches(expr string) bool {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return false
	}
	for _, n := range []string{o.digits, "+" + o.digits, o.original} {
		if strings.HasPrefix(n, expr) {
			return true
		}
	}
	re, err := o.r.regexp(expr)
	if err != nil {
		return false
	}
	return re.MatchString(o.digits) || re.MatchString("+"+o.digits)
}

// order sorts a carrier set for failover: by priority (lower first); within
// one priority the first is drawn at random weighted by workload and the
// rest follow, heaviest first (jambonz's performLcr).
func (o *outbound) order(entries []store.LCRCarrierSetEntry) []store.LCRCarrierSetEntry {
	es := slices.Clone(entries)
	slices.SortFunc(es, func(a, b store.LCRCarrierSetEntry) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(b.Workload, a.Workload),
			cmp.Compare(a.LCRCarrierSetEntrySID, b.LCRCarrierSetEntrySID))
	})
	out := make([]store.LCRCarrierSetEntry, 0, len(es))
	for len(es) > 0 {
		n := 1
		for n < len(es) && es[n].Priority == es[0].Priority {
			n++
		}
		layer := es[:n]
		total := 0
		for _, e := range layer {
			total += max(e.Workload, 1)
		}
		pick, mark := o.r.cfg.Rand(total), 0
		sel := 0
		for i, e := range layer {
			mark += max(e.Workload, 1)
			if pick < mark {
				sel = i
				break
			}
		}
		out = append(out, layer[sel])
		for i, e := range layer {
			if i != sel {
				out = append(out, e)
			}
		}
		es = es[n:]
	}
	return out
}

// gateways lists a carrier's active outbound gateways.
func (o *outbound) gateways(ctx context.Context, carrierSID string) ([]store.SipGateway, error) {
	gws, err := o.r.cfg.Provisioning.SipGateways(store.Admin()).List(ctx, store.Filter{
		"voip_carrier_sid": carrierSID, "outbound": true, "is_active": true})
	if err != nil {
		return nil, fmt.Errorf("sip/route: sip gateways: %w", err)
	}
	// A stable order: by address, then port.
	slices.SortFunc(gws, func(a, b store.SipGateway) int {
		return cmp.Or(cmp.Compare(a.IPv4, b.IPv4), cmp.Compare(a.Port, b.Port))
	})
	return gws, nil
}

// targets turns each outbound gateway of c into a target.
func (o *outbound) targets(ctx context.Context, c store.VoipCarrier) ([]OutboundTarget, error) {
	gws, err := o.gateways(ctx, c.VoipCarrierSID)
	if err != nil {
		return nil, err
	}
	number := c.TechPrefix
	if c.E164LeadingPlus && !strings.HasPrefix(o.digits, "0") {
		number += "+"
	}
	number += o.digits
	out := make([]OutboundTarget, 0, len(gws))
	for _, gw := range gws {
		host := strings.TrimSpace(gw.IPv4)
		if host == "" {
			continue
		}
		if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
			host = "[" + host + "]" // IPv6
		}
		hostport := host
		if gw.Port != 0 && gw.Port != 5060 {
			hostport = net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(gw.Port))
		}
		transport := strings.ToLower(strings.TrimSpace(gw.Protocol))
		switch {
		case transport == "":
			transport = "udp"
		case strings.HasPrefix(transport, "tls"):
			transport = "tls"
		}
		t := OutboundTarget{
			URI:       "sip:" + number + "@" + hostport + ";transport=" + transport,
			Transport: transport, Number: number, Carrier: c, Gateway: gw,
			FromHost: c.RegisterFromDomain,
		}
		if c.RequiresRegister && c.RegisterSIPRealm != "" {
			// A registered trunk is called at its realm, through the gateway.
			t.Proxy = hostport + ";transport=" + transport
			t.URI = "sip:" + number + "@" + c.RegisterSIPRealm + ";transport=" + transport
		}
		if c.RegisterUsername != "" && c.RegisterPassword != "" {
			t.Auth = &leg.Credentials{Username: c.RegisterUsername, Password: c.RegisterPassword}
		}
		if d := strings.TrimSpace(c.Diversion); d != "" {
			if !strings.HasPrefix(d, "+") {
				d = "+" + d
			}
			t.Headers = map[string]string{"Diversion": "<sip:" + d + "@" + hostport + ">;reason=unknown;counter=1;privacy=off"}
		}
		out = append(out, t)
	}
	return out, nil
}

// regexp compiles an LCR expression once.
func (r *Router) regexp(expr string) (*regexp.Regexp, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if re, ok := r.regexps[expr]; ok {
		return re, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	if r.regexps == nil || len(r.regexps) > 1024 {
		r.regexps = make(map[string]*regexp.Regexp)
	}
	r.regexps[expr] = re
	return re, nil
}
