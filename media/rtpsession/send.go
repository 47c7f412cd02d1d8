package rtpsession

import (
	"net/netip"
	"time"

	"github.com/voxrun/voxrun/media"
)

// Tick is called by the pacing clock every 20 ms. It expires what waits on
// the receive side, then reads one frame from the current source and sends
// a packet when one is full (or a telephone-event packet instead).
func (s *Session) Tick(now time.Time) {
	s.recvMu.Lock()
	s.win.expire(now, s.maxHold, s)
	s.dtmfRecv.Expire(now, s.digitSink)
	s.recvMu.Unlock()

	s.sendMu.Lock()
	s.lastTickTS, s.lastTickAt = s.ts, now
	n, dst := s.buildLocked()
	s.sendMu.Unlock()
	if n > 0 {
		// I/O outside the lock: out is only touched by Tick, which one shard
		// goroutine runs at a time.
		_, _ = s.writeRTP(s.out[:n], dst)
	}
	s.maybeSendRTCP(now)
}

// buildLocked advances the send side by one frame and returns the packet to
// send, if any, in s.out.
func (s *Session) buildLocked() (int, netip.AddrPort) {
	tickTS := s.ts
	s.ts += media.FrameSamples

	// The current source always advances, so that a prompt keeps its time
	// while a digit is sent or the peer holds.
	src := s.source
	if src == nil {
		clear(s.frame)
	} else if err := src.ReadFrame(s.frame); err != nil {
		// io.EOF or a failed source: comfort silence from now on.
		s.source = nil
		s.talk = true
		clear(s.frame)
	}

	sending := !s.noSend && s.remote.IsValid() && !s.closed
	if !sending {
		s.nframes = 0
		s.talk = true
		return 0, netip.AddrPort{}
	}

	if !s.sender.Active() {
		s.startDigitLocked()
	}
	if s.sender.Active() {
		p, _ := s.sender.Next(tickTS)
		s.nframes = 0 // RFC 4733 §2.5.1.1: no audio while the event lasts
		if p.Last {
			s.finishDigitLocked()
			s.talk = true
		}
		copy(s.out[headerSize:], p.Payload[:])
		return s.headerLocked(s.tePT, p.Timestamp, p.Marker, len(p.Payload)), s.remote
	}
	if s.relay.on {
		s.nframes = 0 // SendRelay sends the audio
		return 0, netip.AddrPort{}
	}

	if s.wide != nil {
		s.wide.encode(s.out[headerSize+s.nframes*media.FrameSamples:], s.frame)
	} else {
		s.codec.Encode(s.out[headerSize+s.nframes*media.FrameSamples:], s.frame)
	}
	s.nframes++
	if s.nframes < s.frames {
		return 0, netip.AddrPort{}
	}
	n := s.nframes
	s.nframes = 0
	marker := s.talk
	s.talk = false
	first := tickTS - uint32((n-1)*media.FrameSamples)
	return s.headerLocked(s.pt, first, marker, n*media.FrameSamples), s.remote
}

// headerLocked writes the RTP header for the next sequence number and
// returns the packet's length.
func (s *Session) headerLocked(pt uint8, ts uint32, marker bool, payload int) int {
	s.hdr.PayloadType = pt
	s.hdr.SequenceNumber = s.seq
	s.hdr.Timestamp = ts
	s.hdr.Marker = marker
	s.seq++
	s.sent++
	s.octets += uint64(payload)
	if _, err := s.hdr.MarshalTo(s.out[:headerSize]); err != nil {
		return 0
	}
	return headerSize + payload
}

func (s *Session) startDigitLocked() {
	if s.gap > 0 {
		s.gap--
		return
	}
	for len(s.digits) > 0 {
		r := s.digits[0]
		if r.canceled {
			s.digits = s.digits[1:]
			continue
		}
		if err := s.sender.Start(r.key, r.d, media.FrameSamples); err != nil {
			s.digits = s.digits[1:]
			r.err = err
			close(r.done)
			continue
		}
		return
	}
}

func (s *Session) finishDigitLocked() {
	r := s.digits[0]
	s.digits[0] = nil
	s.digits = s.digits[1:]
	close(r.done)
	s.gap = digitGap
}
