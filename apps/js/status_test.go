package js

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/sandbox"
)

// countingInvoker counts the invocations that reach the pool.
type countingInvoker struct {
	Invoker
	n atomic.Int32
}

func (c *countingInvoker) Invoke(ctx context.Context, inv sandbox.Invocation) (sandbox.Result, error) {
	c.n.Add(1)
	return c.Invoker.Invoke(ctx, inv)
}

// An app version without a status handler is asked once: later status
// events (of every call) skip the worker.
func TestStatusWithoutAHandlerIsLearnt(t *testing.T) {
	e := newEnv(t)
	inv := &countingInvoker{Invoker: e.pool}
	a, err := New(Config{Invoker: inv}, Program{AppSID: "JS1", VersionSID: "V1", AccountSID: "AC1",
		Source: `export default { call: () => [{verb: 'hangup'}] }`})
	require.NoError(t, err)
	status := apps.Request{Kind: apps.KindCallStatus, Hook: apps.Hook{URL: "js:JS1/status"}}
	for i := range 3 {
		status.Payload = payload("CA-"+string(rune('a'+i)), map[string]any{"call_status": "completed"})
		r, err := a.Send(context.Background(), status)
		require.NoError(t, err)
		require.False(t, r.HasVerbs())
	}
	require.EqualValues(t, 1, inv.n.Load(), "only the first status event reached a worker")
	_, err = a.Send(context.Background(), apps.Request{Kind: apps.KindSessionNew, Payload: payload("CA-d", nil)})
	require.NoError(t, err)
	require.EqualValues(t, 2, inv.n.Load(), "the call hook still runs")
}
