package sdp

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"

	psdp "github.com/pion/sdp/v3"
)

// Codec is an RTP payload format as SDP names it (RFC 4566 §6, a=rtpmap).
type Codec struct {
	// Name is the encoding name, compared case-insensitively ("PCMU").
	Name string
	// PayloadType is the RTP payload type the stream uses for it.
	PayloadType uint8
	// ClockRate is the RTP clock rate in Hz.
	ClockRate uint32
}

// The codecs voxrun speaks today, with their static payload types
// (RFC 3551 §6), and the telephone-event payload type it offers.
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000}
	// G722 is offered and accepted only when Local.Codecs names it. Its
	// RTP clock rate is 8000 although it samples at 16 kHz (RFC 3551
	// §4.5.2).
	G722 = Codec{Name: "G722", PayloadType: 9, ClockRate: 8000}
)

// DefaultTelephoneEvent is the dynamic payload type voxrun offers for
// RFC 4733 telephone-event when Local does not name one.
const DefaultTelephoneEvent uint8 = 101

const (
	telephoneEvent = "telephone-event"
	defaultPTime   = 20 * time.Millisecond
)

// Local is voxrun's side of a negotiation.
type Local struct {
	// Addr is the address voxrun receives RTP on (the c= line).
	Addr netip.Addr
	// Port is the RTP port voxrun receives on (the m= line).
	Port int
	// Codecs are the codecs voxrun accepts, in its order of preference for
	// offers; empty means PCMU then PCMA. Answers follow the offerer's order.
	Codecs []Codec
	// TelephoneEvent is the payload type voxrun offers for RFC 4733 events;
	// zero means DefaultTelephoneEvent. Answers keep the offerer's.
	TelephoneEvent uint8
	// NoTelephoneEvent leaves telephone-event out of offers and answers.
	NoTelephoneEvent bool
	// Direction is what voxrun wants (sendrecv unless holding the peer).
	Direction Direction
	// RTCPMux offers RTCP on the RTP port (RFC 5761). Answers accept rtcp-mux
	// whenever the peer offers it.
	RTCPMux bool
	// SessionID and SessionVersion fill the o= line (RFC 4566 §5.2). Keep the
	// ID for the dialog and increase the version on every new offer or
	// answer; a zero ID is replaced by a random one, returned in Session.
	SessionID      uint64
	SessionVersion uint64
}

func (l *Local) codecs() []Codec {
	if len(l.Codecs) == 0 {
		return []Codec{PCMU, PCMA}
	}
	return l.Codecs
}

// Session is the outcome of a negotiation: what the RTP leg runs with.
type Session struct {
	// Remote is where the peer receives RTP. It is the zero AddrPort when the
	// peer holds with a 0.0.0.0 connection address (RFC 3264 §8.4).
	Remote netip.AddrPort
	// RemoteRTCP is where the peer receives RTCP: Remote with rtcp-mux, the
	// a=rtcp attribute (RFC 3605) when present, else the RTP port plus one.
	RemoteRTCP netip.AddrPort
	// Codec is the audio codec both sides use.
	Codec Codec
	// TelephoneEvent is the RFC 4733 format both sides use; its Name is empty
	// when the peer did not offer telephone-event at 8000 Hz.
	TelephoneEvent Codec
	// PTime is the packetisation time: the peer's a=ptime when it is 20, 40
	// or 60 ms, else 20 ms.
	PTime time.Duration
	// Direction is voxrun's direction: Sends says whether to send RTP,
	// Receives whether to deliver what arrives.
	Direction Direction
	// RTCPMux says RTCP shares the RTP port (RFC 5761).
	RTCPMux bool
	// SessionID is the o= session ID voxrun wrote (see Local.SessionID).
	SessionID uint64
}

// HasTelephoneEvent reports whether RFC 4733 events were negotiated.
func (s Session) HasTelephoneEvent() bool { return s.TelephoneEvent.Name != "" }

// Offer is a parsed SDP offer from a peer.
type Offer struct {
	desc *psdp.SessionDescription
}

