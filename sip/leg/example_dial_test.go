package leg_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/ports"
	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/leg"
)

// ExampleAgent_Dial shows an outbound call: the Agent needs the server's
// transaction layer (Requester) and its listening addresses (LocalAddr).
func ExampleAgent_Dial() {
	alloc, _ := ports.New(ports.Config{})
	clk := clock.New(clock.Config{})
	defer clk.Close()
	srv, _ := sip.New(sip.Config{})
	agent, _ := leg.NewAgent(leg.Config{
		Ports: alloc, Clock: clk, MediaAddr: netip.MustParseAddr("192.0.2.1"),
		Requester: leg.TransactionLayer(srv.TransactionLayer()),
		LocalAddr: func(transport string) netip.AddrPort {
			if transport == "TCP" {
				return srv.TCPAddr()
			}
			return srv.UDPAddr()
		},
	})
	defer agent.Close()
	for _, m := range leg.DialogMethods {
		srv.Handle(m, agent.ServeDialog) // the far end's BYE reaches the leg
	}

	ctx := context.Background()
	l, err := agent.Dial(ctx, leg.DialRequest{
		Target:  "sip:+15551234567@carrier.example:5060;transport=udp",
		From:    leg.Party{User: "+15557654321", DisplayName: "voxrun"},
		Headers: map[string]string{"X-Account": "AC123"},
		Timeout: 30 * time.Second,
		Auth:    &leg.Credentials{Username: "trunk", Password: "secret"},
	})
	var se *leg.StatusError
	switch {
	case errors.As(err, &se):
		// dial_call_status: 486 busy, 487 with ErrNoAnswer no-answer, ...
		fmt.Println("call failed:", se.Status, errors.Is(err, leg.ErrNoAnswer))
		return
	case err != nil:
		return
	}
	defer l.Close()
	select {
	case <-l.Ended(): // the far end hung up
	case <-ctx.Done():
		_ = l.Hangup(ctx, nil)
	}
}
