package route_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	sipgosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/route"
	"github.com/voxrun/voxrun/store"
	sqlstore "github.com/voxrun/voxrun/store/sql"
)

// fixture is a provisioned platform: two accounts of one service provider,
// each with its carrier, gateways, numbers, applications and clients.
type fixture struct {
	db                        *sqlstore.DB
	acctA, acctB              string
	appA, appB, appDevice     string
	carrierA, carrierB        string
	carrierAName, carrierBNam string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	sealer, err := store.NewSealer(bytes.Repeat([]byte{7}, store.KeySize))
	require.NoError(t, err)
	db, err := sqlstore.Open(ctx, sqlstore.Config{Driver: sqlstore.DriverSQLite, DSN: filepath.Join(t.TempDir(), "voxrun.db"), Sealer: sealer})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)

	f := &fixture{db: db, carrierAName: "carrier-a", carrierBNam: "carrier-b"}
	must := func(sid string, err error) string {
		t.Helper()
		require.NoError(t, err)
		return sid
	}
	sp := must(db.ServiceProviders(store.Admin()).Create(ctx, &store.ServiceProvider{Name: "sp"}))
	spScope := store.ForServiceProvider(sp)
	f.acctA = must(db.Accounts(spScope).Create(ctx, &store.Account{Name: "a", SIPRealm: "a.sip.example.com", IsActive: true, WebhookSecret: "s"}))
	f.acctB = must(db.Accounts(spScope).Create(ctx, &store.Account{Name: "b", SIPRealm: "b.sip.example.com", IsActive: true, WebhookSecret: "s"}))
	a, b := store.ForAccount(sp, f.acctA), store.ForAccount(sp, f.acctB)
	newApp := func(s store.Scope, name string) string {
		return must(db.Applications(s).Create(ctx, &store.Application{Name: name,
			CallHook: &store.Webhook{URL: "https://app.example.com/" + name}, CallStatusHook: &store.Webhook{URL: "https://app.example.com/status"},
			SpeechSynthesisVendor: "google", SpeechSynthesisLanguage: "en-US", SpeechRecognizerVendor: "google", SpeechRecognizerLanguage: "en-US"}))
	}
	f.appA, f.appB, f.appDevice = newApp(a, "app-a"), newApp(b, "app-b"), newApp(a, "device-a")
	require.NoError(t, db.Accounts(spScope).Update(ctx, f.acctA, store.Patch{"device_calling_application_sid": f.appDevice}))

	f.carrierA = must(db.VoipCarriers(a).Create(ctx, &store.VoipCarrier{Name: f.carrierAName, IsActive: true, TechPrefix: "99"}))
	f.carrierB = must(db.VoipCarriers(b).Create(ctx, &store.VoipCarrier{Name: f.carrierBNam, IsActive: true, ApplicationSID: f.appB}))
	inactive := must(db.VoipCarriers(a).Create(ctx, &store.VoipCarrier{Name: "off", IsActive: false}))
	gw := func(s store.Scope, carrier, ip string, mask, port int, inbound bool) {
		must(db.SipGateways(s).Create(ctx, &store.SipGateway{IPv4: ip, Netmask: mask, Port: port, Inbound: inbound, Outbound: !inbound, VoipCarrierSID: carrier, IsActive: true}))
	}
	gw(a, f.carrierA, "203.0.113.0", 24, 0, true)
	gw(b, f.carrierB, "198.51.100.7", 32, 5060, true)
	gw(a, inactive, "192.0.2.99", 32, 0, true)
	gw(a, f.carrierA, "192.0.2.50", 32, 0, false) // outbound only
	must(db.SipGateways(a).Create(ctx, &store.SipGateway{IPv4: "192.0.2.60", Netmask: 32, Inbound: true, VoipCarrierSID: f.carrierA, IsActive: false}))

	num := func(s store.Scope, n, app, carrier string) {
		must(db.PhoneNumbers(s).Create(ctx, &store.PhoneNumber{Number: n, ApplicationSID: app, VoipCarrierSID: carrier}))
	}
	num(a, "15551230001", f.appA, f.carrierA)
	num(a, "+15551230002", f.appA, f.carrierA)
	num(a, "15551230003", "", f.carrierA)
	num(b, "15559990001", f.appB, f.carrierB)
	num(b, "15559990002", "", f.carrierB)

	must(db.Clients(a).Create(ctx, &store.Client{Username: "alice", Password: "pw", IsActive: true}))
	must(db.Clients(a).Create(ctx, &store.Client{Username: "bob", Password: "pw", IsActive: false}))
	must(db.Clients(b).Create(ctx, &store.Client{Username: "carol", Password: "pw", IsActive: true}))
	return f
}

