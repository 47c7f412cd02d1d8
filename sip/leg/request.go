package leg

import (
	"context"
	"fmt"
	"strings"

	sipgosip "github.com/emiago/sipgo/sip"
)

// SendRequest sends a request within the dialog (INFO, NOTIFY, MESSAGE,
// OPTIONS, UPDATE; REST live control's sip_request) with an optional body
// and extra headers, and returns the status of its final response (an
// error response is a status, not an error). The
// dialog must be answered; INVITE, ACK, BYE, CANCEL and PRACK belong to the
// dialog layer and are refused.
func (l *Leg) SendRequest(ctx context.Context, method, contentType string, body []byte, headers map[string]string) (int, error) {
	m := strings.ToUpper(strings.TrimSpace(method))
	switch m {
	case "INFO", "NOTIFY", "MESSAGE", "OPTIONS", "UPDATE":
	default:
		return 0, fmt.Errorf("%w: %s cannot be sent as a request within the dialog", ErrHeader, method)
	}
	l.mu.Lock()
	if l.state != stateAnswered && l.state != stateConfirmed {
		l.mu.Unlock()
		return 0, ErrEnded
	}
	req := l.newRequestLocked(sipgosip.RequestMethod(m))
	l.mu.Unlock()
	if err := addHeaders(req, headers); err != nil {
		return 0, err
	}
	if len(body) > 0 {
		if contentType == "" {
			contentType = "text/plain"
		}
		req.AppendHeader(sipgosip.NewHeader("Content-Type", contentType))
		req.SetBody(body)
	}
	res, err := l.send(ctx, req)
	if res != nil {
		// A final error response is a status to report, not a failure.
		return int(res.StatusCode), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("sip/leg: %s: no response (no requester)", m)
}
