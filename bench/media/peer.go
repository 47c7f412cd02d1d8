package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"golang.org/x/sys/unix"

	"github.com/voxrun/voxrun/media/g711"
)

// The peer is the far end of every leg, in a process of its own so that its
// CPU is not voxrun's: bare Go UDP, one socket per leg, one goroutine
// blocked in ReadFrom per socket, one loop sending a packet to every leg
// each 20 ms. It doing the same packet rate as voxrun, its CPU is the
// reference of the ratio.

// peerSetup is what the bench sends the peer on its standard input.
type peerSetup struct {
	Targets []uint16 `json:"targets"` // voxrun's leg ports on 127.0.0.1
}

// peerReport is what the peer answers after "stop".
type peerReport struct {
	Sent      uint64 `json:"sent"`
	Received  uint64 `json:"received"`
	Lost      int64  `json:"lost"` // by RTP sequence numbers, over all streams
	Late      int64  `json:"late"` // out of order or duplicated
	Streams   int    `json:"streams"`
	JitterP50 int64  `json:"jitter_p50_us"` // |interarrival − 20 ms|
	JitterP99 int64  `json:"jitter_p99_us"`
	JitterMax int64  `json:"jitter_max_us"`
}

// stream is what the peer knows of one leg's packets.
type stream struct {
	started  bool
	first    int64 // extended sequence number of the first packet
	ext      int64 // extended highest sequence number
	received int64
	last     time.Time
	back     int // packets not newer than the newest seen: late or duplicated
}

func (s *stream) packet(seq uint16, now time.Time) (interarrival time.Duration, ok bool) {
	if !s.started {
		s.started, s.first, s.ext = true, int64(seq), int64(seq)
	} else if d := int64(int16(seq - uint16(s.ext))); d > 0 {
		s.ext += d
	} else {
		s.back++
	}
	s.received++
	ok = !s.last.IsZero()
	interarrival = now.Sub(s.last)
	s.last = now
	return interarrival, ok
}

// histogram of jitter in 10 µs buckets up to 100 ms.
type histogram [10001]atomic.Uint64

func (h *histogram) add(d time.Duration) {
	i := min(int(d/(10*time.Microsecond)), len(h)-1)
	h[i].Add(1)
}

func (h *histogram) quantile(q float64) time.Duration {
	var n uint64
	for i := range h {
		n += h[i].Load()
	}
	if n == 0 {
		return 0
	}
	want := uint64(q * float64(n))
	var c uint64
	for i := range h {
		c += h[i].Load()
		if c > want {
			return time.Duration(i) * 10 * time.Microsecond
		}
	}
	return time.Duration(len(h)-1) * 10 * time.Microsecond
}

func (h *histogram) max() time.Duration {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Load() > 0 {
			return time.Duration(i) * 10 * time.Microsecond
		}
	}
	return 0
}

