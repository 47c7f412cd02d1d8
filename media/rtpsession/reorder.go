package rtpsession

import "time"

const (
	maxWindow = 8
	// maxPayload is the largest payload the window can hold: 60 ms of G.711.
	maxPayload = 480
	// restartGap is a sequence jump (either way) taken as the peer
	// restarting its stream rather than as loss or lateness.
	restartGap = 1000
)

// releaser receives packets from the window in sequence order.
type releaser interface {
	release(pt uint8, ts uint32, payload []byte, now time.Time)
}

type slot struct {
	used bool
	seq  uint16
	pt   uint8
	ts   uint32
	n    int
	buf  [maxPayload]byte
}

// verdict is what the window did with a packet.
type verdict uint8

const (
	accepted  verdict = iota // delivered now or held for a missing one
	duplicate                // seen before: dropped
	late                     // older than the window: dropped
)

// window puts packets back in sequence order within a few packets, and
// drops duplicates and packets that come too late to be played.
type window struct {
	size      int
	started   bool
	next      uint16 // the sequence number to release next
	history   uint64 // bit i: next-1-i was released
	held      int
	heldSince time.Time
	skipped   uint64 // sequence numbers given up on
	slots     [maxWindow]slot
}

func newWindow(size int) window {
	if size <= 0 {
		size = 4
	}
	return window{size: min(size, maxWindow)}
}

// push takes one packet. In the steady state (in order, nothing held) the
// payload goes straight to r without a copy.
func (w *window) push(seq uint16, pt uint8, ts uint32, payload []byte, now time.Time, r releaser) verdict {
	if !w.started {
		w.started, w.next = true, seq
	}
	d := int(int16(seq - w.next))
	switch {
	case d <= -restartGap || d >= restartGap:
		w.restart(seq, now, r)
		fallthrough
	case d == 0:
		r.release(pt, ts, payload, now)
		w.advance(true)
		w.drain(now, r)
		return accepted
	case d < 0:
		if -d <= 64 && w.history&(1<<(-d-1)) != 0 {
			return duplicate
		}
		return late
	}
	for d >= w.size {
		// Too far ahead: give up on the oldest missing packet.
		w.skip(now, r)
		d = int(int16(seq - w.next))
	}
	if d == 0 {
		r.release(pt, ts, payload, now)
		w.advance(true)
		w.drain(now, r)
		return accepted
	}
	s := &w.slots[int(seq)%w.size]
	if s.used {
		if s.seq == seq {
			return duplicate
		}
		return late // cannot happen while d < size; kept safe
	}
	if len(payload) > maxPayload {
		return late
	}
	*s = slot{used: true, seq: seq, pt: pt, ts: ts, n: len(payload)}
	copy(s.buf[:], payload)
	if w.held == 0 {
		w.heldSince = now
	}
	w.held++
	return accepted
}

func (w *window) advance(released bool) {
	w.history <<= 1
	if released {
		w.history |= 1
	} else {
		w.skipped++
	}
	w.next++
}

// drain releases held packets that are now in order.
func (w *window) drain(now time.Time, r releaser) {
	for w.held > 0 {
		s := &w.slots[int(w.next)%w.size]
		if !s.used || s.seq != w.next {
			return
		}
		r.release(s.pt, s.ts, s.buf[:s.n], now)
		s.used = false
		w.held--
		w.advance(true)
	}
	if w.held > 0 {
		w.heldSince = now
	}
}

// skip gives up on w.next (lost) and releases whatever follows in order.
func (w *window) skip(now time.Time, r releaser) {
	s := &w.slots[int(w.next)%w.size]
	if s.used && s.seq == w.next {
		r.release(s.pt, s.ts, s.buf[:s.n], now)
		s.used = false
		w.held--
		w.advance(true)
	} else {
		w.advance(false)
	}
	w.drain(now, r)
}

// expire gives up waiting when packets have been held longer than maxHold
// (the missing one is lost, not late). The session calls it every tick.
func (w *window) expire(now time.Time, maxHold time.Duration, r releaser) {
	for w.held > 0 && now.Sub(w.heldSince) >= maxHold {
		w.skip(now, r)
	}
}

// restart releases what is held, in order, and resynchronises on seq.
func (w *window) restart(seq uint16, now time.Time, r releaser) {
	for w.held > 0 {
		w.skip(now, r)
	}
	w.next, w.history = seq, 0
}
