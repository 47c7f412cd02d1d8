package runtime

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Unknown verb attributes are accepted as jambonz accepts them, with a
// warning alert naming each path; strict_verbs refuses the document.
func TestUnknownAttributesWarnOrRefuse(t *testing.T) {
	doc := `[{"verb":"pause","length":0.05,"colour":"blue"},{"verb":"hangup","headers":{"X-A":"1"},"volume":11}]`
	t.Run("accepted with a warning", func(t *testing.T) {
		h := newHarness(t)
		srv := newHookServer(t, map[string]string{"/call": doc})
		leg := newFakeLeg()
		s, err := h.m.Start(context.Background(), leg, callInfo("call-warn"), h.app(srv))
		require.NoError(t, err)
		waitDone(t, s)
		require.Equal(t, []string{"answer", "bye"}, leg.Events(), "the document ran")
		h.records.mu.Lock()
		defer h.records.mu.Unlock()
		var warning string
		for _, a := range h.records.alerts {
			if a.AlertType == AlertPayloadWarning {
				warning = a.Message
			}
		}
		require.Contains(t, warning, "/0/colour")
		require.Contains(t, warning, "/1/volume")
	})
	t.Run("strict_verbs refuses", func(t *testing.T) {
		h := newHarness(t)
		srv := newHookServer(t, map[string]string{"/call": doc})
		app := h.app(srv)
		app.StrictVerbs = true
		leg := newFakeLeg()
		s, err := h.m.Start(context.Background(), leg, callInfo("call-strict"), app)
		require.NoError(t, err)
		waitDone(t, s)
		require.Equal(t, []string{"reject"}, leg.Events(), "nothing of the document ran")
		require.Equal(t, 480, leg.rejected)
		require.True(t, strings.Contains(leg.headers["X-Reason"], "colour"), leg.headers["X-Reason"])
		require.Contains(t, h.records.alertTypes(), "invalid-app-payload")
	})
}
