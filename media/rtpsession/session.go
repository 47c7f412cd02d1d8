package rtpsession

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/dtmf"
	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/netpoll"
)

const (
	headerSize = 12
	clockRate  = 8000
	// digitGap is the silence sent between two queued digits.
	digitGap = 2 // ticks
)

// Session is one leg's RTP. It implements media.Endpoint.
type Session struct {
	// The sockets: package net's (a reader goroutine each), or the
	// poller's (read by its shards); writeRTP and writeRTCP send on them.
	conn         *net.UDPConn
	rtcpConn     *net.UDPConn
	sock         *netpoll.Conn
	rtcpSock     *netpoll.Conn
	rtcpSeparate bool // RTCP has its own socket (not multiplexed)
	local        netip.AddrPort
	writeRTP     writeFunc
	writeRTCP    writeFunc
	closer       io.Closer
	codec        g711.Codec
	wide         *wideband // G.722 instead of codec; only Tick and the receive path touch it
	onFrame      func()    // frameDecoded, bound once (no allocation per packet)
	pt           uint8
	tePT         uint8
	frames       int // frames per packet (ptime / 20 ms)
	strict       bool
	latch        bool
	epoch        time.Time

	// Send side: the clock's shard goroutine, and the callers of SetSource,
	// SendDigit and SetRemote.
	sendMu  sync.Mutex
	remote  netip.AddrPort
	noSend  bool
	source  media.Source
	talk    bool // the next packet starts a talkspurt (marker bit)
	seq     uint16
	ts      uint32 // timestamp of the current tick's frame
	ssrc    uint32
	nframes int // frames encoded into out so far
	sender  dtmf.Sender
	digits  []*digitRequest
	gap     int
	sent    uint64
	octets  uint64
	closed  bool

	// For sender reports: the last tick's timestamp and time, and the
	// packet count at the last report.
	lastTickTS   uint32
	lastTickAt   time.Time
	sentAtReport uint64
	relay        relayState
	frame        []int16 // only Tick touches frame and out
	out          []byte
	hdr          rtp.Header
	silenced     bool

	// Receive side: the reader goroutine, and Tick's expiries.
	recvMu     sync.Mutex
	noReceive  bool
	latched    netip.AddrPort
	pkt        rtp.Packet
	win        window
	stats      recvStats
	foreign    uint64
	dups       uint64
	lateDrops  uint64
	malformed  uint64
	sinks      []*sinkEntry
	digitSink  media.DigitSink
	dtmfRecv   dtmf.Receiver
	inband     *dtmf.InbandDetector
	packetSink PacketSink
	inFrame    []int16
	inFill     int
	maxHold    time.Duration
	rtcp       rtcpState

	unregister func()
	unwatch    []func() // the Receiver's stop functions
	closeOnce  sync.Once
	closeErr   error
	wg         sync.WaitGroup
	closing    atomic.Bool
}

var _ media.Endpoint = (*Session)(nil)

type sinkEntry struct{ s media.Sink }

// writeFunc sends one datagram: (*net.UDPConn).WriteToUDPAddrPort or
// (*netpoll.Conn).WriteTo, bound once.
type writeFunc func(b []byte, dst netip.AddrPort) (int, error)

// connsCloser closes the sockets when no Closer was given.
type connsCloser []io.Closer

func (c connsCloser) Close() error {
	var errs []error
	for _, conn := range c {
		errs = append(errs, conn.Close())
	}
	return errors.Join(errs...)
}

// digitForwarder hands in-band digits to the current digit sink; it runs
// under recvMu, inside release.
type digitForwarder struct{ s *Session }

func (f digitForwarder) Digit(d media.Digit) {
	if f.s.digitSink != nil {
		f.s.digitSink.Digit(d)
	}
}

type digitRequest struct {
	key      byte
	d        time.Duration
	done     chan struct{}
	canceled bool
	err      error
}

