package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/sip/siptest"
)

// Media with real peers: sipp's RTP reaches voxrun's detectors, and what
// voxrun plays reaches the caller's socket sample for sample.

const toneRate = 8000

// mediaApp is the test's webhook server: /call answers with the document
// call returns (given the server's own base URL), every other verb hook with
// hangup, and /tone.wav serves wav. Hooks are logged.
func mediaApp(t *testing.T, call func(base string) string, wav []byte) (*httptest.Server, *hookLog) {
	t.Helper()
	hooks := &hookLog{got: map[string][]map[string]any{}}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/tone.wav" {
			w.Header().Set("Content-Type", "audio/wav")
			_, _ = w.Write(wav)
			return
		}
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		hooks.add(r.URL.Path, p)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/call":
			_, _ = io.WriteString(w, call("http://"+r.Host))
		case "/status":
			w.WriteHeader(204)
		default:
			_, _ = io.WriteString(w, `[{"verb":"hangup"}]`)
		}
	}))
	t.Cleanup(app.Close)
	return app, hooks
}

// mediaServe starts voxrun on embedded defaults with number routed to app
// and returns voxrun and its SIP address.
func mediaServe(t *testing.T, number string, app *httptest.Server) (*proc, string) {
	t.Helper()
	n := startTenant(t)
	p, ready, base := n.p, n.ready, n.base
	provisionNumber(t, base, n.key, n.acct, number, map[string]any{
		"call_hook":        map[string]any{"url": app.URL + "/call"},
		"call_status_hook": map[string]any{"url": app.URL + "/status"},
	})
	return p, ready["sip_udp"].(string)
}

// waitCompleted waits for the final call status hook.
func waitCompleted(t *testing.T, hooks *hookLog) {
	t.Helper()
	require.Eventually(t, func() bool {
		st := hooks.get("/status")
		return len(st) > 0 && st[len(st)-1]["call_status"] == "completed"
	}, 10*time.Second, 20*time.Millisecond)
}

// sipp sends the RFC 2833 digits 1 3 5 7 9 from the pcaps Debian ships while
// a gather listens for five digits: the action hook gets exactly 13579, each
// digit once (the pcaps repeat each end packet three times, as RFC 4733
// §2.5.1.4 asks, so a receiver that does not deduplicate reports doubles).
func TestGatherHearsEachRFC2833DigitOnceFromSipp(t *testing.T) {
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	app, hooks := mediaApp(t, func(string) string {
		return `[{"verb":"gather","input":["digits"],"numDigits":5,"timeout":15,"actionHook":"/digits"}]`
	}, nil)
	p, sipAddr := mediaServe(t, "15550003001", app)

	start := time.Now()
	runSippCall(t, sipp, "call_dtmf_sequence.xml", sipAddr, "15550003001")
	waitCompleted(t, hooks)
	t.Logf("call took %v", time.Since(start).Round(time.Millisecond))

	got := hooks.get("/digits")
	require.Len(t, got, 1, "one action hook")
	require.Equal(t, "13579", got[0]["digits"], "each digit sipp sent, in order, once")
	require.Equal(t, "dtmfDetected", got[0]["reason"])
	p.stop(t)
}

// tone is one segment of the test prompt.
type tone struct {
	hz float64
	ms int
}

// promptTones is the test prompt: three tones, so that the cross-correlation
// has one sharp peak (a single sine correlates with itself every period).
var promptTones = []tone{{600, 400}, {1000, 400}, {1400, 400}}

const toneAmplitude = 12000

// synth renders tones at 8 kHz, each starting at phase 0.
func synth(tones []tone) []int16 {
	var out []int16
	for _, tn := range tones {
		n := tn.ms * toneRate / 1000
		for i := range n {
			out = append(out, int16(math.Round(toneAmplitude*math.Sin(2*math.Pi*tn.hz*float64(i)/toneRate))))
		}
	}
	return out
}

