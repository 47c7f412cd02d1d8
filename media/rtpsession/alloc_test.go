package rtpsession

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/mediatest"
)

// steadySource is a source that writes a ramp without allocating.
type steadySource struct{ n int16 }

func (s *steadySource) ReadFrame(f []int16) error {
	for i := range f {
		s.n += 37
		f[i] = s.n
	}
	return nil
}

type countingSink struct{ n int }

func (c *countingSink) WriteFrame([]int16) error { c.n++; return nil }

// TestNoAllocationPerPacket proves the steady state allocates nothing: one
// Tick (read, encode, marshal, send) and one received packet (parse, source
// check, window, stats, decode, sinks).
func TestNoAllocationPerPacket(t *testing.T) {
	p := newPeer(t)
	f := newSession(t, Config{Remote: p.addr(), Codec: g711.PCMU, TelephoneEvent: 101})
	f.s.SetSource(&steadySource{})
	sink := &countingSink{}
	f.s.AddSink(sink)
	f.s.OnDigit(&mediatest.Digits{})

	now := time.Unix(1000, 0)
	sendAllocs := testing.AllocsPerRun(1000, func() {
		now = now.Add(20 * time.Millisecond)
		f.s.Tick(now)
	})
	require.Zero(t, sendAllocs, "allocations per sent packet")

	pkt := p.packet(0, make([]byte, 160))
	from := p.addr()
	seq := binary.BigEndian.Uint16(pkt[2:])
	ts := binary.BigEndian.Uint32(pkt[4:])
	recvAllocs := testing.AllocsPerRun(1000, func() {
		seq++
		ts += 160
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], ts)
		now = now.Add(20 * time.Millisecond)
		f.s.handlePacket(pkt, from, now)
	})
	require.Zero(t, recvAllocs, "allocations per received packet")
	require.Greater(t, sink.n, 1000)
}

func BenchmarkSendTick(b *testing.B) {
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(b, err)
	sinkConn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(b, err)
	defer sinkConn.Close()
	s, err := New(Config{Conn: conn, Clock: mediatest.NewManualClock(time.Now()), Codec: g711.PCMU,
		Remote: sinkConn.LocalAddr().(*net.UDPAddr).AddrPort()})
	require.NoError(b, err)
	defer s.Close()
	s.SetSource(&steadySource{})
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(media.FrameDuration)
		s.Tick(now)
	}
}

func BenchmarkReceivePacket(b *testing.B) {
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(b, err)
	s, err := New(Config{Conn: conn, Clock: mediatest.NewManualClock(time.Now()), Codec: g711.PCMU})
	require.NoError(b, err)
	defer s.Close()
	s.AddSink(&countingSink{})
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	var seq uint16
	var ts uint32
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		seq++
		ts += 160
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], ts)
		now = now.Add(media.FrameDuration)
		s.handlePacket(pkt, from, now)
	}
}
