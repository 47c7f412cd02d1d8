package webhook

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/apps"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

func TestSignKnownVector(t *testing.T) {
	// Computed independently: printf '%s' '1700000000.<body>' | openssl dgst -sha256 -hmac wh_secret_test
	body := []byte(`{"call_sid":"abc","from":"<sip:+15551234567@10.0.0.1>"}`)
	got := Sign("wh_secret_test", time.Unix(1700000000, 0), body)
	require.Equal(t, "t=1700000000,v1=c0a66588e7756bc9fc84f5c3f6cfa5877a2c14c65d8bece0802e95b4131afa18", got)
}

func TestMarshalLikeJSONStringify(t *testing.T) {
	b, err := Marshal(map[string]any{"from": "<sip:a&b@x>", "n": 1})
	require.NoError(t, err)
	require.Equal(t, `{"from":"<sip:a&b@x>","n":1}`, string(b))
}

func TestParseRetry(t *testing.T) {
	cases := []struct {
		name, in, base string
		want           retryPolicy
		err            bool
	}{
		{"no fragment", "http://h/x", "http://h/x", retryPolicy{ct: true}, false},
		{"count only keeps ct", "http://h/x#rc=3", "http://h/x", retryPolicy{count: 3, ct: true}, false},
		{"policy list", "http://h/x?a=1#rc=2&rp=5xx,rt", "http://h/x?a=1", retryPolicy{count: 2, c5xx: true, rt: true}, false},
		{"all", "http://h/x#rc=1&rp=all", "http://h/x", retryPolicy{count: 1, ct: true, rt: true, c4xx: true, c5xx: true}, false},
		{"capped at 5", "http://h/x#rc=50", "http://h/x", retryPolicy{count: 5, ct: true}, false},
		{"bad count", "http://h/x#rc=many", "", retryPolicy{}, true},
		{"bad policy", "http://h/x#rp=sometimes", "", retryPolicy{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base, p, err := parseRetry(tc.in)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.base, base)
			require.Equal(t, tc.want, p)
		})
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 6 * time.Second}
	for i, w := range want {
		require.Equal(t, w, backoff(i+1), "retry %d", i+1)
	}
	// jambonz's feature server (lib/utils/http-requestor.js) waits
	// backoffMs before each retry, starting at 500 and then doubling it
	// below 2000 or adding 2000: the same waits, for every retry rc allows.
	backoffMs := 500
	for n := 1; n <= MaxRetries; n++ {
		require.Equal(t, time.Duration(backoffMs)*time.Millisecond, backoff(n), "retry %d", n)
		if backoffMs < 2000 {
			backoffMs *= 2
		} else {
			backoffMs += 2000
		}
	}
}

func TestGuard(t *testing.T) {
	strict, err := NewGuard(nil, time.Second)
	require.NoError(t, err)
	local, err := NewGuard(append([]string{"10.9.0.0/16", "192.168.1.5"}, LoopbackAllow...), time.Second)
	require.NoError(t, err)
	cases := []struct {
		ip            string
		strict, local bool
	}{
		{"8.8.8.8", true, true},
		{"2606:4700::1111", true, true},
		{"127.0.0.1", false, true},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"10.0.0.1", false, false},
		{"10.9.3.4", false, true},
		{"172.16.5.5", false, false},
		{"192.168.1.5", false, true},
		{"192.168.1.6", false, false},
		{"169.254.169.254", false, false},
		{"100.64.0.1", false, false},
		{"fd00::1", false, false},
		{"fe80::1", false, false},
		{"0.0.0.0", false, false},
	}
	for _, c := range cases {
		ip := netip.MustParseAddr(c.ip)
		require.Equal(t, c.strict, strict.Allowed(ip), "strict %s", c.ip)
		require.Equal(t, c.local, local.Allowed(ip), "local %s", c.ip)
	}
	_, err = NewGuard([]string{"not a/cidr"}, time.Second)
	require.Error(t, err)
}

