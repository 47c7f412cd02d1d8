package leg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	sipgosip "github.com/emiago/sipgo/sip"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/ports"
	"github.com/voxrun/voxrun/media/rtpsession"
	"github.com/voxrun/voxrun/media/sdp"
	"github.com/voxrun/voxrun/sip"
)

// Direction says which side started the call.
type Direction uint8

// Directions.
const (
	// Inbound is a call voxrun received (voxrun is the UAS).
	Inbound Direction = iota + 1
	// Outbound is a call voxrun placed (voxrun is the UAC, Agent.Dial).
	Outbound
)

type state uint8

const (
	stateEarly     state = iota // INVITE not answered yet
	stateAnswered               // 2xx sent, waiting for its ACK
	stateConfirmed              // ACK received (RFC 3261 §13.3.1.4)
	stateEnded
)

// Cause says why a leg ended.
type Cause string

// Causes.
const (
	CauseNone       Cause = ""
	CauseBye        Cause = "bye"         // the peer sent BYE
	CauseCancel     Cause = "cancel"      // the peer sent CANCEL
	CauseACKTimeout Cause = "ack-timeout" // no ACK for 64*T1 (RFC 3261 §13.3.1.4)
	CauseRejected   Cause = "rejected"    // voxrun answered with a final error
	CauseHangup     Cause = "hangup"      // voxrun sent BYE
	CauseClosed     Cause = "closed"      // Close or shutdown
	CauseBadAnswer  Cause = "bad-answer"  // the ACK had no usable answer to voxrun's offer
)

// allowed is the Allow header of a leg (RFC 3261 §20.5).
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY"

