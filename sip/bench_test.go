package sip_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/admission"
	"github.com/voxrun/voxrun/sip/siptest"
)

// BenchmarkOptionsRoundTrip is one OPTIONS answered 200 over loopback UDP,
// through intake, sipgo's transaction layer and back, one at a time.
func BenchmarkOptionsRoundTrip(b *testing.B) {
	srv, err := sip.New(sip.Config{Addr: "127.0.0.1:0", Pike: admission.PikeConfig{Disabled: true}, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	c, err := siptest.Dial(context.Background(), "udp", srv.UDPAddr())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	i := 0
	for b.Loop() {
		i++
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		status, err := siptest.Ping(ctx, c, srv.UDPAddr(), fmt.Sprintf("bench-%d", i))
		cancel()
		if err != nil || status != 200 {
			b.Fatalf("status %d, %v", status, err)
		}
	}
}
