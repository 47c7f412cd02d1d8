package leg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	sipgosip "github.com/emiago/sipgo/sip"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/rtpsession"
	"github.com/voxrun/voxrun/media/sdp"
	"github.com/voxrun/voxrun/sip/digest"
)

// DialRequest is an outbound call to place with Agent.Dial.
type DialRequest struct {
	// Target is the SIP URI called: sip:user@host:port, with
	// ;transport=udp (the default) or ;transport=tcp. It is the
	// Request-URI and the To header.
	Target string
	// Proxy, when set, is where the INVITE is sent instead of the Target's
	// host: host:port or a SIP URI (its host, port and transport are used).
	// A carrier that requires registration is called at its SIP realm
	// (Target) through its gateway (Proxy); a dial's proxy attribute too.
	// Only the first hop changes: no Route header is added, and in-dialog
	// requests follow the answer's Contact and Record-Route.
	Proxy string
	// From is the caller: the user part of voxrun's From URI (whose host is
	// the agent's Host or local address) and its display name.
	From Party
	// Headers are extra headers of the INVITE (X-..., P-Asserted-Identity);
	// the headers the dialog layer owns are refused (ErrHeader).
	Headers map[string]string
	// Timeout is how long the call may ring before voxrun cancels it
	// (CANCEL, then 487; the error wraps ErrNoAnswer). Zero means no
	// timeout other than ctx's.
	Timeout time.Duration
	// Auth answers one digest challenge (401 or 407) per call; nil means
	// a challenge fails the call.
	Auth *Credentials
	// OnProvisional, when set, is told each provisional status received
	// (180, 183, ...) except 100, on Dial's goroutine. It must not block.
	OnProvisional func(status int)
	// OnEarlyMedia, when set, is given the media of the call's early
	// dialog the first time a provisional response carries an SDP answer:
	// it receives what the far end plays before the answer (ringback, an
	// announcement). It is called on Dial's goroutine and must not block.
	// Once answered, the leg's Endpoint plays on the same RTP session when
	// the codec is the same.
	OnEarlyMedia func(ep media.Endpoint)
	// CallID is the INVITE's Call-ID; empty means a new random one. The
	// runtime chooses it so that the REST API can name the call at once.
	CallID string
}

// Party names one side of a call.
type Party struct {
	// User is the user part of the SIP URI (a number or a name).
	User string
	// Host is the host part of voxrun's From URI (a carrier's
	// register_from_domain); empty means the agent's Host or local address.
	Host string
	// DisplayName is the display name, empty for none.
	DisplayName string
}

// Credentials answer a digest challenge (RFC 3261 §22.2, §22.3).
type Credentials struct {
	// Username is the digest username.
	Username string
	// Password is the digest password.
	Password string
}

// Dial places an outbound call and returns its leg once it is answered:
// it binds an RTP port, sends an INVITE with voxrun's SDP offer through the
// Requester, reports provisional responses (a 180 or 183 with SDP starts
// early media: the RTP session receives), answers one digest challenge
// with req.Auth, and on a 2xx reads the SDP answer, sends the ACK (again for
// every 2xx retransmission, RFC 3261 §13.2.2.4) and starts the RTP session.
//
// When ctx ends or req.Timeout passes before the answer, Dial sends CANCEL
// (RFC 3261 §9.1) and waits for the INVITE's final response; a 2xx that
// crosses the CANCEL gets its ACK and then a BYE. A final error response,
// a cancelled call or a transaction timeout returns a *StatusError with
// the status (486 busy, 487 cancelled, 408 no response, ...); a timeout
// wraps ErrNoAnswer. The caller owns the leg: it closes it (Close).
func (a *Agent) Dial(ctx context.Context, req DialRequest) (*Leg, error) {
	d, err := a.newDialer(ctx, req)
	if err != nil {
		return nil, err
	}
	return d.run(ctx)
}

// dialer is one outbound call until it is answered or fails. Only Dial's
// goroutine touches it, except the CANCEL transactions it joins.
type dialer struct {
	a     *Agent
	req   DialRequest
	l     *Leg
	local sdp.Local
	auth  sipgosip.Header // the Authorization of the last INVITE, nil if none
	se    time.Duration   // the Session-Expires asked for, 0 for none
	se422 bool            // a 422 was answered once

	tx        sipgosip.ClientTransaction
	early     *rtpsession.Session // the RTP session started by early media
	earlySess sdp.Session

	cancelCtx  context.Context
	stopCancel context.CancelFunc
	cancels    sync.WaitGroup // CANCEL transactions
}

