package route_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/leg"
	"github.com/voxrun/voxrun/sip/route"
	"github.com/voxrun/voxrun/store"
	sqlstore "github.com/voxrun/voxrun/store/sql"
)

// outFixture is a service provider with a shared carrier and two accounts:
// A has its own carriers and an LCR table, B has none (it falls back to
// the provider's), C is inactive.
type outFixture struct {
	db                      *sqlstore.DB
	sp, acctA, acctB, acctC string
	uk, us, us2, spShared   string // carriers
	other                   string // account B's carrier, never A's
	lcr                     string
	ctx                     context.Context
}

func newOutFixture(t *testing.T) *outFixture {
	t.Helper()
	ctx := context.Background()
	sealer, err := store.NewSealer(bytes.Repeat([]byte{7}, store.KeySize))
	require.NoError(t, err)
	db, err := sqlstore.Open(ctx, sqlstore.Config{Driver: sqlstore.DriverSQLite, DSN: filepath.Join(t.TempDir(), "voxrun.db"), Sealer: sealer})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	f := &outFixture{db: db, ctx: ctx}
	must := func(sid string, err error) string {
		t.Helper()
		require.NoError(t, err)
		return sid
	}
	f.sp = must(db.ServiceProviders(store.Admin()).Create(ctx, &store.ServiceProvider{Name: "sp"}))
	sps := store.ForServiceProvider(f.sp)
	f.acctA = must(db.Accounts(sps).Create(ctx, &store.Account{Name: "a", SIPRealm: "a.example.com", IsActive: true, WebhookSecret: "s"}))
	f.acctB = must(db.Accounts(sps).Create(ctx, &store.Account{Name: "b", SIPRealm: "b.example.com", IsActive: true, WebhookSecret: "s"}))
	f.acctC = must(db.Accounts(sps).Create(ctx, &store.Account{Name: "c", SIPRealm: "c.example.com", IsActive: false, WebhookSecret: "s"}))
	a, b := store.ForAccount(f.sp, f.acctA), store.ForAccount(f.sp, f.acctB)
	gw := func(s store.Scope, carrier, host string, port int, proto string) {
		must(db.SipGateways(s).Create(ctx, &store.SipGateway{IPv4: host, Netmask: 32, Port: port, Protocol: proto,
			Outbound: true, VoipCarrierSID: carrier, IsActive: true}))
	}
	f.uk = must(db.VoipCarriers(a).Create(ctx, &store.VoipCarrier{Name: "uk", IsActive: true, TechPrefix: "77#"}))
	gw(a, f.uk, "192.0.2.10", 5080, "tcp")
	f.us = must(db.VoipCarriers(a).Create(ctx, &store.VoipCarrier{Name: "us", IsActive: true, E164LeadingPlus: true,
		RegisterUsername: "acme", RegisterPassword: "pw", RegisterFromDomain: "trunk.example.net", Diversion: "15550009999"}))
	gw(a, f.us, "192.0.2.20", 0, "")
	gw(a, f.us, "192.0.2.21", 5060, "udp")
	// An inbound-only and an inactive gateway are never targets.
	must(db.SipGateways(a).Create(ctx, &store.SipGateway{IPv4: "192.0.2.22", Netmask: 32, Inbound: true, VoipCarrierSID: f.us, IsActive: true}))
	must(db.SipGateways(a).Create(ctx, &store.SipGateway{IPv4: "192.0.2.23", Netmask: 32, Outbound: true, VoipCarrierSID: f.us, IsActive: false}))
	f.us2 = must(db.VoipCarriers(a).Create(ctx, &store.VoipCarrier{Name: "us2", IsActive: true, RequiresRegister: true,
		RegisterSIPRealm: "sip.carrier.example", RegisterUsername: "u2", RegisterPassword: "p2"}))
	gw(a, f.us2, "192.0.2.30", 5070, "udp")
	f.spShared = must(db.VoipCarriers(sps).Create(ctx, &store.VoipCarrier{Name: "shared", IsActive: true}))
	gw(sps, f.spShared, "198.51.100.1", 0, "")
	f.other = must(db.VoipCarriers(b).Create(ctx, &store.VoipCarrier{Name: "b-only", IsActive: true}))
	// B's carrier has no outbound gateway: B falls back to the provider's.

	f.lcr = must(db.LCRs(a).Create(ctx, &store.LCR{Name: "a-lcr", IsActive: true}))
	route := func(regex string, prio int) string {
		return must(db.LCRRoutes(a).Create(ctx, &store.LCRRoute{LCRSID: f.lcr, Regex: regex, Priority: prio}))
	}
	// Admin scope: an account cannot name its provider's carrier, nor
	// another tenant's, in its carrier set; the router must not trust
	// that either.
	entry := func(rt, carrier string, prio, workload int) string {
		return must(db.LCRCarrierSetEntries(store.Admin()).Create(ctx, &store.LCRCarrierSetEntry{LCRRouteSID: rt, VoipCarrierSID: carrier, Priority: prio, Workload: workload}))
	}
	ukRoute := route("44", 1) // a prefix
	entry(ukRoute, f.uk, 1, 1)
	usRoute := route(`^\+?1[2-9]\d{9}$`, 2) // a regular expression
	entry(usRoute, f.us2, 2, 1)
	entry(usRoute, f.us, 1, 1)
	entry(usRoute, f.other, 1, 100) // another tenant's carrier: never used
	premium := route("^1900", 0)    // first by priority: premium numbers go to the shared carrier
	entry(premium, f.spShared, 1, 1)
	def := entry(route("^$", 9), f.us2, 1, 1) // a route nothing matches, whose entry is the default
	require.NoError(t, db.LCRs(a).Update(ctx, f.lcr, store.Patch{"default_carrier_set_entry_sid": def}))
	return f
}

