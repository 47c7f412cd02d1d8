package route_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/route"
	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/store/memory"
)

func TestUser(t *testing.T) {
	f := newOutFixture(t)
	live := memory.New()
	t.Cleanup(func() { _ = live.Close() })
	require.NoError(t, live.Register(f.ctx, store.Registration{Name: "alice", Domain: "a.example.com",
		Contact: "sip:alice@10.0.0.5:5062;transport=tcp", SourceAddress: "203.0.113.9", SourcePort: 40001, Transport: "tcp"}, time.Minute))
	require.NoError(t, live.Register(f.ctx, store.Registration{Name: "bob", Domain: "b.example.com",
		Contact: "sip:bob@10.0.0.6", SourceAddress: "203.0.113.10", SourcePort: 5060, Transport: "udp"}, time.Minute))
	r, err := route.New(route.Config{Provisioning: f.db, Registrations: live})
	require.NoError(t, err)

	for _, name := range []string{"alice", "alice@A.example.com"} {
		tg, err := r.User(f.ctx, f.acctA, name)
		require.NoError(t, err)
		require.Equal(t, "sip:alice@10.0.0.5:5062;transport=tcp", tg.URI)
		require.Equal(t, "203.0.113.9:40001;transport=tcp", tg.Proxy, "sent where the REGISTER came from")
	}
	for name, want := range map[string]error{
		"bob":               route.ErrNotRegistered, // registered, in another account
		"bob@b.example.com": route.ErrNotRegistered,
		"carol":             route.ErrNotRegistered,
	} {
		_, err := r.User(f.ctx, f.acctA, name)
		require.ErrorIs(t, err, want, name)
	}
	_, err = r.User(f.ctx, f.acctC, "alice")
	require.ErrorIs(t, err, route.ErrInactive)
}
