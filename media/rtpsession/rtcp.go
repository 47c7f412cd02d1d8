package rtpsession

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtcp"
)

// rtcpState is the RTCP side of a session (RFC 3550 §6). It is guarded by
// recvMu, except countdown, which only Tick touches.
type rtcpState struct {
	enabled   bool
	interval  time.Duration
	cname     string
	countdown int // ticks until the next report

	remote   netip.AddrPort // where RTCP goes when not multiplexed
	latched  bool
	sent     uint64
	received uint64

	// For the reception report block (RFC 3550 A.3).
	expectedPrior int64
	receivedPrior uint64
	lastSR        uint32 // middle 32 bits of the peer's last SR NTP time
	lastSRAt      time.Time

	// What the peer reports about us.
	rtt          time.Duration
	remoteLost   int64
	remoteJitter time.Duration
}

// ntpTime converts t to the 64-bit NTP format (RFC 3550 §4).
func ntpTime(t time.Time) uint64 {
	const unixToNTP = 2208988800
	secs := uint64(t.Unix() + unixToNTP)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

func ntpMiddle(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// isRTCP tells RTCP from RTP on a multiplexed port (RFC 5761 §4): RTCP
// packet types 192-223 fall where RTP would carry marker+payload type.
func isRTCP(b []byte) bool {
	return len(b) >= 2 && b[1] >= 192 && b[1] <= 223
}

// nextCountdown draws the next report interval in ticks (RFC 3550 §6.2:
// randomised between 0.5 and 1.5 times the interval).
func (r *rtcpState) nextCountdown(tick time.Duration) {
	d := time.Duration(float64(r.interval) * (0.5 + rand.Float64()))
	r.countdown = max(1, int(d/tick))
}

// maybeSendRTCP runs on every Tick and sends a report when one is due.
func (s *Session) maybeSendRTCP(now time.Time) {
	if !s.rtcp.enabled {
		return
	}
	s.rtcp.countdown--
	if s.rtcp.countdown > 0 {
		return
	}
	s.rtcp.nextCountdown(20 * time.Millisecond)
	b, dst, ok := s.buildReport(now)
	if !ok {
		return
	}
	if _, err := s.writeRTCP(b, dst); err == nil {
		s.recvMu.Lock()
		s.rtcp.sent++
		s.recvMu.Unlock()
	}
}

// buildReport writes a compound RTCP packet: an SR when we sent since the
// last report, else an RR, with a reception report block about the peer
// when it has sent, and an SDES CNAME (RFC 3550 §6.1). It allocates once
// per report interval, not per packet.
func (s *Session) buildReport(now time.Time) ([]byte, netip.AddrPort, bool) {
	var reports []rtcp.ReceptionReport
	s.recvMu.Lock()
	st := &s.stats
	if st.init {
		expected := st.expected()
		lost := st.lostCurrent()
		expInterval := expected - s.rtcp.expectedPrior
		recvInterval := int64(st.received - s.rtcp.receivedPrior)
		s.rtcp.expectedPrior, s.rtcp.receivedPrior = expected, st.received
		var fraction uint8
		if lostInterval := expInterval - recvInterval; expInterval > 0 && lostInterval > 0 {
			fraction = uint8(lostInterval << 8 / expInterval)
		}
		rr := rtcp.ReceptionReport{
			SSRC:               st.ssrc,
			FractionLost:       fraction,
			TotalLost:          uint32(max(-0x800000, min(0x7FFFFF, lost))) & 0xFFFFFF,
			LastSequenceNumber: st.cycles + uint32(st.maxSeq),
			Jitter:             uint32(st.jitter >> 4),
		}
		if s.rtcp.lastSR != 0 {
			rr.LastSenderReport = s.rtcp.lastSR
			rr.Delay = uint32(now.Sub(s.rtcp.lastSRAt) * 65536 / time.Second)
		}
		reports = append(reports, rr)
	}
	dst := s.rtcp.remote
	s.recvMu.Unlock()

	s.sendMu.Lock()
	sent, octets, tickTS, tickAt := s.sent, s.octets, s.lastTickTS, s.lastTickAt
	fresh := s.sent != s.sentAtReport
	s.sentAtReport = s.sent
	if !s.rtcpSeparate {
		dst = s.remote // multiplexed: RTCP follows RTP
	} else if !dst.IsValid() && s.remote.IsValid() && s.remote.Port() < 65535 {
		dst = netip.AddrPortFrom(s.remote.Addr(), s.remote.Port()+1)
	}
	s.sendMu.Unlock()
	if !dst.IsValid() {
		return nil, dst, false
	}

	var first rtcp.Packet
	if fresh {
		first = &rtcp.SenderReport{
			SSRC:        s.ssrc,
			NTPTime:     ntpTime(now),
			RTPTime:     tickTS + uint32(now.Sub(tickAt)*clockRate/time.Second),
			PacketCount: uint32(sent),
			OctetCount:  uint32(octets),
			Reports:     reports,
		}
	} else {
		first = &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: reports}
	}
	b, err := rtcp.Marshal([]rtcp.Packet{first, rtcp.NewCNAMESourceDescription(s.ssrc, s.rtcp.cname)})
	if err != nil {
		return nil, dst, false
	}
	return b, dst, true
}

// handleRTCP reads a compound RTCP packet from the peer: the timestamp of
// its sender report (for our LSR/DLSR) and its report about us (RTT by
// RFC 3550 §6.4.1, loss, jitter).
func (s *Session) handleRTCP(b []byte, from netip.AddrPort, now time.Time) {
	pkts, err := rtcp.Unmarshal(b)
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	if err != nil {
		s.malformed++
		return
	}
	if s.latched.IsValid() && from.Addr() != s.latched.Addr() && s.strict {
		s.foreign++
		return
	}
	if s.rtcpSeparate {
		s.rtcp.remote = from // symmetric RTCP
	}
	s.rtcp.received++
	for _, p := range pkts {
		var reports []rtcp.ReceptionReport
		switch p := p.(type) {
		case *rtcp.SenderReport:
			s.rtcp.lastSR = uint32(p.NTPTime >> 16)
			s.rtcp.lastSRAt = now
			reports = p.Reports
		case *rtcp.ReceiverReport:
			reports = p.Reports
		}
		for _, r := range reports {
			if r.SSRC != s.ssrc {
				continue
			}
			lost := int64(r.TotalLost)
			if lost&0x800000 != 0 {
				lost -= 1 << 24
			}
			s.rtcp.remoteLost = lost
			s.rtcp.remoteJitter = time.Duration(r.Jitter) * time.Second / clockRate
			if r.LastSenderReport != 0 {
				if rtt := int64(ntpMiddle(now)) - int64(r.LastSenderReport) - int64(r.Delay); rtt >= 0 {
					s.rtcp.rtt = time.Duration(rtt) * time.Second / 65536
				}
			}
		}
	}
}

// readRTCPLoop reads the separate RTCP socket, when there is one.
func (s *Session) readRTCPLoop() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.rtcpConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return // closed by Close, or by the socket's owner
			}
			continue
		}
		s.handleRTCPDatagram(buf[:n], from, time.Now())
	}
}

// handleRTCPDatagram takes one datagram from the separate RTCP socket.
func (s *Session) handleRTCPDatagram(b []byte, from netip.AddrPort, now time.Time) {
	s.handleRTCP(b, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), now)
}
