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
)

// rssBytes is the process's resident set size, from /proc/self/statm.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("no /proc/self/statm")
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
				app := Application{AccountSID: "acct-1", CallHook: apps.Hook{URL: tc.url}, App: client}
				leg := newFakeLeg()
				start := time.Now()
				s, err := h.m.Start(context.Background(), leg, callInfo("fm-"+strconv.Itoa(pass)+"-"+strconv.Itoa(i)), app)
				require.NoError(t, err)
				waitDone(t, s)
				require.Less(t, time.Since(start), hookTimeout+time.Second, "answered within the hook timeout + 1 s")
				require.Equal(t, 480, leg.rejected)
				require.NotEmpty(t, leg.headers["X-Reason"])
				require.Contains(t, h.records.alertTypes(), tc.alert)
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
