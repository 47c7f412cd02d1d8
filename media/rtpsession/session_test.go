package rtpsession

import (
	"context"
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/dtmf"
	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/mediatest"
	"github.com/voxrun/voxrun/media/ports"
	"github.com/voxrun/voxrun/media/sdp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var loopback = netip.MustParseAddr("127.0.0.1")

// peer is the far end: a plain UDP socket that sends and reads RTP.
type peer struct {
	t    *testing.T
	conn *net.UDPConn
	seq  uint16
	ts   uint32
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &peer{t: t, conn: c, seq: 100, ts: 5000}
}

func (p *peer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// read returns the next packet, or fails after a second.
func (p *peer) read() rtp.Packet {
	p.t.Helper()
	buf := make([]byte, 1500)
	require.NoError(p.t, p.conn.SetReadDeadline(time.Now().Add(time.Second)))
	n, _, err := p.conn.ReadFromUDPAddrPort(buf)
	require.NoError(p.t, err)
	var pkt rtp.Packet
	require.NoError(p.t, pkt.Unmarshal(buf[:n]))
	return pkt
}

// none checks that no packet arrives for a short while.
func (p *peer) none() {
	p.t.Helper()
	require.NoError(p.t, p.conn.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
	_, _, err := p.conn.ReadFromUDPAddrPort(make([]byte, 1500))
	require.Error(p.t, err, "no packet expected")
}

func (p *peer) packet(pt uint8, payload []byte) []byte {
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: 0xABCD}, Payload: payload}).Marshal()
	require.NoError(p.t, err)
	p.seq++
	p.ts += 160
	return b
}

func (p *peer) send(to netip.AddrPort, b []byte) {
	_, err := p.conn.WriteToUDPAddrPort(b, to)
	require.NoError(p.t, err)
}

type fixture struct {
	s     *Session
	clock *mediatest.ManualClock
	conn  *net.UDPConn
}

func newSession(t *testing.T, cfg Config) *fixture {
	t.Helper()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(t, err)
	clk := mediatest.NewManualClock(time.Unix(1000, 0))
	cfg.Conn, cfg.Clock = conn, clk
	s, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return &fixture{s: s, clock: clk, conn: conn}
}

// waitFor polls cond (the reader goroutine is asynchronous).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 2*time.Second, time.Millisecond)
}

func TestSendContinuityAndMarker(t *testing.T) {
	p := newPeer(t)
	f := newSession(t, Config{Remote: p.addr(), Codec: g711.PCMU, SSRC: 1234})

	first := mediatest.Tone(440, 8000, 3*media.FrameSamples)
	f.s.SetSource(media.Fill(first))
	f.clock.Tick(2)
	a, b := p.read(), p.read()
	require.True(t, a.Marker, "talkspurt start")
	require.False(t, b.Marker)
	require.Equal(t, a.SequenceNumber+1, b.SequenceNumber)
	require.Equal(t, a.Timestamp+160, b.Timestamp)
	require.Equal(t, uint32(1234), a.SSRC)
	require.Equal(t, uint8(0), a.PayloadType)
	want := make([]byte, 160)
	g711.EncodeUlaw(want, first[:160])
	require.Equal(t, want, a.Payload)

	// A new source: marker again, no jump in sequence or timestamp.
	f.s.SetSource(media.Fill(mediatest.Tone(1000, 8000, 160)))
	f.clock.Tick(1)
	c := p.read()
	require.True(t, c.Marker)
	require.Equal(t, b.SequenceNumber+1, c.SequenceNumber)
	require.Equal(t, b.Timestamp+160, c.Timestamp)

	// The source ends: comfort silence follows, a new talkspurt.
	f.clock.Tick(2)
	d, e := p.read(), p.read()
	require.True(t, d.Marker)
	require.Equal(t, c.SequenceNumber+1, d.SequenceNumber)
	require.Equal(t, c.Timestamp+160, d.Timestamp)
	require.Equal(t, make([]byte, 160), zeroed(e.Payload, 0xFF))
	require.Equal(t, uint64(5), f.s.Stats().PacketsSent)
}

// zeroed maps the codec's silence byte to 0 so silence compares to zeros.
func zeroed(b []byte, silence byte) []byte {
	out := make([]byte, len(b))
	for i, x := range b {
		if x != silence {
			out[i] = x
		}
	}
	return out
}

