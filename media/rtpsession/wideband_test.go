package rtpsession

import (
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/g722"
	"github.com/voxrun/voxrun/media/mediatest"
	"github.com/voxrun/voxrun/media/sdp"
)

// level is the RMS of x at hz (a Goertzel power: a sine of amplitude A
// gives (A·N/2)², so RMS A/√2 is √(2·power)/N).
func level(x []int16, hz float64) float64 {
	c := 2 * math.Cos(2*math.Pi*hz/media.SampleRate)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	return math.Sqrt(2*(s1*s1+s2*s2-c*s1*s2)) / float64(len(x))
}

// TestG722BetweenTwoLegs: two legs negotiated on G.722 (FromSDP) talk over
// real sockets: payload type 9, 160 octets and 160 timestamp units per
// 20 ms on the wire, and the tone comes out at its frequency and level.
func TestG722BetweenTwoLegs(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
		require.NoError(t, err)
		return c
	}
	ca, cb := listen(), listen()
	addr := func(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }
	cfg := FromSDP(sdp.Session{Codec: sdp.G722, PTime: 20 * time.Millisecond, Direction: sdp.SendRecv})
	require.True(t, cfg.G722)
	cfgA, cfgB := cfg, cfg
	cfgA.Conn, cfgA.Clock, cfgA.Remote = ca, clk, addr(cb)
	cfgB.Conn, cfgB.Clock, cfgB.Remote = cb, clk, addr(ca)
	a, err := New(cfgA)
	require.NoError(t, err)
	defer a.Close()
	b, err := New(cfgB)
	require.NoError(t, err)
	defer b.Close()
	require.Equal(t, Format{G722: true, PTime: 20 * time.Millisecond}, a.Format())

	heard := &mediatest.Collector{}
	b.AddSink(heard)
	a.SetSource(media.Fill(mediatest.Tone(1000, 10000, 2*media.SampleRate)))
	for range 50 {
		clk.Tick(1)
		time.Sleep(time.Millisecond)
	}
	waitFor(t, func() bool { return len(heard.Frames()) >= 45 })
	got := heard.Samples()
	seg := got[len(got)/2:]
	l1k, l3k := level(seg, 1000), level(seg, 3000)
	t.Logf("1 kHz at RMS %.0f (sent %.0f), 3 kHz at %.0f", l1k, 10000/math.Sqrt2, l3k)
	require.InEpsilon(t, 10000/math.Sqrt2, l1k, 0.06, "the tone through G.722 and both resamplers (±0.5 dB)")
	require.Less(t, l3k, l1k/100)
	st := b.Stats()
	require.Equal(t, st.PacketsReceived*160, st.OctetsReceived, "160 octets per 20 ms")
	require.Zero(t, st.PacketsLost)
}

// TestG722OnTheWire: what a G.722 leg sends decodes, with the reference
// decoder, to the tone it played; payload type and timestamps follow
// RFC 3551.
func TestG722OnTheWire(t *testing.T) {
	p := newPeer(t)
	f := newSession(t, Config{Remote: p.addr(), G722: true})
	f.s.SetSource(media.Fill(mediatest.Tone(440, 8000, media.SampleRate)))
	dec := g722.NewDecoder()
	var pcm16 []int16
	var first uint32
	for i := range 20 {
		f.clock.Tick(1)
		pkt := p.read()
		require.Equal(t, uint8(9), pkt.PayloadType)
		require.Len(t, pkt.Payload, 160)
		if i == 0 {
			first = pkt.Timestamp
		}
		require.Equal(t, first+uint32(160*i), pkt.Timestamp)
		out := make([]int16, 320)
		dec.Decode(out, pkt.Payload)
		pcm16 = append(pcm16, out...)
	}
	seg := pcm16[len(pcm16)/2:]
	c := 2 * math.Cos(2*math.Pi*440/16000)
	var s1, s2 float64
	for _, v := range seg {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	rms := math.Sqrt(2*(s1*s1+s2*s2-c*s1*s2)) / float64(len(seg))
	require.InEpsilon(t, 8000/math.Sqrt2, rms, 0.06, "440 Hz at 16 kHz, at its level")
}

// TestG722AllocatesNothingPerPacket: the resamplers and the codec work in
// place once primed.
func TestG722AllocatesNothingPerPacket(t *testing.T) {
	p := newPeer(t)
	f := newSession(t, Config{Remote: p.addr(), G722: true})
	f.s.SetSource(&steadySource{})
	sink := &countingSink{}
	f.s.AddSink(sink)
	now := time.Unix(1000, 0)
	f.s.Tick(now) // primes the encoder's resampler
	require.Zero(t, testing.AllocsPerRun(200, func() {
		now = now.Add(20 * time.Millisecond)
		f.s.Tick(now)
	}), "allocations per sent packet")

	code := make([]byte, 160)
	g722.NewEncoder().Encode(code, make([]int16, 320))
	pkts := make([][]byte, 202)
	for i := range pkts {
		pkts[i] = p.packet(9, code)
	}
	from := p.addr()
	f.s.handlePacket(pkts[0], from, now) // primes the decoder's resampler
	i := 1
	require.Zero(t, testing.AllocsPerRun(200, func() {
		now = now.Add(20 * time.Millisecond)
		f.s.handlePacket(pkts[i], from, now)
		i++
	}), "allocations per received packet")
	require.Greater(t, sink.n, 200)
}

// BenchmarkG722Frame is one 20 ms frame each way on a G.722 leg: resample
// up and encode, decode and resample down.
func BenchmarkG722Frame(b *testing.B) {
	w, err := newWideband()
	require.NoError(b, err)
	frame := mediatest.Tone(1000, 10000, media.FrameSamples)
	out := make([]byte, media.FrameSamples)
	in := media.NewFrame()
	for b.Loop() {
		w.encode(out, frame)
		w.decode(out, in, func() {})
	}
}
