// Command media is the media benchmark of issue 5: N concurrent RTP legs on
// one voxrun media stack (the shared clock, the port allocator, rtpsession,
// and the netpoll shards or a goroutine per socket), with real 20 ms RTP
// over loopback both ways to a peer process, side by side with that peer as
// the reference.
//
// The peer (this binary with -peer) is bare Go UDP: one socket per leg, a
// goroutine blocked in ReadFrom per socket, one loop sending a packet to
// every leg each 20 ms. It sends and receives exactly as many packets as
// voxrun does, so the ratio voxrun CPU / peer CPU says what voxrun's media
// work (pacing, RTP, reorder window, G.711, the DTMF detector, rooms) costs
// over moving the same packets with nothing but package net.
//
// Modes:
//
//   - play: every leg plays a prompt (a looped second of PCM, as a cached
//     prompt is) and decodes what it receives, with the in-band DTMF
//     detector on it (-inband, the default) — issue 5's "2,000 legs, each
//     playing a prompt and running the DTMF detector";
//   - relay: legs in pairs, each pair bridged by a media/room on the fast
//     path (packets relayed, rewritten, not decoded): N legs are N/2 calls;
//   - transcode: the same rooms forced to mix (decode, sum, encode).
//
// Reported per step, over a window after a warm-up: voxrun's CPU (cores),
// the peer's, their ratio, µs of voxrun CPU per packet (sent + received),
// packets lost both ways (RFC 3550 at voxrun, sequence numbers at the
// peer), the p99 and max deviation of the interarrival time from 20 ms of
// voxrun's packets at the peer (kernel receive times, SO_TIMESTAMPNS: the
// send jitter as the far end sees it), the p99 lateness of voxrun's
// frames against the clock's schedule (play), the largest RFC 3550 jitter
// a leg computed, the clock's late and skipped ticks, and the heap per leg.
// The knee is the most legs with no loss, no skipped tick and a p99 under
// 2 ms.
//
// Everything stays on 127.0.0.1; each step is bounded in time, and the peer
// process is waited for (killed by PID if it does not stop).
//
//	go run ./bench/media -legs 1000,2000,3000 -seconds 10
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/netpoll"
	"github.com/voxrun/voxrun/media/ports"
	"github.com/voxrun/voxrun/media/room"
	"github.com/voxrun/voxrun/media/rtpsession"
)

var loopback = netip.MustParseAddr("127.0.0.1")

type options struct {
	legs       []int
	modes      []string
	receivers  []string
	seconds    time.Duration
	warmup     time.Duration
	inband     bool
	cpuProfile string
	portMin    int
	portMax    int
	batch      time.Duration
	goTimers   bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-peer" {
		if err := runPeer(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	var o options
	legs := flag.String("legs", "1000,2000", "concurrent legs per step")
	modes := flag.String("modes", "play,relay,transcode", "play, relay, transcode")
	receivers := flag.String("receivers", "poller,goroutines", "how voxrun reads its sockets: poller (media/netpoll shards) or goroutines (one per socket)")
	flag.DurationVar(&o.seconds, "seconds", 10*time.Second, "measured window per step")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "time before the window")
	flag.BoolVar(&o.inband, "inband", true, "run the in-band DTMF detector on every playing leg")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the first step to this file")
	flag.BoolVar(&o.goTimers, "go-timers", false, "pace the clock with Go's timers instead of the precise sleep")
	flag.DurationVar(&o.batch, "batch", 0, "the poller's batch wait (0: netpoll.DefaultBatch; negative: none)")
	flag.IntVar(&o.portMin, "port-min", 20000, "voxrun's RTP range")
	flag.IntVar(&o.portMax, "port-max", 39999, "voxrun's RTP range")
	flag.Parse()
	for _, s := range strings.Split(*legs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			fmt.Fprintf(os.Stderr, "bad -legs %q\n", s)
			os.Exit(2)
		}
		o.legs = append(o.legs, n&^1)
	}
	o.modes = strings.Split(*modes, ",")
	o.receivers = strings.Split(*receivers, ",")

	fmt.Printf("media benchmark: GOMAXPROCS %d, %d CPUs, window %v after %v warm-up, in-band detector %v, Go timers %v\n\n",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), o.seconds, o.warmup, o.inband, o.goTimers)
	fmt.Println("| mode | receive | legs | voxrun CPU | peer CPU | ratio | µs/packet | lost at voxrun | lost at peer | p99 / max interarrival dev. at peer | p99 frame lateness | max RFC 3550 jitter | late / skipped ticks | heap/leg |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	profiled := false
	for _, mode := range o.modes {
		knee := map[string]int{}
		for _, n := range o.legs {
			for _, recv := range o.receivers {
				profile := ""
				if o.cpuProfile != "" && !profiled {
					profile, profiled = o.cpuProfile, true
				}
				r, err := step(o, mode, recv, n, profile)
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s %s %d legs: %v\n", mode, recv, n, err)
					os.Exit(1)
				}
				fmt.Println(r.row())
				if r.ok() {
					knee[recv] = max(knee[recv], n)
				}
			}
		}
		for _, recv := range o.receivers {
			fmt.Printf("| %s | %s | knee: %d legs | | | | | | | | | | | |\n", mode, recv, knee[recv])
		}
	}
}