func (a *Agent) newDialer(ctx context.Context, req DialRequest) (*dialer, error) {
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if a.cfg.Requester == nil || a.cfg.LocalAddr == nil {
		return nil, fmt.Errorf("%w: Requester and LocalAddr are required to dial", ErrConfig)
	}
	var target sipgosip.Uri
	if err := sipgosip.ParseUri(req.Target, &target); err != nil {
		return nil, fmt.Errorf("sip/leg: dial target %q: %w", req.Target, err)
	}
	if target.Host == "" || (target.Scheme != "sip" && target.Scheme != "") {
		return nil, fmt.Errorf("sip/leg: dial target %q: not a sip uri", req.Target)
	}
	transport := uriTransport(target)
	next := target // the first hop
	if req.Proxy != "" {
		p, err := parseProxy(req.Proxy)
		if err != nil {
			return nil, fmt.Errorf("sip/leg: dial proxy %q: %w", req.Proxy, err)
		}
		next = p
		if p.UriParams != nil && p.UriParams.Has("transport") {
			transport = uriTransport(p)
		}
	}
	if transport != "UDP" && transport != "TCP" {
		return nil, fmt.Errorf("sip/leg: dial target %q: transport %s not supported", req.Target, transport)
	}
	laddr := a.cfg.LocalAddr(transport)
	if !laddr.IsValid() {
		return nil, fmt.Errorf("sip/leg: dial: no local %s address", transport)
	}
	if err := addHeaders(sipgosip.NewRequest(sipgosip.INVITE, target), req.Headers); err != nil {
		return nil, err
	}
	lease, err := a.cfg.Ports.Listen(ctx, a.cfg.MediaAddr, true)
	if err != nil {
		return nil, &StatusError{Status: 503, Reason: "Service Unavailable", Err: err}
	}
	local := sdp.Local{Addr: a.cfg.MediaAddr, Port: lease.Port, Codecs: a.cfg.Codecs, SessionVersion: 1}
	offer, sid, err := sdp.NewOffer(local)
	if err != nil {
		_ = lease.Close()
		return nil, fmt.Errorf("sip/leg: dial offer: %w", err)
	}
	local.SessionID = sid

	callID := req.CallID
	if callID == "" {
		callID = sipgosip.GenerateTagN(24)
	}
	host := a.cfg.Host
	if host == "" {
		host = laddr.Addr().String()
	}
	fromHost := host
	if req.From.Host != "" {
		fromHost = req.From.Host
	}
	l := &Leg{
		agent: a, dir: Outbound,
		key:       dialogKey{callID: callID, localTag: sipgosip.GenerateTagN(16)},
		transport: transport,
		localURI:  sipgosip.Uri{Scheme: "sip", User: req.From.User, Host: fromHost},
		remoteURI: sipgosip.Uri{Scheme: "sip", User: target.User, Host: target.Host, Port: target.Port},
		lease:     lease, localSDP: offer, sdpVersion: 1,
		remoteTarget: target,
		peer:         hostPort(next),
		ended:        make(chan struct{}), done: make(chan struct{}), stop: make(chan struct{}),
	}
	if transport == "UDP" {
		// Send from the server's socket, where the answers and the far
		// end's in-dialog requests arrive.
		l.laddr = sipgosip.Addr{IP: net.IP(laddr.Addr().AsSlice()), Port: int(laddr.Port())}
	}
	l.log = a.log.With("call_id", l.key.callID, "direction", "outbound")
	contact := sipgosip.Uri{Scheme: "sip", User: req.From.User, Host: host, Port: int(laddr.Port())}
	if transport != "UDP" {
		contact.UriParams = sipgosip.NewParams()
		contact.UriParams.Add("transport", strings.ToLower(transport))
	}
	l.contact = sipgosip.ContactHeader{Address: contact}
	d := &dialer{a: a, req: req, l: l, local: local, se: max(a.cfg.SessionExpires, 0)}
	d.cancelCtx, d.stopCancel = context.WithCancel(context.WithoutCancel(ctx))
	return d, nil
}

// uriTransport is the transport a SIP URI asks for, upper-case ("UDP" when
// it names none).
func uriTransport(u sipgosip.Uri) string {
	if u.UriParams != nil {
		if t, ok := u.UriParams.Get("transport"); ok && t != "" {
			return strings.ToUpper(t)
		}
	}
	return "UDP"
}