func TestRoute(t *testing.T) {
	f := newFixture(t)
	r, err := route.New(route.Config{Provisioning: f.db})
	require.NoError(t, err)
	src := netip.MustParseAddrPort
	noApp := map[string]string{"X-Reason": "no configured application"}

	cases := []struct {
		name    string
		call    route.Call
		kind    route.Kind
		account string
		app     string
		carrier string
		called  string
		status  int
		headers map[string]string
		err     error
	}{
		{name: "carrier number with +", call: route.Call{Source: src("203.0.113.55:5060"), Called: "+15551230001"},
			kind: route.FromCarrier, account: f.acctA, app: f.appA, carrier: f.carrierAName, called: "15551230001"},
		{name: "tech prefix stripped", call: route.Call{Source: src("203.0.113.1:5080"), Called: "9915551230001"},
			kind: route.FromCarrier, account: f.acctA, app: f.appA, carrier: f.carrierAName, called: "15551230001"},
		{name: "number stored with +", call: route.Call{Source: src("203.0.113.1:5060"), Called: "15551230002"},
			kind: route.FromCarrier, account: f.acctA, app: f.appA, carrier: f.carrierAName, called: "15551230002"},
		{name: "number without application", call: route.Call{Source: src("203.0.113.1:5060"), Called: "15551230003"},
			status: 480, headers: noApp, err: route.ErrNoApplication},
		{name: "carrier default application", call: route.Call{Source: src("198.51.100.7:5060"), Called: "15559990002"},
			kind: route.FromCarrier, account: f.acctB, app: f.appB, carrier: f.carrierBNam, called: "15559990002"},
		{name: "gateway with port", call: route.Call{Source: src("198.51.100.7:5060"), Called: "+1-555-999-0001"},
			kind: route.FromCarrier, account: f.acctB, app: f.appB, carrier: f.carrierBNam, called: "15559990001"},
		{name: "unknown number", call: route.Call{Source: src("203.0.113.1:5060"), Called: "15550000000"},
			status: 404, err: route.ErrNumberNotFound},
		{name: "not a number", call: route.Call{Source: src("203.0.113.1:5060"), Called: "alice"},
			status: 404, err: route.ErrNumberNotFound},
		{name: "another tenant's number", call: route.Call{Source: src("203.0.113.1:5060"), Called: "15559990001"},
			status: 404, err: route.ErrNumberNotFound},
		{name: "gateway port mismatch", call: route.Call{Source: src("198.51.100.7:5080"), Called: "15559990001"},
			status: 403, err: route.ErrUnknownSource},
		{name: "outside the netmask", call: route.Call{Source: src("203.0.114.1:5060"), Called: "15551230001"},
			status: 403, err: route.ErrUnknownSource},
		{name: "inactive carrier", call: route.Call{Source: src("192.0.2.99:5060"), Called: "15551230001"},
			status: 403, err: route.ErrUnknownSource},
		{name: "outbound-only gateway", call: route.Call{Source: src("192.0.2.50:5060"), Called: "15551230001"},
			status: 403, err: route.ErrUnknownSource},
		{name: "inactive gateway", call: route.Call{Source: src("192.0.2.60:5060"), Called: "15551230001"},
			status: 403, err: route.ErrUnknownSource},
		{name: "no source", call: route.Call{Called: "15551230001"}, status: 403, err: route.ErrUnknownSource},
		{name: "client to device-calling app", call: route.Call{Source: src("10.0.0.9:5060"), Called: "18005551212",
			Identity: &route.Identity{Username: "alice", Realm: "A.sip.example.com"}},
			kind: route.FromClient, account: f.acctA, app: f.appDevice, called: "18005551212"},
		{name: "inactive client", call: route.Call{Source: src("10.0.0.9:5060"), Called: "1",
			Identity: &route.Identity{Username: "bob", Realm: "a.sip.example.com"}}, status: 403, err: route.ErrInactive},
		{name: "client of account without device app", call: route.Call{Source: src("10.0.0.9:5060"), Called: "1",
			Identity: &route.Identity{Username: "carol", Realm: "b.sip.example.com"}}, status: 480, headers: noApp, err: route.ErrNoApplication},
		{name: "client in another realm", call: route.Call{Source: src("10.0.0.9:5060"), Called: "1",
			Identity: &route.Identity{Username: "alice", Realm: "b.sip.example.com"}}, status: 403, err: route.ErrUnknownSource},
		{name: "unknown realm", call: route.Call{Source: src("10.0.0.9:5060"), Called: "1",
			Identity: &route.Identity{Username: "alice", Realm: "nowhere.example.com"}}, status: 403, err: route.ErrUnknownSource},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := r.Route(context.Background(), c.call)
			if c.status != 0 {
				var re *route.RejectError
				require.ErrorAs(t, err, &re)
				require.Equal(t, c.status, re.Status)
				require.Equal(t, c.headers, re.Headers)
				require.ErrorIs(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.kind, res.Kind)
			require.Equal(t, c.account, res.Account.AccountSID)
			require.Equal(t, c.app, res.Application.ApplicationSID)
			require.Equal(t, c.carrier, res.CarrierName())
			require.Equal(t, c.called, res.Called)
		})
	}
}