// wavBytes is samples as a canonical 44-byte-header WAV: PCM, 8 kHz, 16-bit, mono.
func wavBytes(samples []int16) []byte {
	var b bytes.Buffer
	data := uint32(2 * len(samples))
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, 36+data)
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(toneRate), uint32(2 * toneRate), uint16(2), uint16(16)} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, data)
	_ = binary.Write(&b, binary.LittleEndian, samples)
	return b.Bytes()
}

// captured is one RTP packet the test's socket received.
type captured struct {
	at  time.Time
	hdr rtp.Header
	pay []byte
}

// rtpCapture listens on a UDP port of 127.0.0.1 and keeps every RTP packet.
type rtpCapture struct {
	conn *net.UDPConn
	mu   sync.Mutex
	pkts []captured
	last time.Time
	done chan struct{}
}

func listenRTP(t *testing.T) *rtpCapture {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	c := &rtpCapture{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		buf := make([]byte, 1500)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			var pkt rtp.Packet
			if pkt.Unmarshal(buf[:n]) != nil {
				continue
			}
			now := time.Now()
			c.mu.Lock()
			c.pkts = append(c.pkts, captured{at: now, hdr: pkt.Header, pay: bytes.Clone(pkt.Payload)})
			c.last = now
			c.mu.Unlock()
		}
	}()
	t.Cleanup(c.close)
	return c
}

func (c *rtpCapture) port() int { return c.conn.LocalAddr().(*net.UDPAddr).Port }

// close stops listening and waits for the reader; idempotent.
func (c *rtpCapture) close() {
	_ = c.conn.Close()
	<-c.done
}

// quiet waits until no packet has come for d (at most 3 s), then stops
// listening and returns what came.
func (c *rtpCapture) quiet(d time.Duration) []captured {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		last := c.last
		c.mu.Unlock()
		if !last.IsZero() && time.Since(last) >= d {
			break
		}
		time.Sleep(d / 4)
	}
	c.close()
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]captured(nil), c.pkts...)
}

