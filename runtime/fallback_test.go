package runtime

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/apps"
)

// tableApp is an apps.App (a JS app stand-in) that answers each hook
// name from a table and records the requests.
type tableApp struct {
	mu      sync.Mutex
	replies map[string]string
	got     []apps.Request
}

func (a *tableApp) Send(_ context.Context, req apps.Request) (apps.Reply, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, req)
	name := string(req.Kind)
	if req.Kind == apps.KindVerbHook {
		name = req.Hook.URL
	}
	return apps.Reply{Verbs: json.RawMessage(a.replies[name])}, nil
}

func (a *tableApp) requests() []apps.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]apps.Request(nil), a.got...)
}

// When the call hook fails and the application names a fallback app (a JS
// app), the fallback answers the call and gets every later hook, with
// relative actionHooks as the app wrote them.
func TestFallbackAppAnswersAndKeepsTheCall(t *testing.T) {
	h := newHarness(t)
	srv := newHookServer(t, map[string]string{"/call": "500"})
	js := &tableApp{replies: map[string]string{
		string(apps.KindSessionNew): `[{"verb":"gather","numDigits":1,"timeout":5,"actionHook":"/menu"}]`,
		"/menu":                     `[{"verb":"hangup"}]`,
	}}
	app := h.app(srv)
	app.FallbackApp = js
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("call-fallback"), app)
	require.NoError(t, err)
	<-leg.answered
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.digitSubs) > 0
	}, 5*time.Second, 5*time.Millisecond)
	leg.ep.press("7")
	waitDone(t, s)

	require.Equal(t, []string{"answer", "bye"}, leg.Events())
	require.Len(t, srv.calls("/call"), 1, "the webhook was tried first")
	var kinds []string
	for _, r := range js.requests() {
		kinds = append(kinds, string(r.Kind)+" "+r.Hook.URL)
	}
	require.Contains(t, kinds, "session:new ")
	require.Contains(t, kinds, "verb:hook /menu", "the actionHook reached the fallback app as written")
	require.Contains(t, kinds, "call:status "+srv.URL+"/status", "status events go to the fallback app too")
	require.Contains(t, h.records.alertTypes(), "webhook-failure", "the webhook's failure is still an alert")
}
