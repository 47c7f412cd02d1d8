package runtime

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestVirtualLegRunsACall(t *testing.T) {
	h := newHarness(t)
	srv := newHookServer(t, map[string]string{"/call": `[{"verb":"alert","message":"x"},{"verb":"answer"},{"verb":"hangup","headers":{"X-A":"1"}}]`})
	leg := NewVirtualLeg(&fakeEndpoint{}, "sim-1")
	s, err := h.m.Start(context.Background(), leg, callInfo("sim-1"), h.app(srv))
	require.NoError(t, err)
	waitDone(t, s)
	var kinds []string
	for len(leg.Events()) > 0 {
		e := <-leg.Events()
		kinds = append(kinds, e.Kind)
		if e.Kind == "hungup" {
			require.Equal(t, map[string]string{"X-A": "1"}, e.Headers)
		}
	}
	require.Equal(t, []string{"ringing", "answered", "hungup"}, kinds)

	// The simulated caller hanging up ends a call that waits.
	srv2 := newHookServer(t, map[string]string{"/call": `[{"verb":"answer"},{"verb":"pause","length":30}]`})
	leg2 := NewVirtualLeg(&fakeEndpoint{}, "sim-2")
	s2, err := h.m.Start(context.Background(), leg2, callInfo("sim-2"), h.app(srv2))
	require.NoError(t, err)
	require.Equal(t, "answered", (<-leg2.Events()).Kind)
	leg2.HangUp()
	leg2.HangUp()
	select {
	case <-s2.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("call did not end after the caller hung up")
	}
}
