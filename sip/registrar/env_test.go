package registrar_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	icholy "github.com/icholy/digest"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/admission"
	"github.com/voxrun/voxrun/sip/digest"
	"github.com/voxrun/voxrun/sip/registrar"
	"github.com/voxrun/voxrun/sip/siptest"
	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/store/memory"
	sqlstore "github.com/voxrun/voxrun/store/sql"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	realm     = "acme.test"
	hookRealm = "hook.test"
	password  = "s3cret-Pa55"
)

// countingProvisioning counts the repositories asked for, to prove that a
// challenge looks nothing up.
type countingProvisioning struct {
	store.Provisioning
	lookups atomic.Int64
}

func (p *countingProvisioning) Accounts(s store.Scope) store.Repo[store.Account] {
	p.lookups.Add(1)
	return p.Provisioning.Accounts(s)
}

func (p *countingProvisioning) Clients(s store.Scope) store.Repo[store.Client] {
	p.lookups.Add(1)
	return p.Provisioning.Clients(s)
}

// logBuffer collects JSON logs for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type options struct {
	lockout     admission.LockoutConfig
	digestClock func() time.Time
	algorithms  []string
	hooks       registrar.HookSender
	invite      func(registrar.Identity)
}

// env is a registrar on a real SIP server on 127.0.0.1 over SQLite
// provisioning and in-memory live state.
type env struct {
	db      *sqlstore.DB
	prov    *countingProvisioning
	live    *memory.Store
	reg     *registrar.Registrar
	srv     *sip.Server
	logs    *logBuffer
	acct    store.Account
	hooked  store.Account
	spScope store.Scope
}

