package registrar_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/admission"
	"github.com/voxrun/voxrun/sip/digest"
	"github.com/voxrun/voxrun/sip/registrar"
	"github.com/voxrun/voxrun/sip/siptest"
	"github.com/voxrun/voxrun/store"
)

// shape is what an observer sees of a response: status, header names in
// order, and the challenges without their nonces.
func shape(msg []byte) string {
	nonce := regexp.MustCompile(`nonce="[^"]*"`)
	var b strings.Builder
	fmt.Fprintf(&b, "%d", siptest.Status(msg))
	head, _, _ := strings.Cut(string(msg), "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n")[1:] {
		k, v, _ := strings.Cut(line, ":")
		b.WriteString("|" + k)
		if strings.EqualFold(k, "WWW-Authenticate") {
			b.WriteString("=" + nonce.ReplaceAllString(strings.ReplaceAll(v, realm, "R"), "nonce=N"))
		}
	}
	return b.String()
}

func TestChallengeFirstAndIdentical(t *testing.T) {
	e := newEnv(t, options{})
	cases := []struct {
		name, user, realm string
	}{
		{"known user", "alice", realm},
		{"unknown user", "nobody", realm},
		{"inactive user", "inactive", realm},
		{"unknown realm", "alice", "nowhere.test"},
	}
	var shapes []string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := newUA(t, e, "", tc.user, tc.realm)
			before := e.prov.lookups.Load()
			res := u.send(request{})
			require.Equal(t, 401, siptest.Status(res))
			ch := headers(res, "WWW-Authenticate")
			require.Len(t, ch, 2, "SHA-256 and MD5")
			require.Contains(t, ch[0], `realm="`+tc.realm+`"`)
			require.Contains(t, ch[0], "algorithm=SHA-256")
			require.Contains(t, ch[1], "algorithm=MD5")
			require.Equal(t, before, e.prov.lookups.Load(), "a challenge looks nothing up")
			s := shape(res)
			if tc.realm != realm {
				s = strings.ReplaceAll(s, tc.realm, "R")
			}
			shapes = append(shapes, s)
		})
	}
	for _, s := range shapes[1:] {
		require.Equal(t, shapes[0], s, "known and unknown users and realms are challenged alike")
	}
}