// ParseOffer parses an SDP offer. It checks the syntax only; whether a
// stream can be accepted is decided by Answer.
func ParseOffer(b []byte) (*Offer, error) {
	desc, err := parse(b)
	if err != nil {
		return nil, err
	}
	return &Offer{desc: desc}, nil
}

func parse(b []byte) (*psdp.SessionDescription, error) {
	// RFC 4566 §5: an SDP starts with "v=0" and has o= and s= lines. pion
	// accepts an empty input, so check the frame first.
	if !bytes.HasPrefix(b, []byte("v=0\n")) && !bytes.HasPrefix(b, []byte("v=0\r\n")) {
		return nil, malformed(errors.New("does not start with v=0"))
	}
	var desc psdp.SessionDescription
	if err := desc.Unmarshal(b); err != nil {
		return nil, malformed(err)
	}
	if desc.Origin.NetworkType == "" || desc.Origin.UnicastAddress == "" {
		return nil, malformed(errors.New("no o= line"))
	}
	if len(desc.MediaDescriptions) == 0 {
		return nil, notAcceptable(ErrNoAudio)
	}
	return &desc, nil
}

// stream is one m= line as far as voxrun cares.
type stream struct {
	md        *psdp.MediaDescription
	formats   []Codec // offered formats, in order, names from rtpmap or static
	addr      netip.Addr
	port      int
	rtcp      netip.AddrPort
	ptime     time.Duration
	direction Direction
	rtcpMux   bool
}

// usable reports whether the m= line is audio over plain RTP on a real port.
func usable(md *psdp.MediaDescription) bool {
	if md.MediaName.Media != "audio" || md.MediaName.Port.Value <= 0 || md.MediaName.Port.Value > 65535 {
		return false
	}
	proto := strings.Join(md.MediaName.Protos, "/")
	return proto == "RTP/AVP" || proto == "RTP/AVPF"
}

// readStream reads an audio m= line, with the session-level defaults of
// connection address and direction (RFC 4566 §5).
func readStream(desc *psdp.SessionDescription, md *psdp.MediaDescription) (*stream, error) {
	s := &stream{md: md, port: md.MediaName.Port.Value, direction: SendRecv, ptime: defaultPTime}
	ci := md.ConnectionInformation
	if ci == nil {
		ci = desc.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return nil, notAcceptable(fmt.Errorf("%w: no c= line", ErrBadAddress))
	}
	// RFC 4566 §5.7: an address may carry "/ttl[/count]"; keep the address.
	host, _, _ := strings.Cut(ci.Address.Address, "/")
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return nil, notAcceptable(fmt.Errorf("%w: %q", ErrBadAddress, ci.Address.Address))
	}
	s.addr = addr.Unmap()

	rtpmap := map[uint8]Codec{}
	for _, a := range md.Attributes {
		if a.Key == "rtpmap" {
			if c, ok := parseRtpmap(a.Value); ok {
				rtpmap[c.PayloadType] = c
			}
		}
	}
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue // not an RTP payload type; ignore it
		}
		c, ok := rtpmap[uint8(pt)]
		if !ok {
			switch uint8(pt) {
			case PCMU.PayloadType:
				c = PCMU
			case PCMA.PayloadType:
				c = PCMA
			default:
				c = Codec{PayloadType: uint8(pt)}
			}
		}
		s.formats = append(s.formats, c)
	}

	for _, a := range desc.Attributes {
		if d, ok := parseDirection(a.Key); ok {
			s.direction = d
		}
	}
	for _, a := range md.Attributes {
		if d, ok := parseDirection(a.Key); ok {
			s.direction = d
		}
		switch a.Key {
		case "rtcp-mux":
			s.rtcpMux = true
		case "ptime":
			// RFC 4566 §6: a hint; voxrun sends whole 20 ms frames.
			if ms, err := strconv.Atoi(strings.TrimSpace(a.Value)); err == nil {
				if ms == 20 || ms == 40 || ms == 60 {
					s.ptime = time.Duration(ms) * time.Millisecond
				}
			}
		case "rtcp":
			s.rtcp = parseRTCPAttr(a.Value, s.addr)
		}
	}
	return s, nil
}