// parseProxy reads a proxy as a SIP URI (sip:host:port;transport=tcp, with
// or without <>) or as host[:port].
func parseProxy(s string) (sipgosip.Uri, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "<"), ">")
	if !strings.HasPrefix(strings.ToLower(s), "sip:") {
		s = "sip:" + s
	}
	var u sipgosip.Uri
	if err := sipgosip.ParseUri(s, &u); err != nil {
		return u, err
	}
	if u.Host == "" {
		return u, errors.New("no host")
	}
	return u, nil
}

// hostPort is where a request to uri goes (port 5060 when it has none).
func hostPort(uri sipgosip.Uri) string {
	port := uri.Port
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(uri.Host, fmt.Sprint(port))
}

// invite builds the INVITE (RFC 3261 §8.1.1): a new branch and the next
// CSeq each time (a retry with credentials is a new transaction, §22.2).
func (d *dialer) invite() (*sipgosip.Request, error) {
	l := d.l
	l.localCSeq++
	req := sipgosip.NewRequest(sipgosip.INVITE, *l.remoteTarget.Clone())
	via := &sipgosip.ViaHeader{
		ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: l.transport,
		Host: l.contact.Address.Host, Port: l.contact.Address.Port, Params: sipgosip.NewParams(),
	}
	via.Params.Add("branch", sipgosip.GenerateBranch())
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	mf := sipgosip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	from := &sipgosip.FromHeader{DisplayName: d.req.From.DisplayName, Address: l.localURI, Params: sipgosip.NewParams()}
	from.Params.Add("tag", l.key.localTag)
	req.AppendHeader(from)
	req.AppendHeader(&sipgosip.ToHeader{Address: l.remoteURI, Params: sipgosip.NewParams()})
	callID := sipgosip.CallIDHeader(l.key.callID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sipgosip.CSeqHeader{SeqNo: l.localCSeq, MethodName: sipgosip.INVITE})
	req.AppendHeader(l.contact.Clone())
	req.AppendHeader(sipgosip.NewHeader("Allow", allowed))
	req.AppendHeader(sipgosip.NewHeader("User-Agent", d.a.cfg.UserAgent))
	if d.se > 0 {
		req.AppendHeader(sipgosip.NewHeader("Supported", "timer"))
		req.AppendHeader(sipgosip.NewHeader("Session-Expires", strconv.Itoa(int(d.se.Seconds()))))
		req.AppendHeader(sipgosip.NewHeader("Min-SE", strconv.Itoa(int(d.a.cfg.MinSE.Seconds()))))
	}
	if d.auth != nil {
		req.AppendHeader(d.auth)
	}
	if err := addHeaders(req, d.req.Headers); err != nil {
		return nil, err
	}
	req.AppendHeader(sipgosip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(l.localSDP)
	req.SetTransport(l.transport)
	req.SetDestination(l.peer)
	req.Laddr = l.laddr
	return req, nil
}

// run sends the INVITE and follows it to its final response.
func (d *dialer) run(ctx context.Context) (l *Leg, err error) {
	defer func() {
		d.stopCancel()
		d.cancels.Wait()
		if err != nil {
			d.release()
		}
	}()
	var timeout <-chan time.Time
	if d.req.Timeout > 0 {
		t := time.NewTimer(d.req.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	if err := d.send(ctx); err != nil {
		return nil, err
	}
	var (
		provisional bool  // a provisional arrived: CANCEL may be sent (RFC 3261 §9.1)
		cancelWhy   error // why the call is being cancelled, nil if it is not
		cancelSent  bool
		giveUp      <-chan time.Time
		stopGiveUp  = func() bool { return false }
		done        = ctx.Done()
	)
	defer func() { stopGiveUp() }()
	cancel := func(why error) {
		cancelWhy, done, timeout = why, nil, nil
		// After a CANCEL the INVITE must end within 64*T1 (RFC 3261 §9.1).
		t := time.NewTimer(64 * d.a.cfg.T1)
		stopGiveUp = t.Stop
		giveUp = t.C
		if provisional {
			d.sendCancel()
			cancelSent = true
		}
	}
	for {
		select {
		case <-done:
			cancel(context.Cause(ctx))
		case <-timeout:
			cancel(ErrNoAnswer)
		case <-giveUp:
			d.tx.Terminate()
			return nil, &StatusError{Status: 487, Reason: "Request Terminated", Err: cancelWhy}
		case <-d.tx.Done():
			err := d.tx.Err()
			if cancelWhy != nil {
				return nil, &StatusError{Status: 487, Reason: "Request Terminated", Err: cancelWhy}
			}
			// Timer B (RFC 3261 §17.1.1.2) or a transport error.
			return nil, &StatusError{Status: 408, Reason: "Request Timeout", Err: err}
		case res, ok := <-d.tx.Responses():
			if !ok {
				continue
			}
			switch {
			case res.IsProvisional():
				provisional = true
				if cancelWhy != nil && !cancelSent {
					d.sendCancel()
					cancelSent = true
				}
				d.provisional(res)
			case res.IsSuccess():
				leg, err := d.answered(ctx, res)
				if err != nil {
					return nil, err
				}
				if cancelWhy != nil {
					// RFC 3261 §15: the 2xx crossed the CANCEL; the call
					// is up, so it ends with BYE after the ACK.
					hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 32*d.a.cfg.T1)
					_ = leg.bye(hctx, nil, CauseHangup, false)
					hcancel()
					_ = leg.Close()
					return nil, &StatusError{Status: 487, Reason: "Request Terminated", Err: cancelWhy}
				}
				return leg, nil
			default:
				status := int(res.StatusCode)
				if (status == 401 || status == 407) && d.req.Auth != nil && d.auth == nil && cancelWhy == nil {
					if err := d.authorize(res); err != nil {
						return nil, &StatusError{Status: status, Reason: res.Reason, Err: err}
					}
					d.tx.Terminate()
					if err := d.send(ctx); err != nil {
						return nil, err
					}
					provisional = false
					continue
				}
				if status == 422 && d.se > 0 && !d.se422 && cancelWhy == nil {
					// RFC 4028 §7.4: ask again with at least the Min-SE.
					d.se422 = true
					if m := minSE(res); m > d.se {
						d.se = m
						d.tx.Terminate()
						if err := d.send(ctx); err != nil {
							return nil, err
						}
						provisional = false
						continue
					}
				}
				var why error
				if cancelWhy != nil && status == 487 {
					why = cancelWhy
				}
				return nil, &StatusError{Status: status, Reason: res.Reason, Err: why}
			}
		}
	}
}

// send sends a new INVITE in a new client transaction.
func (d *dialer) send(ctx context.Context) error {
	inv, err := d.invite()
	if err != nil {
		return err
	}
	tx, err := d.a.cfg.Requester.Request(ctx, inv)
	if err != nil {
		return fmt.Errorf("sip/leg: dial: invite: %w", err)
	}
	d.l.invite, d.tx = inv, tx
	return nil
}

// sendCancel cancels the pending INVITE (RFC 3261 §9.1): same Request-URI,
// Call-ID, From, To, CSeq number and top Via (branch) as the INVITE. Its
// own transaction runs until its answer or until Dial returns.
func (d *dialer) sendCancel() {
	inv := d.l.invite
	req := sipgosip.NewRequest(sipgosip.CANCEL, *inv.Recipient.Clone())
	if via := inv.Via(); via != nil {
		req.AppendHeader(via.Clone())
	}
	mf := sipgosip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	for _, name := range []string{"From", "To", "Call-ID"} {
		if h := inv.GetHeader(name); h != nil {
			req.AppendHeader(sipgosip.HeaderClone(h))
		}
	}
	req.AppendHeader(&sipgosip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sipgosip.CANCEL})
	for _, h := range inv.GetHeaders("Route") {
		req.AppendHeader(sipgosip.HeaderClone(h))
	}
	req.AppendHeader(sipgosip.NewHeader("User-Agent", d.a.cfg.UserAgent))
	req.SetTransport(inv.Transport())
	req.SetDestination(inv.Destination())
	req.Laddr = inv.Laddr
	d.cancels.Go(func() {
		ctx, cancel := context.WithTimeout(d.cancelCtx, 64*d.a.cfg.T1)
		defer cancel()
		if _, err := d.l.send(ctx, req); err != nil && ctx.Err() == nil {
			d.l.log.Debug("sip/leg: cancel", "error", err)
		}
	})
}

// provisional reports a 1xx and starts early media on the first one with
// an SDP answer (RFC 3261 §13.2.1: the same answer may come in a 1xx).
func (d *dialer) provisional(res *sipgosip.Response) {
	if res.StatusCode == 100 {
		return
	}
	if d.req.OnProvisional != nil {
		d.req.OnProvisional(int(res.StatusCode))
	}
	if d.early != nil || len(res.Body()) == 0 {
		return
	}
	sess, err := sdp.ParseAnswer(res.Body(), d.local)
	if err != nil {
		d.l.log.Debug("sip/leg: unusable early media answer", "status", res.StatusCode, "error", err)
		return
	}
	rs, err := d.session(sess, nopCloser{})
	if err != nil {
		d.l.log.Debug("sip/leg: early media", "error", err)
		return
	}
	// Early media is heard, not spoken to: voxrun sends once answered.
	rs.SetDirection(false, sess.Direction.Receives())
	d.early, d.earlySess = rs, sess
	if d.req.OnEarlyMedia != nil {
		d.req.OnEarlyMedia(&endpoint{Session: rs})
	}
}

// session starts an RTP session on the leg's port for sess.
func (d *dialer) session(sess sdp.Session, closer interface{ Close() error }) (*rtpsession.Session, error) {
	lease := d.l.lease
	// A session closed before (early media on another codec) left a past
	// read deadline on the sockets.
	if lease.RTP != nil { // nil when the allocator has a poller: no deadlines there
		_ = lease.RTP.SetReadDeadline(time.Time{})
	}
	if lease.RTCP != nil {
		_ = lease.RTCP.SetReadDeadline(time.Time{})
	}
	rc := rtpsession.FromSDP(sess)
	rc.Conn, rc.RTCPConn, rc.Closer, rc.Clock = lease.RTP, lease.RTCP, closer, d.a.cfg.Clock
	rc.Socket, rc.RTCPSocket = lease.Socket, lease.RTCPSocket
	return rtpsession.New(rc)
}

// answered turns the 2xx into the confirmed dialog (RFC 3261 §12.1.2, §13.2.2.4):
// remote tag, remote target, reversed route set, the SDP answer, the RTP
// session, the ACK (and again for each 2xx retransmission).
func (d *dialer) answered(ctx context.Context, res *sipgosip.Response) (*Leg, error) {
	l := d.l
	to := res.To()
	if to == nil {
		return nil, &StatusError{Status: 502, Reason: "Bad Gateway", Err: errors.New("2xx without To")}
	}
	l.key.remoteTag, _ = to.Params.Get("tag")
	if c := res.Contact(); c != nil {
		l.remoteTarget = *c.Address.Clone()
	}
	// RFC 3261 §12.1.2: the UAC's route set is the Record-Route list in
	// reverse order.
	var rr []string
	for _, h := range res.GetHeaders("Record-Route") {
		rr = append(rr, splitHeaderValues(h.Value())...)
	}
	for i := len(rr) - 1; i >= 0; i-- {
		l.routeSet = append(l.routeSet, rr[i])
	}
	l.peer = hostPort(l.remoteTarget)
	if len(l.routeSet) > 0 {
		// RFC 3261 §12.2.1.1: requests go to the first route (loose routing).
		var first sipgosip.Uri
		params := sipgosip.NewParams()
		if _, err := sipgosip.ParseAddressValue(l.routeSet[0], &first, &params); err == nil && first.Host != "" {
			l.peer = hostPort(first)
		}
	}
	if c, ok := d.tx.(connection); ok {
		l.conn = c.Connection()
	}
	l.clientTx = d.tx
	ack := l.ack2xx(d.auth)
	sendACK := func() {
		// The hook is in place before the first ACK leaves: a peer may
		// retransmit its 2xx as soon as it has that ACK.
		d.tx.OnRetransmission(func(r *sipgosip.Response) {
			if r.IsSuccess() {
				l.sendACK(ack) // RFC 3261 §13.2.2.4: every 2xx retransmission
			}
		})
		l.sendACK(ack)
	}

	sess, err := sdp.ParseAnswer(res.Body(), d.local)
	if err == nil && d.early != nil && sameFormat(sess, d.earlySess) {
		l.rtp, d.early = d.early, nil
	} else if err == nil {
		if d.early != nil {
			_ = d.early.Close()
			d.early = nil
		}
		l.rtp, err = d.session(sess, nopCloser{})
	}
	if err != nil {
		// No usable answer: the call cannot go on (RFC 3261 §13.2.2.4 asks
		// for the ACK, then a BYE).
		l.rtp = nil
		sendACK()
		status := sdp.StatusOf(err)
		if status == 0 {
			status = 500
		}
		d.byeUnusable(ctx, res)
		return nil, &StatusError{Status: status, Reason: "Not Acceptable Here", Err: err}
	}
	l.rtp.SetRemote(sess.Remote)
	l.rtp.SetRemoteRTCP(sess.RemoteRTCP)
	l.rtp.SetDirection(sess.Direction.Sends(), sess.Direction.Receives())
	l.ep = &endpoint{Session: l.rtp}
	l.sess, l.remoteSDP = sess, res.Body()
	l.state = stateConfirmed
	l.peerUpdate = allows(res, "UPDATE")
	if se, who, ok := sessionExpires(res); ok && d.se > 0 {
		// RFC 4028 §7.2: the 2xx names the refresher; voxrun is the UAC.
		l.timer = &sessionTimer{interval: se, refresher: who != "uas", reset: make(chan struct{}, 1)}
	}
	// The leg is in the dialog table before the ACK leaves: the far end
	// may send BYE as soon as it has the ACK.
	err = d.a.register(l)
	sendACK()
	if err != nil {
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 32*d.a.cfg.T1)
		defer cancel()
		_ = l.bye(hctx, nil, CauseClosed, false)
		_ = l.Close()
		d.l = nil
		return nil, err
	}
	d.l = nil // the caller owns it now
	l.startSessionTimer()
	return l, nil
}

