package runtime

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/store"
)

// rssBytes is the process's resident set size, from /proc/self/statm.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatalf("the RSS bound needs /proc/self/statm (Linux): %v", err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// The failure matrix of the first hook: each failure gets the contract's
// answer (480 with X-Reason, an alert, a CDR) within the hook timeout + 1 s,
// and a hostile body does not grow the process.
func TestFirstHookFailureMatrix(t *testing.T) {
	const hookTimeout = time.Second
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/500":
			w.WriteHeader(500)
		case "/invalid-json":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`[{"verb":"say",`))
		case "/schema-invalid":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`[{"verb":"pause","length":"forever"}]`))
		case "/huge":
			w.Header().Set("Content-Type", "application/json")
			chunk := []byte(strings.Repeat("[", 1) + strings.Repeat(" ", 64<<10-1))
			for i := 0; i < 800; i++ { // 50 MB
				if _, err := w.Write(chunk); err != nil {
					return
				}
				chunk[0] = ' '
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	down := "http://" + l.Addr().String()
	l.Close()

	h := newHarness(t)
	g, err := webhook.NewGuard(webhook.LoopbackAllow, time.Second)
	require.NoError(t, err)
	client, err := webhook.NewClient(webhook.Options{Guard: g, Timeout: hookTimeout})
	require.NoError(t, err)

	cases := []struct{ name, url, alert string }{
		{"down", down + "/call", "webhook-connection-failure"},
		{"slow", srv.URL + "/slow", "webhook-failure"},
		{"500", srv.URL + "/500", "webhook-failure"},
		{"invalid json", srv.URL + "/invalid-json", "webhook-failure"},
		{"schema-invalid", srv.URL + "/schema-invalid", "invalid-app-payload"},
		{"50 MB body", srv.URL + "/huge", "webhook-failure"},
		{"body never ends", srv.URL + "/endless", "webhook-failure"},
	}
	run := func(pass int) {
		for i, tc := range cases {
			t.Run(tc.name+"/pass"+strconv.Itoa(pass), func(t *testing.T) {
				sid := "fm-" + strconv.Itoa(pass) + "-" + strconv.Itoa(i)
				firstHookFails(t, h, client, sid, tc.url, tc.alert, hookTimeout)
			})
		}
	}
	// The first pass warms up what any process has once (connection pools,
	// compiled schemas); the second is measured.
	run(1)
	debug.FreeOSMemory()
	before := rssBytes(t)
	run(2)
	debug.FreeOSMemory()
	grown := rssBytes(t) - before
	t.Logf("RSS grew by %d KiB over the matrix", grown/1024)
	require.Less(t, grown, int64(5<<20), "RSS grows by less than 5 MB")
}

// firstHookFails runs a call whose call hook is url and checks the
// contract's answer: within timeout + 1 s a 480 with X-Reason, exactly one
// new alert (of type alert: this call's, not the running list's) and this
// call's CDR.
func firstHookFails(t *testing.T, h *harness, client *webhook.Client, sid, url, alert string, timeout time.Duration) {
	t.Helper()
	app := Application{ApplicationSID: "app-1", AccountSID: "acct-1", CallHook: apps.Hook{URL: url}, App: client}
	alertsBefore := len(h.records.alertTypes())
	leg := newFakeLeg()
	start := time.Now()
	s, err := h.m.Start(context.Background(), leg, callInfo(sid), app)
	require.NoError(t, err)
	select {
	case <-s.Done():
	case <-time.After(timeout + 5*time.Second):
		t.Fatal("the call did not end")
	}
	elapsed := time.Since(start)
	require.Less(t, elapsed, timeout+time.Second, "answered within the hook timeout + 1 s")
	require.Equal(t, []string{"reject"}, leg.Events())
	require.Equal(t, 480, leg.rejected)
	require.NotEmpty(t, leg.headers["X-Reason"])
	require.Equal(t, []string{alert}, h.records.alertTypes()[alertsBefore:], "this call raised one alert, of its failure's type")

	h.records.mu.Lock()
	var cdrs []store.CDR
	for _, c := range h.records.cdrs {
		if c.CallSID == sid {
			cdrs = append(cdrs, c)
		}
	}
	h.records.mu.Unlock()
	require.Len(t, cdrs, 1, "one CDR for the call")
	cdr := cdrs[0]
	require.Equal(t, 480, cdr.SIPStatus)
	require.False(t, cdr.Answered)
	require.Nil(t, cdr.AnsweredAt)
	require.Zero(t, cdr.Duration)
	require.Equal(t, "application", cdr.TerminationReason)
	require.Equal(t, "acct-1", cdr.AccountSID)
	require.Equal(t, "app-1", cdr.ApplicationSID)
	require.Equal(t, "inbound", cdr.Direction)
	require.Equal(t, "call-id-1", cdr.CallID)
	require.Equal(t, "+15559870000", cdr.To)
	require.Equal(t, "node-1", cdr.Host)
	require.False(t, cdr.TerminatedAt.Before(cdr.AttemptedAt))
}

// On the default hook timeout (10 s, jambonz's), a hook that would answer
// after 11 s fails by 10 s + 1 s with the contract's answer.
func TestFirstHookDefaultTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(11 * time.Second):
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`[{"verb":"hangup"}]`))
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	h := newHarness(t)
	g, err := webhook.NewGuard(webhook.LoopbackAllow, time.Second)
	require.NoError(t, err)
	client, err := webhook.NewClient(webhook.Options{Guard: g}) // no Timeout: the default
	require.NoError(t, err)
	require.Equal(t, 10*time.Second, webhook.DefaultTimeout)
	start := time.Now()
	firstHookFails(t, h, client, "fm-default-timeout", srv.URL+"/call", "webhook-failure", webhook.DefaultTimeout)
	require.GreaterOrEqual(t, time.Since(start), webhook.DefaultTimeout, "the hook had its 10 s")
}