// goertzelPower is the power of x at hz (Goertzel's algorithm).
func goertzelPower(x []int16, hz float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*hz/toneRate)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// dominantHz scans 200-3800 Hz in 5 Hz steps for the strongest frequency.
func dominantHz(x []int16) float64 {
	best, bestP := 0.0, -1.0
	for hz := 200.0; hz <= 3800; hz += 5 {
		if p := goertzelPower(x, hz); p > bestP {
			best, bestP = hz, p
		}
	}
	return best
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

// normXCorr is the normalised cross-correlation of ref with got at lag.
func normXCorr(ref, got []int16, lag int) float64 {
	var num, er, eg float64
	for i, r := range ref {
		g := float64(got[lag+i])
		num += float64(r) * g
		er += float64(r) * float64(r)
		eg += g * g
	}
	if er == 0 || eg == 0 {
		return 0
	}
	return num / math.Sqrt(er*eg)
}

// The application plays a WAV that the test's own web server serves (three
// tones, 8 kHz 16-bit mono, made here); the caller's SDP names a UDP port
// the test listens on, so the test hears exactly what voxrun sends. The
// capture is checked as RTP (one SSRC, continuous sequence numbers and
// timestamps, PCMU, the marker bit on the first packet and on the prompt's
// first packet) and as audio (each tone's frequency and level, the prompt's
// duration, and its cross-correlation with what was played).
func TestPlayedWAVReachesTheCallerIntact(t *testing.T) {
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	ref := synth(promptTones)
	app, hooks := mediaApp(t, func(base string) string {
		return `[{"verb":"play","url":"` + base + `/tone.wav"},{"verb":"hangup"}]`
	}, wavBytes(ref))
	p, sipAddr := mediaServe(t, "15550003002", app)

	capture := listenRTP(t)
	runSippCall(t, sipp, "call_capture_rtp.xml", sipAddr, "15550003002", "-key", "rtp_port", strconv.Itoa(capture.port()))
	pkts := capture.quiet(300 * time.Millisecond)
	waitCompleted(t, hooks)
	p.stop(t)

	// RTP: PCMU only, one SSRC, no gap in sequence numbers or timestamps.
	require.NotEmpty(t, pkts, "voxrun sent RTP to the address in the offer")
	first := pkts[0].hdr
	require.True(t, first.Marker, "the first packet starts a talkspurt")
	samples := 0
	for i, pk := range pkts {
		require.Equal(t, uint8(0), pk.hdr.PayloadType, "packet %d is PCMU", i)
		require.Equal(t, first.SSRC, pk.hdr.SSRC, "packet %d: one SSRC", i)
		require.Equal(t, first.SequenceNumber+uint16(i), pk.hdr.SequenceNumber, "packet %d: sequence numbers follow on, in order", i)
		require.Equal(t, first.Timestamp+uint32(samples), pk.hdr.Timestamp, "packet %d: timestamps follow on", i)
		require.Len(t, pk.pay, 160, "packet %d: ptime 20", i)
		samples += len(pk.pay)
	}
	got := make([]int16, samples)
	for i, pk := range pkts {
		g711.DecodeUlaw(got[i*160:], pk.pay)
	}
	t.Logf("captured %d packets (%d ms of audio)", len(pkts), samples/8)

	// The prompt: from the first to the last sample louder than silence.
	const loud = 2000
	onset, end := -1, -1
	for i, v := range got {
		if v > loud || v < -loud {
			if onset < 0 {
				onset = i
			}
			end = i
		}
	}
	require.GreaterOrEqual(t, onset, 0, "the prompt is in the capture")
	dur := time.Duration(end-onset+1) * time.Second / toneRate
	want := time.Duration(len(ref)) * time.Second / toneRate
	t.Logf("prompt heard from sample %d of the capture for %v (want %v)", onset, dur, want)
	require.InDelta(t, want.Seconds(), dur.Seconds(), 0.1, "the prompt's duration")
	// Each tone: its frequency and level, away from the edges.
	off := onset
	for _, tn := range promptTones {
		n := tn.ms * toneRate / 1000
		seg := got[off+n/10 : off+n-n/10]
		hz, level := dominantHz(seg), rms(seg)
		t.Logf("%v Hz tone: dominant %v Hz, RMS %.0f (want %.0f)", tn.hz, hz, level, toneAmplitude/math.Sqrt2)
		require.InDelta(t, tn.hz, hz, 10, "the tone's frequency")
		require.InEpsilon(t, toneAmplitude/math.Sqrt2, level, 0.1, "the tone's level (±10%%, about 1 dB)")
		off += n
	}

	// The whole prompt against what was played: the correlation peak is
	// where the prompt starts, and close to 1 (G.711 µ-law keeps about 38 dB
	// of signal to quantisation noise).
	require.LessOrEqual(t, onset+len(ref), len(got)+1, "the capture holds the whole prompt")
	bestLag, best := 0, -1.0
	for lag := max(0, onset-160); lag <= min(onset+160, len(got)-len(ref)); lag++ {
		if c := normXCorr(ref, got, lag); c > best {
			bestLag, best = lag, c
		}
	}
	refOnset := 0
	for refOnset < len(ref) && ref[refOnset] <= loud && ref[refOnset] >= -loud {
		refOnset++
	}
	t.Logf("cross-correlation peak %.5f at lag %d (onset %d)", best, bestLag, onset)
	require.Greater(t, best, 0.99, "what the caller heard is what was played")
	require.Equal(t, onset-refOnset, bestLag, "the peak is where the prompt starts")

	// Talkspurts: the marker bit is on the first packet, on the prompt's
	// first packet (voxrun plays from a packet boundary) and on the packet
	// after it, when comfort silence takes over; nowhere else.
	require.Zero(t, bestLag%160, "the prompt starts on a packet boundary")
	markers := map[int]bool{0: true, bestLag / 160: true}
	if after := (bestLag + len(ref)) / 160; after < len(pkts) {
		markers[after] = true
	}
	for i, pk := range pkts {
		require.Equal(t, markers[i], pk.hdr.Marker, "packet %d's marker bit", i)
	}

	// Pacing: the packets left in real time, 20 ms apart.
	span := pkts[len(pkts)-1].at.Sub(pkts[0].at)
	want = time.Duration(len(pkts)-1) * 20 * time.Millisecond
	var worst time.Duration
	for i := 1; i < len(pkts); i++ {
		d := pkts[i].at.Sub(pkts[i-1].at) - 20*time.Millisecond
		worst = max(worst, d, -d)
	}
	t.Logf("%d packets over %v (want %v); worst inter-arrival deviation from 20 ms %v", len(pkts), span.Round(time.Microsecond), want, worst.Round(time.Microsecond))
	require.InDelta(t, want.Seconds(), span.Seconds(), 0.1, "sent in real time")
}

// TestComfortSilenceFromTheAnswer: once answered, a call carries RTP at
// once, comfort silence until the first prompt (here a 1 s pause before
// it), so that NAT bindings open and the caller's RTP timers see a live
// stream; the prompt then follows in the same stream without a jump.
func TestComfortSilenceFromTheAnswer(t *testing.T) {
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	ref := synth(promptTones[:1])
	app, hooks := mediaApp(t, func(base string) string {
		return `[{"verb":"answer"},{"verb":"pause","length":1},{"verb":"play","url":"` + base + `/tone.wav"},{"verb":"hangup"}]`
	}, wavBytes(ref))
	p, sipAddr := mediaServe(t, "15550003004", app)

	capture := listenRTP(t)
	runSippCall(t, sipp, "call_capture_rtp.xml", sipAddr, "15550003004", "-key", "rtp_port", strconv.Itoa(capture.port()))
	pkts := capture.quiet(300 * time.Millisecond)
	waitCompleted(t, hooks)
	p.stop(t)

	require.NotEmpty(t, pkts)
	require.True(t, pkts[0].hdr.Marker, "the stream starts with a talkspurt")
	silent := 0
	for silent < len(pkts) && bytes.Count(pkts[silent].pay, []byte{0xFF}) == len(pkts[silent].pay) {
		silent++
	}
	t.Logf("%d packets of µ-law silence before the prompt, %d in all", silent, len(pkts))
	// The pause is 1 s: about 50 packets of silence, paced, not a burst.
	require.GreaterOrEqual(t, silent, 40, "comfort silence during the pause")
	require.Less(t, silent, len(pkts), "then the prompt")
	span := pkts[silent-1].at.Sub(pkts[0].at)
	require.InDelta(t, float64(silent-1)*0.020, span.Seconds(), 0.1, "silence is paced at 20 ms")
	for i, pk := range pkts {
		require.Equal(t, pkts[0].hdr.SequenceNumber+uint16(i), pk.hdr.SequenceNumber, "packet %d: no gap from silence to prompt", i)
		require.Equal(t, pkts[0].hdr.Timestamp+uint32(160*i), pk.hdr.Timestamp, "packet %d: no timestamp jump", i)
	}
	require.True(t, pkts[silent].hdr.Marker, "the prompt starts a talkspurt")
}

// dtmfTones renders key as the ITU-T Q.23 pair of tones, each of amplitude
// 7000, for ms milliseconds.
func dtmfTones(key byte, ms int) []int16 {
	const keypad = "123A456B789C*0#D"
	rows := [4]float64{697, 770, 852, 941}
	cols := [4]float64{1209, 1336, 1477, 1633}
	i := bytes.IndexByte([]byte(keypad), key)
	if i < 0 {
		panic("no such DTMF key " + string(key))
	}
	lo, hi := rows[i/4], cols[i%4]
	out := make([]int16, ms*toneRate/1000)
	for n := range out {
		x := float64(n) / toneRate
		out[n] = int16(math.Round(7000*math.Sin(2*math.Pi*lo*x) + 7000*math.Sin(2*math.Pi*hi*x)))
	}
	return out
}

// pcapAudioPayloads reads the RTP payloads of a pcap of Ethernet/IPv4/UDP
// RTP packets, like the ones sipp ships.
func pcapAudioPayloads(t *testing.T, path string) (pt uint8, payloads [][]byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Greater(t, len(b), 24)
	require.Equal(t, uint32(0xa1b2c3d4), binary.LittleEndian.Uint32(b), "a little-endian pcap")
	for off := 24; off+16 <= len(b); {
		incl := int(binary.LittleEndian.Uint32(b[off+8:]))
		pkt := b[off+16 : off+16+incl]
		off += 16 + incl
		var p rtp.Packet
		require.NoError(t, p.Unmarshal(pkt[14+20+8:]))
		pt = p.PayloadType
		payloads = append(payloads, bytes.Clone(p.Payload))
	}
	return pt, payloads
}

// rtpPcap writes payloads (20 ms each) as one RTP stream of payload type pt
// in a pcap that sipp's play_pcap_audio replays: Ethernet, IPv4, UDP, RTP,
// one packet every 20 ms, the marker bit on the first.
func rtpPcap(pt uint8, payloads [][]byte) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	for _, v := range []any{uint32(0xa1b2c3d4), uint16(2), uint16(4), int32(0), uint32(0), uint32(65535), uint32(1)} {
		_ = binary.Write(&b, le, v)
	}
	for i, pay := range payloads {
		hdr := rtp.Header{Version: 2, Marker: i == 0, PayloadType: pt, SequenceNumber: uint16(1000 + i), Timestamp: uint32(8000 + 160*i), SSRC: 0x766f7872}
		raw, _ := (&rtp.Packet{Header: hdr, Payload: pay}).Marshal()
		udpLen := 8 + len(raw)
		ip := []byte{0x45, 0, byte((20 + udpLen) >> 8), byte(20 + udpLen), 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1}
		var sum uint32
		for j := 0; j < 20; j += 2 {
			sum += uint32(ip[j])<<8 | uint32(ip[j+1])
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		frame := make([]byte, 0, 14+20+udpLen)
		frame = append(frame, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00)
		frame = append(frame, ip...)
		frame = binary.BigEndian.AppendUint16(frame, 6000)
		frame = binary.BigEndian.AppendUint16(frame, 6000)
		frame = binary.BigEndian.AppendUint16(frame, uint16(udpLen))
		frame = binary.BigEndian.AppendUint16(frame, 0)
		frame = append(frame, raw...)
		at := time.Duration(i) * 20 * time.Millisecond
		for _, v := range []any{uint32(1_700_000_000 + at/time.Second), uint32(at % time.Second / time.Microsecond), uint32(len(frame)), uint32(len(frame))} {
			_ = binary.Write(&b, le, v)
		}
		b.Write(frame)
	}
	return b.Bytes()
}

// sipp plays a G.711 A-law pcap to a caller leg that offered PCMA without
// telephone-event: two seconds of the audio in the g711a.pcap Debian ships
// with sipp, then the in-band DTMF keys 2 8 0 (100 ms tones, 100 ms apart),
// one RTP stream generated here. voxrun decodes what it receives and its
// in-band detector feeds the gather: the action hook gets exactly 280, so the
// packets were received, decoded as A-law and heard, and the recorded audio
// before the keys fired nothing.
func TestGatherHearsInbandDTMFInAPCMAPcapFromSipp(t *testing.T) {
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	pt, speech := pcapAudioPayloads(t, "/usr/share/sip-tester/g711a.pcap")
	require.Equal(t, uint8(8), pt, "g711a.pcap is PCMA")
	var pcm []int16
	for _, pay := range speech {
		s := make([]int16, len(pay))
		g711.DecodeAlaw(s, pay)
		pcm = append(pcm, s...)
	}
	pcm = pcm[:min(len(pcm), 2*toneRate)]
	t.Logf("g711a.pcap: %d packets; using its first %d ms, RMS %.0f", len(speech), len(pcm)/8, rms(pcm))
	gap := make([]int16, toneRate/10)
	pcm = append(pcm, gap...)
	for _, k := range []byte("280") {
		pcm = append(pcm, dtmfTones(k, 100)...)
		pcm = append(pcm, gap...)
	}
	var payloads [][]byte
	for i := 0; i+160 <= len(pcm); i += 160 {
		pay := make([]byte, 160)
		g711.EncodeAlaw(pay, pcm[i:i+160])
		payloads = append(payloads, pay)
	}
	dir := t.TempDir()
	pcapPath := filepath.Join(dir, "speech_then_280_pcma.pcap")
	require.NoError(t, os.WriteFile(pcapPath, rtpPcap(8, payloads), 0o644))

	// The scenario names the pcap it plays; sipp reads that path when it
	// loads the scenario, so the path is written into a copy.
	sipDir, err := filepath.Abs(filepath.Join("testdata", "sipp"))
	require.NoError(t, err)
	tmpl, err := os.ReadFile(filepath.Join(sipDir, "call_pcma_pcap.xml"))
	require.NoError(t, err)
	scenario := filepath.Join(dir, "call_pcma_pcap.xml")
	require.NoError(t, os.WriteFile(scenario, bytes.ReplaceAll(tmpl, []byte(`play_pcap_audio="[test_pcap]"`), []byte(`play_pcap_audio="`+pcapPath+`"`)), 0o644))
	rel, err := filepath.Rel(sipDir, scenario)
	require.NoError(t, err)

	app, hooks := mediaApp(t, func(string) string {
		return `[{"verb":"gather","input":["digits"],"numDigits":3,"timeout":15,"actionHook":"/digits"}]`
	}, nil)
	p, sipAddr := mediaServe(t, "15550003003", app)
	runSippCall(t, sipp, rel, sipAddr, "15550003003")
	waitCompleted(t, hooks)

	got := hooks.get("/digits")
	require.Len(t, got, 1, "one action hook")
	require.Equal(t, "280", got[0]["digits"], "the in-band keys, each once, and nothing from the audio before them")
	require.Equal(t, "dtmfDetected", got[0]["reason"])
	p.stop(t)
}

// baresipUA is one baresip process on 127.0.0.1 whose microphone is a WAV
// file and whose sndfile module records what it sends and hears.
type baresipUA struct {
	port   int
	dumps  string // sndfile's directory
	out    *lockedBuffer
	cmd    *exec.Cmd
	cancel context.CancelFunc
}

// baresipSpec is one user agent of a test: its name, the one codec module
// it loads (so the only audio codec it offers or accepts), its tone.
type baresipSpec struct {
	user   string
	codec  string // "g711" or "g722"
	rate   int    // the codec's sample rate: the microphone's and the recording's
	hz     float64
	rtpMin int
}

func startBaresip(t *testing.T, bin string, ua baresipSpec, account string, commands ...string) *baresipUA {
	t.Helper()
	dir := t.TempDir()
	u := &baresipUA{port: siptest.FreeSIPPort(t), dumps: filepath.Join(dir, "dumps"), out: &lockedBuffer{}}
	require.NoError(t, os.Mkdir(u.dumps, 0o700))
	micPath := filepath.Join(dir, "mic.wav")
	mic := make([]int16, 12*ua.rate) // 12 s of the tone
	for i := range mic {
		mic[i] = int16(math.Round(toneAmplitude * math.Sin(2*math.Pi*ua.hz*float64(i)/float64(ua.rate))))
	}
	require.NoError(t, os.WriteFile(micPath, wavBytesAt(mic, ua.rate), 0o600))
	config := fmt.Sprintf(`poll_method		epoll
sip_listen		127.0.0.1:%d
net_interface		127.0.0.1
audio_player		aubridge,speaker-%s
audio_source		aufile,%s
rtp_ports		%d-%d
snd_path		%s
module_path		/usr/lib/baresip/modules
module			%s.so
module			aufile.so
module			aubridge.so
module			sndfile.so
module			menu.so
module_tmp		account.so
call_max_calls		1
`, u.port, ua.user, micPath, ua.rtpMin, ua.rtpMin+20, u.dumps, ua.codec)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "accounts"), []byte(account+"\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "contacts"), nil, 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	u.cancel = cancel
	args := []string{"-f", dir, "-t", "30"}
	for _, c := range commands {
		args = append(args, "-e", c)
	}
	u.cmd = exec.CommandContext(ctx, bin, args...)
	u.cmd.Stdout, u.cmd.Stderr = u.out, u.out
	require.NoError(t, u.cmd.Start())
	t.Cleanup(u.stop)
	return u
}

// stop ends the process (by its PID) and waits for it; idempotent.
func (ua *baresipUA) stop() {
	if ua.cmd.ProcessState == nil {
		_ = ua.cmd.Process.Kill()
		_ = ua.cmd.Wait()
	}
	ua.cancel()
}

// heard is the audio baresip decoded from the call (sndfile's "dec" dump)
// and its sample rate.
func (ua *baresipUA) heard(t *testing.T) ([]int16, int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(ua.dumps, "*dec.wav"))
	require.NoError(t, err)
	require.Len(t, files, 1, "one recording of what was heard; baresip said:\n%s", ua.out)
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	return wavPCM16(t, b)
}

