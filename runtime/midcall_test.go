package runtime

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A hook that fails in mid-call: an alert, the status hook is told about the
// error, and the existing stack goes on (the contract; jambonz's
// feature server does the same).
func TestMidCallHookFailure(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	down := "http://" + l.Addr().String() + "/gone"
	l.Close()

	cases := []struct {
		name  string
		hook  string // the gather's actionHook
		reply string // what /fail answers ("500": that status)
		alert string
		// statusError: the status hook gets a payload with "error".
		statusError bool
	}{
		{name: "500", hook: "/fail", reply: "500", alert: "webhook-failure", statusError: true},
		{name: "invalid JSON", hook: "/fail", reply: `[{"verb":"say",`, alert: "webhook-failure", statusError: true},
		{name: "connection refused", hook: down, alert: "webhook-connection-failure", statusError: true},
		// An invalid document raises invalid-app-payload, tells the status
		// hook, and the stack goes on.
		{name: "invalid document", hook: "/fail", reply: `[{"verb":"pause","length":"forever"}]`, alert: "invalid-app-payload", statusError: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			replies := map[string]string{
				"/call": `[{"verb":"answer"},{"gather":{"actionHook":"` + tc.hook + `","timeout":0.05}},` +
					`{"verb":"tag","data":{"after":"failure"}},{"verb":"hangup","headers":{"X-Next":"ran"}}]`,
			}
			if tc.reply != "" {
				replies["/fail"] = tc.reply
			}
			srv := newHookServer(t, replies)
			leg := newFakeLeg()
			s, err := h.m.Start(context.Background(), leg, callInfo("c-midcall"), h.app(srv))
			require.NoError(t, err)
			waitDone(t, s)

			require.Equal(t, []string{tc.alert}, h.records.alertTypes(), "one alert, of the failure's type")
			if strings.HasPrefix(tc.hook, "/") {
				fail := srv.calls("/fail")
				require.Len(t, fail, 1, "the action hook was asked once (no retries by default)")
				require.Equal(t, "timeout", fail[0].Payload["reason"])
			}

			// The existing stack went on: tag, then hangup with its headers.
			require.Equal(t, []string{"answer", "bye"}, leg.Events())
			require.Equal(t, map[string]string{"X-Next": "ran"}, leg.headers)
			statuses := srv.calls("/status")
			final := statuses[len(statuses)-1].Payload
			require.Equal(t, "completed", final["call_status"])
			require.Equal(t, map[string]any{"after": "failure"}, final["customerData"], "the verb after the gather ran")

			var errs []map[string]any
			for _, c := range statuses {
				if _, ok := c.Payload["error"]; ok {
					errs = append(errs, c.Payload)
				}
			}
			if tc.statusError {
				require.Len(t, errs, 1, "the status hook is told about the failed hook")
				require.Equal(t, "in-progress", errs[0]["call_status"])
				require.Equal(t, "c-midcall", errs[0]["call_sid"])
				msg := errs[0]["error"].(string)
				require.NotEmpty(t, msg)
				if strings.HasPrefix(tc.hook, "/") {
					require.Contains(t, msg, srv.URL+"/fail", "the error names the hook")
				} else {
					require.Contains(t, msg, down)
				}
			}
		})
	}
}