// parseRtpmap reads "<pt> <name>/<rate>[/<channels>]" (RFC 4566 §6).
func parseRtpmap(v string) (Codec, bool) {
	ptStr, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return Codec{}, false
	}
	pt, err := strconv.ParseUint(ptStr, 10, 7)
	if err != nil {
		return Codec{}, false
	}
	parts := strings.Split(strings.TrimSpace(rest), "/")
	if len(parts) < 2 || parts[0] == "" {
		return Codec{}, false
	}
	rate, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return Codec{}, false
	}
	return Codec{Name: parts[0], PayloadType: uint8(pt), ClockRate: uint32(rate)}, true
}

// parseRTCPAttr reads "a=rtcp:<port> [IN IP4 <addr>]" (RFC 3605 §2.1).
func parseRTCPAttr(v string, def netip.Addr) netip.AddrPort {
	fields := strings.Fields(v)
	if len(fields) == 0 {
		return netip.AddrPort{}
	}
	port, err := strconv.ParseUint(fields[0], 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}
	}
	addr := def
	if len(fields) == 4 {
		if a, err := netip.ParseAddr(fields[3]); err == nil {
			addr = a.Unmap()
		}
	}
	return netip.AddrPortFrom(addr, uint16(port))
}

// pick returns the first offered format that local accepts (the offerer's
// preference, RFC 3264 §6.1) and the offered telephone-event at 8000 Hz.
func (s *stream) pick(local Local) (codec, te Codec, found bool) {
	for _, f := range s.formats {
		if !found {
			for _, c := range local.codecs() {
				if isCodec(f, c) {
					codec = Codec{Name: c.Name, PayloadType: f.PayloadType, ClockRate: c.ClockRate}
					found = true
					break
				}
			}
		}
		if te.Name == "" && !local.NoTelephoneEvent && isTelephoneEvent(f) {
			te = Codec{Name: telephoneEvent, PayloadType: f.PayloadType, ClockRate: 8000}
		}
	}
	return codec, te, found
}

func isCodec(c, want Codec) bool {
	return strings.EqualFold(c.Name, want.Name) && (c.ClockRate == want.ClockRate || c.ClockRate == 0)
}

func isTelephoneEvent(c Codec) bool {
	return strings.EqualFold(c.Name, telephoneEvent) && c.ClockRate == 8000
}

// session turns an accepted stream into the Session the leg runs with.
func (s *stream) session(codec, te Codec, dir Direction, rtcpMux bool, sessionID uint64) Session {
	out := Session{Codec: codec, TelephoneEvent: te, PTime: s.ptime, Direction: dir, RTCPMux: rtcpMux, SessionID: sessionID}
	if s.addr.IsUnspecified() {
		return out
	}
	out.Remote = netip.AddrPortFrom(s.addr, uint16(s.port))
	switch {
	case rtcpMux:
		out.RemoteRTCP = out.Remote
	case s.rtcp.IsValid():
		out.RemoteRTCP = s.rtcp
	case s.port < 65535:
		out.RemoteRTCP = netip.AddrPortFrom(s.addr, uint16(s.port+1))
	}
	return out
}

