package dtmf

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
)

func TestEventPayload(t *testing.T) {
	cases := []struct {
		name  string
		event Event
		wire  []byte
	}{
		{"digit 5 start", Event{Code: 5, Volume: 10, Duration: 160}, []byte{5, 0x0A, 0x00, 0xA0}},
		{"hash end", Event{Code: 11, End: true, Volume: 10, Duration: 800}, []byte{11, 0x8A, 0x03, 0x20}},
		{"flash, loudest, longest", Event{Code: 16, Volume: 0, Duration: 0xFFFF}, []byte{16, 0x00, 0xFF, 0xFF}},
		{"volume masked to 6 bits", Event{Code: 1, Volume: 63, Duration: 1}, []byte{1, 0x3F, 0x00, 0x01}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b [PayloadSize]byte
			n, err := tc.event.MarshalTo(b[:])
			require.NoError(t, err)
			require.Equal(t, PayloadSize, n)
			require.Equal(t, tc.wire, b[:])
			var back Event
			require.NoError(t, back.Unmarshal(tc.wire))
			require.Equal(t, tc.event, back)
		})
	}
	var e Event
	require.ErrorIs(t, e.Unmarshal([]byte{1, 2, 3}), ErrShortPayload)
	_, err := e.MarshalTo(make([]byte, 3))
	require.ErrorIs(t, err, ErrShortPayload)
	// The reserved bit is ignored on receipt.
	require.NoError(t, e.Unmarshal([]byte{7, 0x40 | 0x0A, 0, 160}))
	require.Equal(t, Event{Code: 7, Volume: 10, Duration: 160}, e)
}

func TestKeys(t *testing.T) {
	for i, k := range []byte("0123456789*#ABCD") {
		code, err := CodeOf(k)
		require.NoError(t, err)
		require.Equal(t, uint8(i), code)
		back, ok := KeyOf(code)
		require.True(t, ok)
		require.Equal(t, k, back)
	}
	code, err := CodeOf('d')
	require.NoError(t, err)
	require.Equal(t, uint8(15), code)
	_, err = CodeOf('x')
	require.ErrorIs(t, err, ErrUnknownKey)
	_, ok := KeyOf(16)
	require.False(t, ok, "flash is not a digit")
}

type pkt struct {
	at  time.Duration // arrival, from the test's start
	ts  uint32
	ev  Event
	raw []byte // when set, sent instead of ev
}

func collect() (*[]media.Digit, media.DigitSink) {
	var got []media.Digit
	return &got, media.DigitSinkFunc(func(d media.Digit) { got = append(got, d) })
}

func digit(k byte, ms int) media.Digit {
	return media.Digit{Key: k, Duration: time.Duration(ms) * time.Millisecond, Origin: media.DigitRFC4733}
}

func TestReceiverOneDigitPerEvent(t *testing.T) {
	cases := []struct {
		name    string
		packets []pkt
		expire  time.Duration // when set, Expire is called at this time
		want    []media.Digit
	}{
		{
			name: "updates then three ends",
			packets: []pkt{
				{0, 1000, Event{Code: 1, Duration: 160}, nil},
				{20, 1000, Event{Code: 1, Duration: 320}, nil},
				{40, 1000, Event{Code: 1, Duration: 480}, nil},
				{60, 1000, Event{Code: 1, Duration: 640, End: true}, nil},
				{80, 1000, Event{Code: 1, Duration: 640, End: true}, nil},
				{100, 1000, Event{Code: 1, Duration: 640, End: true}, nil},
			},
			want: []media.Digit{digit('1', 80)},
		},
		{
			name: "end packets only (short event)",
			packets: []pkt{
				{0, 500, Event{Code: 10, Duration: 400, End: true}, nil},
				{20, 500, Event{Code: 10, Duration: 400, End: true}, nil},
			},
			want: []media.Digit{digit('*', 50)},
		},
		{
			name: "same key twice is two events (distinct timestamps)",
			packets: []pkt{
				{0, 1000, Event{Code: 3, Duration: 800, End: true}, nil},
				{20, 1000, Event{Code: 3, Duration: 800, End: true}, nil},
				{200, 3000, Event{Code: 3, Duration: 800, End: true}, nil},
				{220, 3000, Event{Code: 3, Duration: 800, End: true}, nil},
			},
			want: []media.Digit{digit('3', 100), digit('3', 100)},
		},
		{
			name: "reordered: end before the last update, late update dropped",
			packets: []pkt{
				{0, 1000, Event{Code: 9, Duration: 160}, nil},
				{20, 1000, Event{Code: 9, Duration: 480, End: true}, nil},
				{25, 1000, Event{Code: 9, Duration: 320}, nil},
				{40, 1000, Event{Code: 9, Duration: 480, End: true}, nil},
			},
			want: []media.Digit{digit('9', 60)},
		},
		{
			name: "all ends lost: the next event reports the previous one",
			packets: []pkt{
				{0, 1000, Event{Code: 4, Duration: 160}, nil},
				{20, 1000, Event{Code: 4, Duration: 320}, nil},
				{200, 4000, Event{Code: 5, Duration: 160}, nil},
				{220, 4000, Event{Code: 5, Duration: 320, End: true}, nil},
			},
			want: []media.Digit{digit('4', 40), digit('5', 40)},
		},
		{
			name: "all ends lost, nothing follows: expiry reports it",
			packets: []pkt{
				{0, 1000, Event{Code: 0, Duration: 160}, nil},
				{20, 1000, Event{Code: 0, Duration: 320}, nil},
			},
			expire: 500 * time.Millisecond,
			want:   []media.Digit{digit('0', 40)},
		},
		{
			name: "flash is not a digit, and short payloads are skipped",
			packets: []pkt{
				{0, 1000, Event{Code: 16, Duration: 800, End: true}, nil},
				{10, 2000, Event{}, []byte{1, 2}},
				{20, 3000, Event{Code: 13, Duration: 160, End: true}, nil},
			},
			want: []media.Digit{digit('B', 20)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Unix(1000, 0)
			var r Receiver
			got, sink := collect()
			for _, p := range tc.packets {
				payload := p.raw
				if payload == nil {
					payload = make([]byte, PayloadSize)
					_, _ = p.ev.MarshalTo(payload)
				}
				err := r.Packet(start.Add(p.at*time.Millisecond), p.ts, payload, sink)
				if p.raw != nil {
					require.ErrorIs(t, err, ErrShortPayload)
				} else {
					require.NoError(t, err)
				}
				r.Expire(start.Add(p.at*time.Millisecond), sink) // never early
			}
			if tc.expire > 0 {
				r.Expire(start.Add(tc.expire), sink)
			}
			require.Equal(t, tc.want, *got)
		})
	}
}