// A name that resolves to loopback is refused on the IP actually dialled, unless
// the name itself is allowed.
func TestGuardChecksDialledIP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	strict, _ := NewGuard(nil, time.Second)
	_, err := strict.DialContext(context.Background(), "tcp", net.JoinHostPort("localhost", strconv.Itoa(port)))
	require.ErrorIs(t, err, ErrDestinationRefused)

	byName, _ := NewGuard([]string{"localhost"}, time.Second)
	c, err := byName.DialContext(context.Background(), "tcp", net.JoinHostPort("localhost", strconv.Itoa(port)))
	require.NoError(t, err)
	c.Close()
}

// recorder is a hook server that records what it received.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
}

func (r *recorder) add(req *http.Request) []byte {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	r.body = append(r.body, b)
	return b
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func newTestClient(t *testing.T, timeout time.Duration) (*Client, *[]time.Duration) {
	t.Helper()
	g, err := NewGuard(LoopbackAllow, time.Second)
	require.NoError(t, err)
	var slept []time.Duration
	var mu sync.Mutex
	c, err := NewClient(Options{
		Guard:   g,
		Timeout: timeout,
		Now:     func() time.Time { return time.Unix(1700000000, 0) },
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			slept = append(slept, d)
			mu.Unlock()
			return nil
		},
	})
	require.NoError(t, err)
	t.Cleanup(c.http.CloseIdleConnections)
	return c, &slept
}

func TestSendPOSTSignedWithBasicAuth(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, `[{"verb":"say","text":"hi"}]`)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, 2*time.Second)

	payload := map[string]any{"call_sid": "abc", "from": "<sip:+15551234567@10.0.0.1>"}
	reply, err := c.Send(context.Background(), apps.Request{
		Hook:    apps.Hook{URL: srv.URL + "/call?x=1#rc=2", Username: "u", Password: "p"},
		Payload: payload,
		Secret:  "wh_secret_test",
	})
	require.NoError(t, err)
	require.True(t, reply.HasVerbs())
	require.JSONEq(t, `[{"verb":"say","text":"hi"}]`, string(reply.Verbs))

	require.Equal(t, 1, rec.count())
	r := rec.reqs[0]
	require.Equal(t, "POST", r.Method)
	require.Equal(t, "/call", r.URL.Path)
	require.Equal(t, "x=1", r.URL.RawQuery, "the retry fragment is never sent")
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	user, pass, ok := r.BasicAuth()
	require.True(t, ok)
	require.Equal(t, "u", user)
	require.Equal(t, "p", pass)
	require.Equal(t, `{"call_sid":"abc","from":"<sip:+15551234567@10.0.0.1>"}`, string(rec.body[0]))
	require.Equal(t, "t=1700000000,v1=c0a66588e7756bc9fc84f5c3f6cfa5877a2c14c65d8bece0802e95b4131afa18", r.Header.Get(SignatureHeader))
}

func TestSendGETPutsPayloadInQuery(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		w.WriteHeader(204)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, 2*time.Second)
	reply, err := c.Send(context.Background(), apps.Request{
		Hook:    apps.Hook{URL: srv.URL + "/status", Method: "GET"},
		Payload: map[string]any{"call_status": "ringing", "sip": map[string]any{"a": 1}},
	})
	require.NoError(t, err)
	require.False(t, reply.HasVerbs())
	q := rec.reqs[0].URL.Query()
	require.Equal(t, "ringing", q.Get("call_status"))
	require.Equal(t, `{"a":1}`, q.Get("sip"))
	require.Empty(t, rec.reqs[0].Header.Get(SignatureHeader), "no secret, no signature")
}