// Answer accepts the first audio stream of the offer that has a codec in
// common with local, in the offerer's order of preference, and rejects every
// other stream with port 0 (RFC 3264 §6). It returns the answer SDP and the
// Session to run. When nothing can be accepted it returns an *Error with
// status 488 wrapping ErrNoCommonCodec or ErrNoAudio.
func (o *Offer) Answer(local Local) ([]byte, Session, error) {
	if !local.Addr.IsValid() || local.Port <= 0 || local.Port > 65535 {
		return nil, Session{}, fmt.Errorf("media/sdp: local address %v port %d: %w", local.Addr, local.Port, ErrBadAddress)
	}
	if local.SessionID == 0 {
		local.SessionID = rand.Uint64() >> 1
	}
	answer := newDescription(local)
	var (
		accepted   *Session
		firstErr   error
		sawAudioRT bool
	)
	for _, md := range o.desc.MediaDescriptions {
		if accepted == nil && usable(md) {
			sawAudioRT = true
			s, err := readStream(o.desc, md)
			if err == nil {
				var m *psdp.MediaDescription
				var sess Session
				m, sess, err = answerStream(s, local)
				if err == nil {
					accepted = &sess
					answer.MediaDescriptions = append(answer.MediaDescriptions, m)
					continue
				}
			}
			firstErr = cmpFirst(firstErr, err)
		}
		answer.MediaDescriptions = append(answer.MediaDescriptions, rejected(md))
	}
	if accepted == nil {
		switch {
		case firstErr != nil:
			return nil, Session{}, firstErr
		case !sawAudioRT:
			return nil, Session{}, notAcceptable(ErrNoAudio)
		}
		return nil, Session{}, notAcceptable(ErrNoCommonCodec)
	}
	b, err := answer.Marshal()
	if err != nil {
		return nil, Session{}, fmt.Errorf("media/sdp: write answer: %w", err)
	}
	return b, *accepted, nil
}

func cmpFirst(have, err error) error {
	if have != nil {
		return have
	}
	return err
}

// answerStream picks the codec and telephone-event for one offered stream
// and writes the answer's m= section.
func answerStream(s *stream, local Local) (*psdp.MediaDescription, Session, error) {
	codec, te, found := s.pick(local)
	if !found {
		return nil, Session{}, notAcceptable(ErrNoCommonCodec)
	}
	offered := s.direction
	if s.addr.IsUnspecified() {
		// RFC 3264 §8.4: c=0.0.0.0 (RFC 2543 hold) means "do not send to me".
		offered = join(offered.Sends(), false)
	}
	dir := answerTo(offered, local.Direction)
	sess := s.session(codec, te, dir, s.rtcpMux, local.SessionID)
	return mediaSection(local.Port, codec, te, teFmtp(s.md, te), sess.PTime, dir, s.rtcpMux), sess, nil
}

// teFmtp returns the offered fmtp of the telephone-event payload type, or
// the events voxrun handles (RFC 4733 §2.4.1: 0-15 are DTMF, 16 is flash).
func teFmtp(md *psdp.MediaDescription, te Codec) string {
	prefix := strconv.Itoa(int(te.PayloadType)) + " "
	for _, a := range md.Attributes {
		if a.Key == "fmtp" && strings.HasPrefix(a.Value, prefix) {
			return strings.TrimSpace(strings.TrimPrefix(a.Value, prefix))
		}
	}
	return "0-16"
}

// rejected answers an m= line with port 0, keeping its media, proto and
// formats (RFC 3264 §6: the answer has as many m= lines, in order).
func rejected(md *psdp.MediaDescription) *psdp.MediaDescription {
	formats := md.MediaName.Formats
	if len(formats) == 0 {
		formats = []string{"0"}
	}
	protos := md.MediaName.Protos
	if len(protos) == 0 {
		protos = []string{"RTP", "AVP"}
	}
	media := md.MediaName.Media
	if media == "" {
		media = "audio"
	}
	return &psdp.MediaDescription{MediaName: psdp.MediaName{
		Media: media, Port: psdp.RangedPort{Value: 0}, Protos: protos, Formats: formats,
	}}
}

func newDescription(local Local) *psdp.SessionDescription {
	nt, at := "IN", "IP4"
	if local.Addr.Is6() && !local.Addr.Is4In6() {
		at = "IP6"
	}
	addr := local.Addr.Unmap().String()
	return &psdp.SessionDescription{
		Version: 0,
		Origin: psdp.Origin{
			Username: "voxrun", SessionID: local.SessionID, SessionVersion: local.SessionVersion,
			NetworkType: nt, AddressType: at, UnicastAddress: addr,
		},
		SessionName:           "voxrun",
		ConnectionInformation: &psdp.ConnectionInformation{NetworkType: nt, AddressType: at, Address: &psdp.Address{Address: addr}},
		TimeDescriptions:      []psdp.TimeDescription{{Timing: psdp.Timing{}}},
	}
}

