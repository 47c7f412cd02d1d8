package rtpsession

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/mediatest"
	"github.com/voxrun/voxrun/media/ports"
)

// readRTCP returns the next compound packet on conn, skipping RTP.
func readRTCP(t *testing.T, conn *net.UDPConn) []rtcp.Packet {
	t.Helper()
	buf := make([]byte, 1500)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(2*time.Second)))
	for {
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		require.NoError(t, err)
		if !isRTCP(buf[:n]) {
			continue
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		require.NoError(t, err)
		return pkts
	}
}

func TestReportsCarryLossAndCNAME(t *testing.T) {
	p := newPeer(t)
	f := newSession(t, Config{Remote: p.addr(), Codec: g711.PCMU, RTCPMux: true, RTCPInterval: 100 * time.Millisecond, CNAME: "leg-1"})
	// The peer sends 10 packets of which 2 never arrive.
	now := time.Now()
	for i := range 10 {
		b := p.packet(0, make([]byte, 160))
		if i == 3 || i == 6 {
			continue
		}
		f.s.handlePacket(b, p.addr(), now)
	}
	f.clock.Tick(10) // 200 ms: at least one report is due
	pkts := readRTCP(t, p.conn)
	require.Len(t, pkts, 2)
	sr, ok := pkts[0].(*rtcp.SenderReport)
	require.True(t, ok, "we sent audio, so an SR: %T", pkts[0])
	require.Equal(t, f.s.SSRC(), sr.SSRC)
	require.NotZero(t, sr.PacketCount)
	require.Equal(t, sr.PacketCount*160, sr.OctetCount)
	require.Len(t, sr.Reports, 1)
	rr := sr.Reports[0]
	require.Equal(t, uint32(0xABCD), rr.SSRC)
	require.Equal(t, uint32(2), rr.TotalLost)
	require.Equal(t, uint8(2*256/10), rr.FractionLost)
	require.Equal(t, uint32(109), rr.LastSequenceNumber)
	sdes, ok := pkts[1].(*rtcp.SourceDescription)
	require.True(t, ok)
	require.Equal(t, "leg-1", sdes.Chunks[0].Items[0].Text)
	require.GreaterOrEqual(t, f.s.Stats().RTCPSent, uint64(1))
}

func TestReportsWithoutAudioAreReceiverReports(t *testing.T) {
	p := newPeer(t)
	f := newSession(t, Config{Remote: p.addr(), Codec: g711.PCMU, RTCPMux: true, NoSend: true, RTCPInterval: 60 * time.Millisecond})
	f.clock.Tick(10)
	pkts := readRTCP(t, p.conn)
	rr, ok := pkts[0].(*rtcp.ReceiverReport)
	require.True(t, ok, "%T", pkts[0])
	require.Empty(t, rr.Reports, "the peer has not sent")
}

// TestTwoLegsExchangeRTCP runs two legs with separate RTCP sockets (ports
// from the allocator): each learns the other's view of its stream and the RTT.
func TestTwoLegsExchangeRTCP(t *testing.T) {
	alloc, err := ports.New(ports.Config{Min: 45000 + 2*int(time.Now().UnixNano()%1000), Max: 47999})
	require.NoError(t, err)
	ctx := context.Background()
	la, err := alloc.Listen(ctx, loopback, true)
	require.NoError(t, err)
	lb, err := alloc.Listen(ctx, loopback, true)
	require.NoError(t, err)
	clk := mediatest.NewManualClock(time.Now())
	mk := func(own, other *ports.Lease) *Session {
		s, err := New(Config{Conn: own.RTP, RTCPConn: own.RTCP, Closer: own, Clock: clk, Codec: g711.PCMU,
			Remote: netip.AddrPortFrom(loopback, uint16(other.Port)), RTCPInterval: 200 * time.Millisecond})
		require.NoError(t, err)
		return s
	}
	a, b := mk(la, lb), mk(lb, la)
	defer func() {
		require.NoError(t, a.Close())
		require.NoError(t, b.Close())
		require.Zero(t, alloc.InUse())
	}()
	a.SetSource(media.Silence())
	b.SetSource(media.Silence())
	require.Eventually(t, func() bool {
		clk.Tick(1)
		sa, sb := a.Stats(), b.Stats()
		return sa.RTCPReceived >= 2 && sb.RTCPReceived >= 2 && sa.PacketsReceived > 20
	}, 5*time.Second, time.Millisecond)
	sa := a.Stats()
	require.Zero(t, sa.RemoteLost)
	require.Zero(t, sa.Foreign)
	require.Less(t, sa.RTT, 100*time.Millisecond, "loopback")
	require.Greater(t, sa.MOS(), 4.0)
}

func TestRTCPDemux(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
		want bool
	}{
		{"SR", []byte{0x80, 200}, true},
		{"RR", []byte{0x81, 201}, true},
		{"PCMU", []byte{0x80, 0}, false},
		{"PCMU with marker", []byte{0x80, 0x80}, false},
		{"telephone-event with marker (229)", []byte{0x80, 0x80 | 101}, false},
		{"short", []byte{0x80}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, isRTCP(tc.b))
		})
	}
}