func TestPTime(t *testing.T) {
	cases := []struct {
		name   string
		ptime  time.Duration
		frames int
	}{
		{"20 ms", 20 * time.Millisecond, 1},
		{"40 ms", 40 * time.Millisecond, 2},
		{"60 ms", 60 * time.Millisecond, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t)
			f := newSession(t, Config{Remote: p.addr(), Codec: g711.PCMA, PTime: tc.ptime})
			f.clock.Tick(2 * tc.frames)
			a, b := p.read(), p.read()
			require.Len(t, a.Payload, 160*tc.frames)
			require.Equal(t, uint8(8), a.PayloadType)
			require.Equal(t, a.Timestamp+uint32(160*tc.frames), b.Timestamp)
			require.Equal(t, a.SequenceNumber+1, b.SequenceNumber)
			require.Equal(t, make([]byte, 160*tc.frames), zeroed(a.Payload, 0xD5))
		})
	}
	_, err := New(Config{Conn: &net.UDPConn{}, Clock: mediatest.NewManualClock(time.Now()), PTime: 30 * time.Millisecond})
	require.ErrorIs(t, err, ErrConfig)
	_, err = New(Config{})
	require.ErrorIs(t, err, ErrConfig)
}

func TestSymmetricRTPAndStrictSource(t *testing.T) {
	cases := []struct {
		name  string
		loose bool
	}{
		{"strict source (default) drops the intruder", false},
		{"loose source re-latches", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			peer, intruder := newPeer(t), newPeer(t)
			// The SDP named an address nobody listens on (a NATed device).
			f := newSession(t, Config{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: g711.PCMU, LooseSource: tc.loose})
			got := &mediatest.Collector{}
			f.s.AddSink(got)
			local := f.s.LocalAddr()

			peer.send(local, peer.packet(0, make([]byte, 160)))
			waitFor(t, func() bool { return len(got.Frames()) == 1 })
			f.clock.Tick(1)
			require.Equal(t, f.s.SSRC(), peer.read().SSRC, "we send to where the peer sends from")

			loud := make([]byte, 160)
			for i := range loud {
				loud[i] = 0x80 // full-scale µ-law
			}
			intruder.seq = peer.seq
			intruder.send(local, intruder.packet(0, loud))
			if !tc.loose {
				waitFor(t, func() bool { return f.s.Stats().Foreign == 1 })
				f.clock.Tick(1)
				peer.read()
				intruder.none()
				require.Len(t, got.Frames(), 1)
				return
			}
			waitFor(t, func() bool { return len(got.Frames()) == 2 })
			f.clock.Tick(1)
			intruder.read()
		})
	}
}

func TestNoRemoteSendsNothingUntilLatched(t *testing.T) {
	p := newPeer(t)
	f := newSession(t, Config{Codec: g711.PCMU})
	f.clock.Tick(3)
	p.none()
	p.send(f.s.LocalAddr(), p.packet(0, make([]byte, 160)))
	waitFor(t, func() bool { return f.s.Stats().PacketsReceived == 1 })
	f.clock.Tick(1)
	require.True(t, p.read().Marker)
}

func TestDirection(t *testing.T) {
	p := newPeer(t)
	f := newSession(t, Config{Remote: p.addr(), Codec: g711.PCMU, NoSend: true, NoReceive: true})
	got := &mediatest.Collector{}
	f.s.AddSink(got)
	f.clock.Tick(2)
	p.none()
	p.send(f.s.LocalAddr(), p.packet(0, make([]byte, 160)))
	waitFor(t, func() bool { return f.s.Stats().PacketsReceived == 1 })
	require.Empty(t, got.Frames(), "inactive: nothing delivered")

	f.s.SetDirection(true, true)
	f.clock.Tick(1)
	require.True(t, p.read().Marker, "resuming starts a talkspurt")
	p.send(f.s.LocalAddr(), p.packet(0, make([]byte, 160)))
	waitFor(t, func() bool { return len(got.Frames()) == 1 })
}

