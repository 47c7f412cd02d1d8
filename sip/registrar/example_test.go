package registrar_test

import (
	"context"
	"errors"
	"log"

	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/digest"
	"github.com/voxrun/voxrun/sip/registrar"
	"github.com/voxrun/voxrun/sip/route"
	"github.com/voxrun/voxrun/store"
)

// Example shows how cmd wires the registrar: REGISTER goes to
// HandleRegister; an INVITE that comes from no carrier is authenticated as
// a client and routed with its identity. The registration hook goes
// through a three-line adapter over apps/webhook's Client.Exchange
// (webhookSender in this package's tests).
func Example() {
	var (
		prov       store.Provisioning // sqlstore.Open + Migrate
		live       store.Live         // memory.New() or the Redis store
		nodeSecret []byte             // shared by every node, ≥ 16 bytes
		hooks      *webhook.Client    // webhook.NewClient with the tenant guard
	)
	auth, err := digest.New(digest.Config{Secret: nodeSecret}, live)
	if err != nil {
		log.Fatal(err)
	}
	reg, err := registrar.New(registrar.Config{
		Provisioning: prov,
		Live:         live,
		Digest:       auth,
		Hooks:        &webhookSender{client: hooks},
		Node:         "node-1",
	})
	if err != nil {
		log.Fatal(err)
	}
	router, err := route.New(route.Config{Provisioning: prov})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := sip.New(sip.Config{Addr: ":5060"})
	if err != nil {
		log.Fatal(err)
	}
	srv.Handle("REGISTER", reg.HandleRegister)
	srv.Handle("INVITE", func(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
		call := route.CallOf(req)
		res, err := router.Route(ctx, call)
		if errors.Is(err, route.ErrUnknownSource) {
			// Not a carrier: a client, challenged first.
			id, ok := reg.Authenticate(ctx, req, tx)
			if !ok {
				return // Authenticate has answered (401 or 403)
			}
			call.Identity = &route.Identity{Username: id.Username, Realm: id.Realm}
			res, err = router.Route(ctx, call)
		}
		_, _ = res, err // hand the call to the runtime, or answer the rejection
	})
	if err := srv.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
}
