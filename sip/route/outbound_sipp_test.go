package route_test

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/ports"
	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/leg"
	"github.com/voxrun/voxrun/sip/route"
	"github.com/voxrun/voxrun/sip/siptest"
	"github.com/voxrun/voxrun/store"
)

// newAgent is a SIP server on 127.0.0.1 with a leg agent that dials out.
func newAgent(t *testing.T) *leg.Agent {
	t.Helper()
	alloc, err := ports.New(ports.Config{Min: 46000, Max: 46999})
	require.NoError(t, err)
	clk := clock.New(clock.Config{Shards: 1})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := sip.New(sip.Config{Addr: "127.0.0.1:0", Logger: log})
	require.NoError(t, err)
	agent, err := leg.NewAgent(leg.Config{
		Ports: alloc, Clock: clk, MediaAddr: netip.MustParseAddr("127.0.0.1"), Logger: log,
		Requester: leg.TransactionLayer(srv.TransactionLayer()),
		LocalAddr: func(transport string) netip.AddrPort {
			if transport == "TCP" {
				return srv.TCPAddr()
			}
			return srv.UDPAddr()
		},
	})
	require.NoError(t, err)
	for _, m := range leg.DialogMethods {
		srv.Handle(m, agent.ServeDialog)
	}
	require.NoError(t, srv.Start(context.Background()))
	require.Eventually(t, func() bool {
		c, err := srv.TransactionLayer().Transport().GetConnection("udp", srv.UDPAddr().String())
		return err == nil && c != nil
	}, 2*time.Second, time.Millisecond)
	t.Cleanup(func() {
		require.NoError(t, agent.Close())
		require.NoError(t, srv.Close())
		require.NoError(t, clk.Close())
		require.Zero(t, alloc.InUse(), "every RTP port is released")
	})
	return agent
}

// TestOutboundFailoverSipp: LCR sends a US number first to a carrier whose
// gateway (sipp) answers 503, then to one whose gateway (sipp) challenges;
// voxrun answers with the carrier's credentials, dials the number with the
// carrier's + and tech prefix, and the call is up on the second gateway.
func TestOutboundFailoverSipp(t *testing.T) {
	down := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", "uas_unavailable.xml"), "u1")
	up := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", "uas_challenge.xml"), "u1")
	f := newOutFixture(t)
	ctx := f.ctx
	a := store.ForAccount(f.sp, f.acctA)
	must := func(sid string, err error) string {
		t.Helper()
		require.NoError(t, err)
		return sid
	}
	bad := must(f.db.VoipCarriers(a).Create(ctx, &store.VoipCarrier{Name: "down", IsActive: true}))
	must(f.db.SipGateways(a).Create(ctx, &store.SipGateway{IPv4: "127.0.0.1", Port: down.Port, Netmask: 32, Outbound: true, VoipCarrierSID: bad, IsActive: true}))
	good := must(f.db.VoipCarriers(a).Create(ctx, &store.VoipCarrier{Name: "up", IsActive: true, E164LeadingPlus: true, TechPrefix: "8#",
		RegisterUsername: "alice", RegisterPassword: "secret"}))
	must(f.db.SipGateways(a).Create(ctx, &store.SipGateway{IPv4: "127.0.0.1", Port: up.Port, Netmask: 32, Outbound: true, VoipCarrierSID: good, IsActive: true}))
	rt := must(f.db.LCRRoutes(a).Create(ctx, &store.LCRRoute{LCRSID: f.lcr, Regex: "^1555", Priority: 0}))
	must(f.db.LCRCarrierSetEntries(a).Create(ctx, &store.LCRCarrierSetEntry{LCRRouteSID: rt, VoipCarrierSID: good, Priority: 2, Workload: 1}))
	must(f.db.LCRCarrierSetEntries(a).Create(ctx, &store.LCRCarrierSetEntry{LCRRouteSID: rt, VoipCarrierSID: bad, Priority: 1, Workload: 1}))

	targets, err := f.router(t).Outbound(ctx, f.acctA, "15550001234")
	require.NoError(t, err)
	require.Len(t, targets, 2)
	agent := newAgent(t)
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	l, i, err := route.DialFailover(dctx, agent, targets, leg.DialRequest{From: leg.Party{User: "15557654321"}, Timeout: 10 * time.Second})
	require.NoError(t, err)
	defer l.Close()
	require.Equal(t, 1, i, "the second gateway answered")
	require.Equal(t, "up", targets[i].Carrier.Name)
	require.Contains(t, l.Request().GetHeader("Authorization").Value(), `username="alice"`)
	require.NoError(t, l.Hangup(dctx, nil))
	down.Wait(t)
	up.Wait(t)
	require.Contains(t, string(down.Messages()), "INVITE sip:15550001234@127.0.0.1:")
	require.Contains(t, string(up.Messages()), "INVITE sip:8#+15550001234@127.0.0.1:")
}