// TestReceivePath drives handlePacket directly: reordering, duplicates,
// loss, decoding into 20 ms frames, and payload types.
func TestReceivePath(t *testing.T) {
	f := newSession(t, Config{Codec: g711.PCMU, TelephoneEvent: 101})
	got := &mediatest.Collector{}
	remove := f.s.AddSink(got)
	p := newPeer(t)
	from := p.addr()
	now := time.Unix(1000, 0)

	pkts := make([][]byte, 8)
	for i := range pkts {
		payload := make([]byte, 160)
		g711.EncodeUlaw(payload, []int16{int16(i * 1000)}) // first sample marks the packet
		pkts[i] = p.packet(0, payload)
	}
	order := []int{0, 2, 1, 1, 3, 5, 4, 7} // 6 never arrives; 1 twice
	for _, i := range order {
		f.s.handlePacket(pkts[i], from, now)
		now = now.Add(20 * time.Millisecond)
	}
	f.s.handlePacket([]byte{1, 2, 3}, from, now)                // malformed
	f.s.handlePacket(p.packet(18, make([]byte, 20)), from, now) // G.729: not negotiated
	f.s.Tick(now.Add(time.Second))                              // the window gives up on 6
	var firsts []int16
	for _, fr := range got.Frames() {
		firsts = append(firsts, fr[0])
	}
	var want []int16
	for _, i := range []int{0, 1, 2, 3, 4, 5, 7} {
		var c [1]byte
		var back [1]int16
		g711.EncodeUlaw(c[:], []int16{int16(i * 1000)})
		g711.DecodeUlaw(back[:], c[:])
		want = append(want, back[0])
	}
	require.Equal(t, want, firsts, "in sequence order, 6 lost, 1 once")
	st := f.s.Stats()
	require.Equal(t, uint64(7), st.PacketsReceived)
	require.Equal(t, uint64(1), st.Duplicates)
	require.Equal(t, int64(1), st.PacketsLost, "packet 6")

	remove()
	f.s.handlePacket(p.packet(0, make([]byte, 160)), from, now)
	require.Len(t, got.Frames(), 7, "a removed sink gets nothing")
}

func TestOddPayloadSizesMakeWholeFrames(t *testing.T) {
	f := newSession(t, Config{Codec: g711.PCMU})
	got := &mediatest.Collector{}
	f.s.AddSink(got)
	p := newPeer(t)
	for range 4 {
		f.s.handlePacket(p.packet(0, make([]byte, 240)), p.addr(), time.Now()) // 30 ms packets
	}
	require.Len(t, got.Frames(), 6)
}

func TestReceiveDigitsOncePerEvent(t *testing.T) {
	f := newSession(t, Config{Codec: g711.PCMU, TelephoneEvent: 101})
	digits := &mediatest.Digits{}
	f.s.OnDigit(digits)
	p := newPeer(t)
	var s dtmf.Sender
	for _, k := range []byte("42#") {
		require.NoError(t, s.Start(k, 100*time.Millisecond, 160))
		for s.Active() {
			pk, _ := s.Next(p.ts)
			for range 2 { // every packet twice on the wire
				b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: p.seq, Timestamp: pk.Timestamp, SSRC: 7, Marker: pk.Marker}, Payload: pk.Payload[:]}).Marshal()
				require.NoError(t, err)
				p.send(f.s.LocalAddr(), b)
			}
			p.seq++
			p.ts += 160
		}
		p.ts += 1600
	}
	waitFor(t, func() bool { return digits.Keys() == "42#" })
	for _, d := range digits.All() {
		require.Equal(t, 100*time.Millisecond, d.Duration)
		require.Equal(t, media.DigitRFC4733, d.Origin)
	}
	require.Equal(t, "42#", digits.Keys())
}