func TestSendReplies(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		ctype    string
		body     string
		verbs    bool
		failKind apps.FailureKind
	}{
		{"200 json array", 200, "application/json", `[{"verb":"hangup"}]`, true, ""},
		{"202 json array", 202, "application/json", `[{"verb":"hangup"}]`, true, ""},
		{"empty array carries on", 200, "application/json", `[]`, false, ""},
		{"empty body carries on", 200, "application/json", ``, false, ""},
		{"text body carries on", 200, "text/plain", `hello`, false, ""},
		{"json object carries on", 200, "application/json", `{"ok":true}`, false, ""},
		{"invalid json", 200, "application/json", `[{"verb":`, false, apps.FailBody},
		{"500", 500, "text/plain", `boom`, false, apps.FailStatus},
		{"404", 404, "text/plain", ``, false, apps.FailStatus},
		{"redirect not followed", 302, "text/plain", ``, false, apps.FailStatus},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status == 302 {
					w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
				}
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, _ := newTestClient(t, 2*time.Second)
			reply, err := c.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: srv.URL}, Payload: map[string]any{}})
			if tc.failKind != "" {
				he, ok := apps.AsHookError(err)
				require.True(t, ok, "%v", err)
				require.Equal(t, tc.failKind, he.Kind)
				if tc.failKind == apps.FailStatus {
					require.Equal(t, tc.status, he.Status)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.verbs, reply.HasVerbs())
		})
	}
}

func TestSendRetriesByPolicy(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) < 3 {
			w.WriteHeader(503)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `[{"verb":"hangup"}]`)
	}))
	defer srv.Close()

	t.Run("5xx retried until success", func(t *testing.T) {
		hits.Store(0)
		c, slept := newTestClient(t, 2*time.Second)
		reply, err := c.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: srv.URL + "#rc=3&rp=5xx"}, Payload: map[string]any{}})
		require.NoError(t, err)
		require.True(t, reply.HasVerbs())
		require.EqualValues(t, 3, hits.Load())
		require.Equal(t, []time.Duration{500 * time.Millisecond, time.Second}, *slept)
	})
	t.Run("default policy does not retry 5xx", func(t *testing.T) {
		hits.Store(0)
		c, _ := newTestClient(t, 2*time.Second)
		_, err := c.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: srv.URL + "#rc=3"}, Payload: map[string]any{}})
		he, ok := apps.AsHookError(err)
		require.True(t, ok)
		require.Equal(t, 503, he.Status)
		require.EqualValues(t, 1, hits.Load())
	})
	t.Run("count bounds attempts", func(t *testing.T) {
		hits.Store(-10)
		c, slept := newTestClient(t, 2*time.Second)
		_, err := c.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: srv.URL + "#rc=1&rp=all"}, Payload: map[string]any{}})
		require.Error(t, err)
		require.EqualValues(t, -8, hits.Load(), "two attempts")
		require.Len(t, *slept, 1)
	})
}

func TestSendConnectionFailures(t *testing.T) {
	// A port with nothing listening: connection refused, retried under ct.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := "http://" + l.Addr().String()
	l.Close()

	c, slept := newTestClient(t, 2*time.Second)
	_, err = c.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: dead + "/x#rc=2"}, Payload: map[string]any{}})
	he, ok := apps.AsHookError(err)
	require.True(t, ok)
	require.Equal(t, apps.FailConnect, he.Kind)
	require.Contains(t, he.Error(), "connection refused")
	require.Len(t, *slept, 2, "rc=2 with the default ct policy retries twice")

	// A server that resets the connection: counts as a connection error.
	rl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer rl.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := rl.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			_, _ = conn.Read(buf)
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	}()
	_, err = c.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: "http://" + rl.Addr().String()}, Payload: map[string]any{}})
	he, ok = apps.AsHookError(err)
	require.True(t, ok)
	require.Equal(t, apps.FailConnect, he.Kind, "%v", err)
	rl.Close()
	<-done
}

func TestSendRefusesGuardedDestinations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a refused destination must not be reached")
	}))
	defer srv.Close()
	g, _ := NewGuard(nil, time.Second)
	c, err := NewClient(Options{Guard: g})
	require.NoError(t, err)
	for _, u := range []string{srv.URL, "http://169.254.169.254/latest/meta-data/#rc=5", "http://10.1.2.3/hook"} {
		_, err = c.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: u}, Payload: map[string]any{}})
		he, ok := apps.AsHookError(err)
		require.True(t, ok, u)
		require.Equal(t, apps.FailRefused, he.Kind, u)
	}
	_, err = c.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: "ftp://example.com/x"}, Payload: map[string]any{}})
	he, _ := apps.AsHookError(err)
	require.Equal(t, apps.FailRefused, he.Kind)
}

