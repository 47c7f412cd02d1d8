package runtime

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/apps"
)

// An application's own hook timeout (Application.HookTimeout, the
// application setting hook_timeout_secs) bounds its hooks instead of the
// node's default: the first hook and every later one.
func TestApplicationHookTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply := `[{"verb":"answer"},{"verb":"redirect","actionHook":"/slow"},{"verb":"hangup","headers":{"X-After":"redirect"}}]`
		wait := 0 * time.Second
		switch r.URL.Path {
		case "/slow-call":
			wait, reply = 1500*time.Millisecond, `[{"verb":"answer"},{"verb":"hangup"}]`
		case "/slow":
			wait, reply = 1500*time.Millisecond, `[{"verb":"hangup"}]`
		}
		select {
		case <-time.After(wait):
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(reply))
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	h := newHarness(t) // the node's hook timeout: 2 s
	app := func(callHook string, timeout time.Duration) Application {
		return Application{ApplicationSID: "app-1", AccountSID: "acct-1", CallHook: apps.Hook{URL: srv.URL + callHook},
			App: h.client, HookTimeout: timeout}
	}

	t.Run("the first hook", func(t *testing.T) {
		leg := newFakeLeg()
		start := time.Now()
		s, err := h.m.Start(context.Background(), leg, callInfo("c-ht-1"), app("/slow-call", 300*time.Millisecond))
		require.NoError(t, err)
		waitDone(t, s)
		require.Less(t, time.Since(start), 1200*time.Millisecond, "the application's 300 ms, not the node's 2 s nor the hook's 1.5 s")
		require.Equal(t, 480, leg.rejected)
	})
	t.Run("a later hook", func(t *testing.T) {
		leg := newFakeLeg()
		start := time.Now()
		s, err := h.m.Start(context.Background(), leg, callInfo("c-ht-2"), app("/call", 300*time.Millisecond))
		require.NoError(t, err)
		waitDone(t, s)
		require.Less(t, time.Since(start), 1200*time.Millisecond)
		require.Equal(t, map[string]string{"X-After": "redirect"}, leg.headers, "the redirect timed out and the document went on")
	})
	t.Run("longer than the node's", func(t *testing.T) {
		leg := newFakeLeg()
		s, err := h.m.Start(context.Background(), leg, callInfo("c-ht-3"), app("/slow-call", 5*time.Second))
		require.NoError(t, err)
		waitDone(t, s)
		require.Zero(t, leg.rejected, "the hook answered after 1.5 s, within the application's 5 s")
		require.Equal(t, []string{"answer", "bye"}, leg.Events())
	})
}
