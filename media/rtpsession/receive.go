package rtpsession

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// readLoop is the session's one reader goroutine; Close ends it by setting
// a past read deadline.
func (s *Session) readLoop() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return // closed by Close, or by the socket's owner
			}
			continue // ICMP errors and the like: keep reading
		}
		s.handleRTP(buf[:n], from, time.Now())
	}
}

// handleRTP takes one datagram from the RTP socket, received at now: RTCP
// when multiplexed (RFC 5761 §4), else RTP.
func (s *Session) handleRTP(b []byte, from netip.AddrPort, now time.Time) {
	if s.rtcp.enabled && !s.rtcpSeparate && isRTCP(b) {
		s.handleRTCP(b, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), now)
		return
	}
	s.handlePacket(b, from, now)
}

// handlePacket is the receive path of one datagram: parse, source check
// (symmetric RTP, strict source), statistics, reorder window, then decode
// or DTMF on release.
func (s *Session) handlePacket(b []byte, from netip.AddrPort, now time.Time) {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	if err := s.pkt.Unmarshal(b); err != nil || s.pkt.Version != 2 {
		s.malformed++
		return
	}
	pt := s.pkt.PayloadType
	if pt != s.pt && (s.tePT == 0 || pt != s.tePT) {
		// A payload type that was not negotiated; checked before latching so
		// that junk cannot claim the leg.
		s.malformed++
		return
	}
	switch {
	case !s.latched.IsValid():
		s.latchLocked(from)
	case from != s.latched:
		if s.strict {
			s.foreign++
			return
		}
		s.latchLocked(from)
	}
	seq := s.pkt.SequenceNumber
	if !s.stats.init || s.pkt.SSRC != s.stats.ssrc {
		// A new stream from the peer: its sequence space starts afresh.
		s.win = newWindow(s.win.size)
	}
	switch s.win.push(seq, pt, s.pkt.Timestamp, s.pkt.Payload, now, s) {
	case duplicate:
		s.dups++
		return
	case late:
		s.lateDrops++
	}
	s.stats.update(s.pkt.SSRC, seq)
	s.stats.octets += uint64(len(s.pkt.Payload))
	if pt == s.pt {
		arrival := int64(now.Sub(s.epoch)) * clockRate / int64(time.Second)
		s.stats.transit(s.pkt.Timestamp, arrival)
	}
}

// latchLocked makes from the peer's address (symmetric RTP, RFC 4961): the
// only one accepted in strict mode, and where RTP goes from now on.
func (s *Session) latchLocked(from netip.AddrPort) {
	s.latched = from
	if s.latch {
		s.sendMu.Lock()
		s.remote = from
		s.sendMu.Unlock()
	}
}

// release gets packets from the window in order: decode audio into frames
// for the sinks, or hand telephone-events to the DTMF receiver.
func (s *Session) release(pt uint8, ts uint32, payload []byte, now time.Time) {
	if s.noReceive {
		return
	}
	if pt != s.pt {
		if s.packetSink != nil {
			s.packetSink.RelayPacket(Packet{Timestamp: ts, Payload: payload, Event: true})
		}
		if err := s.dtmfRecv.Packet(now, ts, payload, s.digitSink); err != nil {
			s.malformed++
		}
		return
	}
	if s.packetSink != nil {
		s.packetSink.RelayPacket(Packet{Timestamp: ts, Payload: payload})
	}
	if s.wide != nil {
		s.wide.decode(payload, s.inFrame, s.onFrame)
		return
	}
	for len(payload) > 0 {
		n := s.codec.Decode(s.inFrame[s.inFill:], payload)
		payload = payload[n:]
		s.inFill += n
		if s.inFill == len(s.inFrame) {
			s.inFill = 0
			s.frameDecoded()
		}
	}
}

// frameDecoded hands a whole inbound frame (inFrame) to the sinks and the
// in-band detector; it runs under recvMu.
func (s *Session) frameDecoded() {
	s.writeSinksLocked()
	if s.inband != nil {
		_ = s.inband.WriteFrame(s.inFrame)
	}
}

func (s *Session) writeSinksLocked() {
	for i := 0; i < len(s.sinks); {
		if err := s.sinks[i].s.WriteFrame(s.inFrame); err != nil {
			s.sinks = append(s.sinks[:i], s.sinks[i+1:]...)
			continue
		}
		i++
	}
}