// runPeer is the peer process: it binds one socket per target, prints
// their ports, waits for "start", sends and receives until "stop", then
// prints its report and exits.
func runPeer() error {
	in := bufio.NewReader(os.Stdin)
	var setup peerSetup
	line, err := in.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("peer: setup: %w", err)
	}
	if err := json.Unmarshal(line, &setup); err != nil {
		return fmt.Errorf("peer: setup: %w", err)
	}
	n := len(setup.Targets)
	conns := make([]*net.UDPConn, n)
	own := make([]uint16, n)
	for i := range conns {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return fmt.Errorf("peer: %w", err)
		}
		conns[i] = c
		own[i] = uint16(c.LocalAddr().(*net.UDPAddr).Port)
		// Kernel arrival times, so that the interarrival figures are
		// voxrun's sending and not this process's own scheduling.
		if rc, err := c.SyscallConn(); err == nil {
			_ = rc.Control(func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) })
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(own); err != nil {
		return err
	}

	var (
		hist     histogram
		received atomic.Uint64
		measure  atomic.Bool
		streams  = make([]stream, n)
		wg       sync.WaitGroup
	)
	for i, c := range conns {
		wg.Go(func() {
			buf := make([]byte, 1500)
			oob := make([]byte, 64)
			var pkt rtp.Header
			for {
				m, oobn, _, _, err := c.ReadMsgUDPAddrPort(buf, oob)
				if err != nil {
					return
				}
				now := arrival(oob[:oobn])
				if _, err := pkt.Unmarshal(buf[:m]); err != nil {
					continue
				}
				received.Add(1)
				if d, ok := streams[i].packet(pkt.SequenceNumber, now); ok && measure.Load() {
					hist.add((d - 20*time.Millisecond).Abs())
				}
			}
		})
	}

	if _, err := in.ReadString('\n'); err != nil { // "start"
		return fmt.Errorf("peer: start: %w", err)
	}
	stop := make(chan struct{})
	var sent atomic.Uint64
	wg.Go(func() { sent.Store(send(conns, setup.Targets, stop)) })
	// "measure" opens the window in which jitter counts (after warm-up).
	if _, err := in.ReadString('\n'); err != nil {
		return fmt.Errorf("peer: measure: %w", err)
	}
	measure.Store(true)
	if _, err := in.ReadString('\n'); err != nil { // "stop"
		return fmt.Errorf("peer: stop: %w", err)
	}
	close(stop)
	time.Sleep(200 * time.Millisecond) // let the last packets land
	for _, c := range conns {
		_ = c.Close()
	}
	wg.Wait()
	rep := peerReport{Sent: sent.Load(), Received: received.Load(),
		JitterP50: hist.quantile(0.5).Microseconds(), JitterP99: hist.quantile(0.99).Microseconds(),
		JitterMax: hist.max().Microseconds()}
	for _, s := range streams {
		if s.started {
			rep.Streams++
			// RFC 3550 A.3 per stream, duplicates not making up for loss.
			rep.Lost += max(0, s.ext-s.first+1-s.received)
			rep.Late += int64(s.back)
		}
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// arrival reads the SCM_TIMESTAMPNS control message (the kernel's receive
// time), or returns now.
func arrival(oob []byte) time.Time {
	h := unix.CmsgLen(0)
	if len(oob) >= h+16 {
		level := int32(binary.NativeEndian.Uint32(oob[8:]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:]))
		if level == unix.SOL_SOCKET && typ == unix.SCM_TIMESTAMPNS {
			sec := int64(binary.NativeEndian.Uint64(oob[h:]))
			nsec := int64(binary.NativeEndian.Uint64(oob[h+8:]))
			return time.Unix(sec, nsec)
		}
	}
	return time.Now()
}

// send writes one 20 ms PCMU packet to every target per period, paced
// against the wall clock, from one goroutine; it returns how many it sent.
func send(conns []*net.UDPConn, targets []uint16, stop <-chan struct{}) uint64 {
	type out struct {
		hdr rtp.Header
		dst netip.AddrPort
	}
	outs := make([]out, len(conns))
	for i := range outs {
		outs[i] = out{hdr: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(rand.Uint32()),
			Timestamp: rand.Uint32(), SSRC: rand.Uint32()},
			dst: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), targets[i])}
	}
	// The prompt in µ-law, a second of it, so that voxrun's decoder and
	// DTMF detector get speech-like audio to chew on, not silence.
	pcm := promptPCM()
	ulaw := make([]byte, len(pcm))
	g711.EncodeUlaw(ulaw, pcm)
	buf := make([]byte, 12+160)
	var sent uint64
	start := time.Now()
	for k := 1; ; k++ {
		for i := range outs {
			o := &outs[i]
			off := (i*37 + k*160) % (len(ulaw) - 160)
			copy(buf[12:], ulaw[off:off+160])
			if _, err := o.hdr.MarshalTo(buf[:12]); err == nil {
				if _, err := conns[i].WriteToUDPAddrPort(buf, o.dst); err == nil {
					sent++
				}
			}
			o.hdr.SequenceNumber++
			o.hdr.Timestamp += 160
		}
		select {
		case <-stop:
			return sent
		case <-time.After(time.Until(start.Add(time.Duration(k) * 20 * time.Millisecond))):
		}
	}
}

// percentile of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}