func TestSenderSequence(t *testing.T) {
	cases := []struct {
		name      string
		key       byte
		d         time.Duration
		durations []uint16 // one per packet
	}{
		{"100 ms", '7', 100 * time.Millisecond, []uint16{160, 320, 480, 640, 800, 800, 800}},
		{"rounded up to a tick", '#', 30 * time.Millisecond, []uint16{160, 320, 320, 320}},
		{"zero is one tick", '1', 0, []uint16{160, 160, 160}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s Sender
			require.NoError(t, s.Start(tc.key, tc.d, 160))
			require.ErrorIs(t, s.Start('1', tc.d, 160), ErrBusy)
			code, _ := CodeOf(tc.key)
			ts := uint32(0xFFFFFF00) // wraps during the event
			var got []uint16
			for i := 0; s.Active(); i++ {
				p, ok := s.Next(ts)
				require.True(t, ok)
				require.Equal(t, uint32(0xFFFFFF00), p.Timestamp, "every packet carries the start timestamp")
				require.Equal(t, i == 0, p.Marker, "marker only on the first packet")
				var e Event
				require.NoError(t, e.Unmarshal(p.Payload[:]))
				require.Equal(t, code, e.Code)
				require.Equal(t, uint8(Volume), e.Volume)
				n := len(tc.durations)
				require.Equal(t, i >= n-3, e.End, "packet %d", i)
				require.Equal(t, i == n-1, p.Last)
				got = append(got, e.Duration)
				ts += 160
			}
			require.Equal(t, tc.durations, got)
			_, ok := s.Next(ts)
			require.False(t, ok)
		})
	}
	var s Sender
	require.ErrorIs(t, s.Start('x', time.Second, 160), ErrUnknownKey)
	require.NoError(t, s.Start('1', time.Hour, 160))
	for s.Active() {
		p, _ := s.Next(0)
		var e Event
		require.NoError(t, e.Unmarshal(p.Payload[:]))
		require.LessOrEqual(t, int(e.Duration), 0xFFFF)
	}
}

// TestSenderToReceiver runs a sender's packets, each end packet duplicated
// on the wire, through a receiver: one digit each, with the sent duration.
func TestSenderToReceiver(t *testing.T) {
	var (
		s   Sender
		r   Receiver
		now = time.Unix(0, 0)
		ts  uint32
	)
	got, sink := collect()
	for _, k := range []byte("12#*0") {
		require.NoError(t, s.Start(k, 120*time.Millisecond, 160))
		for s.Active() {
			p, _ := s.Next(ts)
			for range 2 {
				require.NoError(t, r.Packet(now, p.Timestamp, p.Payload[:], sink))
			}
			ts += 160
			now = now.Add(20 * time.Millisecond)
		}
		ts += 800 // a gap of audio between digits
	}
	require.Len(t, *got, 5)
	for i, k := range []byte("12#*0") {
		require.Equal(t, digit(k, 120), (*got)[i])
	}
}
