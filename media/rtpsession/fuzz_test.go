package rtpsession

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/mediatest"
)

// FuzzRTPPacket feeds datagrams to the receive path (parse, source check,
// window, stats, decode, DTMF): no panic, whatever arrives.
func FuzzRTPPacket(f *testing.F) {
	seed := func(h rtp.Header, payload []byte) []byte {
		b, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(seed(rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 1}, make([]byte, 160)), uint16(5000))
	f.Add(seed(rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: 2, Timestamp: 160, SSRC: 1, Marker: true}, []byte{1, 0x8A, 0, 160}), uint16(5000))
	f.Add(seed(rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 3, SSRC: 1, CSRC: []uint32{1, 2}}, make([]byte, 480)), uint16(5001))
	f.Add(seed(rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 65535, SSRC: 2, Extension: true, ExtensionProfile: 0xBEDE}, make([]byte, 7)), uint16(5000))
	f.Add([]byte{0x80}, uint16(1))
	f.Add([]byte{0xA0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 9, 0}, uint16(1)) // padding bit, bad size

	f.Fuzz(func(t *testing.T, b []byte, port uint16) {
		s := &Session{codec: g711.PCMU, pt: 0, tePT: 101, strict: port%2 == 0, latch: true,
			win: newWindow(4), inFrame: make([]int16, 160), maxHold: 80 * time.Millisecond}
		s.AddSink(&mediatest.Collector{})
		s.OnDigit(&mediatest.Digits{})
		now := time.Unix(0, 0)
		from := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), port)
		// The same bytes several times, from two sources, with ticks between.
		for i := range 4 {
			s.handlePacket(b, from, now)
			s.handlePacket(b, netip.AddrPortFrom(from.Addr(), port+uint16(i)), now)
			now = now.Add(20 * time.Millisecond)
			s.recvMu.Lock()
			s.win.expire(now, s.maxHold, s)
			s.dtmfRecv.Expire(now, s.digitSink)
			s.recvMu.Unlock()
		}
	})
}

// FuzzRTCP feeds datagrams to the RTCP path: no panic, whatever arrives.
func FuzzRTCP(f *testing.F) {
	sr, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40, Reports: []rtcp.ReceptionReport{{SSRC: 7, TotalLost: 0xFFFFFF, LastSenderReport: 5, Delay: 9}}},
		rtcp.NewCNAMESourceDescription(1, "peer"),
	})
	if err != nil {
		f.Fatal(err)
	}
	rr, err := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 2, Reports: []rtcp.ReceptionReport{{SSRC: 7}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sr)
	f.Add(rr)
	f.Add([]byte{0x80, 200, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := &Session{ssrc: 7, strict: true, win: newWindow(4), inFrame: make([]int16, 160)}
		s.rtcp.enabled = true
		now := time.Unix(100, 0)
		from := netip.MustParseAddrPort("192.0.2.1:5001")
		s.handleRTCP(b, from, now)
		s.handleRTCP(b, netip.MustParseAddrPort("192.0.2.9:5001"), now)
		_ = s.Stats()
	})
}