// wavPCM16 returns the samples of a 16-bit mono WAV's data chunk (any
// chunks before it skipped; a header whose sizes were never finalised is
// read to the end of the file) and its sample rate.
func wavPCM16(t *testing.T, b []byte) ([]int16, int) {
	t.Helper()
	require.True(t, len(b) > 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WAVE", "a WAV file")
	rate := 0
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		off += 8
		if id == "fmt " {
			require.Equal(t, uint16(1), binary.LittleEndian.Uint16(b[off+2:]), "mono")
			rate = int(binary.LittleEndian.Uint32(b[off+4:]))
			require.Equal(t, uint16(16), binary.LittleEndian.Uint16(b[off+14:]), "16-bit")
		}
		if id == "data" {
			end := min(len(b), off+size)
			if size == 0 {
				end = len(b)
			}
			pcm := make([]int16, (end-off)/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(b[off+2*i:]))
			}
			return pcm, rate
		}
		off += size + size&1
	}
	t.Fatal("no data chunk")
	return nil, 0
}

// wavBytesAt is samples as a canonical 16-bit mono WAV at rate.
func wavBytesAt(samples []int16, rate int) []byte {
	b := wavBytes(samples)
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(2*rate))
	return b
}

// toneLevelAt is the RMS of x (sampled at rate) at hz alone: a sine of
// amplitude A gives a Goertzel power of (A·N/2)², so its RMS A/√2 is
// √(2·power)/N.
func toneLevelAt(x []int16, hz float64, rate int) float64 {
	coeff := 2 * math.Cos(2*math.Pi*hz/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+coeff*s1-s2, s1
	}
	return math.Sqrt(2*(s1*s1+s2*s2-coeff*s1*s2)) / float64(len(x))
}