// New starts a session: it registers with the clock and starts the reader
// goroutine. Close stops both and closes Conn (through Closer). When New
// fails, the caller still owns the sockets.
func New(cfg Config) (*Session, error) {
	if (cfg.Conn == nil) == (cfg.Socket == nil) || cfg.Clock == nil {
		return nil, fmt.Errorf("%w: one of Conn and Socket, and Clock, are required", ErrConfig)
	}
	frames := 1
	switch cfg.PTime {
	case 0, 20 * time.Millisecond:
	case 40 * time.Millisecond:
		frames = 2
	case 60 * time.Millisecond:
		frames = 3
	default:
		return nil, fmt.Errorf("%w: ptime %v is not 20, 40 or 60 ms", ErrConfig, cfg.PTime)
	}
	pt := cfg.PayloadType
	var wide *wideband
	if cfg.G722 {
		w, err := newWideband()
		if err != nil {
			return nil, fmt.Errorf("%w: G.722: %v", ErrConfig, err)
		}
		wide = w
		if pt == 0 {
			pt = g722PayloadType
		}
	}
	if pt == 0 {
		pt = cfg.Codec.PayloadType()
	}
	ssrc := cfg.SSRC
	for ssrc == 0 {
		ssrc = rand.Uint32()
	}
	s := &Session{
		codec: cfg.Codec, wide: wide, pt: pt, tePT: cfg.TelephoneEvent,
		frames: frames, strict: !cfg.LooseSource, latch: !cfg.NoLatch, epoch: time.Now(),
		remote: cfg.Remote, noSend: cfg.NoSend, talk: true,
		seq: uint16(rand.Uint32()), ts: rand.Uint32(), ssrc: ssrc,
		frame: media.NewFrame(), out: make([]byte, headerSize+frames*media.FrameSamples),
		noReceive: cfg.NoReceive, win: newWindow(cfg.ReorderWindow),
		inFrame: media.NewFrame(),
	}
	s.onFrame = s.frameDecoded
	s.maxHold = time.Duration(s.win.size) * media.FrameDuration * time.Duration(frames)
	s.pkt.CSRC = make([]uint32, 0, 15)
	s.sockets(cfg)
	s.rtcp = rtcpState{
		enabled:  cfg.RTCPMux || s.rtcpSeparate,
		interval: cfg.RTCPInterval,
		cname:    cfg.CNAME,
		remote:   cfg.RemoteRTCP,
	}
	if s.rtcp.interval <= 0 {
		s.rtcp.interval = 5 * time.Second
	}
	if s.rtcp.cname == "" {
		s.rtcp.cname = "voxrun"
	}
	s.rtcp.nextCountdown(media.FrameDuration)
	if cfg.InbandDTMF {
		s.inband = &dtmf.InbandDetector{Sink: digitForwarder{s}}
	}
	s.hdr = rtp.Header{Version: 2, SSRC: ssrc}
	unregister, err := cfg.Clock.Register(s)
	if err != nil {
		return nil, fmt.Errorf("media/rtpsession: %w", err)
	}
	s.unregister = unregister
	if s.sock != nil {
		if err := s.watch(); err != nil {
			unregister()
			return nil, fmt.Errorf("media/rtpsession: %w", err)
		}
		return s, nil
	}
	s.wg.Go(s.readLoop)
	if s.rtcpSeparate {
		s.wg.Go(s.readRTCPLoop)
	}
	return s, nil
}

// sockets takes the sockets of cfg: package net's or the poller's, the
// RTCP one unless RTCP is multiplexed, and what closes them.
func (s *Session) sockets(cfg Config) {
	var closers connsCloser
	if cfg.Socket != nil {
		s.sock, s.writeRTP, s.local = cfg.Socket, cfg.Socket.WriteTo, cfg.Socket.LocalAddr()
		closers = append(closers, cfg.Socket)
		if cfg.RTCPSocket != nil {
			closers = append(closers, cfg.RTCPSocket)
			if !cfg.RTCPMux {
				s.rtcpSock, s.writeRTCP, s.rtcpSeparate = cfg.RTCPSocket, cfg.RTCPSocket.WriteTo, true
			}
		}
	} else {
		s.conn, s.writeRTP = cfg.Conn, cfg.Conn.WriteToUDPAddrPort
		s.local = cfg.Conn.LocalAddr().(*net.UDPAddr).AddrPort()
		closers = append(closers, cfg.Conn)
		if cfg.RTCPConn != nil {
			closers = append(closers, cfg.RTCPConn)
			if !cfg.RTCPMux {
				s.rtcpConn, s.writeRTCP, s.rtcpSeparate = cfg.RTCPConn, cfg.RTCPConn.WriteToUDPAddrPort, true
			}
		}
	}
	if !s.rtcpSeparate {
		s.writeRTCP = s.writeRTP
	}
	s.closer = cfg.Closer
	if s.closer == nil {
		s.closer = closers
	}
}

// watch hands the poller's sockets to its shards.
func (s *Session) watch() error {
	stop, err := s.sock.Watch(s.handleRTP)
	if err != nil {
		return err
	}
	s.unwatch = append(s.unwatch, stop)
	if s.rtcpSock != nil {
		stop, err := s.rtcpSock.Watch(s.handleRTCPDatagram)
		if err != nil {
			s.unwatch[0]()
			return err
		}
		s.unwatch = append(s.unwatch, stop)
	}
	return nil
}

// LocalAddr is the address the session receives on.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// SSRC is the session's outbound SSRC.
func (s *Session) SSRC() uint32 { return s.ssrc }

// SetSource makes src the current source; nil means comfort silence. The
// next packet starts a talkspurt (marker bit); sequence numbers and
// timestamps go on without a jump. It ends relaying (StartRelay).
func (s *Session) SetSource(src media.Source) {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.stopRelayLocked()
	s.source = src
	s.talk = true
}