func (f *outFixture) router(t *testing.T) *route.Router {
	r, err := route.New(route.Config{Provisioning: f.db, Rand: func(int) int { return 0 }})
	require.NoError(t, err)
	return r
}

func uris(ts []route.OutboundTarget) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.URI
	}
	return out
}

func TestOutbound(t *testing.T) {
	f := newOutFixture(t)
	r := f.router(t)
	cases := []struct {
		name    string
		req     route.OutboundRequest
		uris    []string
		status  int
		err     error
		carrier string
	}{
		{name: "prefix route with tech prefix over tcp", req: route.OutboundRequest{AccountSID: f.acctA, Number: "+442071234567"},
			uris: []string{"sip:77#442071234567@192.0.2.10:5080;transport=tcp"}},
		{name: "regex route: priority, then the registered trunk",
			req: route.OutboundRequest{AccountSID: f.acctA, Number: "12125551234"},
			uris: []string{"sip:+12125551234@192.0.2.20;transport=udp", "sip:+12125551234@192.0.2.21;transport=udp",
				"sip:12125551234@sip.carrier.example;transport=udp"}},
		{name: "priority 0 route first", req: route.OutboundRequest{AccountSID: f.acctA, Number: "19005551234"},
			uris: []string{"sip:19005551234@198.51.100.1;transport=udp"}},
		{name: "no route matches: the default entry", req: route.OutboundRequest{AccountSID: f.acctA, Number: "33123456789"},
			uris: []string{"sip:33123456789@sip.carrier.example;transport=udp"}},
		{name: "requested trunk", req: route.OutboundRequest{AccountSID: f.acctA, Number: "442071234567", Trunk: "us"},
			uris: []string{"sip:+442071234567@192.0.2.20;transport=udp", "sip:+442071234567@192.0.2.21;transport=udp"}},
		{name: "provider's trunk by name", req: route.OutboundRequest{AccountSID: f.acctA, Number: "1", Trunk: "shared"},
			uris: []string{"sip:1@198.51.100.1;transport=udp"}},
		{name: "another tenant's trunk", req: route.OutboundRequest{AccountSID: f.acctA, Number: "1", Trunk: "b-only"},
			status: 404, err: route.ErrNoCarrier},
		{name: "no LCR: the provider's carrier", req: route.OutboundRequest{AccountSID: f.acctB, Number: "+12125551234"},
			uris: []string{"sip:12125551234@198.51.100.1;transport=udp"}},
		{name: "inactive account", req: route.OutboundRequest{AccountSID: f.acctC, Number: "12125551234"},
			status: 403, err: route.ErrInactive},
		{name: "no account", req: route.OutboundRequest{Number: "12125551234"}, status: 403, err: route.ErrNotAllowed},
		{name: "unknown account", req: route.OutboundRequest{AccountSID: "AC-nope", Number: "12125551234"}, status: 403, err: route.ErrNotAllowed},
		{name: "not a number", req: route.OutboundRequest{AccountSID: f.acctA, Number: "sip:x@y"}, status: 404, err: route.ErrBadNumber},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts, err := r.OutboundFor(f.ctx, c.req)
			if c.status != 0 {
				var re *route.RejectError
				require.ErrorAs(t, err, &re)
				require.Equal(t, c.status, re.Status)
				require.ErrorIs(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.uris, uris(ts))
		})
	}
}

