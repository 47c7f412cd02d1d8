package dtmf

import (
	"time"

	"github.com/voxrun/voxrun/media"
)

// DefaultEndTimeout is how long the Receiver waits after the last packet of
// an event with no end bit before it reports the digit anyway (all end
// packets lost).
const DefaultEndTimeout = 250 * time.Millisecond

// Receiver turns received telephone-event packets into digits: one per
// event, reported when the event ends, with its duration. All the packets of
// an event carry the event's start timestamp (RFC 4733 §2.5.1.2), so the
// receiver de-duplicates by RTP timestamp: updates, end retransmissions
// (§2.5.1.4) and late duplicates of a reported event are dropped.
//
// A Receiver is used by one goroutine; it is not safe for concurrent use.
type Receiver struct {
	// ClockRate is the RTP clock rate of the telephone-event format (8000 if zero).
	ClockRate uint32
	// EndTimeout overrides DefaultEndTimeout.
	EndTimeout time.Duration

	active   bool
	ts       uint32
	code     uint8
	duration uint16
	lastSeen time.Time

	// reported remembers the timestamps of the last events reported.
	reported [4]uint32
	nrep     int
}

func (r *Receiver) rate() uint32 {
	if r.ClockRate == 0 {
		return 8000
	}
	return r.ClockRate
}

func (r *Receiver) wasReported(ts uint32) bool {
	for i := range min(r.nrep, len(r.reported)) {
		if r.reported[i] == ts {
			return true
		}
	}
	return false
}

func (r *Receiver) report() (media.Digit, bool) {
	r.active = false
	r.reported[r.nrep%len(r.reported)] = r.ts
	r.nrep++
	key, ok := KeyOf(r.code)
	if !ok {
		return media.Digit{}, false // flash and other events: not a digit
	}
	d := time.Duration(r.duration) * time.Second / time.Duration(r.rate())
	return media.Digit{Key: key, Duration: d, Origin: media.DigitRFC4733}, true
}

// Packet takes the payload of one telephone-event packet with its RTP
// timestamp, received at now, and hands complete digits to sink: when this
// packet ends its event, and when it starts a new event while the previous
// one was never ended (the previous digit first).
func (r *Receiver) Packet(now time.Time, ts uint32, payload []byte, sink media.DigitSink) error {
	var e Event
	if err := e.Unmarshal(payload); err != nil {
		return err
	}
	if r.wasReported(ts) {
		return nil // a retransmitted end, or a late update
	}
	if r.active && ts != r.ts {
		r.emit(sink)
	}
	if !r.active {
		r.active, r.ts, r.code, r.duration = true, ts, e.Code, 0
	}
	r.lastSeen = now
	r.duration = max(r.duration, e.Duration)
	if e.End {
		r.emit(sink)
	}
	return nil
}

func (r *Receiver) emit(sink media.DigitSink) {
	if d, ok := r.report(); ok && sink != nil {
		sink.Digit(d)
	}
}

// Expire reports the current event to sink if no packet has come for
// EndTimeout (its end packets were lost). Call it on the leg's pacing tick.
func (r *Receiver) Expire(now time.Time, sink media.DigitSink) {
	timeout := r.EndTimeout
	if timeout == 0 {
		timeout = DefaultEndTimeout
	}
	if r.active && now.Sub(r.lastSeen) >= timeout {
		r.emit(sink)
	}
}
