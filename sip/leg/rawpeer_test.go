package leg_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	sipgosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/leg"
)

// rawPeer is a far end on a bare UDP socket, for what sipp cannot do: sipp
// takes an ACK that answers a retransmitted 2xx for a retransmission of
// the first ACK and sends the 2xx again, forever.
type rawPeer struct {
	conn *net.UDPConn
	p    *sipgosip.Parser
}

func newRawPeer(t *testing.T) *rawPeer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &rawPeer{conn: c, p: sipgosip.NewParser()}
}

// read returns the next request of method (others are skipped), and where
// it came from.
func (r *rawPeer) read(t *testing.T, method sipgosip.RequestMethod) (*sipgosip.Request, *net.UDPAddr) {
	t.Helper()
	buf := make([]byte, 65535)
	require.NoError(t, r.conn.SetReadDeadline(time.Now().Add(3*time.Second)))
	for {
		n, from, err := r.conn.ReadFromUDP(buf)
		require.NoError(t, err, "waiting for %s", method)
		msg, err := r.p.ParseSIP(append([]byte(nil), buf[:n]...))
		require.NoError(t, err)
		if req, ok := msg.(*sipgosip.Request); ok && req.Method == method {
			return req, from
		}
	}
}

func (r *rawPeer) write(t *testing.T, res *sipgosip.Response, to *net.UDPAddr) {
	t.Helper()
	_, err := r.conn.WriteToUDP([]byte(res.String()), to)
	require.NoError(t, err)
}

// TestDial2xxRetransmissionGetsACK: a 2xx retransmitted after the ACK
// (the first ACK was lost, for all the UAS knows) gets the ACK again
// (RFC 3261 §13.2.2.4), and the call goes on.
func TestDial2xxRetransmissionGetsACK(t *testing.T) {
	peer := newRawPeer(t)
	c := newCaller(t)
	ctx := ctxTimeout(t, 10*time.Second)
	port := peer.conn.LocalAddr().(*net.UDPAddr).Port
	type dialed struct {
		l   *leg.Leg
		err error
	}
	res := make(chan dialed, 1)
	go func() {
		l, err := c.agent.Dial(ctx, leg.DialRequest{Target: fmt.Sprintf("sip:peer@127.0.0.1:%d", port), From: leg.Party{User: "200"}})
		res <- dialed{l, err}
	}()
	inv, from := peer.read(t, sipgosip.INVITE)
	ok := sipgosip.NewResponseFromRequest(inv, 200, "OK", nil)
	ok.To().Params.Add("tag", "peer-tag")
	ok.AppendHeader(&sipgosip.ContactHeader{Address: sipgosip.Uri{Scheme: "sip", User: "peer", Host: "127.0.0.1", Port: port}})
	ok.AppendHeader(sipgosip.NewHeader("Content-Type", "application/sdp"))
	ok.SetBody([]byte("v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		fmt.Sprintf("m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", port+2)))
	peer.write(t, ok, from)
	ack1, _ := peer.read(t, sipgosip.ACK)
	d := <-res
	require.NoError(t, d.err)
	defer d.l.Close()

	peer.write(t, ok, from) // the same 2xx again
	ack2, _ := peer.read(t, sipgosip.ACK)
	require.Equal(t, ack1.String(), ack2.String(), "the ACK is sent again, identical")
	require.EqualValues(t, inv.CSeq().SeqNo, ack2.CSeq().SeqNo)
	require.Equal(t, "sip:peer@127.0.0.1:"+fmt.Sprint(port), ack2.Recipient.String(), "the ACK goes to the 2xx's Contact")

	hung := make(chan error, 1)
	go func() { hung <- d.l.Hangup(ctx, nil) }()
	bye, from := peer.read(t, sipgosip.BYE)
	peer.write(t, sipgosip.NewResponseFromRequest(bye, 200, "OK", nil), from)
	require.NoError(t, <-hung)
	require.Equal(t, leg.CauseHangup, d.l.Cause())
}

// TestDialProxyChallengeAnsweredOnce: a 407 gets one retry with
// Proxy-Authorization (a new transaction: CSeq + 1, new branch, same
// Call-ID and From tag); a second challenge ends the dial with its status.
func TestDialProxyChallengeAnsweredOnce(t *testing.T) {
	peer := newRawPeer(t)
	c := newCaller(t)
	ctx := ctxTimeout(t, 10*time.Second)
	port := peer.conn.LocalAddr().(*net.UDPAddr).Port
	res := make(chan error, 1)
	go func() {
		_, err := c.agent.Dial(ctx, leg.DialRequest{Target: fmt.Sprintf("sip:peer@127.0.0.1:%d", port), From: leg.Party{User: "200"},
			Auth: &leg.Credentials{Username: "trunk", Password: "secret"}})
		res <- err
	}()
	challenge := func(inv *sipgosip.Request, from *net.UDPAddr) {
		r := sipgosip.NewResponseFromRequest(inv, 407, "Proxy Authentication Required", nil)
		r.To().Params.Add("tag", "proxy")
		r.AppendHeader(sipgosip.NewHeader("Proxy-Authenticate", `Digest realm="carrier.example", nonce="n0nce", algorithm=MD5, qop="auth"`))
		peer.write(t, r, from)
	}
	inv1, from := peer.read(t, sipgosip.INVITE)
	require.Nil(t, inv1.GetHeader("Proxy-Authorization"))
	challenge(inv1, from)
	inv2, from := peer.read(t, sipgosip.INVITE)
	challenge(inv2, from)
	err := <-res
	require.Equal(t, 407, leg.StatusOf(err), "%v", err)

	auth := inv2.GetHeader("Proxy-Authorization")
	require.NotNil(t, auth)
	require.Contains(t, auth.Value(), `username="trunk"`)
	require.Contains(t, auth.Value(), `realm="carrier.example"`)
	require.Contains(t, auth.Value(), `qop=auth`)
	require.Equal(t, inv1.CSeq().SeqNo+1, inv2.CSeq().SeqNo)
	require.Equal(t, inv1.CallID().Value(), inv2.CallID().Value())
	tag1, _ := inv1.From().Params.Get("tag")
	tag2, _ := inv2.From().Params.Get("tag")
	require.Equal(t, tag1, tag2)
	b1, _ := inv1.Via().Params.Get("branch")
	b2, _ := inv2.Via().Params.Get("branch")
	require.NotEqual(t, b1, b2)
	require.Zero(t, c.alloc.InUse())
}
