package hooks

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/schemas"
	memorystore "github.com/voxrun/voxrun/store/memory"
	"github.com/voxrun/voxrun/verbs"
	"github.com/voxrun/voxrun/verbs/builtin"
)

const redirectDoc = `[{"verb":"redirect","actionHook":"/next"}]`

// server answers every hook with a redirect until n hooks were served, then
// with a hangup; it records when each request arrived.
func server(n int64) (*httptest.Server, *atomic.Int64, *[]time.Time) {
	var count atomic.Int64
	arrivals := make([]time.Time, 0, n+2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		arrivals = append(arrivals, time.Now())
		w.Header().Set("Content-Type", "application/json")
		if count.Add(1) > n {
			_, _ = w.Write([]byte(`[{"verb":"hangup"}]`))
			return
		}
		_, _ = w.Write([]byte(redirectDoc))
	}))
	return srv, &count, &arrivals
}

type nopEndpoint struct{}

func (nopEndpoint) SetSource(media.Source)                               {}
func (nopEndpoint) AddSink(media.Sink) func()                            { return func() {} }
func (nopEndpoint) OnDigit(media.DigitSink)                              {}
func (nopEndpoint) SendDigit(context.Context, byte, time.Duration) error { return nil }
func (nopEndpoint) Stats() media.Stats                                   { return media.Stats{} }
func (nopEndpoint) Close() error                                         { return nil }

func client(b *testing.B) *webhook.Client {
	g, err := webhook.NewGuard(webhook.LoopbackAllow, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	c, err := webhook.NewClient(webhook.Options{Guard: g})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func percentile(ds []time.Duration, p float64) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[int(float64(len(ds)-1)*p)]
}

// BenchmarkHook/direct POSTs a call's action-hook payload straight to the
// server; /runtime runs a call whose every verb is a redirect, so each
// iteration is one hook round trip through the runtime.
func BenchmarkHook(b *testing.B) {
	payload := map[string]any{
		"call_sid": "5e4d7c3e-1111-4c55-9a0e-123456789abc", "account_sid": "acct", "application_sid": "app",
		"direction": "inbound", "from": "<sip:+15551230000@10.0.0.1>", "to": "+15559870000",
		"call_id": "a84b4c76e66710@10.0.0.1", "call_status": "in-progress", "sip_status": 200,
		"trace_id": "0", "local_sip_address": "10.0.0.2:5060",
	}
	var direct, viaRuntime time.Duration

	b.Run("direct", func(b *testing.B) {
		srv, _, _ := server(int64(b.N) + 1)
		defer srv.Close()
		c := client(b)
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			t0 := time.Now()
			if _, err := c.Send(context.Background(), apps.Request{Kind: apps.KindVerbHook, Hook: apps.Hook{URL: srv.URL + "/next"}, Payload: payload, Secret: "s"}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		b.StopTimer()
		direct = percentile(lat, 0.5)
		b.ReportMetric(float64(direct.Microseconds()), "p50-µs")
	})

	b.Run("runtime", func(b *testing.B) {
		srv, _, arrivals := server(int64(b.N))
		defer srv.Close()
		v, err := schemas.NewValidator()
		if err != nil {
			b.Fatal(err)
		}
		reg := verbs.NewRegistry(v)
		builtin.Register(reg)
		live := memorystore.New()
		defer live.Close()
		m := runtime.NewManager(runtime.Deps{Live: live, Registry: reg, Node: "bench", Logger: quiet()})
		app := runtime.Application{AccountSID: "acct", ApplicationSID: "app", Secret: "s",
			CallHook: apps.Hook{URL: srv.URL + "/call"}, App: client(b)}
		leg := runtime.NewVirtualLeg(nopEndpoint{}, "bench-call")
		b.ResetTimer()
		s, err := m.Start(context.Background(), leg, runtime.CallInfo{CallSID: "bench", AccountSID: "acct", Direction: "inbound"}, app)
		if err != nil {
			b.Fatal(err)
		}
		<-s.Done()
		b.StopTimer()
		a := *arrivals
		lat := make([]time.Duration, 0, len(a))
		for i := 1; i < len(a); i++ {
			lat = append(lat, a[i].Sub(a[i-1]))
		}
		if len(lat) > 0 {
			viaRuntime = percentile(lat, 0.5)
			b.ReportMetric(float64(viaRuntime.Microseconds()), "p50-µs")
		}
	})
	if direct > 0 && viaRuntime > 0 {
		b.Logf("hook p50: direct %v, through the runtime %v, voxrun overhead %v (ratio %.2f)",
			direct, viaRuntime, viaRuntime-direct, float64(viaRuntime)/float64(direct))
	}
}