type result struct {
	mode, recv               string
	legs                     int
	cpu, peerCPU             float64 // cores
	packets                  uint64  // voxrun sent + received in the window
	lostVoxrun, lostPeer     int64
	latePeer                 int64
	peerP99, peerMax         time.Duration
	lateness                 time.Duration
	maxJitter                time.Duration
	lateTicks, skippedTicks  uint64
	heapPerLeg               uint64
	window                   time.Duration
	peerSent, voxrunReceived uint64
}

// ok says whether the step is under the knee.
func (r result) ok() bool {
	return r.lostVoxrun == 0 && r.lostPeer == 0 && r.latePeer == 0 && r.skippedTicks == 0 && r.peerP99 <= 2*time.Millisecond
}

func (r result) row() string {
	lateness := "-"
	if r.mode == "play" {
		lateness = fmtDur(r.lateness)
	}
	return fmt.Sprintf("| %s | %s | %d | %.2f | %.2f | %.2f | %.2f | %d | %d (%d late) | %s / %s | %s | %s | %d / %d | %.1f KB |",
		r.mode, r.recv, r.legs, r.cpu, r.peerCPU, r.cpu/math.Max(r.peerCPU, 1e-9),
		float64(r.cpu*r.window.Seconds()*1e6)/math.Max(float64(r.packets), 1),
		r.lostVoxrun, r.lostPeer, r.latePeer, fmtDur(r.peerP99), fmtDur(r.peerMax), lateness, fmtDur(r.maxJitter),
		r.lateTicks, r.skippedTicks, float64(r.heapPerLeg)/1024)
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// step runs one configuration and tears it down.
func step(o options, mode, recv string, n int, cpuProfile string) (res result, err error) {
	res = result{mode: mode, recv: recv, legs: n, window: o.seconds}
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)

	clk := clock.New(clock.Config{GoTimers: o.goTimers})
	defer clk.Close()
	var poller *netpoll.Poller
	switch recv {
	case "poller":
		if poller, err = netpoll.New(netpoll.Config{Batch: o.batch}); err != nil {
			return res, err
		}
		defer poller.Close()
	case "goroutines":
	default:
		return res, fmt.Errorf("unknown receiver %q", recv)
	}
	alloc, err := ports.New(ports.Config{Min: o.portMin, Max: o.portMax, Poller: poller})
	if err != nil {
		return res, err
	}
	ctx := context.Background()
	leases := make([]*ports.Lease, 0, n)
	defer func() {
		for _, l := range leases {
			_ = l.Close()
		}
	}()
	targets := make([]uint16, n)
	for i := range n {
		l, err := alloc.Listen(ctx, loopback, false)
		if err != nil {
			return res, err
		}
		leases = append(leases, l)
		targets[i] = uint16(l.Port)
	}

	peer, err := startPeer(targets)
	if err != nil {
		return res, err
	}
	defer peer.kill()

	var late histogram
	var measuring atomic.Bool
	prompt := promptPCM()
	sessions := make([]*rtpsession.Session, 0, n)
	defer func() {
		for _, s := range sessions {
			_ = s.Close()
		}
	}()
	for i, l := range leases {
		s, err := rtpsession.New(rtpsession.Config{
			Conn: l.RTP, Socket: l.Socket, Closer: l, Clock: clk, Codec: g711.PCMU, TelephoneEvent: 101,
			InbandDTMF: mode == "play" && o.inband,
			Remote:     netip.AddrPortFrom(loopback, peer.ports[i]),
		})
		if err != nil {
			return res, err
		}
		sessions = append(sessions, s)
	}
	leases = nil // the sessions close them
	var rooms []*room.Room
	defer func() {
		for _, r := range rooms {
			_ = r.Close()
		}
	}()
	switch mode {
	case "play":
		for i, s := range sessions {
			s.SetSource(&promptSource{pcm: prompt, pos: i * 37 % len(prompt), late: &late, measuring: &measuring})
		}
	case "relay", "transcode":
		for i := 0; i+1 < len(sessions); i += 2 {
			r, err := room.New(clk, room.Config{NoRelay: mode == "transcode"})
			if err != nil {
				return res, err
			}
			rooms = append(rooms, r)
			for _, s := range sessions[i : i+2] {
				if _, err := r.Join(s); err != nil {
					return res, err
				}
			}
		}
	default:
		return res, fmt.Errorf("unknown mode %q", mode)
	}
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	if m1.HeapInuse > m0.HeapInuse {
		res.heapPerLeg = (m1.HeapInuse - m0.HeapInuse) / uint64(n)
	}

	if err := peer.say("start"); err != nil {
		return res, err
	}
	time.Sleep(o.warmup)
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return res, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
		defer pprof.StopCPUProfile()
	}
	if err := peer.say("measure"); err != nil {
		return res, err
	}
	measuring.Store(true)
	before := snapshot(sessions)
	late0, skipped0 := clk.Late()
	cpu0, peer0 := selfCPU(), peer.cpu()
	t0 := time.Now()
	time.Sleep(o.seconds)
	cpu1, peer1 := selfCPU(), peer.cpu()
	wall := time.Since(t0)
	after := snapshot(sessions)
	late1, skipped1 := clk.Late()
	measuring.Store(false)
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	res.window = wall
	res.cpu = (cpu1 - cpu0).Seconds() / wall.Seconds()
	res.peerCPU = (peer1 - peer0).Seconds() / wall.Seconds()
	res.packets = after.sent - before.sent + after.received - before.received
	res.lostVoxrun = after.lost - before.lost
	res.maxJitter = after.maxJitter
	res.lateTicks, res.skippedTicks = late1-late0, skipped1-skipped0
	res.lateness = late.quantile(0.99)

	rep, err := peer.stop()
	if err != nil {
		return res, err
	}
	res.lostPeer, res.latePeer = rep.Lost, rep.Late
	res.peerP99 = time.Duration(rep.JitterP99) * time.Microsecond
	res.peerMax = time.Duration(rep.JitterMax) * time.Microsecond
	for _, r := range rooms {
		_ = r.Close()
	}
	rooms = nil
	for _, s := range sessions {
		if err := s.Close(); err != nil {
			return res, err
		}
	}
	sessions = nil
	if alloc.InUse() != 0 {
		return res, fmt.Errorf("%d ports still in use after the step", alloc.InUse())
	}
	return res, nil
}