// countingProvisioning counts gateway reads.
type countingProvisioning struct {
	store.Provisioning
	mu    sync.Mutex
	reads int
}

func (c *countingProvisioning) SipGateways(s store.Scope) store.Repo[store.SipGateway] {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.Provisioning.SipGateways(s)
}

func TestGatewaysAreCachedBriefly(t *testing.T) {
	f := newFixture(t)
	p := &countingProvisioning{Provisioning: f.db}
	now := time.Unix(1_700_000_000, 0)
	r, err := route.New(route.Config{Provisioning: p, GatewayTTL: 5 * time.Second, Now: func() time.Time { return now }})
	require.NoError(t, err)
	ctx := context.Background()
	newSource := route.Call{Source: netip.MustParseAddrPort("192.0.2.200:5060"), Called: "15551230001"}

	_, err = r.Route(ctx, newSource)
	require.ErrorIs(t, err, route.ErrUnknownSource)
	// A gateway added now is seen once the cache expires, not before.
	_, err = f.db.SipGateways(store.Admin()).Create(ctx, &store.SipGateway{IPv4: "192.0.2.200", Netmask: 32, Inbound: true, VoipCarrierSID: f.carrierA, IsActive: true})
	require.NoError(t, err)
	now = now.Add(4 * time.Second)
	_, err = r.Route(ctx, newSource)
	require.ErrorIs(t, err, route.ErrUnknownSource)
	require.Equal(t, 1, p.reads)
	now = now.Add(2 * time.Second)
	res, err := r.Route(ctx, newSource)
	require.NoError(t, err)
	require.Equal(t, f.appA, res.Application.ApplicationSID)
	require.Equal(t, 2, p.reads)
}

func TestCallOf(t *testing.T) {
	req := sipgosip.NewRequest(sipgosip.INVITE, sipgosip.Uri{Scheme: "sip", User: "+15551230001", Host: "voxrun.example.com"})
	req.SetSource("[::ffff:203.0.113.5]:5062")
	c := route.CallOf(req)
	require.Equal(t, "+15551230001", c.Called)
	require.Equal(t, netip.MustParseAddrPort("203.0.113.5:5062"), c.Source)
	require.Nil(t, c.Identity)
}

func TestNewNeedsProvisioning(t *testing.T) {
	_, err := route.New(route.Config{})
	require.True(t, errors.Is(err, route.ErrConfig))
}

// countingLimiter admits up to max calls and counts them.
type countingLimiter struct {
	mu          sync.Mutex
	active, max int
}

func (c *countingLimiter) Admit(_ context.Context, _ store.Account) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active >= c.max {
		return nil, &route.RejectError{Status: 503, Reason: "Maximum Calls In Progress"}
	}
	c.active++
	return func() { c.mu.Lock(); c.active--; c.mu.Unlock() }, nil
}

// TestRouteAdmits: a routed call holds a slot of the limiter until the
// Track release (the INVITE handler's end) or Result.Release.
func TestRouteAdmits(t *testing.T) {
	f := newFixture(t)
	lim := &countingLimiter{max: 1}
	r, err := route.New(route.Config{Provisioning: f.db, Limiter: lim})
	require.NoError(t, err)
	call := route.Call{Source: netip.MustParseAddrPort("203.0.113.55:5060"), Called: "15551230001"}
	ctx, release := route.Track(context.Background())
	_, err = r.Route(ctx, call)
	require.NoError(t, err)
	_, err = r.Route(context.Background(), call)
	var re *route.RejectError
	require.ErrorAs(t, err, &re)
	require.Equal(t, 503, re.Status)
	release()
	release()
	require.Zero(t, lim.active)
	res, err := r.Route(context.Background(), call)
	require.NoError(t, err)
	require.Equal(t, 1, lim.active)
	res.Release()
	res.Release()
	require.Zero(t, lim.active)
	// A refused route takes no slot.
	_, err = r.Route(context.Background(), route.Call{Source: netip.MustParseAddrPort("203.0.113.55:5060"), Called: "15550000000"})
	require.ErrorIs(t, err, route.ErrNumberNotFound)
	require.Zero(t, lim.active)
}