// Leg is one call leg: a SIP dialog and its RTP session.
type Leg struct {
	agent *Agent
	log   *slog.Logger
	dir   Direction
	key   dialogKey

	invite    *sipgosip.Request
	inviteTx  sipgosip.ServerTransaction
	conn      sipgosip.Connection        // the INVITE's connection, nil if unknown
	laddr     sipgosip.Addr              // outbound over UDP: the server socket requests leave from
	clientTx  sipgosip.ClientTransaction // outbound: the INVITE's, answering 2xx retransmissions
	transport string
	peer      string // where the INVITE came from (host:port)
	contact   sipgosip.ContactHeader
	localURI  sipgosip.Uri
	remoteURI sipgosip.Uri
	remoteDN  string
	routeSet  []string
	// offerLocal is the offer voxrun made in its 2xx to an INVITE without
	// one; the ACK carries the answer. nil when the caller offered.
	offerLocal *sdp.Local

	lease *ports.Lease
	rtp   *rtpsession.Session
	ep    *endpoint

	mu           sync.Mutex
	state        state
	cause        Cause
	progressSent bool
	localCSeq    uint32
	remoteCSeq   uint32
	remoteTarget sipgosip.Uri
	localSDP     []byte
	remoteSDP    []byte
	sdpVersion   uint64
	sess         sdp.Session
	pendingACK   *ackWait
	goClosed     bool
	timer        *sessionTimer // RFC 4028, nil without one
	peerUpdate   bool          // the peer allows UPDATE
	refer        *referState   // the REFER voxrun sent, waiting for its NOTIFYs
	onRefer      func(Refer) int
	referMu      sync.Mutex // orders the NOTIFYs of a REFER received

	ended     chan struct{} // the far end ended the call
	done      chan struct{} // the leg is over, whoever ended it
	stop      chan struct{} // Close: goroutines return
	endOnce   sync.Once
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// ackWait is a 2xx waiting for its ACK (matched by CSeq, RFC 3261 §17.1.1.3).
type ackWait struct {
	cseq uint32
	ch   chan struct{}
}

// Accept builds the inbound leg of an initial INVITE: it negotiates the SDP
// answer, binds an RTP port and starts the RTP session (not sending until
// the call is answered or in early media). An INVITE without SDP gets
// voxrun's offer in the 2xx and the answer is read from the ACK. It does not
// answer the INVITE. When the INVITE cannot be served it answers it (400
// malformed SDP, 488 no common codec, 503 no RTP port, 500 otherwise) and
// returns a *StatusError. The caller owns the leg: it waits for it (Wait)
// and closes it (Close).
func (a *Agent) Accept(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) (*Leg, error) {
	fail := func(status int, reason string, err error) (*Leg, error) {
		res := sipgosip.NewResponseFromRequest(req, status, reason, nil)
		if to := res.To(); to != nil && !to.Params.Has("tag") {
			to.Params.Add("tag", sipgosip.GenerateTagN(16))
		}
		res.AppendHeader(sipgosip.NewHeader("Server", a.cfg.UserAgent))
		if rerr := tx.Respond(res); rerr != nil {
			a.log.Debug("sip/leg: respond", "status", status, "error", rerr)
		}
		return nil, &StatusError{Status: status, Reason: reason, Err: err}
	}
	callID, from, to := req.CallID(), req.From(), req.To()
	if callID == nil || from == nil || to == nil || req.CSeq() == nil {
		return fail(400, "Bad Request", errors.New("missing dialog headers"))
	}
	remoteTag, _ := from.Params.Get("tag")
	se, seRefresher, hasSE := timerOfRequest(req)
	if hasSE && se < a.cfg.MinSE {
		// RFC 4028 §8.1: too short an interval gets 422 with our Min-SE.
		res := sipgosip.NewResponseFromRequest(req, 422, "Session Interval Too Small", nil)
		if to := res.To(); to != nil && !to.Params.Has("tag") {
			to.Params.Add("tag", sipgosip.GenerateTagN(16))
		}
		res.AppendHeader(sipgosip.NewHeader("Min-SE", strconv.Itoa(int(a.cfg.MinSE.Seconds()))))
		res.AppendHeader(sipgosip.NewHeader("Server", a.cfg.UserAgent))
		_ = tx.Respond(res)
		return nil, &StatusError{Status: 422, Reason: "Session Interval Too Small"}
	}
	body := req.Body()
	var offer *sdp.Offer
	if len(body) > 0 {
		var err error
		if offer, err = sdp.ParseOffer(body); err != nil {
			return fail(sdp.StatusOf(err), "Bad Request", err)
		}
	}
	lease, err := a.cfg.Ports.Listen(ctx, a.cfg.MediaAddr, true)
	if err != nil {
		return fail(503, "Service Unavailable", err)
	}
	var (
		local  []byte
		sess   sdp.Session
		offerL *sdp.Local
	)
	if offer != nil {
		local, sess, err = offer.Answer(sdp.Local{Addr: a.cfg.MediaAddr, Port: lease.Port, Codecs: a.cfg.Codecs, SessionVersion: 1})
		if err != nil {
			_ = lease.Close()
			status := sdp.StatusOf(err)
			reason := "Not Acceptable Here"
			if status == 400 {
				reason = "Bad Request"
			}
			return fail(status, reason, err)
		}
	} else {
		// RFC 3261 §13.2.1: an INVITE without an offer gets the offer in the
		// 2xx and the answer in the ACK. The offer names one codec, so that
		// the RTP session can start with it now.
		offerL, sess = delayedOffer(a.cfg, lease.Port)
		if local, sess.SessionID, err = sdp.NewOffer(*offerL); err != nil {
			_ = lease.Close()
			return fail(500, "Server Internal Error", err)
		}
		offerL.SessionID = sess.SessionID
	}
	rc := rtpsession.FromSDP(sess)
	rc.Conn, rc.RTCPConn, rc.Closer, rc.Clock = lease.RTP, lease.RTCP, lease, a.cfg.Clock
	// The poller's sockets instead, when the allocator has one.
	rc.Socket, rc.RTCPSocket = lease.Socket, lease.RTCPSocket
	rc.NoSend = true // until 183 or 200 (Progress, Answer)
	rs, err := rtpsession.New(rc)
	if err != nil {
		_ = lease.Close()
		return fail(500, "Server Internal Error", err)
	}

	l := &Leg{
		agent: a, dir: Inbound,
		key:    dialogKey{callID: callID.Value(), localTag: sipgosip.GenerateTagN(16), remoteTag: remoteTag},
		invite: req, inviteTx: tx,
		peer:     req.Source(),
		localURI: to.Address, remoteURI: from.Address, remoteDN: from.DisplayName,
		lease: lease, rtp: rs, ep: &endpoint{Session: rs},
		remoteCSeq: req.CSeq().SeqNo, remoteTarget: from.Address,
		localSDP: local, remoteSDP: body, sdpVersion: 1, sess: sess, offerLocal: offerL,
		ended: make(chan struct{}), done: make(chan struct{}), stop: make(chan struct{}),
	}
	l.log = a.log.With("call_id", l.key.callID)
	if hasSE {
		l.timer = &sessionTimer{interval: se, refresher: seRefresher, reset: make(chan struct{}, 1)}
	}
	l.peerUpdate = allows(req, "UPDATE")
	l.transport = sipgosip.NetworkToUpper(req.Transport())
	if c, ok := tx.(connection); ok {
		l.conn = c.Connection()
	}
	if c := req.Contact(); c != nil {
		l.remoteTarget = c.Address // RFC 3261 §12.1.1
	}
	// RFC 3261 §12.1.1: the UAS's route set is the Record-Route list, in order.
	for _, h := range req.GetHeaders("Record-Route") {
		l.routeSet = append(l.routeSet, splitHeaderValues(h.Value())...)
	}
	l.contact = l.contactHeader()
	if err := a.register(l); err != nil {
		_ = rs.Close()
		return fail(503, "Service Unavailable", err)
	}
	// RFC 3261 §9.2: sipgo answers the CANCEL with 200 and the INVITE with
	// 487; the leg ends.
	if !tx.OnCancel(func(*sipgosip.Request) { l.end(CauseCancel, true) }) && tx.Err() != nil {
		l.end(CauseCancel, true)
		_ = l.Close()
		return nil, &StatusError{Status: 487, Reason: "Request Terminated", Err: tx.Err()}
	}
	return l, nil
}

// contactHeader is voxrun's Contact for this dialog: the address the INVITE
// arrived on, with its transport (RFC 3261 §8.1.1.8, §12.1.1).
func (l *Leg) contactHeader() sipgosip.ContactHeader {
	host := l.agent.cfg.Host
	port := l.invite.Recipient.Port
	if l.conn != nil {
		if h, p, err := net.SplitHostPort(l.conn.LocalAddr().String()); err == nil {
			if ip := net.ParseIP(h); host == "" && ip != nil && !ip.IsUnspecified() {
				host = h
			}
			if n, err := strconv.Atoi(p); err == nil {
				port = n
			}
		}
	}
	if host == "" {
		host = l.invite.Recipient.Host
	}
	uri := sipgosip.Uri{Scheme: "sip", Host: host, Port: port}
	if l.transport != "" && l.transport != "UDP" {
		uri.UriParams = sipgosip.NewParams()
		uri.UriParams.Add("transport", sipgosip.NetworkToLower(l.transport))
	}
	return sipgosip.ContactHeader{Address: uri}
}

// Direction says whether the leg is inbound or outbound.
func (l *Leg) Direction() Direction { return l.dir }

// Request is the INVITE that created the leg: the one received, or for an
// outbound leg the last one sent (with credentials after a challenge).
func (l *Leg) Request() *sip.Request { return l.invite }

// Endpoint is the leg's media: its RTP session. SIP INFO digits arrive
// through the same digit sink as RTP digits.
func (l *Leg) Endpoint() media.Endpoint { return l.ep }

// Ended is closed when the far end ends the call (BYE, CANCEL, no ACK).
func (l *Leg) Ended() <-chan struct{} { return l.ended }

// Done is closed when the leg is over, whoever ended it.
func (l *Leg) Done() <-chan struct{} { return l.done }

// Cause says why the leg ended (CauseNone while it lives).
func (l *Leg) Cause() Cause {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cause
}

// Media is the negotiated media as it stands (after re-INVITEs).
func (l *Leg) Media() sdp.Session {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sess
}

// Ring sends 180 Ringing with extra headers (RFC 3261 §13.3.1.1).
func (l *Leg) Ring(ctx context.Context, headers map[string]string) error {
	l.mu.Lock()
	if err := l.earlyLocked(); err != nil {
		l.mu.Unlock()
		return err
	}
	res, err := l.responseLocked(180, "Ringing", nil, headers)
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return l.respondInvite(res)
}

// Progress sends 183 Session Progress with the SDP answer (early media) and
// starts sending RTP. It is idempotent. A call whose INVITE had no offer
// has no early media (ErrNoEarlyMedia).
func (l *Leg) Progress(ctx context.Context) error {
	l.mu.Lock()
	if err := l.earlyLocked(); err != nil {
		l.mu.Unlock()
		return err
	}
	if l.progressSent {
		l.mu.Unlock()
		return nil
	}
	if l.offerLocal != nil {
		// An offer in a 183 would need reliable provisionals (RFC 3262).
		l.mu.Unlock()
		return ErrNoEarlyMedia
	}
	l.progressSent = true
	res, err := l.responseLocked(183, "Session Progress", l.localSDP, nil)
	sess := l.sess
	l.mu.Unlock()
	if err != nil {
		return err
	}
	l.rtp.SetDirection(sess.Direction.Sends(), sess.Direction.Receives())
	return l.respondInvite(res)
}

// Answer sends 200 OK with the SDP answer, retransmits it until the ACK
// arrives (RFC 3261 §13.3.1.4) and starts sending RTP. It is idempotent.
func (l *Leg) Answer(ctx context.Context) error {
	l.mu.Lock()
	switch l.state {
	case stateAnswered, stateConfirmed:
		l.mu.Unlock()
		return nil
	case stateEnded:
		l.mu.Unlock()
		return ErrEnded
	}
	res, err := l.responseLocked(200, "OK", l.localSDP, nil)
	if err != nil {
		l.mu.Unlock()
		return err
	}
	sessionHeaders(res, l.timer)
	l.state = stateAnswered
	wait := &ackWait{cseq: l.invite.CSeq().SeqNo, ch: make(chan struct{})}
	l.pendingACK = wait
	sess := l.sess
	l.mu.Unlock()
	l.rtp.SetDirection(sess.Direction.Sends(), sess.Direction.Receives())
	if err := l.inviteTx.Respond(res); err != nil {
		l.end(CauseClosed, true)
		return fmt.Errorf("sip/leg: answer: %w", err)
	}
	l.goTracked(func() { l.retransmitUntilACK(l.inviteTx, res, wait) })
	l.startSessionTimer()
	return nil
}

// Reject answers the unanswered INVITE with a final status (300-699), a
// reason phrase and headers such as X-Reason, and ends the leg.
func (l *Leg) Reject(ctx context.Context, status int, reason string, headers map[string]string) error {
	if status < 300 || status > 699 {
		return fmt.Errorf("%w: reject with %d", ErrStatus, status)
	}
	l.mu.Lock()
	if err := l.earlyLocked(); err != nil {
		l.mu.Unlock()
		return err
	}
	res, err := l.responseLocked(status, reason, nil, headers)
	l.mu.Unlock()
	if err != nil {
		return err
	}
	err = l.respondInvite(res)
	l.end(CauseRejected, false)
	return err
}

// Hangup ends the call: BYE with the extra headers for an answered call
// (after its ACK, RFC 3261 §15), or a final 480 with the headers for an
// inbound call not answered yet. An outbound leg is answered from the
// start (Agent.Dial returns it on the 2xx; before that, cancelling Dial's
// ctx sends the CANCEL).
func (l *Leg) Hangup(ctx context.Context, headers map[string]string) error {
	l.mu.Lock()
	st, wait := l.state, l.pendingACK
	l.mu.Unlock()
	switch st {
	case stateEnded:
		return ErrEnded
	case stateEarly:
		return l.Reject(ctx, 480, "Temporarily Unavailable", headers)
	case stateAnswered:
		// RFC 3261 §15: no BYE before the ACK (or its timeout).
		if wait != nil {
			select {
			case <-wait.ch:
			case <-l.done:
				return nil
			case <-ctx.Done():
				return fmt.Errorf("sip/leg: hangup waiting for ack: %w", context.Cause(ctx))
			}
		}
	}
	return l.bye(ctx, headers, CauseHangup, false)
}

// Wait blocks until the leg is over. When ctx ends first (the server shuts
// down) it ends the call itself: BYE when answered, 503 when not.
func (l *Leg) Wait(ctx context.Context) error {
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	l.mu.Lock()
	st := l.state
	l.mu.Unlock()
	switch st {
	case stateEarly:
		_ = l.Reject(hctx, 503, "Service Unavailable", nil)
	case stateAnswered, stateConfirmed:
		_ = l.bye(hctx, nil, CauseClosed, false)
	}
	l.end(CauseClosed, false)
	return context.Cause(ctx)
}

// Close ends the leg if it is still up (without signaling: use Hangup or
// Wait for that), releases its RTP session and port, and waits for its
// goroutines. It is idempotent.
func (l *Leg) Close() error {
	l.closeOnce.Do(func() {
		l.end(CauseClosed, false)
		l.mu.Lock()
		l.goClosed = true
		l.mu.Unlock()
		close(l.stop)
		l.wg.Wait()
		l.closeErr = l.rtp.Close()
	})
	return l.closeErr
}

// end marks the leg over once: it leaves the agent's table, releases the
// media and closes Done (and Ended when the far end ended it).
func (l *Leg) end(cause Cause, farEnd bool) {
	l.endOnce.Do(func() {
		l.mu.Lock()
		l.state = stateEnded
		l.cause = cause
		if l.pendingACK != nil {
			l.pendingACK = nil
		}
		l.mu.Unlock()
		l.agent.unregister(l)
		if err := l.rtp.Close(); err != nil {
			l.log.Debug("sip/leg: close rtp", "error", err)
		}
		// An outbound leg's sessions do not own the port (early media may
		// have started a first one); inbound ones closed it already.
		_ = l.lease.Close()
		if l.clientTx != nil {
			l.clientTx.Terminate()
		}
		if farEnd {
			close(l.ended)
		}
		close(l.done)
		l.log.Debug("sip/leg: ended", "cause", cause)
	})
}

// goTracked runs f on a goroutine that Close waits for, unless Close ran.
func (l *Leg) goTracked(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.goLocked(f)
}

func (l *Leg) goLocked(f func()) {
	if l.goClosed {
		return
	}
	l.wg.Go(f)
}

func (l *Leg) earlyLocked() error {
	switch l.state {
	case stateEarly:
		return nil
	case stateEnded:
		return ErrEnded
	}
	return ErrAnswered
}

func (l *Leg) respondInvite(res *sipgosip.Response) error {
	if err := l.inviteTx.Respond(res); err != nil {
		return fmt.Errorf("sip/leg: respond %d: %w", res.StatusCode, err)
	}
	return nil
}

// retransmitUntilACK passes the 2xx to the transport again at T1, 2*T1, ...
// capped at T2, until the ACK arrives; after 64*T1 without one the dialog
// is confirmed and ended with BYE (RFC 3261 §13.3.1.4). Over a reliable
// transport the transport carries the 2xx and only the timeout applies.
func (l *Leg) retransmitUntilACK(tx sipgosip.ServerTransaction, res *sipgosip.Response, wait *ackWait) {
	t1, t2 := l.agent.cfg.T1, l.agent.cfg.T2
	giveUp := time.NewTimer(64 * t1)
	defer giveUp.Stop()
	interval := t1
	retrans := time.NewTimer(interval)
	defer retrans.Stop()
	if sipgosip.IsReliable(l.transport) {
		retrans.Stop()
	}
	for {
		select {
		case <-wait.ch:
			return
		case ack := <-tx.Acks(): // an ACK that sipgo matched to the transaction
			l.onACK(ack)
			return
		case <-l.stop:
			return
		case <-l.done:
			return
		case <-retrans.C:
			if err := tx.Respond(res); err != nil && l.conn != nil {
				_ = l.conn.WriteMsg(res)
			}
			interval = min(2*interval, t2)
			retrans.Reset(interval)
		case <-giveUp.C:
			l.log.Warn("sip/leg: no ack for 2xx, ending the call")
			l.mu.Lock()
			if l.pendingACK == wait {
				l.pendingACK = nil
				l.state = stateConfirmed
			}
			l.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 32*t1)
			_ = l.bye(ctx, nil, CauseACKTimeout, true)
			cancel()
			return
		}
	}
}

// delayedOffer is voxrun's offer to an INVITE without one: the first
// configured codec (PCMU by default), telephone-event, 20 ms, sendrecv.
// The Session is what the RTP session starts with until the ACK's answer
// gives the peer's address.
func delayedOffer(cfg Config, port int) (*sdp.Local, sdp.Session) {
	codec := sdp.PCMU
	if len(cfg.Codecs) > 0 {
		codec = cfg.Codecs[0]
	}
	local := &sdp.Local{Addr: cfg.MediaAddr, Port: port, Codecs: []sdp.Codec{codec}, SessionVersion: 1}
	return local, sdp.Session{
		Codec:          codec,
		TelephoneEvent: sdp.Codec{Name: "telephone-event", PayloadType: sdp.DefaultTelephoneEvent, ClockRate: 8000},
		PTime:          20 * time.Millisecond,
		Direction:      sdp.SendRecv,
	}
}
