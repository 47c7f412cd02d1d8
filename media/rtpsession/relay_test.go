package rtpsession

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/dtmf"
	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/mediatest"
)

// to relays into a session.
type to struct{ s *Session }

func (t to) RelayPacket(p Packet) { t.s.SendRelay(p) }

func TestRelayRewritesAndKeepsContinuity(t *testing.T) {
	pa, pb := newPeer(t), newPeer(t)
	a := newSession(t, Config{Remote: pa.addr(), Codec: g711.PCMU})
	b := newSession(t, Config{Remote: pb.addr(), Codec: g711.PCMU, SSRC: 4242})
	require.Equal(t, a.s.Format(), b.s.Format())

	// b plays its own audio first.
	b.clock.Tick(2)
	own1, own2 := pb.read(), pb.read()

	a.s.SetPacketSink(to{b.s})
	b.s.StartRelay()
	require.True(t, b.s.Relaying())
	b.clock.Tick(1) // b's own tick sends nothing while relaying
	payloads := make([][]byte, 3)
	for i := range payloads {
		payloads[i] = make([]byte, 160)
		for k := range payloads[i] {
			payloads[i][k] = byte(i*10 + k%7)
		}
		pa.send(a.s.LocalAddr(), pa.packet(0, payloads[i]))
	}
	var relayed [3]rtp.Packet
	for i := range relayed {
		relayed[i] = pb.read()
		require.Equal(t, payloads[i], relayed[i].Payload, "the payload is untouched")
		require.Equal(t, uint32(4242), relayed[i].SSRC)
		require.Equal(t, own2.SequenceNumber+1+uint16(i), relayed[i].SequenceNumber, "b's sequence goes on")
		require.Equal(t, i == 0, relayed[i].Marker)
	}
	require.Equal(t, relayed[0].Timestamp+160, relayed[1].Timestamp)
	require.Equal(t, own1.Timestamp+160, own2.Timestamp)
	require.GreaterOrEqual(t, int32(relayed[0].Timestamp-own2.Timestamp), int32(160), "relayed time follows b's timeline")

	// Back to b's own source: no rewind, a new talkspurt.
	b.s.StopRelay()
	b.clock.Tick(1)
	back := pb.read()
	require.True(t, back.Marker)
	require.Equal(t, relayed[2].SequenceNumber+1, back.SequenceNumber)
	require.GreaterOrEqual(t, int32(back.Timestamp-relayed[2].Timestamp), int32(160))

	// SetSource ends relaying too.
	b.s.StartRelay()
	b.s.SetSource(media.Silence())
	require.False(t, b.s.Relaying())
}

func TestRelayAllocatesNothing(t *testing.T) {
	pb := newPeer(t)
	a := newSession(t, Config{Codec: g711.PCMU})
	b := newSession(t, Config{Remote: pb.addr(), Codec: g711.PCMU})
	a.s.SetPacketSink(to{b.s})
	b.s.StartRelay()
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	from := pb.addr()
	var seq uint16
	now := time.Now()
	handle := func() {
		seq++
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
		now = now.Add(20 * time.Millisecond)
		a.s.handlePacket(pkt, from, now)
	}
	handle()
	require.Zero(t, testing.AllocsPerRun(1000, handle), "allocations per relayed packet")
	require.Greater(t, b.s.Stats().PacketsSent, uint64(1000))
}

// TestRelayPassesDigits: telephone-events relayed with the other side's
// payload type, marked once per event, and still reported on the leg they
// arrived on.
func TestRelayPassesDigits(t *testing.T) {
	pb := newPeer(t)
	a := newSession(t, Config{Codec: g711.PCMU, TelephoneEvent: 101})
	b := newSession(t, Config{Remote: pb.addr(), Codec: g711.PCMU, TelephoneEvent: 96})
	digits := &mediatest.Digits{}
	a.s.OnDigit(digits)
	a.s.SetPacketSink(to{b.s})
	b.s.StartRelay()
	pa := newPeer(t)
	var snd dtmf.Sender
	require.NoError(t, snd.Start('4', 60*time.Millisecond, 160))
	var eventTS uint32 = 8000
	for snd.Active() {
		p, _ := snd.Next(eventTS)
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: pa.seq,
			Timestamp: p.Timestamp, SSRC: 5, Marker: p.Marker}, Payload: p.Payload[:]}).Marshal()
		require.NoError(t, err)
		pa.seq++
		eventTS += 160
		pa.send(a.s.LocalAddr(), b)
	}
	var got []rtp.Packet
	for range 5 {
		got = append(got, pb.read())
	}
	for i, p := range got {
		require.Equal(t, uint8(96), p.PayloadType)
		require.Equal(t, i == 0, p.Marker, "packet %d", i)
		require.Equal(t, got[0].Timestamp, p.Timestamp)
	}
	waitFor(t, func() bool { return digits.Keys() == "4" })

	// A side without telephone-event drops them.
	pc := newPeer(t)
	c := newSession(t, Config{Remote: pc.addr(), Codec: g711.PCMU})
	c.s.StartRelay()
	c.s.SendRelay(Packet{Timestamp: 1, Payload: []byte{1, 0x8A, 0, 160}, Event: true})
	pc.none()
}
