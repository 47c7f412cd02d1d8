package leg

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	sipgosip "github.com/emiago/sipgo/sip"
)

// Session timers (RFC 4028). A leg whose INVITE (inbound) or 2xx
// (outbound) carries Session-Expires keeps the session alive: when voxrun
// is the refresher it sends a refresh (UPDATE when the peer allows it,
// else a re-INVITE with the same SDP) at half the interval; when the peer
// is, a missing refresh ends the call with BYE shortly before the interval
// runs out. A refresh that fails ends the call too.

// Defaults of Config's session timer fields.
const (
	// DefaultMinSE is the smallest session interval voxrun accepts
	// (RFC 4028 §4: at least 90 s).
	DefaultMinSE = 90 * time.Second
	// DefaultSessionExpires is the interval voxrun asks for in its own
	// INVITEs (RFC 4028 §4 recommends 1800 s).
	DefaultSessionExpires = 1800 * time.Second
)

// CauseSessionExpired ends a leg whose session timer ran out, or whose
// refresh failed (RFC 4028 §10).
const CauseSessionExpired Cause = "session-expired"

// sessionTimer is a leg's negotiated session timer.
type sessionTimer struct {
	interval  time.Duration
	refresher bool          // voxrun refreshes
	reset     chan struct{} // a refresh happened: start the interval again
	running   bool
}

// headers is what sipgo's requests and responses have in common here.
type headers interface {
	GetHeader(name string) sipgosip.Header
	GetHeaders(name string) []sipgosip.Header
}

// sessionExpires reads a Session-Expires header (RFC 4028 §4): the
// interval and the refresher parameter ("uac", "uas" or "").
func sessionExpires(msg headers) (time.Duration, string, bool) {
	h := msg.GetHeader("Session-Expires")
	if h == nil {
		h = msg.GetHeader("x")
	}
	if h == nil {
		return 0, "", false
	}
	parts := strings.Split(h.Value(), ";")
	n, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil || n <= 0 {
		return 0, "", false
	}
	refresher := ""
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(v))
		}
	}
	return time.Duration(n) * time.Second, refresher, true
}

// minSE reads Min-SE (RFC 4028 §5).
func minSE(msg headers) time.Duration {
	h := msg.GetHeader("Min-SE")
	if h == nil {
		return 0
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0
	}
	return time.Duration(n) * time.Second
}

// hasOption says whether a Supported or Require header lists tag.
func hasOption(msg headers, header, tag string) bool {
	for _, h := range msg.GetHeaders(header) {
		for _, t := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(t), tag) {
				return true
			}
		}
	}
	return false
}

// allows says whether a message's Allow header lists method.
func allows(msg headers, method string) bool {
	return hasOption(msg, "Allow", method)
}

// timerOfRequest is the session timer a UAS agrees to for an INVITE or a
// refresh: the interval asked for, voxrun the refresher when the UAC said
// uas, or said nothing and does not support timers (RFC 4028 §9).
func timerOfRequest(req *sipgosip.Request) (time.Duration, bool, bool) {
	se, refresher, ok := sessionExpires(req)
	if !ok {
		return 0, false, false
	}
	switch refresher {
	case "uac":
		return se, false, true
	case "uas":
		return se, true, true
	}
	return se, !hasOption(req, "Supported", "timer"), true
}

// sessionHeaders adds Session-Expires (and Require: timer when the UAC
// refreshes) to a 2xx voxrun sends as UAS (RFC 4028 §9).
func sessionHeaders(res *sipgosip.Response, st *sessionTimer) {
	if st == nil || st.interval <= 0 {
		return
	}
	who := "uac"
	if st.refresher {
		who = "uas"
	}
	res.AppendHeader(sipgosip.NewHeader("Session-Expires", strconv.Itoa(int(st.interval.Seconds()))+";refresher="+who))
	if who == "uac" {
		res.AppendHeader(sipgosip.NewHeader("Require", "timer"))
	}
}

// startSessionTimer starts the leg's timer goroutine once, when the
// dialog has a session timer.
func (l *Leg) startSessionTimer() {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.timer
	if st == nil || st.running || st.interval <= 0 {
		return
	}
	st.running = true
	l.goLocked(l.runSessionTimer)
}

