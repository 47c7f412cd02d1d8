package carrierreg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	sipgosip "github.com/emiago/sipgo/sip"
	"github.com/voxrun/voxrun/sip/digest"
)

// binding is one carrier's registration, run by one goroutine.
type binding struct {
	r       *Registrar
	t       target
	stopped chan struct{} // closed by stop
	done    chan struct{} // closed when run returns

	// Owned by run until done, then by stop.
	callID     string
	fromTag    string
	cseq       uint32
	registered bool
}

// run registers, refreshes at half the granted expiry, and retries
// failures with backoff, until ctx ends or stop.
func (b *binding) run(ctx context.Context) {
	defer close(b.done)
	b.callID = sipgosip.GenerateTagN(24) // one Call-ID for every REGISTER (RFC 3261 §10.2)
	b.fromTag = sipgosip.GenerateTagN(16)
	retry := b.r.cfg.Retry
	for {
		granted, err := b.register(ctx, b.r.cfg.Expires)
		now := time.Now()
		var wait time.Duration
		if err != nil {
			b.registered = false
			reason := err.Error()
			var se *statusError
			if errors.As(err, &se) {
				reason = se.reason()
			}
			if ctx.Err() != nil {
				return
			}
			b.r.log.Warn("carrier registration failed", "carrier", b.t.carrier.Name, "gateway", b.t.gateway, "reason", reason, "retry_in", retry)
			b.r.record(ctx, b.t.carrier, Status{Status: "fail", Reason: reason, Gateway: b.t.gateway, At: now}, 0)
			wait = retry
			retry = min(2*retry, MaxRetry)
		} else {
			b.registered = true
			retry = b.r.cfg.Retry
			b.r.log.Info("carrier registered", "carrier", b.t.carrier.Name, "gateway", b.t.gateway, "expires", granted.Seconds())
			b.r.record(ctx, b.t.carrier, Status{Status: "ok", Reason: "200 OK", Expires: int(granted.Seconds()),
				Gateway: b.t.gateway, At: now}, granted)
			wait = max(granted/2, time.Second)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-b.stopped:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// stop ends the registration: it waits for run, then unregisters.
func (b *binding) stop(ctx context.Context) {
	select {
	case <-b.stopped:
	default:
		close(b.stopped)
	}
	<-b.done
	if !b.registered {
		return
	}
	b.registered = false
	if _, err := b.register(ctx, 0); err != nil {
		b.r.log.Info("carrier unregistration failed", "carrier", b.t.carrier.Name, "err", err)
		return
	}
	b.r.log.Info("carrier unregistered", "carrier", b.t.carrier.Name, "gateway", b.t.gateway)
}

// statusError is a REGISTER's final non-2xx response.
type statusError struct {
	status int
	phrase string
}

func (e *statusError) Error() string  { return fmt.Sprintf("sip/carrierreg: %d %s", e.status, e.phrase) }
func (e *statusError) reason() string { return strconv.Itoa(e.status) + " " + e.phrase }

// register sends one REGISTER asking for expires (0 unregisters),
// answering one digest challenge and one 423, and returns the expiry the
// carrier granted.
func (b *binding) register(ctx context.Context, expires time.Duration) (time.Duration, error) {
	var auth sipgosip.Header
	secs := int(expires.Seconds())
	challenged, tooBrief := false, false
	for {
		req, err := b.request(secs, auth)
		if err != nil {
			return 0, err
		}
		res, err := b.send(ctx, req)
		if err != nil {
			return 0, err
		}
		switch code := int(res.StatusCode); {
		case code >= 200 && code < 300:
			return granted(res, req, secs), nil
		case (code == 401 || code == 407) && !challenged && b.t.username != "":
			challenged = true
			if auth, err = b.authorize(res, req); err != nil {
				return 0, err
			}
		case code == 423 && !tooBrief:
			// RFC 3261 §10.2.8: ask again for at least Min-Expires.
			tooBrief = true
			h := res.GetHeader("Min-Expires")
			n, err := strconv.Atoi(strings.TrimSpace(valueOf(h)))
			if err != nil || n <= secs {
				return 0, &statusError{code, res.Reason}
			}
			secs = n
		default:
			return 0, &statusError{code, res.Reason}
		}
	}
}

func valueOf(h sipgosip.Header) string {
	if h == nil {
		return ""
	}
	return h.Value()
}

// request builds a REGISTER (RFC 3261 §10.2): the Request-URI is the
// registrar's domain, To and From the address of record, one Call-ID and
// an increasing CSeq, voxrun's Contact and the expiry asked for.
func (b *binding) request(expires int, auth sipgosip.Header) (*sipgosip.Request, error) {
	t := b.t
	laddr := b.r.cfg.LocalAddr(t.transport)
	if !laddr.IsValid() {
		return nil, fmt.Errorf("sip/carrierreg: no local %s address", t.transport)
	}
	host := cmp.Or(b.r.cfg.Host, laddr.Addr().String())
	gwHost, _, _ := net.SplitHostPort(t.gateway)
	domain := cmp.Or(t.carrier.RegisterSIPRealm, gwHost)
	ruri := sipgosip.Uri{Scheme: "sip", Host: domain}
	req := sipgosip.NewRequest(sipgosip.REGISTER, ruri)
	b.cseq++
	via := &sipgosip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: t.transport,
		Host: host, Port: int(laddr.Port()), Params: sipgosip.NewParams()}
	via.Params.Add("branch", sipgosip.GenerateBranch())
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	mf := sipgosip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	aor := sipgosip.Uri{Scheme: "sip", User: t.aorUser, Host: t.aorHost}
	from := &sipgosip.FromHeader{Address: aor, Params: sipgosip.NewParams()}
	from.Params.Add("tag", b.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sipgosip.ToHeader{Address: aor, Params: sipgosip.NewParams()})
	callID := sipgosip.CallIDHeader(b.callID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sipgosip.CSeqHeader{SeqNo: b.cseq, MethodName: sipgosip.REGISTER})
	contact := sipgosip.Uri{Scheme: "sip", User: cmp.Or(t.username, t.aorUser), Host: host, Port: int(laddr.Port())}
	if t.transport != "UDP" {
		contact.UriParams = sipgosip.NewParams()
		contact.UriParams.Add("transport", strings.ToLower(t.transport))
	}
	req.AppendHeader(&sipgosip.ContactHeader{Address: contact})
	req.AppendHeader(sipgosip.NewHeader("Expires", strconv.Itoa(expires)))
	req.AppendHeader(sipgosip.NewHeader("User-Agent", b.r.cfg.UserAgent))
	if auth != nil {
		req.AppendHeader(auth)
	}
	req.SetTransport(t.transport)
	req.SetDestination(t.gateway)
	if t.transport == "UDP" {
		req.Laddr = sipgosip.Addr{IP: net.IP(laddr.Addr().AsSlice()), Port: int(laddr.Port())}
	}
	return req, nil
}

// send runs one client transaction to its final response.
func (b *binding) send(ctx context.Context, req *sipgosip.Request) (*sipgosip.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	tx, err := b.r.cfg.Requester.Request(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("sip/carrierreg: register: %w", err)
	}
	defer tx.Terminate()
	for {
		select {
		case res, ok := <-tx.Responses():
			if !ok {
				return nil, errors.New("sip/carrierreg: no final response")
			}
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, fmt.Errorf("sip/carrierreg: timeout: %w", err)
			}
			return nil, errors.New("sip/carrierreg: timeout")
		case <-ctx.Done():
			return nil, fmt.Errorf("sip/carrierreg: timeout: %w", context.Cause(ctx))
		}
	}
}

// authorize answers a 401 or 407 (RFC 3261 §22.2, §22.3).
func (b *binding) authorize(res *sipgosip.Response, req *sipgosip.Request) (sipgosip.Header, error) {
	h, err := digest.Answer(res, "REGISTER", req.Recipient.String(), b.t.username, b.t.password)
	if errors.Is(err, digest.ErrNoChallenge) {
		return nil, &statusError{int(res.StatusCode), res.Reason}
	}
	if err != nil {
		return nil, fmt.Errorf("sip/carrierreg: %w", err)
	}
	return h, nil
}

// granted reads the expiry a 2xx grants (RFC 3261 §10.2.4): our Contact's
// expires parameter, else the Expires header, else what was asked.
func granted(res *sipgosip.Response, req *sipgosip.Request, asked int) time.Duration {
	secs := asked
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			secs = n
		}
	}
	ours := req.Contact()
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sipgosip.ContactHeader)
		if !ok || ours == nil || c.Address.Host != ours.Address.Host || c.Address.Port != ours.Address.Port {
			continue
		}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				secs = n
			}
		}
	}
	return time.Duration(secs) * time.Second
}
