package leg

import (
	"context"
	"strconv"
	"strings"
	"time"

	sipgosip "github.com/emiago/sipgo/sip"

	"github.com/voxrun/voxrun/media/sdp"
)

// Dialog is what another node needs to take over a leg's dialog (seed 003).
// It has exactly the fields of runtime.Dialog, so that cmd converts it with
// runtime.Dialog(d).
type Dialog struct {
	CallID       string   `json:"call_id"`
	LocalTag     string   `json:"local_tag,omitempty"`
	RemoteTag    string   `json:"remote_tag,omitempty"`
	LocalCSeq    uint32   `json:"local_cseq,omitempty"`
	RemoteCSeq   uint32   `json:"remote_cseq,omitempty"`
	RouteSet     []string `json:"route_set,omitempty"`
	RemoteTarget string   `json:"remote_target,omitempty"`
	LocalSDP     string   `json:"local_sdp,omitempty"`
	RemoteSDP    string   `json:"remote_sdp,omitempty"`
	Transport    string   `json:"transport,omitempty"`
}

// Dialog returns the dialog's identifiers and state (RFC 3261 §12.1.1).
func (l *Leg) Dialog() Dialog {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Dialog{
		CallID:       l.key.callID,
		LocalTag:     l.key.localTag,
		RemoteTag:    l.key.remoteTag,
		LocalCSeq:    l.localCSeq,
		RemoteCSeq:   l.remoteCSeq,
		RouteSet:     append([]string(nil), l.routeSet...),
		RemoteTarget: l.remoteTarget.String(),
		LocalSDP:     string(l.localSDP),
		RemoteSDP:    string(l.remoteSDP),
		Transport:    l.transport,
	}
}

// serve handles one in-dialog request other than ACK.
func (l *Leg) serve(ctx context.Context, req *sipgosip.Request, tx sipgosip.ServerTransaction) {
	cseq := req.CSeq()
	if cseq == nil {
		l.reply(req, tx, 400, "Bad Request", nil, nil)
		return
	}
	l.mu.Lock()
	// RFC 3261 §12.2.2: a lower CSeq than the last one is out of order.
	if cseq.SeqNo <= l.remoteCSeq {
		l.mu.Unlock()
		l.reply(req, tx, 500, "Server Internal Error", nil, nil)
		return
	}
	l.remoteCSeq = cseq.SeqNo
	st := l.state
	l.mu.Unlock()
	if st == stateEnded {
		l.reply(req, tx, 481, "Call/Transaction Does Not Exist", nil, nil)
		return
	}
	switch req.Method {
	case sipgosip.BYE:
		// RFC 3261 §15.1.2
		l.reply(req, tx, 200, "OK", nil, nil)
		if st == stateEarly {
			// A BYE in an early dialog: the INVITE gets 487.
			l.mu.Lock()
			res, _ := l.responseLocked(487, "Request Terminated", nil, nil)
			l.mu.Unlock()
			_ = l.inviteTx.Respond(res)
		}
		l.end(CauseBye, true)
	case sipgosip.INVITE:
		l.reinvite(req, tx)
	case sipgosip.INFO:
		l.info(req, tx)
	case sipgosip.UPDATE:
		l.update(req, tx)
	case sipgosip.REFER:
		l.onReferRequest(req, tx)
	case sipgosip.NOTIFY:
		l.notify(req, tx)
	case sipgosip.OPTIONS:
		l.reply(req, tx, 200, "OK", nil, map[string]string{"Accept": "application/sdp"})
	default:
		l.reply(req, tx, 405, "Method Not Allowed", nil, nil)
	}
}