func TestOutboundTargetDetails(t *testing.T) {
	f := newOutFixture(t)
	ts, err := f.router(t).Outbound(f.ctx, f.acctA, "12125551234")
	require.NoError(t, err)
	require.Len(t, ts, 3)
	us := ts[0]
	require.Equal(t, "us", us.Carrier.Name)
	require.Equal(t, &leg.Credentials{Username: "acme", Password: "pw"}, us.Auth)
	require.Equal(t, "trunk.example.net", us.FromHost)
	require.Equal(t, "<sip:+15550009999@192.0.2.20>;reason=unknown;counter=1;privacy=off", us.Headers["Diversion"])
	require.Equal(t, "+12125551234", us.Number)
	reg := ts[2]
	require.Equal(t, "192.0.2.30:5070;transport=udp", reg.Proxy, "a registered trunk is reached through its gateway")
	require.Equal(t, &leg.Credentials{Username: "u2", Password: "p2"}, reg.Auth)

	req := us.DialRequest(leg.DialRequest{From: leg.Party{User: "15551110000"}, Headers: map[string]string{"X-App": "1", "Diversion": "mine"}})
	require.Equal(t, us.URI, req.Target)
	require.Equal(t, "trunk.example.net", req.From.Host)
	require.Equal(t, "15551110000", req.From.User)
	require.Equal(t, map[string]string{"X-App": "1", "Diversion": "mine"}, req.Headers, "the application's headers win")
}

func TestOutboundWorkload(t *testing.T) {
	f := newOutFixture(t)
	ctx := f.ctx
	a := store.ForAccount(f.sp, f.acctA)
	// Two carriers share priority 1 on the UK route, workloads 1 and 3:
	// the heavier comes first in the draw: 0..2 pick us2, 3 picks uk.
	routes, err := f.db.LCRRoutes(a).List(ctx, store.Filter{"lcr_sid": f.lcr, "regex": "44"})
	require.NoError(t, err)
	_, err = f.db.LCRCarrierSetEntries(a).Create(ctx, &store.LCRCarrierSetEntry{LCRRouteSID: routes[0].LCRRouteSID, VoipCarrierSID: f.us2, Priority: 1, Workload: 3})
	require.NoError(t, err)
	for draw, first := range map[int]string{0: "us2", 2: "us2", 3: "uk"} {
		r, err := route.New(route.Config{Provisioning: f.db, Rand: func(n int) int { require.Equal(t, 4, n); return draw }})
		require.NoError(t, err)
		ts, err := r.Outbound(ctx, f.acctA, "442071234567")
		require.NoError(t, err)
		require.Len(t, ts, 2)
		require.Equal(t, first, ts[0].Carrier.Name, "draw %d", draw)
	}
}

func TestOutboundWithoutLCR(t *testing.T) {
	f := newOutFixture(t)
	require.NoError(t, f.db.LCRs(store.Admin()).Update(f.ctx, f.lcr, store.Patch{"is_active": false}))
	r := f.router(t)
	// Without LCR the account's own carriers are all targets (random order,
	// here as drawn); the provider's are not used while it has its own.
	ts, err := r.Outbound(f.ctx, f.acctA, "12125551234")
	require.NoError(t, err)
	names := map[string]bool{}
	for _, tg := range ts {
		names[tg.Carrier.Name] = true
	}
	require.Equal(t, map[string]bool{"uk": true, "us": true, "us2": true}, names)
	// The carrier the call came in on goes first when it has outbound gateways.
	ts, err = r.OutboundFor(f.ctx, route.OutboundRequest{AccountSID: f.acctA, Number: "12125551234", InboundCarrierSID: f.uk})
	require.NoError(t, err)
	require.Equal(t, []string{"sip:77#12125551234@192.0.2.10:5080;transport=tcp"}, uris(ts))
	// Never another account's carrier, even named as the inbound one.
	ts, err = r.OutboundFor(f.ctx, route.OutboundRequest{AccountSID: f.acctB, Number: "12125551234", InboundCarrierSID: f.uk})
	require.NoError(t, err)
	require.Equal(t, []string{"sip:12125551234@198.51.100.1;transport=udp"}, uris(ts))
}
