package rtpsession

import "time"

// recvStats are the receiver figures of RFC 3550 A.1, A.3 and A.8 for the
// peer's current SSRC, plus what earlier SSRCs lost.
type recvStats struct {
	init     bool
	ssrc     uint32
	baseSeq  uint32
	maxSeq   uint16
	cycles   uint32
	received uint64
	lostPrev int64 // lost under earlier SSRCs
	// octets and maxJitter span every SSRC of the call.
	octets    uint64
	maxJitter int64

	haveTransit bool
	lastTransit int64
	jitter      int64 // RFC 3550 A.8, in timestamp units scaled by 16
}

// update counts one packet that is not a duplicate (RFC 3550 A.1, without
// the probation of a new source: the leg has one peer).
func (s *recvStats) update(ssrc uint32, seq uint16) {
	if !s.init || ssrc != s.ssrc {
		if s.init {
			s.lostPrev += s.lostCurrent()
		}
		*s = recvStats{init: true, ssrc: ssrc, baseSeq: uint32(seq), maxSeq: seq, lostPrev: s.lostPrev,
			octets: s.octets, maxJitter: s.maxJitter}
	}
	if delta := seq - s.maxSeq; delta != 0 && delta < 0x8000 {
		if seq < s.maxSeq {
			s.cycles += 1 << 16 // sequence number wrapped
		}
		s.maxSeq = seq
	}
	s.received++
}

// expected is RFC 3550 A.3's number of packets expected so far.
func (s *recvStats) expected() int64 {
	return int64(s.cycles) + int64(s.maxSeq) - int64(s.baseSeq) + 1
}

// lostCurrent is RFC 3550 A.3's cumulative number of packets lost.
func (s *recvStats) lostCurrent() int64 {
	return s.expected() - int64(s.received)
}

// transit updates the interarrival jitter with one audio packet's RTP
// timestamp and its arrival time in timestamp units (RFC 3550 A.8).
func (s *recvStats) transit(ts uint32, arrival int64) {
	transit := arrival - int64(ts)
	if s.haveTransit {
		d := transit - s.lastTransit
		// Timestamps wrap at 2^32: take the short way round.
		d = int64(int32(d))
		if d < 0 {
			d = -d
		}
		s.jitter += d - ((s.jitter + 8) >> 4)
		s.maxJitter = max(s.maxJitter, s.jitter)
	}
	s.lastTransit, s.haveTransit = transit, true
}

func (s *recvStats) jitterDuration(clockRate int64) time.Duration {
	return scaledJitter(s.jitter, clockRate)
}

func (s *recvStats) maxJitterDuration(clockRate int64) time.Duration {
	return scaledJitter(s.maxJitter, clockRate)
}

// scaledJitter converts a jitter in timestamp units scaled by 16.
func scaledJitter(j, clockRate int64) time.Duration {
	return time.Duration(j>>4) * time.Second / time.Duration(clockRate)
}
