package leg

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	sipgosip "github.com/emiago/sipgo/sip"
)

// Refer is a REFER received in a leg's dialog (RFC 3515): the peer asks
// voxrun to call someone else (a blind transfer).
type Refer struct {
	// ReferTo is the Refer-To URI, without <> (sip:bob@example.com).
	ReferTo string
	// ReferredBy is the Referred-By header's value, "" when absent.
	ReferredBy string
	// Headers are the REFER's X- headers.
	Headers map[string]string
}

// OnRefer sets what decides the REFERs the peer sends in this leg's
// dialog. h runs on the request's goroutine and must not block: it
// returns the status to answer with, 202 to accept (voxrun then sends a
// NOTIFY with the sipfrag "SIP/2.0 100 Trying", and the transfer's
// outcome later with NotifyRefer) or 400-699 to refuse. Without a
// handler a REFER gets 603 Decline.
func (l *Leg) OnRefer(h func(Refer) int) {
	l.mu.Lock()
	l.onRefer = h
	l.mu.Unlock()
}

// onReferRequest answers a REFER (RFC 3515 §2.4).
func (l *Leg) onReferRequest(req *sipgosip.Request, tx sipgosip.ServerTransaction) {
	hs := req.GetHeaders("Refer-To")
	if len(hs) != 1 {
		l.reply(req, tx, 400, "Bad Request", nil, nil) // RFC 3515 §2.4.1: exactly one
		return
	}
	r := Refer{ReferTo: strings.TrimSpace(hs[0].Value()), Headers: map[string]string{}}
	if i := strings.IndexByte(r.ReferTo, '<'); i >= 0 {
		if j := strings.IndexByte(r.ReferTo[i:], '>'); j > 0 {
			r.ReferTo = r.ReferTo[i+1 : i+j]
		}
	}
	if h := req.GetHeader("Referred-By"); h != nil {
		r.ReferredBy = h.Value()
	}
	for _, h := range req.Headers() {
		if n := h.Name(); len(n) > 2 && strings.EqualFold(n[:2], "x-") {
			r.Headers[n] = h.Value()
		}
	}
	l.mu.Lock()
	h := l.onRefer
	l.mu.Unlock()
	// The 202 and the first NOTIFY go before any NotifyRefer the handler's
	// owner sends (RFC 3515 §2.4.4: the first NOTIFY follows the 202).
	l.referMu.Lock()
	defer l.referMu.Unlock()
	status := 603
	if h != nil {
		status = h(r)
	}
	switch {
	case status == 202 || status == 200:
		l.reply(req, tx, 202, "Accepted", nil, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 32*l.agent.cfg.T1)
		defer cancel()
		if err := l.notifyRefer(ctx, 100, "Trying"); err != nil {
			l.log.Debug("sip/leg: refer notify", "error", err)
		}
	case status >= 400 && status < 700:
		l.reply(req, tx, status, reasonOf(status), nil, nil)
	default:
		l.reply(req, tx, 500, "Server Internal Error", nil, nil)
	}
}

func reasonOf(status int) string {
	switch status {
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 488:
		return "Not Acceptable Here"
	case 603:
		return "Decline"
	}
	return "Refused"
}

// NotifyRefer reports the progress of a transfer the peer asked for with
// REFER (RFC 3515 §2.4.5): a NOTIFY with Event: refer and the sipfrag
// "SIP/2.0 <status> <reason>"; a final status (200 and above) terminates
// the implicit subscription.
func (l *Leg) NotifyRefer(ctx context.Context, status int, reason string) error {
	l.referMu.Lock()
	defer l.referMu.Unlock()
	return l.notifyRefer(ctx, status, reason)
}

