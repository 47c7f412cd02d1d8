package room

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/mediatest"
	"github.com/voxrun/voxrun/media/rtpsession"
	"github.com/voxrun/voxrun/media/virtual"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// phone is a far end on a real socket, talking to one rtpsession leg.
type phone struct {
	t    *testing.T
	conn *net.UDPConn
	leg  *rtpsession.Session
	seq  uint16
}

func newPhone(t *testing.T, clk *mediatest.ManualClock, codec g711.Codec) *phone {
	t.Helper()
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
		require.NoError(t, err)
		return c
	}
	far, legConn := listen(), listen()
	t.Cleanup(func() { _ = far.Close() })
	leg, err := rtpsession.New(rtpsession.Config{Conn: legConn, Clock: clk, Codec: codec,
		Remote: far.LocalAddr().(*net.UDPAddr).AddrPort()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, leg.Close()) })
	return &phone{t: t, conn: far, leg: leg}
}

// say sends one packet of payload to the leg.
func (p *phone) say(payload []byte) {
	p.t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: p.leg.Format().Codec.PayloadType(),
		SequenceNumber: p.seq, Timestamp: uint32(p.seq) * 160, SSRC: 99}, Payload: payload}).Marshal()
	require.NoError(p.t, err)
	p.seq++
	_, err = p.conn.WriteToUDPAddrPort(b, p.leg.LocalAddr())
	require.NoError(p.t, err)
}

// hears reads packets until one carries want (or fails after a second).
func (p *phone) hears(want []byte) rtp.Packet {
	p.t.Helper()
	buf := make([]byte, 1500)
	deadline := time.Now().Add(time.Second)
	for {
		require.NoError(p.t, p.conn.SetReadDeadline(deadline))
		n, _, err := p.conn.ReadFromUDPAddrPort(buf)
		require.NoError(p.t, err, "never heard %x...", want[:4])
		var pkt rtp.Packet
		require.NoError(p.t, pkt.Unmarshal(buf[:n]))
		if string(pkt.Payload) == string(want) {
			return pkt
		}
	}
}

func pattern(seed byte) []byte {
	b := make([]byte, 160)
	for i := range b {
		b[i] = seed + byte(i%5)
	}
	return b
}

func TestTwoLegsOnOneCodecAreRelayed(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	a, b := newPhone(t, clk, g711.PCMU), newPhone(t, clk, g711.PCMU)
	r, err := New(clk, Config{})
	require.NoError(t, err)
	defer r.Close()
	ma, err := r.Join(a.leg)
	require.NoError(t, err)
	_, err = r.Join(b.leg)
	require.NoError(t, err)
	clk.Tick(1)
	require.True(t, r.Relaying())

	// The bytes a's phone sends reach b's phone as they are, under b's SSRC.
	words := pattern(0x20)
	a.say(words)
	got := b.hears(words)
	require.Equal(t, b.leg.SSRC(), got.SSRC)
	require.True(t, got.Marker, "the relay starts a talkspurt")

	// Muting a drops to mixing (no relay); unmuting relays again.
	ma.SetMuted(true)
	clk.Tick(1)
	require.False(t, r.Relaying())
	ma.SetMuted(false)
	clk.Tick(1)
	require.True(t, r.Relaying())

	// A whisper to b: the room mixes while b hears the prompt, then relays
	// again after Resume.
	prompt := make([]int16, 160)
	for i := range prompt {
		prompt[i] = 3000
	}
	b.leg.SetSource(media.Fill(append(append([]int16{}, prompt...), prompt...)))
	clk.Tick(1)
	require.False(t, r.Relaying())
	enc := make([]byte, 160)
	g711.EncodeUlaw(enc, prompt)
	b.hears(enc)
	members := r.Len()
	require.Equal(t, 2, members)
	clk.Tick(3)
	require.False(t, r.Relaying(), "stays mixing until Resume")
	r.members[1].Resume()
	clk.Tick(1)
	require.True(t, r.Relaying())
	words = pattern(0x40)
	a.say(words)
	b.hears(words)
}

func TestDifferentCodecsAreTranscoded(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	a, b := newPhone(t, clk, g711.PCMU), newPhone(t, clk, g711.PCMA)
	r, err := New(clk, Config{})
	require.NoError(t, err)
	defer r.Close()
	_, err = r.Join(a.leg)
	require.NoError(t, err)
	_, err = r.Join(b.leg)
	require.NoError(t, err)

	// A constant level in µ-law from a arrives as the same level in A-law.
	level := make([]int16, 160)
	for i := range level {
		level[i] = 2000
	}
	ulaw, alaw := make([]byte, 160), make([]byte, 160)
	g711.EncodeUlaw(ulaw, level)
	decoded := make([]int16, 160)
	g711.DecodeUlaw(decoded, ulaw)
	g711.EncodeAlaw(alaw, decoded)
	for range 10 {
		a.say(ulaw)
		time.Sleep(2 * time.Millisecond) // let the reader take it before the tick
		clk.Tick(1)
		require.False(t, r.Relaying())
	}
	b.hears(alaw)
}

func TestThirdMemberEndsTheRelay(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	a, b := newPhone(t, clk, g711.PCMU), newPhone(t, clk, g711.PCMU)
	r, err := New(clk, Config{})
	require.NoError(t, err)
	defer r.Close()
	for _, p := range []*phone{a, b} {
		_, err := r.Join(p.leg)
		require.NoError(t, err)
	}
	clk.Tick(1)
	require.True(t, r.Relaying())
	leg, _, err := virtual.NewPair(clk)
	require.NoError(t, err)
	defer leg.Close()
	mc, err := r.Join(leg)
	require.NoError(t, err)
	clk.Tick(1)
	require.False(t, r.Relaying())
	require.False(t, a.leg.Relaying())
	mc.Leave()
	clk.Tick(1)
	require.True(t, r.Relaying(), "back to a bridge")

	noRelay, err := New(clk, Config{NoRelay: true})
	require.NoError(t, err)
	defer noRelay.Close()
	require.NoError(t, r.Close())
	for _, p := range []*phone{a, b} {
		_, err := noRelay.Join(p.leg)
		require.NoError(t, err)
	}
	clk.Tick(2)
	require.False(t, noRelay.Relaying())
}

// TestG722LegsAreRelayedAndMixedWithG711: two G.722 legs are on the fast
// path (wideband end to end, no resampling); a G.722 leg with a PCMU leg
// is mixed through 8 kHz PCM.
func TestG722LegsAreRelayedAndMixedWithG711(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	leg := func(g722 bool) *rtpsession.Session {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
		require.NoError(t, err)
		s, err := rtpsession.New(rtpsession.Config{Conn: c, Clock: clk, Codec: g711.PCMU, G722: g722,
			Remote: netip.AddrPortFrom(loopback, 9)})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		return s
	}
	for _, c := range []struct {
		name  string
		a, b  bool
		relay bool
	}{{"G.722 to G.722", true, true, true}, {"G.722 to PCMU", true, false, false}} {
		t.Run(c.name, func(t *testing.T) {
			r, err := New(clk, Config{})
			require.NoError(t, err)
			defer r.Close()
			for _, s := range []*rtpsession.Session{leg(c.a), leg(c.b)} {
				_, err := r.Join(s)
				require.NoError(t, err)
			}
			clk.Tick(1)
			require.Equal(t, c.relay, r.Relaying())
		})
	}
}
