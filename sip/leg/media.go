package leg

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/dtmf"
	"github.com/voxrun/voxrun/media/rtpsession"
)

// endpoint is the leg's RTP session with one digit sink shared by RFC 4733
// digits (from the session) and SIP INFO digits (from the dialog), so that
// the runtime sees one kind of digit event.
type endpoint struct {
	*rtpsession.Session
	mu   sync.Mutex
	sink media.DigitSink
}

var _ media.Endpoint = (*endpoint)(nil)

// OnDigit sets the receiver of every digit, whatever carried it.
func (e *endpoint) OnDigit(s media.DigitSink) {
	e.mu.Lock()
	e.sink = s
	e.mu.Unlock()
	e.Session.OnDigit(s)
}

func (e *endpoint) digit(d media.Digit) {
	e.mu.Lock()
	s := e.sink
	e.mu.Unlock()
	if s != nil {
		s.Digit(d)
	}
}

// maxInfoDuration bounds the duration an INFO may claim.
const maxInfoDuration = 10 * time.Second

// parseDTMFInfo reads an INFO body: application/dtmf-relay ("Signal=5",
// "Duration=160" in ms, one per line) or application/dtmf (the key alone).
// Signals may be keys ("0"-"9", "*", "#", "A"-"D") or event codes 10-15
// (RFC 4733 §3.2: 10 is *, 11 is #, 12-15 are A-D).
func parseDTMFInfo(contentType string, body []byte) (media.Digit, error) {
	d := media.Digit{Origin: media.DigitSIPInfo}
	signal := ""
	if contentType == "application/dtmf" {
		signal = strings.TrimSpace(string(body))
	} else {
		for _, line := range strings.Split(string(body), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "signal":
				signal = strings.TrimSpace(v)
			case "duration":
				ms, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || ms < 0 {
					return d, fmt.Errorf("sip/leg: dtmf-relay duration %q", v)
				}
				d.Duration = maxInfoDuration
				if ms < int(maxInfoDuration/time.Millisecond) {
					d.Duration = time.Duration(ms) * time.Millisecond
				}
			}
		}
	}
	key, ok := infoKey(signal)
	if !ok {
		return d, fmt.Errorf("sip/leg: dtmf signal %q", signal)
	}
	d.Key = key
	return d, nil
}

func infoKey(s string) (byte, bool) {
	if len(s) == 1 {
		c := s[0]
		if c >= 'a' && c <= 'd' {
			c -= 'a' - 'A'
		}
		if _, err := dtmf.CodeOf(c); err == nil {
			return c, true
		}
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 15 {
		return 0, false
	}
	return dtmf.KeyOf(uint8(n))
}