func TestSendTimeoutsAndHugeBodies(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/huge":
			w.Header().Set("Content-Type", "application/json")
			chunk := []byte(strings.Repeat(" ", 64<<10))
			for i := 0; i < 50*16; i++ { // 50 MB
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/endless":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte("["))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	defer close(release)
	c, _ := newTestClient(t, 300*time.Millisecond)

	cases := []struct {
		path string
		kind apps.FailureKind
	}{
		{"/slow", apps.FailTimeout},
		{"/huge", apps.FailBody},
		{"/endless", apps.FailTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			start := time.Now()
			_, err := c.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: srv.URL + tc.path}, Payload: map[string]any{}})
			he, ok := apps.AsHookError(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tc.kind, he.Kind)
			require.Less(t, time.Since(start), 300*time.Millisecond+time.Second, "answered within the timeout + 1 s")
		})
	}
}

func TestExchangeReturnsTheRawBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NotEmpty(t, r.Header.Get(SignatureHeader))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok","expires":300}`)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, 2*time.Second)
	raw, err := c.Exchange(context.Background(), apps.Request{Hook: apps.Hook{URL: srv.URL + "/reg"}, Payload: map[string]any{"realm": "r"}, Secret: "s"})
	require.NoError(t, err)
	require.JSONEq(t, `{"status":"ok","expires":300}`, string(raw))
}

// The most retries a hook can ask for (rc=5, capped as jambonz caps it) are
// made after jambonz's waits, and the last failure is returned.
func TestSendRetriesWithJambonzBackoff(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(502)
	}))
	defer srv.Close()
	c, slept := newTestClient(t, 2*time.Second)
	_, err := c.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: srv.URL + "#rc=9&rp=5xx"}, Payload: map[string]any{}})
	he, ok := apps.AsHookError(err)
	require.True(t, ok)
	require.Equal(t, apps.FailStatus, he.Kind)
	require.Equal(t, 502, he.Status)
	require.EqualValues(t, 1+MaxRetries, hits.Load(), "one attempt and five retries")
	require.Equal(t, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 6 * time.Second}, *slept)
}

// An application's own hook timeout (apps.Request.Timeout) replaces the
// client's, shorter or longer.
func TestSendRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(500 * time.Millisecond):
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `[{"verb":"hangup"}]`)
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	t.Run("shorter than the client's", func(t *testing.T) {
		c, _ := newTestClient(t, 5*time.Second)
		start := time.Now()
		_, err := c.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: srv.URL}, Payload: map[string]any{}, Timeout: 150 * time.Millisecond})
		he, ok := apps.AsHookError(err)
		require.True(t, ok)
		require.Equal(t, apps.FailTimeout, he.Kind)
		require.Less(t, time.Since(start), 450*time.Millisecond)
	})
	t.Run("longer than the client's", func(t *testing.T) {
		c, _ := newTestClient(t, 100*time.Millisecond)
		reply, err := c.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: srv.URL}, Payload: map[string]any{}, Timeout: 3 * time.Second})
		require.NoError(t, err)
		require.True(t, reply.HasVerbs())
	})
	t.Run("none: the client's", func(t *testing.T) {
		c, _ := newTestClient(t, 100*time.Millisecond)
		_, err := c.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: srv.URL}, Payload: map[string]any{}})
		he, ok := apps.AsHookError(err)
		require.True(t, ok)
		require.Equal(t, apps.FailTimeout, he.Kind)
	})
	t.Run("capped", func(t *testing.T) {
		c, _ := newTestClient(t, time.Second)
		require.Equal(t, MaxTimeout, c.timeout(apps.Request{Timeout: time.Hour}))
	})
}
