package rtpsession

import (
	"context"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/dtmf"
	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/mediatest"
	"github.com/voxrun/voxrun/media/netpoll"
	"github.com/voxrun/voxrun/media/ports"
)

// TestLoad runs VOXRUN_MEDIA_LOAD legs (in pairs, each sending a looping
// prompt to the other over loopback, each running the in-band DTMF
// detector) on one shared clock for VOXRUN_MEDIA_LOAD_SECONDS (5), and logs
// the CPU used, the packets lost and the clock's late ticks. It is skipped
// unless the variable is set: it is a measurement, not a unit test.
//
//	VOXRUN_MEDIA_LOAD=2000 go test -run TestLoad -v ./media/rtpsession
func TestLoad(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VOXRUN_MEDIA_LOAD"))
	if n < 2 {
		t.Skip("set VOXRUN_MEDIA_LOAD=<legs> to measure")
	}
	seconds, _ := strconv.Atoi(os.Getenv("VOXRUN_MEDIA_LOAD_SECONDS"))
	if seconds <= 0 {
		seconds = 5
	}
	n &^= 1
	clk := clock.New(clock.Config{})
	defer clk.Close()
	var poller *netpoll.Poller
	if os.Getenv("VOXRUN_MEDIA_GOROUTINES") == "" {
		p, err := netpoll.New(netpoll.Config{})
		require.NoError(t, err)
		defer p.Close()
		poller = p
	}
	alloc, err := ports.New(ports.Config{Min: 20000, Max: 29999, Poller: poller})
	require.NoError(t, err)
	ctx := context.Background()
	leases := make([]*ports.Lease, n)
	for i := range leases {
		leases[i], err = alloc.Listen(ctx, loopback, false)
		require.NoError(t, err)
	}
	prompt := mediatest.Tone(440, 6000, media.SampleRate) // one second, looped
	sessions := make([]*Session, n)
	for i := range sessions {
		peer := leases[i^1]
		sessions[i], err = New(Config{Conn: leases[i].RTP, Socket: leases[i].Socket, Closer: leases[i], Clock: clk, Codec: g711.PCMU,
			Remote: loopbackPort(peer.Port), TelephoneEvent: 101})
		require.NoError(t, err)
		pos := i * 37 % len(prompt)
		sessions[i].SetSource(media.SourceFunc(func(f []int16) error {
			for k := range f {
				f[k] = prompt[pos]
				pos = (pos + 1) % len(prompt)
			}
			return nil
		}))
		sessions[i].AddSink(&dtmf.InbandDetector{})
	}
	var before, after syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &before))
	start := time.Now()
	time.Sleep(time.Duration(seconds) * time.Second)
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &after))
	wall := time.Since(start)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	var sent, received uint64
	var lost int64
	var jitter time.Duration
	for _, s := range sessions {
		st := s.Stats()
		sent += st.PacketsSent
		received += st.PacketsReceived
		lost += st.PacketsLost
		jitter = max(jitter, st.Jitter)
	}
	late, skipped := clk.Late()
	for _, s := range sessions {
		require.NoError(t, s.Close())
	}
	require.Zero(t, alloc.InUse())
	t.Logf("%d legs for %v: CPU %.2f cores (%.1f µs per packet sent+received), sent %d, received %d, lost %d, max jitter %v, late ticks %d, skipped ticks %d",
		n, wall.Round(time.Millisecond), cpu.Seconds()/wall.Seconds(), float64(cpu.Microseconds())/float64(sent+received),
		sent, received, lost, jitter, late, skipped)
}

func loopbackPort(p int) netip.AddrPort { return netip.AddrPortFrom(loopback, uint16(p)) }