type totals struct {
	sent, received uint64
	lost           int64
	maxJitter      time.Duration
}

func snapshot(sessions []*rtpsession.Session) (t totals) {
	for _, s := range sessions {
		st := s.Stats()
		t.sent += st.PacketsSent
		t.received += st.PacketsReceived
		t.lost += st.PacketsLost
		t.maxJitter = max(t.maxJitter, st.Jitter)
	}
	return t
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// promptPCM is one second of speech-like audio: a 140 Hz voice with its
// harmonics, its loudness rising and falling four times a second.
func promptPCM() []int16 {
	pcm := make([]int16, media.SampleRate)
	for i := range pcm {
		t := float64(i) / media.SampleRate
		env := 0.5 + 0.5*math.Sin(2*math.Pi*4*t)
		var v float64
		for h := 1; h <= 12; h++ {
			v += math.Sin(2*math.Pi*140*float64(h)*t) / float64(h)
		}
		pcm[i] = int16(6000 * env * v / 3)
	}
	return pcm
}

// promptSource loops the prompt from an offset, as a cached prompt is
// played (a copy per frame), and records how late each frame is read
// against its leg's 20 ms schedule (the clock reads it just before the
// packet leaves).
type promptSource struct {
	pcm       []int16
	pos       int
	late      *histogram
	measuring *atomic.Bool
	start     time.Time
	k         int
	base      time.Duration
}

func (p *promptSource) ReadFrame(frame []int16) error {
	now := time.Now()
	if p.start.IsZero() {
		p.start = now
	}
	dev := now.Sub(p.start.Add(time.Duration(p.k) * media.FrameDuration))
	if late := dev - p.base; late >= 4*media.FrameDuration {
		// The clock skipped ticks (it catches up at most three): follow
		// its new schedule instead of counting the skip on every frame.
		p.k += int(late / media.FrameDuration)
		dev -= late / media.FrameDuration * media.FrameDuration
	}
	p.k++
	if p.k == 1 || dev < p.base {
		p.base = dev // the leg's earliest: its place in its shard's round
	}
	if p.measuring.Load() {
		p.late.add(dev - p.base)
	}
	for n := 0; n < len(frame); {
		c := copy(frame[n:], p.pcm[p.pos:])
		n += c
		p.pos = (p.pos + c) % len(p.pcm)
	}
	return nil
}

// peerProcess is the running peer.
type peerProcess struct {
	cmd   *exec.Cmd
	in    *os.File
	out   *bufio.Reader
	ports []uint16
}

func startPeer(targets []uint16) (*peerProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-peer")
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdin, cmd.Stderr = inR, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	_ = inR.Close()
	p := &peerProcess{cmd: cmd, in: inW, out: bufio.NewReader(stdout)}
	if err := json.NewEncoder(inW).Encode(peerSetup{Targets: targets}); err != nil {
		p.kill()
		return nil, err
	}
	line, err := p.out.ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &p.ports)
	}
	if err != nil || len(p.ports) != len(targets) {
		p.kill()
		return nil, fmt.Errorf("peer: ports: %v", err)
	}
	return p, nil
}

func (p *peerProcess) say(s string) error {
	_, err := fmt.Fprintln(p.in, s)
	return err
}

// cpu is the peer's user+system time from /proc (clock ticks of 10 ms).
func (p *peerProcess) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func (p *peerProcess) stop() (peerReport, error) {
	var rep peerReport
	if err := p.say("stop"); err != nil {
		return rep, err
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		return rep, fmt.Errorf("peer: report: %w", err)
	}
	if err := json.Unmarshal(line, &rep); err != nil {
		return rep, fmt.Errorf("peer: report: %w", err)
	}
	return rep, p.cmd.Wait()
}

// kill ends the peer if it is still running (by its PID).
func (p *peerProcess) kill() {
	_ = p.in.Close()
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}
