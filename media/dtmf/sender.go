package dtmf

import "time"

// Sender produces the telephone-event packets of one digit at a time, one
// packet per pacing tick (RFC 4733 §2.5.1): the first with the marker bit,
// updates with a growing duration, all with the event's start timestamp,
// then the end packet three times (§2.5.1.4).
//
// A Sender is used by one goroutine; it is not safe for concurrent use.
type Sender struct {
	active   bool
	started  bool
	ts       uint32
	code     uint8
	volume   uint8
	total    uint16 // the event's length in timestamp units
	sent     uint16 // duration of the last update
	ends     int    // end packets sent
	tickSize uint16
}

// Packet is one telephone-event packet to send.
type Packet struct {
	// Timestamp is the RTP timestamp: the event's start for all its packets.
	Timestamp uint32
	// Marker is set on the first packet of the event (§2.5.1.1).
	Marker bool
	// Payload is the 4-byte telephone-event payload.
	Payload [PayloadSize]byte
	// Last is set on the last packet of the event; audio may resume after it.
	Last bool
}

// Volume is the default power level: -10 dBm0 (§2.3.3 says keys are sent at
// a level a telephone network would recognise).
const Volume = 10

// Start begins sending key for d, in ticks of tickSamples timestamp units
// (160 for 20 ms at 8000 Hz). d is rounded up to whole ticks and capped at
// the largest duration one packet can carry.
func (s *Sender) Start(key byte, d time.Duration, tickSamples uint16) error {
	if s.active {
		return ErrBusy
	}
	code, err := CodeOf(key)
	if err != nil {
		return err
	}
	if tickSamples == 0 {
		tickSamples = 160
	}
	samples := int64(d) * 8000 / int64(time.Second)
	ticks := max(1, (samples+int64(tickSamples)-1)/int64(tickSamples))
	total := min(ticks*int64(tickSamples), 0xFFFF/int64(tickSamples)*int64(tickSamples))
	*s = Sender{active: true, code: code, volume: Volume, total: uint16(total), tickSize: tickSamples}
	return nil
}

// Active reports whether a digit is being sent; while it is, the leg sends
// Next's packets instead of audio.
func (s *Sender) Active() bool { return s.active }

// Next returns the packet for this tick, whose audio timestamp is ts. The
// event's timestamp is the ts of its first tick.
func (s *Sender) Next(ts uint32) (Packet, bool) {
	if !s.active {
		return Packet{}, false
	}
	p := Packet{}
	if !s.started {
		s.started = true
		s.ts = ts
		p.Marker = true
	}
	p.Timestamp = s.ts
	e := Event{Code: s.code, Volume: s.volume}
	if s.sent < s.total {
		s.sent += s.tickSize
	}
	e.Duration = s.sent
	if s.sent >= s.total {
		e.End = true
		s.ends++
		if s.ends == 3 {
			p.Last = true
			s.active = false
		}
	}
	_, _ = e.MarshalTo(p.Payload[:])
	return p, true
}