func newEnv(t testing.TB, o options) *env {
	t.Helper()
	ctx := context.Background()
	sealer, err := store.NewSealer(bytes.Repeat([]byte{9}, store.KeySize))
	require.NoError(t, err)
	db, err := sqlstore.Open(ctx, sqlstore.Config{Driver: sqlstore.DriverSQLite, DSN: filepath.Join(t.TempDir(), "voxrun.db"), Sealer: sealer})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)

	e := &env{db: db, prov: &countingProvisioning{Provisioning: db}, logs: &logBuffer{}}
	must := func(sid string, err error) string {
		t.Helper()
		require.NoError(t, err)
		return sid
	}
	sp := must(db.ServiceProviders(store.Admin()).Create(ctx, &store.ServiceProvider{Name: "sp"}))
	e.spScope = store.ForServiceProvider(sp)
	acct := must(db.Accounts(e.spScope).Create(ctx, &store.Account{Name: "acme", SIPRealm: realm, IsActive: true, WebhookSecret: "acme-secret"}))
	hooked := must(db.Accounts(e.spScope).Create(ctx, &store.Account{Name: "hooked", SIPRealm: hookRealm, IsActive: true, WebhookSecret: "hook-secret",
		RegistrationHook: &store.Webhook{URL: "http://127.0.0.1:1/unset", Username: "hookuser", Password: "hookpass"}}))
	other := must(db.Accounts(e.spScope).Create(ctx, &store.Account{Name: "other", SIPRealm: "other.test", IsActive: true, WebhookSecret: "x"}))
	a := store.ForAccount(sp, acct)
	for _, c := range []store.Client{
		{Username: "alice", Password: password, IsActive: true},
		{Username: "bob", Password: password, IsActive: true},
		{Username: "105", Password: password, IsActive: true},
		{Username: "inactive", Password: password, IsActive: false},
	} {
		must(db.Clients(a).Create(ctx, &c))
	}
	must(db.Clients(store.ForAccount(sp, other)).Create(ctx, &store.Client{Username: "carol", Password: password, IsActive: true}))
	e.acct, err = db.Accounts(store.Admin()).Get(ctx, acct)
	require.NoError(t, err)
	e.hooked, err = db.Accounts(store.Admin()).Get(ctx, hooked)
	require.NoError(t, err)

	e.live = memory.New()
	t.Cleanup(func() { _ = e.live.Close() })
	auth, err := digest.New(digest.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), Clock: o.digestClock, Algorithms: o.algorithms}, e.live)
	require.NoError(t, err)
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.reg, err = registrar.New(registrar.Config{
		Provisioning: e.prov, Live: e.live, Digest: auth, Hooks: o.hooks, Node: "node-1",
		Lockout: o.lockout, Logger: logger,
	})
	require.NoError(t, err)
	// The server's per-source limit is off: what stops a flood here must be
	// the registrar's own lockout.
	e.srv, err = sip.New(sip.Config{Addr: "127.0.0.1:0", Pike: admission.PikeConfig{Disabled: true},
		Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	require.NoError(t, err)
	e.srv.Handle("REGISTER", e.reg.HandleRegister)
	if o.invite != nil {
		e.srv.Handle("INVITE", func(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
			id, ok := e.reg.Authenticate(ctx, req, tx)
			if !ok {
				return
			}
			o.invite(id)
			_ = tx.Respond(sip.NewResponse(req, 486, "Busy Here"))
		})
	}
	require.NoError(t, e.srv.Start(ctx))
	t.Cleanup(func() { require.NoError(t, e.srv.Close()) })
	return e
}

func (e *env) addr() netip.AddrPort { return e.srv.UDPAddr() }

// ua is a raw SIP user agent on a UDP socket of its own.
type ua struct {
	t      testing.TB
	conn   siptest.Conn
	server netip.AddrPort
	user   string
	realm  string
	callID string
	cseq   int
}

// newUA opens a UDP socket on local (an address of 127.0.0.0/8; "" for
// 127.0.0.1) towards the server.
func newUA(t testing.TB, e *env, local, user, r string) *ua {
	t.Helper()
	if local == "" {
		local = "127.0.0.1"
	}
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(local)}, net.UDPAddrFromAddrPort(e.addr()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &ua{t: t, conn: &udpConn{c}, server: e.addr(), user: user, realm: r, callID: randHex(8) + "@test"}
}

// newTCPUA opens a TCP connection to the server.
func newTCPUA(t *testing.T, e *env, user, r string) *ua {
	t.Helper()
	c, err := siptest.Dial(context.Background(), "tcp", e.srv.TCPAddr())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &ua{t: t, conn: c, server: e.srv.TCPAddr(), user: user, realm: r, callID: randHex(8) + "@test"}
}

// udpConn is a siptest.Conn on a UDP socket bound where the test says.
type udpConn struct{ c *net.UDPConn }

func (u *udpConn) Send(_ context.Context, b []byte) error { _, err := u.c.Write(b); return err }

func (u *udpConn) Read(ctx context.Context) ([]byte, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(5 * time.Second)
	}
	_ = u.c.SetReadDeadline(dl)
	buf := make([]byte, 65536)
	n, err := u.c.Read(buf)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return nil, siptest.ErrNoReply
	}
	return buf[:n], err
}

func (u *udpConn) LocalAddr() netip.AddrPort { return u.c.LocalAddr().(*net.UDPAddr).AddrPort() }
func (u *udpConn) Transport() string         { return "UDP" }
func (u *udpConn) Close() error              { return u.c.Close() }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (u *ua) local() netip.AddrPort { return u.conn.LocalAddr() }

// request is one request to send.
type request struct {
	method  string
	toUser  string
	ruri    string
	contact string // "" for the UA's own address, "-" for none
	extra   []string
}

// send sends a request and returns its final response.
func (u *ua) send(r request) []byte {
	u.t.Helper()
	method, ruri, branch := u.write(r)
	for {
		msg := u.read()
		if siptest.Status(msg) < 200 || !strings.Contains(siptest.Header(msg, "CSeq"), fmt.Sprintf("%d %s", u.cseq, method)) {
			continue // a provisional or a stray retransmission
		}
		if method == "INVITE" {
			u.ack(ruri, branch, msg)
		}
		return msg
	}
}