func TestSendDigit(t *testing.T) {
	p := newPeer(t)
	f := newSession(t, Config{Remote: p.addr(), Codec: g711.PCMU, TelephoneEvent: 96})
	done := make(chan error, 1)
	go func() { done <- f.s.SendDigit(context.Background(), '7', 60*time.Millisecond) }()
	waitFor(t, func() bool {
		f.s.sendMu.Lock()
		defer f.s.sendMu.Unlock()
		return len(f.s.digits) == 1
	})
	f.clock.Tick(8)
	require.NoError(t, <-done)

	var got []rtp.Packet
	for range 8 {
		got = append(got, p.read())
	}
	// 60 ms: updates at 160, 320, then 480 three times with the end bit.
	wantDur := []uint16{160, 320, 480, 480, 480}
	for i, d := range wantDur {
		pk := got[i]
		require.Equal(t, uint8(96), pk.PayloadType)
		require.Equal(t, i == 0, pk.Marker)
		require.Equal(t, got[0].Timestamp, pk.Timestamp)
		var e dtmf.Event
		require.NoError(t, e.Unmarshal(pk.Payload))
		require.Equal(t, uint8(7), e.Code)
		require.Equal(t, d, e.Duration)
		require.Equal(t, i >= 2, e.End)
	}
	// Audio resumes as a new talkspurt, on the timestamp grid.
	audio := got[5]
	require.Equal(t, uint8(0), audio.PayloadType)
	require.True(t, audio.Marker)
	require.Equal(t, got[0].Timestamp+5*160, audio.Timestamp)
	for i := 1; i < len(got); i++ {
		require.Equal(t, got[i-1].SequenceNumber+1, got[i].SequenceNumber)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, f.s.SendDigit(ctx, '1', time.Millisecond), context.Canceled)
	require.ErrorIs(t, f.s.SendDigit(context.Background(), 'x', time.Millisecond), dtmf.ErrUnknownKey)

	g := newSession(t, Config{Remote: p.addr(), Codec: g711.PCMU})
	require.ErrorIs(t, g.s.SendDigit(context.Background(), '1', time.Millisecond), ErrNoTelephoneEvent)
}

func TestCloseIsIdempotentAndFailsPendingDigits(t *testing.T) {
	p := newPeer(t)
	f := newSession(t, Config{Remote: p.addr(), Codec: g711.PCMU, NoSend: true, TelephoneEvent: 101})
	done := make(chan error, 1)
	go func() { done <- f.s.SendDigit(context.Background(), '1', time.Millisecond) }()
	waitFor(t, func() bool {
		f.s.sendMu.Lock()
		defer f.s.sendMu.Unlock()
		return len(f.s.digits) == 1
	})
	require.NoError(t, f.s.Close())
	require.NoError(t, f.s.Close())
	require.ErrorIs(t, <-done, media.ErrClosed)
	require.Zero(t, f.clock.Len(), "unregistered from the clock")
	_, err := f.conn.WriteToUDPAddrPort([]byte{0}, p.addr())
	require.Error(t, err, "the socket is closed")
}

// TestTwoLegsOnTheSharedClock runs two sessions against each other on the
// real pacing clock and the port allocator: audio flows both ways, and
// closing everything leaves no goroutine and no port behind.
func TestTwoLegsOnTheSharedClock(t *testing.T) {
	clk := clock.New(clock.Config{Shards: 2})
	defer clk.Close()
	alloc, err := ports.New(ports.Config{Min: 42000 + 2*int(time.Now().UnixNano()%1000), Max: 44999})
	require.NoError(t, err)
	ctx := context.Background()
	la, err := alloc.Listen(ctx, loopback, false)
	require.NoError(t, err)
	lb, err := alloc.Listen(ctx, loopback, false)
	require.NoError(t, err)

	a, err := New(Config{Conn: la.RTP, Closer: la, Clock: clk, Codec: g711.PCMA,
		Remote: netip.AddrPortFrom(loopback, uint16(lb.Port))})
	require.NoError(t, err)
	b, err := New(Config{Conn: lb.RTP, Closer: lb, Clock: clk, Codec: g711.PCMA,
		Remote: netip.AddrPortFrom(loopback, uint16(la.Port))})
	require.NoError(t, err)
	talkBothWays(t, a, b, alloc, clk, func() bool { return true })
}

// talkBothWays has a (A-law) play a tone to b until both have heard ten
// frames and ready() holds, checks that b heard the tone intact, closes
// both and checks that no port or ticker is left.
func talkBothWays(t *testing.T, a, b *Session, alloc *ports.Allocator, clk *clock.Clock, ready func() bool) {
	t.Helper()
	atB, atA := &mediatest.Collector{}, &mediatest.Collector{}
	b.AddSink(atB)
	a.AddSink(atA)
	a.SetSource(media.Fill(mediatest.Tone(440, 10000, 8000)))
	waitFor(t, func() bool { return len(atB.Frames()) >= 10 && len(atA.Frames()) >= 10 && ready() })

	// What b heard is a's tone, through A-law.
	tone := mediatest.Tone(440, 10000, 160)
	enc := make([]byte, 160)
	g711.EncodeAlaw(enc, tone)
	sent := make([]int16, 160)
	g711.DecodeAlaw(sent, enc)
	require.Contains(t, atB.Frames(), sent, "the first tone frame arrives intact")

	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	require.Zero(t, alloc.InUse())
	require.Zero(t, clk.Len())
	st := b.Stats()
	require.Greater(t, st.PacketsReceived, uint64(9))
	require.Zero(t, st.Foreign)
	require.Zero(t, st.PacketsLost)
}

