package webhook

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/voxrun/voxrun/apps"
)

// MaxRetries caps the rc of a hook URL.
const MaxRetries = 5

// retryPolicy is what a hook URL's fragment asks for: #rc=N&rp=ct,rt,4xx,5xx,all.
type retryPolicy struct {
	count              int
	ct, rt, c4xx, c5xx bool
}

// parseRetry reads the retry fragment of a hook URL and returns the URL
// without it (the fragment is never sent). The default is no retries, and the
// default policy is "ct" (connection failures only).
func parseRetry(raw string) (string, retryPolicy, error) {
	p := retryPolicy{ct: true}
	base, frag, ok := strings.Cut(raw, "#")
	if !ok || frag == "" {
		return base, p, nil
	}
	q, err := url.ParseQuery(frag)
	if err != nil {
		return base, p, fmt.Errorf("webhook: bad retry fragment %q: %w", frag, err)
	}
	if rc := q.Get("rc"); rc != "" {
		n, err := strconv.Atoi(rc)
		if err != nil || n < 0 {
			return base, p, fmt.Errorf("webhook: bad retry count rc=%q", rc)
		}
		p.count = min(n, MaxRetries)
	}
	if rp := q.Get("rp"); rp != "" {
		p = retryPolicy{count: p.count}
		for _, c := range strings.Split(rp, ",") {
			switch strings.TrimSpace(strings.ToLower(c)) {
			case "ct":
				p.ct = true
			case "rt":
				p.rt = true
			case "4xx":
				p.c4xx = true
			case "5xx":
				p.c5xx = true
			case "all":
				p.ct, p.rt, p.c4xx, p.c5xx = true, true, true, true
			default:
				return base, p, fmt.Errorf("webhook: unknown retry policy %q (use ct, rt, 4xx, 5xx or all)", c)
			}
		}
	}
	return base, p, nil
}

// retries reports whether a failure of this kind is retried under the policy.
func (p retryPolicy) retries(he *apps.HookError) bool {
	switch he.Kind {
	case apps.FailConnect:
		return p.ct
	case apps.FailTimeout:
		return p.rt
	case apps.FailStatus:
		return (p.c4xx && he.Status >= 400 && he.Status < 500) || (p.c5xx && he.Status >= 500)
	}
	return false
}

// backoff is the wait before retry n (1-based): 0.5 s, 1 s, 2 s, then 2 s more each time.
func backoff(n int) time.Duration {
	switch n {
	case 1:
		return 500 * time.Millisecond
	case 2:
		return time.Second
	}
	return time.Duration(2*(n-2)) * time.Second
}