// SetRemote changes where RTP goes after a re-INVITE's new SDP, and lets
// the session latch again to whatever address the peer sends from next.
// When RTCP is not multiplexed it goes to rtp's port plus one until
// SetRemoteRTCP says otherwise or the peer's RTCP re-latches it.
func (s *Session) SetRemote(rtp netip.AddrPort) {
	s.recvMu.Lock()
	s.latched = netip.AddrPort{}
	s.rtcp.remote = netip.AddrPort{}
	s.recvMu.Unlock()
	s.sendMu.Lock()
	s.remote = rtp
	s.talk = true
	s.sendMu.Unlock()
}

// SetRemoteRTCP sets where RTCP goes when it is not multiplexed (the new
// SDP's a=rtcp).
func (s *Session) SetRemoteRTCP(rtcp netip.AddrPort) {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	s.rtcp.remote = rtcp
}

// SetDirection applies a new negotiated direction (hold and resume).
func (s *Session) SetDirection(send, receive bool) {
	s.recvMu.Lock()
	s.noReceive = !receive
	s.recvMu.Unlock()
	s.sendMu.Lock()
	s.noSend = !send
	s.talk = true
	s.sendMu.Unlock()
}

// AddSink adds a receiver of decoded inbound frames. Sinks run on the
// reader goroutine and must not block; a sink that returns an error is
// removed. AddSink must not be called from a sink.
func (s *Session) AddSink(sink media.Sink) (remove func()) {
	e := &sinkEntry{s: sink}
	s.recvMu.Lock()
	s.sinks = append(s.sinks, e)
	s.recvMu.Unlock()
	return func() {
		s.recvMu.Lock()
		defer s.recvMu.Unlock()
		s.removeSinkLocked(e)
	}
}

func (s *Session) removeSinkLocked(e *sinkEntry) {
	for i, x := range s.sinks {
		if x == e {
			s.sinks = append(s.sinks[:i], s.sinks[i+1:]...)
			return
		}
	}
}

// OnDigit sets the receiver of RFC 4733 digits (nil drops them).
func (s *Session) OnDigit(sink media.DigitSink) {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	s.digitSink = sink
}

// SendDigit queues key as an RFC 4733 event of duration d and waits until
// its last end packet is sent, ctx ends or the session closes.
func (s *Session) SendDigit(ctx context.Context, key byte, d time.Duration) error {
	if s.tePT == 0 {
		return ErrNoTelephoneEvent
	}
	if _, err := dtmf.CodeOf(key); err != nil {
		return fmt.Errorf("media/rtpsession: send digit %q: %w", key, err)
	}
	req := &digitRequest{key: key, d: d, done: make(chan struct{})}
	s.sendMu.Lock()
	if s.closed {
		s.sendMu.Unlock()
		return media.ErrClosed
	}
	s.digits = append(s.digits, req)
	s.sendMu.Unlock()
	select {
	case <-req.done:
		return req.err
	case <-ctx.Done():
		s.sendMu.Lock()
		req.canceled = true
		s.sendMu.Unlock()
		return context.Cause(ctx)
	}
}

// Stats returns the leg's figures so far.
func (s *Session) Stats() media.Stats {
	s.recvMu.Lock()
	st := media.Stats{
		PacketsReceived: s.stats.received,
		PacketsLost:     s.stats.lostPrev + s.stats.lostCurrent(),
		Duplicates:      s.dups,
		Late:            s.lateDrops,
		Foreign:         s.foreign,
		OctetsReceived:  s.stats.octets,
		Jitter:          s.stats.jitterDuration(clockRate),
		MaxJitter:       s.stats.maxJitterDuration(clockRate),
		RTT:             s.rtcp.rtt,
		RemoteLost:      s.rtcp.remoteLost,
		RemoteJitter:    s.rtcp.remoteJitter,
		RTCPSent:        s.rtcp.sent,
		RTCPReceived:    s.rtcp.received,
	}
	if !s.stats.init {
		st.PacketsLost = 0
	}
	s.recvMu.Unlock()
	s.sendMu.Lock()
	st.PacketsSent, st.OctetsSent = s.sent, s.octets
	s.sendMu.Unlock()
	return st
}

// Close stops sending and receiving, waits for the reader goroutine and
// closes the socket (through Config.Closer). Pending SendDigit calls return
// media.ErrClosed. It is idempotent.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		s.unregister()
		s.sendMu.Lock()
		s.closed = true
		pending := s.digits
		s.digits = nil
		s.sendMu.Unlock()
		for _, r := range pending {
			r.err = media.ErrClosed
			close(r.done)
		}
		// Stop the reader (the Receiver's, or unblock and wait for our
		// own), then let go of the socket.
		var err error
		for _, stop := range s.unwatch {
			stop()
		}
		if s.conn != nil {
			err = s.conn.SetReadDeadline(time.Unix(1, 0))
			if s.rtcpConn != nil {
				err = errors.Join(err, s.rtcpConn.SetReadDeadline(time.Unix(1, 0)))
			}
		}
		s.wg.Wait()
		err = errors.Join(err, s.closer.Close())
		if errors.Is(err, net.ErrClosed) {
			err = nil // the socket's owner closed it first: nothing lost
		}
		s.closeErr = err
	})
	return s.closeErr
}