func TestRegister(t *testing.T) {
	e := newEnv(t, options{lockout: admission.LockoutConfig{MaxFailures: 1000}})
	ctx := context.Background()
	type want struct {
		status  int
		expires int // granted, when status is 200 and a binding is made
		nat     bool
		gone    bool // the binding is removed
	}
	cases := []struct {
		name  string
		user  string
		realm string
		pass  string
		req   request
		alg   int // 0 SHA-256, 1 MD5
		want  want
	}{
		{name: "SHA-256", user: "alice", want: want{status: 200, expires: 3600}},
		{name: "MD5", user: "alice", alg: 1, want: want{status: 200, expires: 3600}},
		{name: "Expires header", user: "alice", req: request{extra: []string{"Expires: 600"}}, want: want{status: 200, expires: 600}},
		{name: "contact expires wins", user: "alice", req: request{extra: []string{"Expires: 600"}, contact: "<sip:alice@%LOCAL%>;expires=120"}, want: want{status: 200, expires: 120}},
		{name: "first of two contacts wins", user: "alice", req: request{contact: "<sip:alice@%LOCAL%>, <sip:alice@10.9.9.9>;expires=30"}, want: want{status: 200, expires: 3600}},
		{name: "bounded to the maximum", user: "alice", req: request{extra: []string{"Expires: 7200"}}, want: want{status: 200, expires: 3600}},
		{name: "exactly the minimum", user: "alice", req: request{extra: []string{"Expires: 60"}}, want: want{status: 200, expires: 60}},
		{name: "too brief", user: "alice", req: request{extra: []string{"Expires: 30"}}, want: want{status: 423}},
		{name: "behind NAT", user: "alice", req: request{contact: "<sip:alice@10.0.0.5:5060>", extra: []string{"Expires: 600"}}, want: want{status: 200, expires: 30, nat: true}},
		{name: "behind NAT, port differs", user: "alice", req: request{contact: "<sip:alice@127.0.0.1:5999>"}, want: want{status: 200, expires: 30, nat: true}},
		{name: "wrong password", user: "alice", pass: "guess", want: want{status: 403}},
		{name: "unknown user", user: "nobody", want: want{status: 403}},
		{name: "inactive user", user: "inactive", want: want{status: 403}},
		{name: "unknown realm", user: "alice", realm: "nowhere.test", want: want{status: 403}},
		{name: "user of another realm", user: "carol", want: want{status: 403}},
		{name: "over another user", user: "alice", req: request{toUser: "bob"}, want: want{status: 403}},
		{name: "Contact * without Expires 0", user: "alice", req: request{contact: "*"}, want: want{status: 400}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := realm
			if tc.realm != "" {
				r = tc.realm
			}
			pass := password
			if tc.pass != "" {
				pass = tc.pass
			}
			_ = e.live.Unregister(ctx, tc.user, r)
			u := newUA(t, e, "", tc.user, r)
			tc.req.contact = strings.ReplaceAll(tc.req.contact, "%LOCAL%", u.local().String())
			var res []byte
			if tc.want.status == 400 {
				res = u.send(tc.req)
			} else {
				ch := u.challenge(tc.req)
				req := tc.req
				req.extra = append(append([]string(nil), req.extra...), "Authorization: "+credentials(t, ch[tc.alg], "REGISTER", "sip:"+r, tc.user, pass, 1))
				res = u.send(req)
			}
			require.Equal(t, tc.want.status, siptest.Status(res), string(res))
			to := tc.user
			if tc.req.toUser != "" {
				to = tc.req.toUser
			}
			reg, err := e.live.Registration(ctx, to, r)
			if tc.want.status != 200 {
				require.ErrorIs(t, err, store.ErrNotFound, "no binding on %d", tc.want.status)
				if tc.want.status == 423 {
					require.Equal(t, "60", siptest.Header(res, "Min-Expires"))
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.user, reg.Name)
			require.Equal(t, r, reg.Domain)
			require.Equal(t, "127.0.0.1", reg.SourceAddress)
			require.Equal(t, int(u.local().Port()), reg.SourcePort)
			require.Equal(t, "udp", reg.Transport)
			require.Equal(t, "node-1", reg.Node)
			require.Equal(t, "registrar-test", reg.UserAgent)
			require.Equal(t, u.callID, reg.CallID)
			require.WithinDuration(t, time.Now().Add(time.Duration(tc.want.expires)*time.Second), reg.ExpiresAt, 3*time.Second)
			contact := siptest.Header(res, "Contact")
			require.Contains(t, contact, fmt.Sprintf(";expires=%d", tc.want.expires))
			require.Contains(t, contact, "<"+reg.Contact+">")
			require.Equal(t, fmt.Sprint(tc.want.expires), siptest.Header(res, "Expires"))
			require.NotEmpty(t, siptest.Header(res, "Date"))
			require.Contains(t, siptest.Header(res, "To"), "tag=")
			require.NotContains(t, contact, "10.9.9.9", "one binding per user")
			if tc.want.nat {
				require.NotContains(t, reg.Contact, "127.0.0.1:"+fmt.Sprint(u.local().Port()))
			}
		})
	}
}

func TestRegisterOverTCP(t *testing.T) {
	e := newEnv(t, options{})
	ctx := context.Background()
	cases := []struct {
		name    string
		contact string
		expires int
	}{
		// The connection's source port is ephemeral: only the address counts.
		{"listening port in Contact", "<sip:alice@127.0.0.1:5070;transport=tcp>", 3600},
		{"private address in Contact", "<sip:alice@10.1.2.3:5070;transport=tcp>", 30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := newTCPUA(t, e, "alice", realm)
			res := u.register(password, request{contact: tc.contact})
			require.Equal(t, 200, siptest.Status(res), string(res))
			reg, err := e.live.Registration(ctx, "alice", realm)
			require.NoError(t, err)
			require.Equal(t, "tcp", reg.Transport)
			require.Equal(t, int(u.local().Port()), reg.SourcePort)
			require.Equal(t, strings.Trim(tc.contact, "<>"), reg.Contact)
			require.Contains(t, siptest.Header(res, "Contact"), fmt.Sprintf(";expires=%d", tc.expires))
		})
	}
}

