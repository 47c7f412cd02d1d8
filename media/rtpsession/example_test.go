package rtpsession_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/ports"
	"github.com/voxrun/voxrun/media/rtpsession"
	"github.com/voxrun/voxrun/media/sdp"
)

// Example shows what the SIP layer does with an INVITE's offer: bind a port
// pair, answer from it, and start the leg's RTP session on the shared clock.
// A negotiation error carries the SIP status to answer with (488 or 400).
func Example() {
	ctx := context.Background()
	// Built once by cmd and shared by every leg.
	clk := clock.New(clock.Config{})
	defer clk.Close()
	alloc, err := ports.New(ports.Config{Min: 40000, Max: 60000})
	if err != nil {
		panic(err)
	}

	offerSDP := []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
		"m=audio 30000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n")

	// Per leg.
	local := netip.MustParseAddr("127.0.0.1") // the media address voxrun advertises
	lease, err := alloc.Listen(ctx, local, true)
	if err != nil {
		panic(err) // no free port: answer 503
	}
	offer, err := sdp.ParseOffer(offerSDP)
	if err != nil {
		fmt.Println("answer", sdp.StatusOf(err))
		_ = lease.Close()
		return
	}
	answerSDP, negotiated, err := offer.Answer(sdp.Local{Addr: local, Port: lease.Port, SessionVersion: 1})
	if err != nil {
		fmt.Println("answer", sdp.StatusOf(err)) // 488 Not Acceptable Here
		_ = lease.Close()
		return
	}
	cfg := rtpsession.FromSDP(negotiated)
	cfg.Conn, cfg.RTCPConn, cfg.Closer, cfg.Clock = lease.RTP, lease.RTCP, lease, clk
	leg, err := rtpsession.New(cfg)
	if err != nil {
		panic(err)
	}
	defer leg.Close() // on BYE: stops the leg, closes the sockets, frees the port

	var _ media.Endpoint = leg // what the runtime sees
	leg.SetSource(nil)         // comfort silence until a verb plays something
	fmt.Println(negotiated.Codec.Name, negotiated.TelephoneEvent.PayloadType, len(answerSDP) > 0)
	// Output: PCMA 101 true
}
