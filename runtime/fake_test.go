package runtime

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/schemas"
	"github.com/voxrun/voxrun/store"
	memorystore "github.com/voxrun/voxrun/store/memory"
	"github.com/voxrun/voxrun/verbs"
	"github.com/voxrun/voxrun/verbs/builtin"
)

// fakeEndpoint is a media.Endpoint driven by the test.
type fakeEndpoint struct {
	mu    sync.Mutex
	digit media.DigitSink
	sent  []byte
}

func (e *fakeEndpoint) SetSource(media.Source)    {}
func (e *fakeEndpoint) AddSink(media.Sink) func() { return func() {} }
func (e *fakeEndpoint) Stats() media.Stats        { return media.Stats{} }
func (e *fakeEndpoint) Close() error              { return nil }
func (e *fakeEndpoint) OnDigit(s media.DigitSink) { e.mu.Lock(); e.digit = s; e.mu.Unlock() }
func (e *fakeEndpoint) SendDigit(_ context.Context, k byte, _ time.Duration) error {
	e.mu.Lock()
	e.sent = append(e.sent, k)
	e.mu.Unlock()
	return nil
}

// press delivers digits as if the caller pressed them.
func (e *fakeEndpoint) press(keys string) {
	for i := range len(keys) {
		e.mu.Lock()
		s := e.digit
		e.mu.Unlock()
		if s != nil {
			s.Digit(media.Digit{Key: keys[i], Duration: 100 * time.Millisecond, Origin: media.DigitRFC4733})
		}
	}
}

// fakeLeg records what the runtime did to the call.
type fakeLeg struct {
	ep       *fakeEndpoint
	ended    chan struct{}
	endOnce  sync.Once
	mu       sync.Mutex
	events   []string
	rejected int
	headers  map[string]string
	// ringHeaders are the last 180's headers.
	ringHeaders map[string]string
	answered    chan struct{}
	panicOn     string
}

func newFakeLeg() *fakeLeg {
	return &fakeLeg{ep: &fakeEndpoint{}, ended: make(chan struct{}), answered: make(chan struct{})}
}

func (l *fakeLeg) record(ev string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.panicOn == ev {
		panic("fake leg: " + ev)
	}
	l.events = append(l.events, ev)
}

func (l *fakeLeg) Events() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

func (l *fakeLeg) Answer(context.Context) error {
	l.record("answer")
	select {
	case <-l.answered:
	default:
		close(l.answered)
	}
	return nil
}
func (l *fakeLeg) Progress(context.Context) error { l.record("183"); return nil }
func (l *fakeLeg) Ring(_ context.Context, h map[string]string) error {
	l.record("180")
	l.mu.Lock()
	l.headers, l.ringHeaders = h, h
	l.mu.Unlock()
	return nil
}
func (l *fakeLeg) Reject(_ context.Context, status int, _ string, h map[string]string) error {
	l.record("reject")
	l.mu.Lock()
	l.rejected, l.headers = status, h
	l.mu.Unlock()
	return nil
}
func (l *fakeLeg) Hangup(_ context.Context, h map[string]string) error {
	l.record("bye")
	l.mu.Lock()
	l.headers = h
	l.mu.Unlock()
	return nil
}
func (l *fakeLeg) Endpoint() media.Endpoint { return l.ep }
func (l *fakeLeg) Ended() <-chan struct{}   { return l.ended }
func (l *fakeLeg) Dialog() Dialog           { return Dialog{CallID: "call-id-1", LocalTag: "a", RemoteTag: "b"} }
func (l *fakeLeg) farEndHangsUp()           { l.endOnce.Do(func() { close(l.ended) }) }

// records captures CDRs and alerts.
type records struct {
	mu     sync.Mutex
	cdrs   []store.CDR
	alerts []store.Alert
}

func (r *records) WriteCDRs(_ context.Context, c []store.CDR) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cdrs = append(r.cdrs, c...)
	return nil
}
func (r *records) ListCDRs(context.Context, store.Scope, store.CDRQuery) ([]store.CDR, int, error) {
	return nil, 0, nil
}
func (r *records) WriteAlerts(_ context.Context, a []store.Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.alerts = append(r.alerts, a...)
	return nil
}
func (r *records) ListAlerts(context.Context, store.Scope, store.AlertQuery) ([]store.Alert, int, error) {
	return nil, 0, nil
}
func (r *records) alertTypes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, a := range r.alerts {
		out = append(out, a.AlertType)
	}
	return out
}

// hookServer is a webhook application: it answers each path from a table and
// records every request body, in order.
type hookServer struct {
	*httptest.Server
	mu      sync.Mutex
	replies map[string]string
	got     []hookCall
}

type hookCall struct {
	Path    string
	Payload map[string]any
	Sig     string
}

func newHookServer(t *testing.T, replies map[string]string) *hookServer {
	h := &hookServer{replies: replies}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		h.mu.Lock()
		h.got = append(h.got, hookCall{Path: r.URL.Path, Payload: p, Sig: r.Header.Get(webhook.SignatureHeader)})
		reply, ok := h.replies[r.URL.Path]
		h.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusOK)
			return
		}
		if reply == "500" {
			w.WriteHeader(500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(reply))
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) calls(path string) []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hookCall
	for _, c := range h.got {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

type harness struct {
	m         *Manager
	validator *schemas.Validator
	live      *memorystore.Store
	records   *records
	client    *webhook.Client
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	reg := verbs.NewRegistry(v)
	builtin.Register(reg)
	live := memorystore.New()
	t.Cleanup(func() { live.Close() })
	g, err := webhook.NewGuard(webhook.LoopbackAllow, time.Second)
	require.NoError(t, err)
	client, err := webhook.NewClient(webhook.Options{Guard: g, Timeout: 2 * time.Second})
	require.NoError(t, err)
	h := &harness{live: live, records: &records{}, client: client, validator: v}
	h.m = NewManager(Deps{Live: live, Records: h.records, Registry: reg, Node: "node-1"})
	return h
}

func (h *harness) app(srv *hookServer) Application {
	status := apps.Hook{URL: srv.URL + "/status"}
	return Application{
		ApplicationSID: "app-1",
		AccountSID:     "acct-1",
		Secret:         "wh_secret_test",
		CallHook:       apps.Hook{URL: srv.URL + "/call"},
		StatusHook:     &status,
		App:            h.client,
		EnvVars:        json.RawMessage(`{"greeting":"hi"}`),
	}
}

func callInfo(sid string) CallInfo {
	return CallInfo{
		CallSID: sid, AccountSID: "acct-1", ApplicationSID: "app-1", Direction: "inbound",
		From: "<sip:+15551230000@10.0.0.1>", To: "+15559870000", CallID: "call-id-1",
	}
}

func waitDone(t *testing.T, s *Session) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("call did not end within 10s")
	}
}