// TestOutboundAllGatewaysFail: every gateway answers 503; both are tried
// and the last 503 is the dial's result.
func TestOutboundAllGatewaysFail(t *testing.T) {
	down1 := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", "uas_unavailable.xml"), "u1")
	down2 := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", "uas_unavailable.xml"), "u1")
	targets := []route.OutboundTarget{
		{URI: strings.Replace(down1.Target, "callee", "15550001234", 1)},
		{URI: strings.Replace(down2.Target, "callee", "15550001234", 1)},
	}
	agent := newAgent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, i, err := route.DialFailover(ctx, agent, targets, leg.DialRequest{From: leg.Party{User: "1"}})
	require.Equal(t, 503, leg.StatusOf(err), "%v", err)
	require.Equal(t, 1, i, "both gateways were tried")
	down1.Wait(t)
	down2.Wait(t)
}

// TestOutboundNoFailoverOnBusy: 486 is the callee's answer, not the
// gateway's failure: the next gateway is not tried.
func TestOutboundNoFailoverOnBusy(t *testing.T) {
	busy := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", "uas_busy.xml"), "u1")
	targets := []route.OutboundTarget{
		{URI: strings.Replace(busy.Target, "callee", "15550001234", 1)},
		{URI: "sip:15550001234@192.0.2.1;transport=udp"}, // never reached
	}
	agent := newAgent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, i, err := route.DialFailover(ctx, agent, targets, leg.DialRequest{From: leg.Party{User: "1"}})
	require.Equal(t, 486, leg.StatusOf(err), "%v", err)
	require.Equal(t, 0, i)
	busy.Wait(t)
}

// TestOutboundRegisteredTrunkSipp: a carrier that requires registration is
// called at its SIP realm (Request-URI and To) through its gateway (the
// proxy), with its From domain and credentials.
func TestOutboundRegisteredTrunkSipp(t *testing.T) {
	gw := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", "uas_challenge.xml"), "u1")
	f := newOutFixture(t)
	a := store.ForAccount(f.sp, f.acctA)
	require.NoError(t, f.db.SipGateways(a).Update(f.ctx, mustGateway(t, f, f.us2), store.Patch{"ipv4": "127.0.0.1", "port": gw.Port}))
	require.NoError(t, f.db.VoipCarriers(a).Update(f.ctx, f.us2, store.Patch{"register_username": "alice", "register_password": "secret",
		"register_from_domain": "trunk.example.net"}))
	targets, err := f.router(t).OutboundFor(f.ctx, route.OutboundRequest{AccountSID: f.acctA, Number: "33123456789"})
	require.NoError(t, err)
	require.Len(t, targets, 1)
	agent := newAgent(t)
	ctx, cancel := context.WithTimeout(f.ctx, 15*time.Second)
	defer cancel()
	l, _, err := route.DialFailover(ctx, agent, targets, leg.DialRequest{From: leg.Party{User: "15557654321"}})
	require.NoError(t, err)
	defer l.Close()
	require.NoError(t, l.Hangup(ctx, nil))
	gw.Wait(t)
	msgs := string(gw.Messages())
	require.Contains(t, msgs, "INVITE sip:33123456789@sip.carrier.example;transport=udp SIP/2.0")
	require.Contains(t, msgs, "<sip:15557654321@trunk.example.net>;tag=")
}

func mustGateway(t *testing.T, f *outFixture, carrier string) string {
	t.Helper()
	gws, err := f.db.SipGateways(store.Admin()).List(f.ctx, store.Filter{"voip_carrier_sid": carrier})
	require.NoError(t, err)
	require.Len(t, gws, 1)
	return gws[0].SipGatewaySID
}