// bridgedBaresips runs alice calling a number whose application dials bob
// (auto-answer) on a voxrun started with args, waits until voxrun ends the
// bridge after the dial's timeLimit, and checks what each recorded: the
// other's tone at its level (within tolerance), not its own.
func bridgedBaresips(t *testing.T, number string, alice, bob baresipSpec, tolerance float64, args ...string) {
	bin := siptest.Tool(t, "baresip", "baresip")
	b := startBaresip(t, bin, bob, "<sip:bob@127.0.0.1>;regint=0;answermode=auto")
	app, hooks := mediaApp(t, func(string) string {
		return fmt.Sprintf(`[{"verb":"dial","timeLimit":3,"target":[{"type":"sip","sipUri":"sip:bob@127.0.0.1:%d"}]},{"verb":"hangup"}]`, b.port)
	}, nil)
	n := startTenant(t, args...)
	provisionNumber(t, n.base, n.key, n.acct, number, map[string]any{
		"call_hook":        map[string]any{"url": app.URL + "/call"},
		"call_status_hook": map[string]any{"url": app.URL + "/status"},
	})
	a := startBaresip(t, bin, alice, "<sip:alice@127.0.0.1>;regint=0", "/dial sip:"+number+"@"+n.ready["sip_udp"].(string))

	require.Eventually(t, func() bool {
		done := 0
		for _, s := range hooks.get("/status") {
			if s["call_status"] == "completed" {
				done++
			}
		}
		return done == 2
	}, 25*time.Second, 50*time.Millisecond, "both legs completed; alice said:\n%s\nbob said:\n%s", a.out, b.out)
	// sndfile closes its files when the call ends (voxrun's BYE).
	require.Eventually(t, func() bool {
		return strings.Contains(strings.ToLower(a.out.String()), "closed") && strings.Contains(strings.ToLower(b.out.String()), "closed")
	}, 10*time.Second, 50*time.Millisecond, "both user agents saw the call end:\n%s\n%s", a.out, b.out)
	a.stop()
	b.stop()
	n.p.stop(t)

	for _, c := range []struct {
		who         string
		ua          *baresipUA
		rate        int
		want, other float64
	}{{alice.user, a, alice.rate, bob.hz, alice.hz}, {bob.user, b, bob.rate, alice.hz, bob.hz}} {
		pcm, rate := c.ua.heard(t)
		require.Equal(t, c.rate, rate, "%s's call ran on its codec (sndfile records at the codec's rate)", c.who)
		secs := float64(len(pcm)) / float64(rate)
		t.Logf("%s recorded %.2f s at %d Hz", c.who, secs, rate)
		require.Greater(t, secs, 2.0, "%s heard the bridged call (3 s time limit)", c.who)
		// The bridged part: the loudest second (before it, the call was
		// being set up).
		var seg []int16
		for off := 0; off+rate <= len(pcm); off += rate / 4 {
			if w := pcm[off : off+rate]; seg == nil || rms(w) > rms(seg) {
				seg = w
			}
		}
		want, own := toneLevelAt(seg, c.want, rate), toneLevelAt(seg, c.other, rate)
		t.Logf("%s: %v Hz at RMS %.0f (sent %.0f), own %v Hz at RMS %.0f, all at RMS %.0f", c.who, c.want, want, toneAmplitude/math.Sqrt2, c.other, own, rms(seg))
		require.InEpsilon(t, toneAmplitude/math.Sqrt2, want, tolerance, "%s hears the other party's tone at its level", c.who)
		require.Greater(t, want, 0.9*rms(seg), "%s hears little but that tone", c.who)
		require.Less(t, own, want/100, "%s does not hear her/his own tone back", c.who)
	}
}

