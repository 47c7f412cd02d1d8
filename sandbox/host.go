package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// hostState counts one invocation's host calls against its quotas.
type hostState struct {
	inv      *Invocation
	deadline time.Time
	fetches  int
	kvOps    int
}

// host executes one host call for a script. Failures come back as the
// reply's err, which the script sees as a rejected promise.
func (p *Pool) host(ctx context.Context, hs *hostState, c *hostCall) hostReply {
	ctx, cancel := context.WithDeadline(ctx, hs.deadline)
	defer cancel()
	var err error
	var rep hostReply
	switch c.op {
	case opFetch:
		rep, err = p.fetch(ctx, hs, c)
	case opKVGet, opKVSet, opKVIncr, opKVDel:
		rep, err = p.kv(ctx, hs, c)
	default:
		err = fmt.Errorf("unknown host call %d", c.op)
	}
	if err != nil {
		return hostReply{err: err.Error()}
	}
	return rep
}

func (p *Pool) kv(ctx context.Context, hs *hostState, c *hostCall) (hostReply, error) {
	lim := p.lim
	hs.kvOps++
	if hs.kvOps > lim.MaxKVOps {
		return hostReply{}, fmt.Errorf("ctx.kv: at most %d operations per invocation", lim.MaxKVOps)
	}
	if p.cfg.KV == nil {
		return hostReply{}, errors.New("ctx.kv is not available on this server")
	}
	if c.key == "" || len(c.key) > lim.MaxKVKeyBytes {
		return hostReply{}, fmt.Errorf("ctx.kv: a key is 1 to %d bytes", lim.MaxKVKeyBytes)
	}
	if len(c.value) > lim.MaxKVValueBytes {
		return hostReply{}, fmt.Errorf("ctx.kv: a value is at most %d bytes", lim.MaxKVValueBytes)
	}
	if c.ttl < 0 || math.IsNaN(c.ttl) {
		return hostReply{}, errors.New("ctx.kv: ttl is a number of seconds ≥ 0")
	}
	ttl := time.Duration(c.ttl * float64(time.Second))
	if ttl <= 0 || ttl > lim.MaxKVTTL {
		ttl = lim.MaxKVTTL
	}
	acct := hs.inv.AccountSID
	if acct == "" {
		return hostReply{}, errors.New("ctx.kv is not available without an account")
	}
	kv := p.cfg.KV
	switch c.op {
	case opKVGet:
		v, err := kv.KVGet(ctx, acct, c.key)
		if err != nil {
			if p.cfg.KVNotFound(err) {
				return hostReply{}, nil
			}
			return hostReply{}, kvError(err)
		}
		return hostReply{found: true, value: v}, nil
	case opKVSet:
		return hostReply{}, kvError(kv.KVSet(ctx, acct, c.key, c.value, ttl))
	case opKVDel:
		if err := kv.KVDelete(ctx, acct, c.key); err != nil && !p.cfg.KVNotFound(err) {
			return hostReply{}, kvError(err)
		}
		return hostReply{}, nil
	case opKVIncr:
		if c.number != math.Trunc(c.number) || math.Abs(c.number) > 1<<53 {
			return hostReply{}, errors.New("ctx.kv.incr: the increment is an integer")
		}
		by := int64(c.number)
		if inc, ok := kv.(KVIncrementer); ok {
			n, err := inc.KVIncr(ctx, acct, c.key, by, ttl)
			return hostReply{number: float64(n)}, kvError(err)
		}
		mu := &p.kvLocks[maphash.String(kvSeed, acct+"\x00"+c.key)%uint64(len(p.kvLocks))]
		mu.Lock()
		defer mu.Unlock()
		var n int64
		v, err := kv.KVGet(ctx, acct, c.key)
		switch {
		case err == nil:
			n, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return hostReply{}, errors.New("ctx.kv.incr: the value is not an integer")
			}
		case p.cfg.KVNotFound(err):
		default:
			return hostReply{}, kvError(err)
		}
		n += by
		if err := kv.KVSet(ctx, acct, c.key, strconv.FormatInt(n, 10), ttl); err != nil {
			return hostReply{}, kvError(err)
		}
		return hostReply{number: float64(n)}, nil
	}
	return hostReply{}, nil
}

var kvSeed = maphash.MakeSeed()

// kvError is what a script sees of a store failure: not the store's text.
func kvError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("ctx.kv: the invocation's time ran out")
	}
	return errors.New("ctx.kv: the store is unavailable")
}

func (p *Pool) fetch(ctx context.Context, hs *hostState, c *hostCall) (hostReply, error) {
	lim := p.lim
	hs.fetches++
	if hs.fetches > lim.MaxFetches {
		return hostReply{}, fmt.Errorf("ctx.fetch: at most %d requests per invocation", lim.MaxFetches)
	}
	if p.cfg.HTTPClient == nil {
		return hostReply{}, errors.New("ctx.fetch is not available on this server")
	}
	u, err := url.Parse(c.key)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return hostReply{}, fmt.Errorf("ctx.fetch: %q is not an absolute http(s) URL", c.key)
	}
	if len(c.body) > lim.MaxFetchBodyBytes {
		return hostReply{}, fmt.Errorf("ctx.fetch: a request body is at most %d bytes", lim.MaxFetchBodyBytes)
	}
	if c.ttl > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(c.ttl*float64(time.Second)))
		defer cancel()
	}
	var body io.Reader
	if len(c.body) > 0 {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.value, u.String(), body)
	if err != nil {
		return hostReply{}, fmt.Errorf("ctx.fetch: %v", err)
	}
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Header.Add(c.headers[i], c.headers[i+1])
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "voxrun-js")
	}
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return hostReply{}, fetchError(u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(lim.MaxFetchBytes)+1))
	if err != nil {
		return hostReply{}, fetchError(u, err)
	}
	if len(b) > lim.MaxFetchBytes {
		return hostReply{}, fmt.Errorf("ctx.fetch %s: the response is larger than %d bytes", u.Redacted(), lim.MaxFetchBytes)
	}
	rep := hostReply{status: resp.StatusCode, value: strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode))), body: b}
	for k, vs := range resp.Header {
		rep.headers = append(rep.headers, strings.ToLower(k), strings.Join(vs, ", "))
	}
	return rep, nil
}

// fetchError says why a fetch failed without the transport's internals.
func fetchError(u *url.URL, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "destination not allowed"):
		msg = "the destination is not allowed (loopback, private, link-local and metadata addresses are refused)"
	case errors.Is(err, context.DeadlineExceeded):
		msg = "timed out"
	}
	return fmt.Errorf("ctx.fetch %s: %s", u.Redacted(), msg)
}