// onACK confirms the dialog when the ACK matches the 2xx waiting for it.
func (l *Leg) onACK(ack *sipgosip.Request) {
	cseq := ack.CSeq()
	if cseq == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.pendingACK
	if w == nil || w.cseq != cseq.SeqNo {
		return
	}
	l.pendingACK = nil
	close(w.ch)
	if l.state != stateAnswered {
		return
	}
	l.state = stateConfirmed
	if l.offerLocal == nil || cseq.SeqNo != l.invite.CSeq().SeqNo {
		return
	}
	// The answer to voxrun's offer in the 2xx (RFC 3261 §13.2.1).
	local := *l.offerLocal
	l.offerLocal = nil
	sess, err := sdp.ParseAnswer(ack.Body(), local)
	if err != nil {
		// No usable answer: the session cannot go on (RFC 3261 §13.3.1.4).
		l.log.Info("sip/leg: ack without a usable sdp answer", "error", err)
		l.goLocked(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 32*l.agent.cfg.T1)
			defer cancel()
			_ = l.bye(ctx, map[string]string{"Reason": `SIP;cause=488;text="no usable SDP answer in ACK"`}, CauseBadAnswer, true)
		})
		return
	}
	l.sess, l.remoteSDP = sess, ack.Body()
	l.rtp.SetRemote(sess.Remote)
	l.rtp.SetRemoteRTCP(sess.RemoteRTCP)
	l.rtp.SetDirection(sess.Direction.Sends(), sess.Direction.Receives())
}

// reinvite answers a re-INVITE (RFC 3261 §14.2): a new offer with the same
// codec gets an answer whose direction follows the offer (hold: sendonly or
// inactive, RFC 3264 §8.4); an unacceptable offer gets 488 and the session
// stays as it was.
func (l *Leg) reinvite(req *sipgosip.Request, tx sipgosip.ServerTransaction) {
	l.mu.Lock()
	if w := l.pendingACK; w != nil && l.state != stateEarly {
		// sipgo hands requests to handlers concurrently, so the ACK of the
		// previous 2xx, sent just before this INVITE, may still be on its
		// way here: give it T1 before refusing.
		l.mu.Unlock()
		select {
		case <-w.ch:
		case <-l.done:
		case <-time.After(l.agent.cfg.T1):
		}
		l.mu.Lock()
	}
	if l.state == stateEarly || l.pendingACK != nil {
		// RFC 3261 §14.2: an INVITE while one is still pending.
		l.mu.Unlock()
		l.reply(req, tx, 500, "Server Internal Error", nil, map[string]string{"Retry-After": "1"})
		return
	}
	if l.state == stateEnded {
		l.mu.Unlock()
		l.reply(req, tx, 481, "Call/Transaction Does Not Exist", nil, nil)
		return
	}
	cur := l.sess
	version := l.sdpVersion
	local := l.localSDP
	l.mu.Unlock()

	answer, sess := local, cur
	if body := req.Body(); len(body) > 0 {
		offer, err := sdp.ParseOffer(body)
		if err != nil {
			l.reply(req, tx, sdp.StatusOf(err), "Bad Request", nil, nil)
			return
		}
		// The RTP session keeps its codec: the answer may only pick it again.
		codecs := []sdp.Codec{cur.Codec}
		a, s, err := offer.Answer(sdp.Local{
			Addr: l.agent.cfg.MediaAddr, Port: l.lease.Port, Codecs: codecs,
			SessionID: cur.SessionID, SessionVersion: version + 1,
		})
		if err != nil {
			l.reply(req, tx, 488, "Not Acceptable Here", nil, nil)
			return
		}
		answer, sess = a, s
		version++
	}
	l.mu.Lock()
	if l.state == stateEnded {
		l.mu.Unlock()
		l.reply(req, tx, 481, "Call/Transaction Does Not Exist", nil, nil)
		return
	}
	if c := req.Contact(); c != nil {
		l.remoteTarget = c.Address // a target refresh (RFC 3261 §12.2.2)
	}
	l.sess, l.localSDP, l.sdpVersion = sess, answer, version
	if body := req.Body(); len(body) > 0 {
		l.remoteSDP = body
	}
	wait := &ackWait{cseq: req.CSeq().SeqNo, ch: make(chan struct{})}
	l.pendingACK = wait
	res := l.inDialogResponseLocked(req, 200, "OK", answer)
	l.sessionRefreshLocked(req, res)
	l.mu.Unlock()
	l.startSessionTimer()

	if sess.Remote != cur.Remote || sess.RemoteRTCP != cur.RemoteRTCP {
		l.rtp.SetRemote(sess.Remote)
		l.rtp.SetRemoteRTCP(sess.RemoteRTCP)
	}
	l.rtp.SetDirection(sess.Direction.Sends(), sess.Direction.Receives())
	if err := tx.Respond(res); err != nil {
		l.log.Debug("sip/leg: re-invite respond", "error", err)
	}
	l.goTracked(func() { l.retransmitUntilACK(tx, res, wait) })
}