// TestBaresipBridgedCallCarriesAudioBothWays: two baresip user agents, each
// with a WAV file of its own tone as its microphone. Alice calls a number
// whose application dials Bob (auto-answer); voxrun bridges the two legs in
// a media room (both on PCMU, so relayed without decoding) and ends the
// bridge after the dial's timeLimit. What each one recorded hearing is the
// other's tone, loud and clear (±0.4 dB), and not its own.
func TestBaresipBridgedCallCarriesAudioBothWays(t *testing.T) {
	bridgedBaresips(t, "15550003005",
		baresipSpec{user: "alice", codec: "g711", rate: 8000, hz: 600, rtpMin: 35400},
		baresipSpec{user: "bob", codec: "g711", rate: 8000, hz: 1400, rtpMin: 35300},
		0.05)
}

// TestBaresipG722CallerBridgedToPCMUCallee: with rtp_codecs G722,PCMU,PCMA,
// Alice's baresip (G.722 only: its g722 module is a separate G.722
// implementation) calls, Bob's (G.711 only) is dialled; voxrun decodes
// Alice's G.722, transcodes through the room's mix and encodes G.722 back
// to her. Each hears the other's tone at its level (±0.8 dB: G.722's ADPCM
// and two resamplers on Alice's side).
func TestBaresipG722CallerBridgedToPCMUCallee(t *testing.T) {
	bridgedBaresips(t, "15550003006",
		baresipSpec{user: "alice", codec: "g722", rate: 16000, hz: 600, rtpMin: 35500},
		baresipSpec{user: "bob", codec: "g711", rate: 8000, hz: 1400, rtpMin: 35600},
		0.1, "--rtp-codecs", "G722,PCMU,PCMA")
}
