package leg_test

import (
	"context"
	"errors"
	"net/netip"

	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/ports"
	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/leg"
	"github.com/voxrun/voxrun/sip/route"
	"github.com/voxrun/voxrun/store"
)

// Example shows how cmd wires routing and legs into the SIP server.
func Example() {
	var prov store.Provisioning // cmd's SQL store
	alloc, _ := ports.New(ports.Config{})
	clk := clock.New(clock.Config{})
	defer clk.Close()
	agent, _ := leg.NewAgent(leg.Config{Ports: alloc, Clock: clk, MediaAddr: netip.MustParseAddr("192.0.2.1")})
	defer agent.Close()
	router, _ := route.New(route.Config{Provisioning: prov})
	srv, _ := sip.New(sip.Config{})

	srv.Handle("INVITE", agent.InviteHandler(func(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
		res, err := router.Route(ctx, route.CallOf(req))
		var re *route.RejectError
		switch {
		case errors.As(err, &re):
			_ = leg.Respond(req, tx, re.Status, re.Reason, re.Headers) // 403, 404, 480 + X-Reason
			return
		case err != nil:
			_ = leg.Respond(req, tx, 500, "Server Internal Error", nil)
			return
		}
		l, err := agent.Accept(ctx, req, tx)
		if err != nil {
			return // already answered: 488, 503, ...
		}
		defer l.Close()
		// cmd starts the runtime session here with l (its Dialog converted
		// with runtime.Dialog(l.Dialog())), res.Account and res.Application.
		_ = res
		_ = l.Wait(ctx) // the handler holds the call's admission slot until the call ends
	}))
	for _, m := range leg.DialogMethods {
		srv.Handle(m, agent.ServeDialog)
	}
}
