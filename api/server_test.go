package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, s *Server, path string) (int, map[string]any, string) {
	t.Helper()
	resp, err := s.App().Test(httptest.NewRequest("GET", path, nil), -1)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m, string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	var dbDown bool
	s := New(Config{Ready: []Check{
		{Name: "provisioning", Ping: func(ctx context.Context) error {
			if dbDown {
				return errors.New("dial tcp: connection refused")
			}
			return nil
		}},
		{Name: "live", Ping: func(context.Context) error { return nil }},
	}})

	code, body, _ := get(t, s, "/healthz")
	require.Equal(t, 200, code)
	require.Equal(t, "ok", body["status"])

	code, body, _ = get(t, s, "/readyz")
	require.Equal(t, 200, code)
	require.Equal(t, "ready", body["status"])

	dbDown = true
	code, body, raw := get(t, s, "/readyz")
	require.Equal(t, 503, code)
	require.Equal(t, map[string]any{"provisioning": "unreachable"}, body["failed"])
	require.NotContains(t, raw, "connection refused", "internal errors are logged, not served")

	dbDown = false
	s.SetDraining()
	code, body, _ = get(t, s, "/readyz")
	require.Equal(t, 503, code)
	require.Equal(t, "draining", body["status"])

	code, _, _ = get(t, s, "/healthz")
	require.Equal(t, 200, code, "a draining node is still alive")
}

func TestMetricsAndErrors(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "voxrun_test_total", Help: "a test counter"})
	reg.MustRegister(c)
	c.Add(3)
	s := New(Config{Gatherer: reg})

	code, _, raw := get(t, s, "/metrics")
	require.Equal(t, 200, code)
	require.Contains(t, raw, "voxrun_test_total 3")

	code, body, _ := get(t, s, "/nowhere")
	require.Equal(t, 404, code)
	require.True(t, strings.Contains(body["msg"].(string), "Cannot GET"), "errors are {msg}")
}