func (l *Leg) notifyRefer(ctx context.Context, status int, reason string) error {
	l.mu.Lock()
	if l.state == stateEnded {
		l.mu.Unlock()
		return ErrEnded
	}
	req := l.newRequestLocked(sipgosip.NOTIFY)
	l.mu.Unlock()
	req.AppendHeader(l.contact.Clone())
	req.AppendHeader(sipgosip.NewHeader("Event", "refer"))
	state := "active;expires=60"
	if status >= 200 {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sipgosip.NewHeader("Subscription-State", state))
	req.AppendHeader(sipgosip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", status, reason)))
	_, err := l.send(ctx, req)
	return err
}

// referState is a REFER voxrun sent, waiting for the peer's NOTIFYs.
type referState struct {
	progress chan int // sipfrag statuses; 0 when the subscription ended without one
}

// Refer asks the peer to call target (a blind transfer, RFC 3515): it
// sends REFER with Refer-To and Referred-By and the extra headers, and
// once accepted (2xx) follows the peer's NOTIFYs, telling progress each
// sipfrag status, until a final one (200-699), which it returns. A refused
// REFER is a *StatusError; ctx bounds the whole transfer.
func (l *Leg) Refer(ctx context.Context, target string, headers map[string]string, progress func(status int)) (int, error) {
	l.mu.Lock()
	if l.state == stateEnded {
		l.mu.Unlock()
		return 0, ErrEnded
	}
	if l.refer != nil {
		l.mu.Unlock()
		return 0, fmt.Errorf("sip/leg: refer: a transfer is already in progress")
	}
	rs := &referState{progress: make(chan int, 8)}
	l.refer = rs
	req := l.newRequestLocked(sipgosip.REFER)
	local := l.localURI
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		if l.refer == rs {
			l.refer = nil
		}
		l.mu.Unlock()
	}()
	if !strings.HasPrefix(target, "<") {
		target = "<" + target + ">"
	}
	req.AppendHeader(l.contact.Clone())
	req.AppendHeader(sipgosip.NewHeader("Refer-To", target))
	req.AppendHeader(sipgosip.NewHeader("Referred-By", "<"+local.String()+">"))
	if err := addHeaders(req, headers); err != nil {
		return 0, err
	}
	if _, err := l.send(ctx, req); err != nil {
		return 0, err
	}
	for {
		select {
		case st := <-rs.progress:
			if st == 0 {
				return 0, fmt.Errorf("sip/leg: refer: the subscription ended without a final status")
			}
			if progress != nil {
				progress(st)
			}
			if st >= 200 {
				return st, nil
			}
		case <-l.done:
			return 0, ErrEnded
		case <-ctx.Done():
			return 0, fmt.Errorf("sip/leg: refer: %w", context.Cause(ctx))
		}
	}
}

// notify answers a NOTIFY in the dialog: one of Event refer while voxrun's
// REFER is pending carries its progress; any other gets 481 (no such
// subscription, RFC 6665 §4.1.3).
func (l *Leg) notify(req *sipgosip.Request, tx sipgosip.ServerTransaction) {
	l.mu.Lock()
	rs := l.refer
	l.mu.Unlock()
	ev := ""
	if h := req.GetHeader("Event"); h != nil {
		ev, _, _ = strings.Cut(strings.TrimSpace(h.Value()), ";")
	}
	if rs == nil || !strings.EqualFold(ev, "refer") {
		l.reply(req, tx, 481, "Subscription Does Not Exist", nil, nil)
		return
	}
	l.reply(req, tx, 200, "OK", nil, nil)
	status := 0
	if line, _, _ := strings.Cut(string(req.Body()), "\n"); strings.HasPrefix(line, "SIP/2.0 ") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			status, _ = strconv.Atoi(f[1])
		}
	}
	terminated := false
	if h := req.GetHeader("Subscription-State"); h != nil {
		terminated = strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Value())), "terminated")
	}
	if status == 0 && !terminated {
		return
	}
	select {
	case rs.progress <- status:
	default:
	}
	if terminated && status < 200 {
		select {
		case rs.progress <- 0:
		default:
		}
	}
}