// refreshedLocked records a refresh: a new interval and refresher, and
// the interval starts again.
func (l *Leg) refreshedLocked(interval time.Duration, refresher bool) {
	if l.timer == nil {
		l.timer = &sessionTimer{reset: make(chan struct{}, 1)}
	}
	l.timer.interval, l.timer.refresher = interval, refresher
	select {
	case l.timer.reset <- struct{}{}:
	default:
	}
}

// runSessionTimer refreshes the session at half the interval, or ends it
// when the peer's refresh does not come (RFC 4028 §10: BYE before the
// interval minus min(32 s, interval/3)).
func (l *Leg) runSessionTimer() {
	for {
		l.mu.Lock()
		st := l.timer
		interval, refresher := st.interval, st.refresher
		l.mu.Unlock()
		wait := interval / 2
		if !refresher {
			wait = interval - min(32*time.Second, interval/3)
		}
		t := time.NewTimer(wait)
		select {
		case <-l.done:
			t.Stop()
			return
		case <-l.stop:
			t.Stop()
			return
		case <-st.reset:
			t.Stop()
			continue
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 32*l.agent.cfg.T1)
		if !refresher {
			l.log.Info("sip/leg: session timer expired, ending the call", "interval", interval)
			_ = l.bye(ctx, map[string]string{"Reason": `SIP;cause=408;text="session timer expired"`}, CauseSessionExpired, true)
			cancel()
			return
		}
		err := l.refresh(ctx)
		cancel()
		if err != nil {
			l.log.Info("sip/leg: session refresh failed, ending the call", "error", err)
			bctx, bcancel := context.WithTimeout(context.Background(), 32*l.agent.cfg.T1)
			_ = l.bye(bctx, map[string]string{"Reason": `SIP;cause=408;text="session refresh failed"`}, CauseSessionExpired, true)
			bcancel()
			return
		}
	}
}

// errNoRefresh means a refresh got no 2xx.
var errNoRefresh = errors.New("sip/leg: session refresh refused")

// refresh sends a session refresh (RFC 4028 §7.4): UPDATE without a body
// when the peer allows UPDATE, else a re-INVITE with the current SDP (and
// its ACK). The 2xx's Session-Expires sets the next interval.
func (l *Leg) refresh(ctx context.Context) error {
	l.mu.Lock()
	if l.state == stateEnded {
		l.mu.Unlock()
		return ErrEnded
	}
	method := sipgosip.INVITE
	if l.peerUpdate {
		method = sipgosip.UPDATE
	}
	req := l.newRequestLocked(method)
	req.AppendHeader(l.contact.Clone())
	req.AppendHeader(sipgosip.NewHeader("Session-Expires", strconv.Itoa(int(l.timer.interval.Seconds()))+";refresher=uac"))
	req.AppendHeader(sipgosip.NewHeader("Supported", "timer"))
	if method == sipgosip.INVITE {
		req.AppendHeader(sipgosip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(l.localSDP)
	}
	l.mu.Unlock()
	res, err := l.send(ctx, req)
	if method == sipgosip.INVITE && res != nil && res.IsSuccess() {
		ack := l.ack2xxOf(req)
		if l.conn != nil {
			_ = l.conn.WriteMsg(ack)
		} else if _, aerr := l.send(ctx, ack); aerr != nil {
			l.log.Debug("sip/leg: refresh ack", "error", aerr)
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %v", errNoRefresh, err)
	}
	if res == nil {
		return nil // no Requester: sent once, nothing to read
	}
	se, who, ok := sessionExpires(res)
	l.mu.Lock()
	if ok {
		// RFC 4028 §7.4: the 2xx says who refreshes from now on; voxrun
		// sent the request, so it is the UAC.
		l.refreshedLocked(se, who != "uas")
	} else {
		l.refreshedLocked(l.timer.interval, true)
	}
	l.mu.Unlock()
	return nil
}

// ack2xxOf builds the ACK of a 2xx to an in-dialog INVITE voxrun sent:
// its CSeq number, a new branch.
func (l *Leg) ack2xxOf(inv *sipgosip.Request) *sipgosip.Request {
	l.mu.Lock()
	cur := l.localCSeq
	l.localCSeq = inv.CSeq().SeqNo - 1
	ack := l.newRequestLocked(sipgosip.ACK)
	l.localCSeq = cur
	l.mu.Unlock()
	ack.RemoveHeader("User-Agent")
	return ack
}
