package carrierreg_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/carrierreg"
	"github.com/voxrun/voxrun/sip/leg"
	"github.com/voxrun/voxrun/sip/siptest"
	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/store/memory"
	sqlstore "github.com/voxrun/voxrun/store/sql"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	goleak.VerifyTestMain(m,
		// sipgo may open a fresh UDP reader while its transport layer closes
		// (see sip/leg's TestMain).
		goleak.IgnoreAnyFunction("github.com/emiago/sipgo/sip.(*TransportUDP).readUDPConnection"))
}

type env struct {
	db      *sqlstore.DB
	live    *memory.Store
	carrier string
	reg     *carrierreg.Registrar
}

// newEnv provisions a carrier that requires registration, with one
// outbound gateway at gw, and a registrar on a SIP server of 127.0.0.1.
func newEnv(t *testing.T, gw *siptest.SippUAS, password string) *env {
	t.Helper()
	ctx := context.Background()
	sealer, err := store.NewSealer(bytes.Repeat([]byte{7}, store.KeySize))
	require.NoError(t, err)
	db, err := sqlstore.Open(ctx, sqlstore.Config{Driver: sqlstore.DriverSQLite, DSN: filepath.Join(t.TempDir(), "voxrun.db"), Sealer: sealer})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	sp, err := db.ServiceProviders(store.Admin()).Create(ctx, &store.ServiceProvider{Name: "sp"})
	require.NoError(t, err)
	e := &env{db: db, live: memory.New()}
	t.Cleanup(func() { _ = e.live.Close() })
	s := store.ForServiceProvider(sp)
	e.carrier, err = db.VoipCarriers(s).Create(ctx, &store.VoipCarrier{Name: "reg", IsActive: true, RequiresRegister: true,
		RegisterUsername: "acme", RegisterPassword: password, RegisterSIPRealm: "carrier.test", RegisterFromUser: "15550001000"})
	require.NoError(t, err)
	_, err = db.SipGateways(s).Create(ctx, &store.SipGateway{IPv4: "127.0.0.1", Port: gw.Port, Netmask: 32, Outbound: true,
		VoipCarrierSID: e.carrier, IsActive: true})
	require.NoError(t, err)
	// A carrier that does not require registration is left alone.
	_, err = db.VoipCarriers(s).Create(ctx, &store.VoipCarrier{Name: "plain", IsActive: true})
	require.NoError(t, err)

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := sip.New(sip.Config{Addr: "127.0.0.1:0", Logger: log})
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	require.Eventually(t, func() bool {
		c, err := srv.TransactionLayer().Transport().GetConnection("udp", srv.UDPAddr().String())
		return err == nil && c != nil
	}, 2*time.Second, time.Millisecond)
	e.reg, err = carrierreg.New(carrierreg.Config{
		Provisioning: db, Live: e.live, Requester: leg.TransactionLayer(srv.TransactionLayer()),
		LocalAddr: func(transport string) netip.AddrPort {
			if transport == "TCP" {
				return srv.TCPAddr()
			}
			return srv.UDPAddr()
		},
		Retry: time.Minute, Logger: log,
	})
	require.NoError(t, err)
	return e
}

func (e *env) status(t *testing.T) (carrierreg.Status, bool) {
	b, err := e.live.GetValue(context.Background(), carrierreg.StatusKey(e.carrier))
	if err != nil {
		return carrierreg.Status{}, false
	}
	var st carrierreg.Status
	require.NoError(t, json.Unmarshal(b, &st))
	return st, true
}

func (e *env) column(t *testing.T) string {
	c, err := e.db.VoipCarriers(store.Admin()).Get(context.Background(), e.carrier)
	require.NoError(t, err)
	return c.RegisterStatus
}

// TestRegisterRefreshUnregister: sipp challenges, voxrun registers with the
// carrier's credentials, refreshes after half of the 2 s granted, and
// unregisters at Close; the status is in live state and in register_status.
func TestRegisterRefreshUnregister(t *testing.T) {
	gw := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", "uas_registrar.xml"), "u1")
	e := newEnv(t, gw, "pw")
	e.reg.Start(context.Background())
	require.Eventually(t, func() bool {
		st, ok := e.status(t)
		return ok && st.Status == "ok" && st.Expires == 60
	}, 10*time.Second, 20*time.Millisecond, "registered, then refreshed")
	st, _ := e.status(t)
	require.Equal(t, "127.0.0.1:"+strconv.Itoa(gw.Port), st.Gateway)
	require.JSONEq(t, `{"status":"ok","reason":"200 OK"}`, e.column(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, e.reg.Close(ctx))
	gw.Wait(t)
	msgs := string(gw.Messages())
	require.Contains(t, msgs, "REGISTER sip:carrier.test SIP/2.0")
	require.Contains(t, msgs, "<sip:15550001000@carrier.test>")
	require.Equal(t, 6, strings.Count(msgs, "REGISTER sip:carrier.test SIP/2.0"), "3 rounds of a challenged and an authorised REGISTER")
	require.Contains(t, msgs, "Expires: 0")
}

// TestRegisterRefused: a 403 is recorded as a failure.
func TestRegisterRefused(t *testing.T) {
	gw := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", "uas_register_forbidden.xml"), "u1")
	e := newEnv(t, gw, "pw")
	e.reg.Start(context.Background())
	require.Eventually(t, func() bool {
		st, ok := e.status(t)
		return ok && st.Status == "fail"
	}, 10*time.Second, 20*time.Millisecond)
	st, _ := e.status(t)
	require.Equal(t, "403 Forbidden", st.Reason)
	require.JSONEq(t, `{"status":"fail","reason":"403 Forbidden"}`, e.column(t))
	require.NoError(t, e.reg.Close(context.Background()))
	gw.Wait(t)
}
