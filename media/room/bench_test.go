package room

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/mediatest"
	"github.com/voxrun/voxrun/media/rtpsession"
)

// benchBridge measures one direction of a bridged call for one 20 ms frame,
// end to end over loopback: a's phone sends a packet, a's leg receives it,
// and b's phone receives b's packet, relayed, or decoded, mixed and encoded
// (transcoded when the codecs differ). All four socket calls are included,
// so the ratio understates the CPU the fast path saves.
func benchBridge(b *testing.B, noRelay bool, codecB g711.Codec) {
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
		require.NoError(b, err)
		return c
	}
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	farA, farB := listen(), listen()
	defer farA.Close()
	defer farB.Close()
	a, err := rtpsession.New(rtpsession.Config{Conn: listen(), Clock: clk, Codec: g711.PCMU, Remote: farA.LocalAddr().(*net.UDPAddr).AddrPort()})
	require.NoError(b, err)
	defer a.Close()
	bb, err := rtpsession.New(rtpsession.Config{Conn: listen(), Clock: clk, Codec: codecB, Remote: farB.LocalAddr().(*net.UDPAddr).AddrPort()})
	require.NoError(b, err)
	defer bb.Close()
	r, err := New(clk, Config{NoRelay: noRelay})
	require.NoError(b, err)
	defer r.Close()
	_, err = r.Join(a)
	require.NoError(b, err)
	_, err = r.Join(bb)
	require.NoError(b, err)
	r.Tick(time.Now())
	require.Equal(b, !noRelay && codecB == g711.PCMU, r.Relaying())

	arrived := make(chan struct{}, 1)
	a.AddSink(media.SinkFunc(func([]int16) error {
		select {
		case arrived <- struct{}{}:
		default:
		}
		return nil
	}))
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	buf := make([]byte, 1500)
	var seq uint16
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ReportAllocs()
	for b.Loop() {
		seq++
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
		_, _ = farA.WriteToUDPAddrPort(pkt, a.LocalAddr())
		if !r.Relaying() {
			<-arrived
			now := time.Now()
			r.Tick(now)
			bb.Tick(now)
		}
		if _, _, err := farB.ReadFromUDPAddrPort(buf); err != nil {
			b.Fatal(err)
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano()
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}

func BenchmarkBridgeRelay(b *testing.B)             { benchBridge(b, false, g711.PCMU) }
func BenchmarkBridgeMixSameCodec(b *testing.B)      { benchBridge(b, true, g711.PCMU) }
func BenchmarkBridgeTranscodeULawALaw(b *testing.B) { benchBridge(b, false, g711.PCMA) }