// sendUnanswered sends a request and requires that nothing comes back
// within a second.
func (u *ua) sendUnanswered(r request) {
	u.t.Helper()
	u.write(r)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	msg, err := u.conn.Read(ctx)
	require.ErrorIs(u.t, err, siptest.ErrNoReply, "unexpected answer: %s", msg)
}

// write sends a request.
func (u *ua) write(r request) (method, ruri, branch string) {
	u.t.Helper()
	u.cseq++
	method = r.method
	if method == "" {
		method = "REGISTER"
	}
	toUser := r.toUser
	if toUser == "" {
		toUser = u.user
	}
	ruri = r.ruri
	if ruri == "" {
		ruri = "sip:" + u.realm
	}
	branch = "z9hG4bK-" + randHex(8)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;rport;branch=%s\r\n", u.conn.Transport(), u.local(), branch)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=f-%s\r\n", u.user, u.realm, u.callID[:6])
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\n", toUser, u.realm)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", u.callID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", u.cseq, method)
	switch r.contact {
	case "":
		fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", u.user, u.local())
	case "-":
	default:
		fmt.Fprintf(&b, "Contact: %s\r\n", r.contact)
	}
	fmt.Fprintf(&b, "User-Agent: registrar-test\r\n")
	for _, h := range r.extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	err := u.conn.Send(context.Background(), []byte(b.String()))
	require.NoError(u.t, err)
	return method, ruri, branch
}

// ack acknowledges a non-2xx final response to an INVITE (RFC 3261 §17.1.1.3).
func (u *ua) ack(ruri, branch string, res []byte) {
	var b strings.Builder
	fmt.Fprintf(&b, "ACK %s SIP/2.0\r\n", ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;rport;branch=%s\r\n", u.conn.Transport(), u.local(), branch)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: %s\r\n", siptest.Header(res, "From"))
	fmt.Fprintf(&b, "To: %s\r\n", siptest.Header(res, "To"))
	fmt.Fprintf(&b, "Call-ID: %s\r\n", u.callID)
	fmt.Fprintf(&b, "CSeq: %d ACK\r\n", u.cseq)
	b.WriteString("Content-Length: 0\r\n\r\n")
	err := u.conn.Send(context.Background(), []byte(b.String()))
	require.NoError(u.t, err)
}

func (u *ua) read() []byte {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msg, err := u.conn.Read(ctx)
	require.NoError(u.t, err, "no answer from the registrar")
	return msg
}

// headers returns every value of header name in msg.
func headers(msg []byte, name string) []string {
	head, _, _ := strings.Cut(string(msg), "\r\n\r\n")
	var out []string
	for _, line := range strings.Split(head, "\r\n")[1:] {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// credentials answers challenge (a WWW-Authenticate value) as a client would.
func credentials(t testing.TB, challenge, method, uri, user, pass string, count int) string {
	t.Helper()
	chal, err := icholy.ParseChallenge(challenge)
	require.NoError(t, err)
	cred, err := icholy.Digest(chal, icholy.Options{Method: method, URI: uri, Username: user, Password: pass, Count: count})
	require.NoError(t, err)
	return cred.String()
}

// challenge sends r without credentials, expects a 401 and returns its
// challenges.
func (u *ua) challenge(r request) []string {
	u.t.Helper()
	res := u.send(r)
	require.Equal(u.t, 401, siptest.Status(res), string(res))
	ch := headers(res, "WWW-Authenticate")
	require.NotEmpty(u.t, ch)
	return ch
}

// register runs challenge and answer with pass and returns the final
// response to the authenticated request.
func (u *ua) register(pass string, r request) []byte {
	u.t.Helper()
	ch := u.challenge(r)
	method := r.method
	if method == "" {
		method = "REGISTER"
	}
	uri := r.ruri
	if uri == "" {
		uri = "sip:" + u.realm
	}
	authed := r
	authed.extra = append(append([]string(nil), r.extra...), "Authorization: "+credentials(u.t, ch[0], method, uri, u.user, pass, 1))
	return u.send(authed)
}