// info takes SIP INFO digits (application/dtmf-relay, application/dtmf)
// into the endpoint's digit sink, as RFC 4733 digits are.
func (l *Leg) info(req *sipgosip.Request, tx sipgosip.ServerTransaction) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct, _, _ = strings.Cut(h.Value(), ";")
		ct = strings.ToLower(strings.TrimSpace(ct))
	}
	body := req.Body()
	switch {
	case len(body) == 0:
		l.reply(req, tx, 200, "OK", nil, nil) // a keep-alive
		return
	case ct == "application/dtmf-relay" || ct == "application/dtmf":
	default:
		l.reply(req, tx, 415, "Unsupported Media Type", nil, map[string]string{"Accept": "application/dtmf-relay, application/dtmf"})
		return
	}
	d, err := parseDTMFInfo(ct, body)
	if err != nil {
		l.reply(req, tx, 400, "Bad Request", nil, nil)
		return
	}
	// The digit goes to the sink before the 200: the peer sends its next
	// INFO only after this one's answer, and sipgo runs handlers
	// concurrently, so this keeps the digits in order.
	l.ep.digit(d)
	l.reply(req, tx, 200, "OK", nil, nil)
}

// bye sends BYE in the dialog with extra headers and ends the leg.
func (l *Leg) bye(ctx context.Context, headers map[string]string, cause Cause, farEnd bool) error {
	l.mu.Lock()
	if l.state == stateEnded {
		l.mu.Unlock()
		return ErrEnded
	}
	req := l.newRequestLocked(sipgosip.BYE)
	l.mu.Unlock()
	if err := addHeaders(req, headers); err != nil {
		return err
	}
	l.end(cause, farEnd)
	_, err := l.send(ctx, req)
	return err
}

// newRequestLocked builds a request within the dialog (RFC 3261 §12.2.1.1):
// Request-URI the remote target, the route set as Route, From our URI and
// tag, To theirs, the next local CSeq. It goes to where the INVITE came
// from (symmetric signaling, for peers behind NAT and for TCP).
func (l *Leg) newRequestLocked(method sipgosip.RequestMethod) *sipgosip.Request {
	l.localCSeq++
	req := sipgosip.NewRequest(method, *l.remoteTarget.Clone())
	host, port := l.contact.Address.Host, l.contact.Address.Port
	via := &sipgosip.ViaHeader{
		ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: l.transport,
		Host: host, Port: port, Params: sipgosip.NewParams(),
	}
	via.Params.Add("branch", sipgosip.GenerateBranch())
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	mf := sipgosip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	from := &sipgosip.FromHeader{Address: l.localURI, Params: sipgosip.NewParams()}
	from.Params.Add("tag", l.key.localTag)
	req.AppendHeader(from)
	to := &sipgosip.ToHeader{DisplayName: l.remoteDN, Address: l.remoteURI, Params: sipgosip.NewParams()}
	if l.key.remoteTag != "" {
		to.Params.Add("tag", l.key.remoteTag)
	}
	req.AppendHeader(to)
	callID := sipgosip.CallIDHeader(l.key.callID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sipgosip.CSeqHeader{SeqNo: l.localCSeq, MethodName: method})
	for _, r := range l.routeSet {
		req.AppendHeader(sipgosip.NewHeader("Route", r))
	}
	req.AppendHeader(sipgosip.NewHeader("User-Agent", l.agent.cfg.UserAgent))
	req.SetTransport(l.transport)
	req.SetDestination(l.peer)
	req.Laddr = l.laddr
	req.SetBody(nil)
	return req
}