func TestInbandDTMF(t *testing.T) {
	f := newSession(t, Config{Codec: g711.PCMU, InbandDTMF: true})
	digits := &mediatest.Digits{}
	f.s.OnDigit(digits)
	p := newPeer(t)
	// '6' is 770 + 1477 Hz: 100 ms of it, then silence, sent as µ-law.
	tone := make([]int16, 800)
	for i := range tone {
		ts := float64(i) / 8000
		tone[i] = int16(7000*math.Sin(2*math.Pi*770*ts) + 7000*math.Sin(2*math.Pi*1477*ts))
	}
	samples := append(tone, make([]int16, 800)...)
	for i := 0; i < len(samples); i += 160 {
		payload := make([]byte, 160)
		g711.EncodeUlaw(payload, samples[i:i+160])
		f.s.handlePacket(p.packet(0, payload), p.addr(), time.Now())
	}
	require.Equal(t, "6", digits.Keys())
	require.Equal(t, media.DigitInband, digits.All()[0].Origin)

	require.True(t, FromSDP(sdp.Session{Codec: sdp.PCMU}).InbandDTMF, "no telephone-event: in-band")
}

func TestFromSDP(t *testing.T) {
	te := sdp.Codec{Name: "telephone-event", PayloadType: 101, ClockRate: 8000}
	remote := netip.MustParseAddrPort("192.0.2.1:4000")
	cases := []struct {
		name string
		in   sdp.Session
		want Config
	}{
		{"PCMA with events, 40 ms, we only send",
			sdp.Session{Remote: remote, Codec: sdp.PCMA, TelephoneEvent: te, PTime: 40 * time.Millisecond, Direction: sdp.SendOnly},
			Config{Remote: remote, Codec: g711.PCMA, PayloadType: 8, TelephoneEvent: 101, PTime: 40 * time.Millisecond, NoReceive: true}},
		{"PCMU without events: in-band, inactive",
			sdp.Session{Codec: sdp.PCMU, PTime: 20 * time.Millisecond, Direction: sdp.Inactive},
			Config{Codec: g711.PCMU, PTime: 20 * time.Millisecond, NoSend: true, NoReceive: true, InbandDTMF: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, FromSDP(tc.in))
		})
	}
}

func TestSetRemoteMovesAndRelatches(t *testing.T) {
	first, second := newPeer(t), newPeer(t)
	f := newSession(t, Config{Remote: first.addr(), Codec: g711.PCMU})
	first.send(f.s.LocalAddr(), first.packet(0, make([]byte, 160)))
	waitFor(t, func() bool { return f.s.Stats().PacketsReceived == 1 })
	f.clock.Tick(1)
	a := first.read()

	// A re-INVITE moves the peer: RTP goes to the new address, continuous,
	// as a new talkspurt, and the new source is accepted (not foreign).
	f.s.SetRemote(second.addr())
	f.clock.Tick(1)
	b := second.read()
	require.True(t, b.Marker)
	require.Equal(t, a.SequenceNumber+1, b.SequenceNumber)
	second.seq = first.seq
	second.send(f.s.LocalAddr(), second.packet(0, make([]byte, 160)))
	waitFor(t, func() bool { return f.s.Stats().PacketsReceived == 2 })
	require.Zero(t, f.s.Stats().Foreign)
}

// TestSocketClosedUnderneath: the socket's owner closes it first (a lease
// closed before the session); the reader must stop, not spin.
func TestSocketClosedUnderneath(t *testing.T) {
	f := newSession(t, Config{Codec: g711.PCMU})
	require.NoError(t, f.conn.Close())
	done := make(chan struct{})
	go func() {
		f.s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the reader goroutine did not stop")
	}
}
