package rtpsession

import (
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/voxrun/voxrun/media/g711"
)

// Packet is an audio packet handed from one session to another for
// relaying: the bridge's fast path, with no decoding or encoding.
type Packet struct {
	// Timestamp is the RTP timestamp in the sending peer's timeline.
	Timestamp uint32
	// Payload is the encoded audio, or the telephone-event payload; it is
	// only valid during the call.
	Payload []byte
	// Event marks an RFC 4733 telephone-event packet: it is relayed with the
	// receiving session's telephone-event payload type, so digits pass
	// through a relayed bridge.
	Event bool
}

// PacketSink receives the peer's audio packets in sequence order (after the
// reorder window, before decoding). It runs on the session's reader
// goroutine, must not block, and must not keep Payload.
type PacketSink interface {
	RelayPacket(p Packet)
}

// Format is what two sessions must share to relay packets between them.
type Format struct {
	Codec g711.Codec
	G722  bool // G.722 (Codec unused)
	PTime time.Duration
}

// relayState is the sending side of relaying, guarded by sendMu except
// buf and hdr, which relayMu guards.
type relayState struct {
	on      bool
	started bool   // offset is set
	offset  uint32 // added to the peer's timestamps
	lastTS  uint32 // timestamp of the last relayed packet, ours
	lastDur uint32
	// The peer's timestamp of the last relayed event: a new one starts an
	// event, which RFC 4733 §2.5.1.1 marks.
	lastEvent uint32
	anyEvent  bool

	mu  sync.Mutex
	buf []byte
	hdr rtp.Header
}

// Format returns the session's codec and packetisation time.
func (s *Session) Format() Format {
	f := Format{Codec: s.codec, PTime: time.Duration(s.frames) * 20 * time.Millisecond}
	if s.wide != nil {
		f.Codec, f.G722 = 0, true
	}
	return f
}

// SetPacketSink sets the receiver of the peer's audio packets (nil to stop).
// Sinks of decoded frames and digits go on as before.
func (s *Session) SetPacketSink(ps PacketSink) {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	s.packetSink = ps
}

// StartRelay makes the session send what SendRelay gives it instead of its
// source's frames. Its SSRC, sequence numbers and timeline go on: relayed
// timestamps are shifted onto the session's own, and the first relayed
// packet starts a talkspurt. Digits (SendDigit) still go out. SetSource
// ends relaying.
func (s *Session) StartRelay() {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.relay.on, s.relay.started = true, false
}

// StopRelay goes back to sending the source's frames, without a timestamp
// going backwards, as a new talkspurt.
func (s *Session) StopRelay() {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.stopRelayLocked()
}

func (s *Session) stopRelayLocked() {
	if !s.relay.on {
		return
	}
	if s.relay.started {
		if next := s.relay.lastTS + s.relay.lastDur; int32(next-s.ts) > 0 {
			s.ts = next // the peer's clock ran ahead of ours: jump, never rewind
		}
	}
	s.relay.on, s.relay.started = false, false
	s.nframes = 0
	s.talk = true
}

// Relaying reports whether the session is relaying (SetSource or StopRelay
// end it).
func (s *Session) Relaying() bool {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return s.relay.on
}

// SendRelay sends one relayed packet now, rewritten with the session's
// SSRC, next sequence number and timeline. It is dropped when the session
// is not relaying, not sending, or sending a digit.
func (s *Session) SendRelay(p Packet) {
	if len(p.Payload) > maxPayload {
		return
	}
	s.sendMu.Lock()
	if !s.relay.on || s.noSend || !s.remote.IsValid() || s.closed || s.sender.Active() {
		s.sendMu.Unlock()
		return
	}
	if !s.relay.started {
		s.relay.started = true
		s.relay.offset = s.ts - p.Timestamp
		s.talk = true
	}
	ts := p.Timestamp + s.relay.offset
	pt := s.pt
	var marker bool
	if p.Event {
		if s.tePT == 0 {
			s.sendMu.Unlock()
			return // the other side has no telephone-event
		}
		pt = s.tePT
		marker = !s.relay.anyEvent || p.Timestamp != s.relay.lastEvent
		s.relay.lastEvent, s.relay.anyEvent = p.Timestamp, true
	} else {
		marker = s.talk
		s.talk = false
		s.relay.lastTS, s.relay.lastDur = ts, uint32(len(p.Payload)) // G.711: one byte per sample
	}
	seq := s.seq
	s.seq++
	s.sent++
	s.octets += uint64(len(p.Payload))
	dst := s.remote
	s.sendMu.Unlock()

	r := &s.relay
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.buf == nil {
		r.buf = make([]byte, headerSize+maxPayload)
		r.hdr = rtp.Header{Version: 2, SSRC: s.ssrc}
	}
	r.hdr.PayloadType, r.hdr.SequenceNumber, r.hdr.Timestamp, r.hdr.Marker = pt, seq, ts, marker
	if _, err := r.hdr.MarshalTo(r.buf[:headerSize]); err != nil {
		return
	}
	n := headerSize + copy(r.buf[headerSize:], p.Payload)
	_, _ = s.writeRTP(r.buf[:n], dst)
}
