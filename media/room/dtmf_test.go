package room

import (
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media/dtmf"
	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/mediatest"
	"github.com/voxrun/voxrun/media/rtpsession"
)

// member is a leg with telephone-event (or, inband, without it: the
// in-band detector then listens), its far end on a real socket, and the
// listener of the leg's digits (the runtime's, in a call).
type member struct {
	far    *net.UDPConn
	leg    *rtpsession.Session
	digits *mediatest.Digits
	seq    uint16
	ts     uint32
}

func newMember(t *testing.T, clk *mediatest.ManualClock, inband bool) *member {
	t.Helper()
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
		require.NoError(t, err)
		return c
	}
	far, legConn := listen(), listen()
	t.Cleanup(func() { _ = far.Close() })
	cfg := rtpsession.Config{Conn: legConn, Clock: clk, Codec: g711.PCMU,
		Remote: far.LocalAddr().(*net.UDPAddr).AddrPort()}
	if inband {
		cfg.InbandDTMF = true
	} else {
		cfg.TelephoneEvent = 101
	}
	leg, err := rtpsession.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, leg.Close()) })
	m := &member{far: far, leg: leg, digits: &mediatest.Digits{}, seq: 7, ts: 1000}
	leg.OnDigit(m.digits)
	return m
}

func (m *member) send(t *testing.T, pt uint8, ts uint32, marker bool, payload []byte) {
	t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: m.seq, Timestamp: ts,
		Marker: marker, SSRC: 42}, Payload: payload}).Marshal()
	require.NoError(t, err)
	m.seq++
	_, err = m.far.WriteToUDPAddrPort(b, m.leg.LocalAddr())
	require.NoError(t, err)
}

// pressRFC4733 sends key as a 100 ms telephone-event with its three end
// packets, as a phone does.
func (m *member) pressRFC4733(t *testing.T, key byte) {
	t.Helper()
	var s dtmf.Sender
	require.NoError(t, s.Start(key, 100*time.Millisecond, 160))
	for {
		p, _ := s.Next(m.ts)
		m.send(t, 101, p.Timestamp, p.Marker, p.Payload[:])
		m.ts += 160
		if p.Last {
			return
		}
	}
}

// pressInband sends key as 100 ms of its two tones in µ-law, then 100 ms
// of silence.
func (m *member) pressInband(t *testing.T, key byte) {
	t.Helper()
	rows, cols := map[byte]float64{'9': 852, '1': 697}, map[byte]float64{'9': 1477, '1': 1209}
	frame := make([]int16, 160)
	payload := make([]byte, 160)
	for k := range 10 {
		for i := range frame {
			if k < 5 {
				n := float64(k*160+i) / 8000
				frame[i] = int16(7000 * (math.Sin(2*math.Pi*rows[key]*n) + math.Sin(2*math.Pi*cols[key]*n)))
			} else {
				frame[i] = 0
			}
		}
		g711.EncodeUlaw(payload, frame)
		m.send(t, 0, m.ts, k == 0, payload)
		m.ts += 160
	}
}

// TestDigitsReachTheirListenerThroughAMixingRoom: in a room of three (so
// it mixes), a member's digits — RFC 4733 from one phone, in-band tones
// from another — reach that member's own listener once each, and nobody
// else's.
func TestDigitsReachTheirListenerThroughAMixingRoom(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	r, err := New(clk, Config{})
	require.NoError(t, err)
	defer r.Close()
	a, b, c := newMember(t, clk, false), newMember(t, clk, false), newMember(t, clk, true)
	for _, m := range []*member{a, b, c} {
		_, err := r.Join(m.leg)
		require.NoError(t, err)
	}
	clk.Tick(1)
	require.False(t, r.Relaying(), "three members are mixed")

	a.pressRFC4733(t, '5')
	c.pressInband(t, '9')
	require.Eventually(t, func() bool { return a.digits.Keys() == "5" && c.digits.Keys() == "9" },
		2*time.Second, time.Millisecond, "a heard %q, c heard %q", a.digits.Keys(), c.digits.Keys())
	clk.Tick(3)
	a.pressRFC4733(t, '#')
	require.Eventually(t, func() bool { return a.digits.Keys() == "5#" }, 2*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond) // anything stray would have come by now
	require.Equal(t, "5#", a.digits.Keys(), "once each, end retransmissions and all")
	require.Equal(t, "9", c.digits.Keys())
	require.Empty(t, b.digits.Keys(), "a member hears nobody else's digits as its own")
	require.Equal(t, 100*time.Millisecond, a.digits.All()[0].Duration)
}

// TestDigitsReachTheirListenerThroughARelayedBridge: the same with two
// members on the fast path, where the digit is also relayed to the other
// phone as a telephone-event.
func TestDigitsReachTheirListenerThroughARelayedBridge(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	r, err := New(clk, Config{})
	require.NoError(t, err)
	defer r.Close()
	a, b := newMember(t, clk, false), newMember(t, clk, false)
	for _, m := range []*member{a, b} {
		_, err := r.Join(m.leg)
		require.NoError(t, err)
	}
	clk.Tick(1)
	require.True(t, r.Relaying())

	a.pressRFC4733(t, '7')
	require.Eventually(t, func() bool { return a.digits.Keys() == "7" }, 2*time.Second, time.Millisecond)
	require.Empty(t, b.digits.Keys())
	// b's phone gets the event (payload type 101) through the relay.
	buf := make([]byte, 1500)
	require.NoError(t, b.far.SetReadDeadline(time.Now().Add(time.Second)))
	for {
		n, _, err := b.far.ReadFromUDPAddrPort(buf)
		require.NoError(t, err, "the relayed telephone-event reaches the other phone")
		var pkt rtp.Packet
		require.NoError(t, pkt.Unmarshal(buf[:n]))
		if pkt.PayloadType == 101 {
			require.Equal(t, byte(7), pkt.Payload[0], "event code 7")
			break
		}
	}
}