// responseLocked builds a response to the INVITE: our To tag beyond 100
// (RFC 3261 §12.1.1), Contact on 1xx/2xx, the SDP body, extra headers.
func (l *Leg) responseLocked(status int, reason string, body []byte, headers map[string]string) (*sipgosip.Response, error) {
	res := sipgosip.NewResponseFromRequest(l.invite, status, reason, nil)
	if to := res.To(); to != nil && status > 100 {
		to.Params.Add("tag", l.key.localTag)
	}
	if status > 100 && status < 300 {
		res.AppendHeader(l.contact.Clone())
		res.AppendHeader(sipgosip.NewHeader("Allow", allowed))
	}
	res.AppendHeader(sipgosip.NewHeader("Server", l.agent.cfg.UserAgent))
	if err := addHeaders(res, headers); err != nil {
		return nil, err
	}
	if body != nil {
		res.AppendHeader(sipgosip.NewHeader("Content-Type", "application/sdp"))
		res.SetBody(body)
	}
	return res, nil
}

// inDialogResponseLocked builds a response to an in-dialog request.
func (l *Leg) inDialogResponseLocked(req *sipgosip.Request, status int, reason string, sdpBody []byte) *sipgosip.Response {
	res := sipgosip.NewResponseFromRequest(req, status, reason, nil)
	if req.IsInvite() && status >= 200 && status < 300 {
		res.AppendHeader(l.contact.Clone())
		res.AppendHeader(sipgosip.NewHeader("Allow", allowed))
	}
	res.AppendHeader(sipgosip.NewHeader("Server", l.agent.cfg.UserAgent))
	if sdpBody != nil {
		res.AppendHeader(sipgosip.NewHeader("Content-Type", "application/sdp"))
		res.SetBody(sdpBody)
	}
	return res
}

// reply answers an in-dialog request.
func (l *Leg) reply(req *sipgosip.Request, tx sipgosip.ServerTransaction, status int, reason string, body []byte, headers map[string]string) {
	l.mu.Lock()
	res := l.inDialogResponseLocked(req, status, reason, body)
	l.mu.Unlock()
	if status == 405 {
		res.AppendHeader(sipgosip.NewHeader("Allow", allowed))
	}
	_ = addHeaders(res, headers)
	if err := tx.Respond(res); err != nil {
		l.log.Debug("sip/leg: respond", "method", req.Method, "status", status, "error", err)
	}
}

// splitHeaderValues splits a comma-separated header value (Record-Route may
// carry several URIs in one line, RFC 3261 §7.3.1), outside <> and quotes.
func splitHeaderValues(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			depth--
		case c == ',' && depth == 0:
			if s := strings.TrimSpace(v[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(v[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// sessionRefreshLocked treats a re-INVITE or UPDATE from the peer as a
// session refresh (RFC 4028 §9): its Session-Expires, if any, becomes the
// interval, and the 2xx carries the outcome.
func (l *Leg) sessionRefreshLocked(req *sipgosip.Request, res *sipgosip.Response) {
	if se, refresher, ok := timerOfRequest(req); ok {
		if se < l.agent.cfg.MinSE {
			se = l.agent.cfg.MinSE
		}
		l.refreshedLocked(se, refresher)
	} else if l.timer != nil {
		l.refreshedLocked(l.timer.interval, l.timer.refresher)
	}
	sessionHeaders(res, l.timer)
}

// update answers an UPDATE (RFC 3311): without a body it is a session
// refresh (RFC 4028); an SDP offer in it is refused with 488, the session
// staying as it was (voxrun changes media with re-INVITE).
func (l *Leg) update(req *sipgosip.Request, tx sipgosip.ServerTransaction) {
	if len(req.Body()) > 0 {
		l.reply(req, tx, 488, "Not Acceptable Here", nil, nil)
		return
	}
	if se, _, ok := timerOfRequest(req); ok && se < l.agent.cfg.MinSE {
		l.reply(req, tx, 422, "Session Interval Too Small", nil, map[string]string{"Min-SE": strconv.Itoa(int(l.agent.cfg.MinSE.Seconds()))})
		return
	}
	l.mu.Lock()
	res := l.inDialogResponseLocked(req, 200, "OK", nil)
	res.AppendHeader(l.contact.Clone())
	l.sessionRefreshLocked(req, res)
	l.mu.Unlock()
	l.startSessionTimer()
	if err := tx.Respond(res); err != nil {
		l.log.Debug("sip/leg: update respond", "error", err)
	}
}