func mediaSection(port int, codec, te Codec, fmtp string, ptime time.Duration, dir Direction, rtcpMux bool) *psdp.MediaDescription {
	return mediaSectionCodecs(port, []Codec{codec}, te, fmtp, ptime, dir, rtcpMux)
}

func mediaSectionCodecs(port int, codecs []Codec, te Codec, fmtp string, ptime time.Duration, dir Direction, rtcpMux bool) *psdp.MediaDescription {
	md := &psdp.MediaDescription{MediaName: psdp.MediaName{
		Media: "audio", Port: psdp.RangedPort{Value: port}, Protos: []string{"RTP", "AVP"},
	}}
	for _, c := range codecs {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(c.PayloadType)))
		md.Attributes = append(md.Attributes, psdp.NewAttribute("rtpmap", fmt.Sprintf("%d %s/%d", c.PayloadType, c.Name, c.ClockRate)))
	}
	if te.Name != "" {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(te.PayloadType)))
		md.Attributes = append(md.Attributes,
			psdp.NewAttribute("rtpmap", fmt.Sprintf("%d %s/%d", te.PayloadType, telephoneEvent, te.ClockRate)),
			psdp.NewAttribute("fmtp", fmt.Sprintf("%d %s", te.PayloadType, fmtp)))
	}
	md.Attributes = append(md.Attributes,
		psdp.NewAttribute("ptime", strconv.Itoa(int(ptime/time.Millisecond))),
		psdp.NewPropertyAttribute(dir.String()))
	if rtcpMux {
		md.Attributes = append(md.Attributes, psdp.NewPropertyAttribute("rtcp-mux"))
	}
	return md
}

// NewOffer writes an offer for an outbound call or a re-INVITE: one audio
// stream with local's codecs in its order, telephone-event, ptime and
// direction. It returns the offer and the session ID it wrote.
func NewOffer(local Local) ([]byte, uint64, error) {
	if !local.Addr.IsValid() || local.Port <= 0 || local.Port > 65535 {
		return nil, 0, fmt.Errorf("media/sdp: local address %v port %d: %w", local.Addr, local.Port, ErrBadAddress)
	}
	if local.SessionID == 0 {
		local.SessionID = rand.Uint64() >> 1
	}
	te := Codec{}
	if !local.NoTelephoneEvent {
		te = Codec{Name: telephoneEvent, PayloadType: local.TelephoneEvent, ClockRate: 8000}
		if te.PayloadType == 0 {
			te.PayloadType = DefaultTelephoneEvent
		}
	}
	desc := newDescription(local)
	desc.MediaDescriptions = append(desc.MediaDescriptions,
		mediaSectionCodecs(local.Port, local.codecs(), te, "0-16", defaultPTime, local.Direction, local.RTCPMux))
	b, err := desc.Marshal()
	if err != nil {
		return nil, 0, fmt.Errorf("media/sdp: write offer: %w", err)
	}
	return b, local.SessionID, nil
}

// ParseAnswer reads the peer's answer to an offer that voxrun made with
// local, and returns the Session to run. The answer must accept the first
// audio stream with one of the offered codecs (RFC 3264 §6.1).
func ParseAnswer(b []byte, local Local) (Session, error) {
	desc, err := parse(b)
	if err != nil {
		return Session{}, err
	}
	md := desc.MediaDescriptions[0]
	if !usable(md) {
		return Session{}, notAcceptable(ErrNoAudio)
	}
	s, err := readStream(desc, md)
	if err != nil {
		return Session{}, err
	}
	codec, te, found := s.pick(local)
	if !found {
		return Session{}, notAcceptable(ErrNoCommonCodec)
	}
	answered := s.direction
	if s.addr.IsUnspecified() {
		answered = join(answered.Sends(), false)
	}
	// Ours is what we offered, narrowed by what the answerer does.
	dir := join(local.Direction.Sends() && answered.Receives(), local.Direction.Receives() && answered.Sends())
	return s.session(codec, te, dir, s.rtcpMux && local.RTCPMux, local.SessionID), nil
}