// byeUnusable ends a call whose 2xx had no usable answer: BYE with a
// Reason, outside the leg (which has no media to release).
func (d *dialer) byeUnusable(ctx context.Context, res *sipgosip.Response) {
	l := d.l
	l.mu.Lock()
	req := l.newRequestLocked(sipgosip.BYE)
	l.mu.Unlock()
	req.AppendHeader(sipgosip.NewHeader("Reason", `SIP;cause=488;text="no usable SDP answer"`))
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 32*d.a.cfg.T1)
	defer cancel()
	if _, err := l.send(hctx, req); err != nil {
		l.log.Debug("sip/leg: bye after unusable answer", "error", err)
	}
}

// release frees what a failed dial holds.
func (d *dialer) release() {
	if d.early != nil {
		_ = d.early.Close()
	}
	if d.l != nil {
		if d.tx != nil {
			d.tx.Terminate()
		}
		_ = d.l.lease.Close()
	}
}

// sameFormat says whether an RTP session started for a can serve b.
func sameFormat(a, b sdp.Session) bool {
	return a.Codec == b.Codec && a.TelephoneEvent == b.TelephoneEvent && a.PTime == b.PTime && a.RTCPMux == b.RTCPMux
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// ack2xx builds the ACK of the INVITE's 2xx (RFC 3261 §13.2.2.4): within the
// dialog, the INVITE's CSeq number, a new branch, and the INVITE's
// credentials.
func (l *Leg) ack2xx(auth sipgosip.Header) *sipgosip.Request {
	l.mu.Lock()
	cseq := l.localCSeq
	l.localCSeq-- // newRequestLocked takes the next one
	ack := l.newRequestLocked(sipgosip.ACK)
	l.localCSeq = cseq
	l.mu.Unlock()
	ack.RemoveHeader("User-Agent")
	if auth != nil {
		ack.AppendHeader(sipgosip.HeaderClone(auth))
	}
	return ack
}

// sendACK writes the ACK on the INVITE's connection (an ACK for a 2xx is
// not a transaction of its own, RFC 3261 §17.1.1.1).
func (l *Leg) sendACK(ack *sipgosip.Request) {
	if l.conn == nil {
		return
	}
	if err := l.conn.WriteMsg(ack); err != nil {
		l.log.Debug("sip/leg: ack", "error", err)
	}
}

// authorize computes the credentials for a 401 (WWW-Authenticate →
// Authorization) or 407 (Proxy-Authenticate → Proxy-Authorization) with
// RFC 3261 §22.2, §22.3.
func (d *dialer) authorize(res *sipgosip.Response) error {
	h, err := digest.Answer(res, "INVITE", d.l.invite.Recipient.String(), d.req.Auth.Username, d.req.Auth.Password)
	if err != nil {
		return fmt.Errorf("sip/leg: %w", err)
	}
	d.auth = h
	return nil
}