func TestUnregisterAndQuery(t *testing.T) {
	e := newEnv(t, options{})
	ctx := context.Background()
	cases := []struct {
		name string
		req  request
	}{
		{"Expires 0", request{extra: []string{"Expires: 0"}}},
		{"contact expires=0", request{contact: "<sip:alice@%LOCAL%>;expires=0"}},
		{"Contact * with Expires 0", request{contact: "*", extra: []string{"Expires: 0"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := newUA(t, e, "", "alice", realm)
			require.Equal(t, 200, siptest.Status(u.register(password, request{})))
			_, err := e.live.Registration(ctx, "alice", realm)
			require.NoError(t, err)

			// A REGISTER without Contact lists the binding (RFC 3261 §10.2.3).
			res := u.register(password, request{contact: "-"})
			require.Equal(t, 200, siptest.Status(res))
			require.Regexp(t, `^<sip:alice@127\.0\.0\.1:\d+>;expires=(3600|3599)$`, siptest.Header(res, "Contact"))

			// Another device's unregistering leaves this binding alone.
			res = u.register(password, request{contact: "<sip:alice@192.0.2.77:5060>", extra: []string{"Expires: 0"}})
			require.Equal(t, 200, siptest.Status(res), string(res))
			require.Contains(t, siptest.Header(res, "Contact"), u.local().String())
			_, err = e.live.Registration(ctx, "alice", realm)
			require.NoError(t, err)

			tc.req.contact = strings.ReplaceAll(tc.req.contact, "%LOCAL%", u.local().String())
			res = u.register(password, tc.req)
			require.Equal(t, 200, siptest.Status(res), string(res))
			require.Empty(t, siptest.Header(res, "Contact"))
			_, err = e.live.Registration(ctx, "alice", realm)
			require.ErrorIs(t, err, store.ErrNotFound)
		})
	}
}

func TestNonceReplayAndStale(t *testing.T) {
	clock := siptest.NewClock(time.Now())
	e := newEnv(t, options{digestClock: clock.Now})
	u := newUA(t, e, "", "alice", realm)
	ch := u.challenge(request{})
	authz := "Authorization: " + credentials(t, ch[0], "REGISTER", "sip:"+realm, "alice", password, 1)
	require.Equal(t, 200, siptest.Status(u.send(request{extra: []string{authz}})))
	// The same nonce count again, in a new transaction: a fresh challenge.
	res := u.send(request{extra: []string{authz}})
	require.Equal(t, 401, siptest.Status(res))
	require.NotContains(t, siptest.Header(res, "WWW-Authenticate"), "stale=true")
	// A nonce past its lifetime: stale=true, so the client retries at once.
	clock.Advance(digest.MaxNonceTTL + time.Second)
	next := "Authorization: " + credentials(t, ch[0], "REGISTER", "sip:"+realm, "alice", password, 2)
	res = u.send(request{extra: []string{next}})
	require.Equal(t, 401, siptest.Status(res))
	require.Contains(t, siptest.Header(res, "WWW-Authenticate"), "stale=true")
}

func TestLockoutPerSource(t *testing.T) {
	e := newEnv(t, options{lockout: admission.LockoutConfig{MaxFailures: 5, Window: time.Minute, LockFor: time.Minute}})
	ctx := context.Background()
	u := newUA(t, e, "127.0.0.2", "alice", realm)
	for i := range 5 {
		// Different users, so that only the source's count can lock.
		u.user = fmt.Sprintf("guess%d", i)
		require.Equal(t, 403, siptest.Status(u.register("wrong-"+fmt.Sprint(i), request{})))
	}
	u.user = "alice"
	before := e.prov.lookups.Load()
	u.sendUnanswered(request{}) // a locked-out source is not even challenged
	ch := other(t, e).challenge(request{})
	u.sendUnanswered(request{extra: []string{"Authorization: " + credentials(t, ch[0], "REGISTER", "sip:"+realm, "alice", password, 1)}})
	require.Equal(t, before, e.prov.lookups.Load(), "no verification for a locked-out source")
	_, err := e.live.Registration(ctx, "alice", realm)
	require.ErrorIs(t, err, store.ErrNotFound)

	// Another source is not affected.
	require.Equal(t, 200, siptest.Status(other(t, e).register(password, request{})))

	logs := e.logs.String()
	require.Contains(t, logs, `"security_event":"sip_auth_failure"`)
	require.Contains(t, logs, `"security_event":"sip_auth_lockout"`)
	require.Contains(t, logs, `"source":"127.0.0.2:`)
	require.Contains(t, logs, `"realm":"acme.test"`)
	require.Contains(t, logs, `"user":"guess0"`)
	require.NotContains(t, logs, password)
	require.NotContains(t, logs, "wrong-0")
}

func other(t *testing.T, e *env) *ua { return newUA(t, e, "127.0.0.3", "alice", realm) }

func TestLockoutPerUser(t *testing.T) {
	e := newEnv(t, options{lockout: admission.LockoutConfig{MaxFailures: 3, Window: time.Minute, LockFor: time.Minute}})
	// One failure each from three sources locks the user, not the sources.
	for i := 2; i <= 4; i++ {
		u := newUA(t, e, fmt.Sprintf("127.0.0.%d", i), "bob", realm)
		require.Equal(t, 403, siptest.Status(u.register("guess", request{})))
	}
	u := newUA(t, e, "127.0.0.5", "bob", realm)
	res := u.register(password, request{})
	require.Equal(t, 403, siptest.Status(res), "a locked-out user is refused even with the right password")
	// The sources are not locked: another user registers from one of them.
	a := newUA(t, e, "127.0.0.2", "alice", realm)
	require.Equal(t, 200, siptest.Status(a.register(password, request{})))
	require.Contains(t, e.logs.String(), `"locked":"user"`)
}

func TestAuthenticateInvite(t *testing.T) {
	ids := make(chan registrar.Identity, 4)
	e := newEnv(t, options{invite: func(id registrar.Identity) { ids <- id }})
	ruri := "sip:15551230001@" + realm

	u := newUA(t, e, "", "alice", realm)
	res := u.register(password, request{method: "INVITE", ruri: ruri, contact: "-"})
	require.Equal(t, 486, siptest.Status(res), "the handler ran after authentication")
	id := <-ids
	require.Equal(t, "alice", id.Username)
	require.Equal(t, realm, id.Realm)
	require.Equal(t, e.acct.AccountSID, id.Account.AccountSID)
	require.Equal(t, "alice", id.Client.Username)
	require.NotEmpty(t, id.Client.ClientSID)
	require.False(t, id.ViaHook)

	wrong := newUA(t, e, "", "alice", realm)
	require.Equal(t, 403, siptest.Status(wrong.register("nope", request{method: "INVITE", ruri: ruri, contact: "-"})))

	// Authenticated as bob, calling as alice: refused.
	spoof := newUA(t, e, "", "alice", realm)
	ch := spoof.challenge(request{method: "INVITE", ruri: ruri, contact: "-"})
	authz := "Authorization: " + credentials(t, ch[0], "INVITE", ruri, "bob", password, 1)
	require.Equal(t, 403, siptest.Status(spoof.send(request{method: "INVITE", ruri: ruri, contact: "-", extra: []string{authz}})))

	// Proxy-Authorization is read too; its retries are 407s (RFC 3261 §22.3).
	proxy := newUA(t, e, "", "alice", realm)
	ch = proxy.challenge(request{method: "INVITE", ruri: ruri, contact: "-"})
	pauthz := "Proxy-Authorization: " + credentials(t, ch[0], "INVITE", ruri, "alice", password, 1)
	require.Equal(t, 486, siptest.Status(proxy.send(request{method: "INVITE", ruri: ruri, contact: "-", extra: []string{pauthz}})))
	require.Equal(t, "alice", (<-ids).Username)
	res = proxy.send(request{method: "INVITE", ruri: ruri, contact: "-", extra: []string{pauthz}})
	require.Equal(t, 407, siptest.Status(res), "a replayed nonce count is challenged again")
	require.NotEmpty(t, headers(res, "Proxy-Authenticate"))
	require.Empty(t, ids)
}

func TestNew(t *testing.T) {
	e := newEnv(t, options{})
	auth, err := digest.New(digest.Config{Secret: make([]byte, 32)}, e.live)
	require.NoError(t, err)
	cases := []struct {
		name string
		cfg  registrar.Config
	}{
		{"no provisioning", registrar.Config{Live: e.live, Digest: auth}},
		{"no live state", registrar.Config{Provisioning: e.db, Digest: auth}},
		{"no digest", registrar.Config{Provisioning: e.db, Live: e.live}},
		{"max below min", registrar.Config{Provisioning: e.db, Live: e.live, Digest: auth, MinExpires: time.Hour, MaxExpires: time.Minute}},
		{"default out of bounds", registrar.Config{Provisioning: e.db, Live: e.live, Digest: auth, DefaultExpires: 10 * time.Hour}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := registrar.New(tc.cfg)
			require.True(t, errors.Is(err, registrar.ErrConfig), "%v", err)
		})
	}
}

// BenchmarkRegister measures one authenticated registration end to end over
// loopback UDP: REGISTER, 401, REGISTER with SHA-256 credentials (a SQLite
// lookup, a nonce count in live state), 200.
func BenchmarkRegister(b *testing.B) {
	e := newEnv(b, options{lockout: admission.LockoutConfig{MaxFailures: 1 << 30}})
	u := newUA(b, e, "", "alice", realm)
	b.ResetTimer()
	for range b.N {
		if res := u.register(password, request{}); siptest.Status(res) != 200 {
			b.Fatalf("status %d", siptest.Status(res))
		}
	}
}
