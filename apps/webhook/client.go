package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/voxrun/voxrun/apps"
)

// Defaults of the transport (jambonz's, and the compatibility contract's).
const (
	DefaultConnectTimeout = 3 * time.Second
	DefaultTimeout        = 10 * time.Second
	// MaxTimeout caps an application's own hook timeout (apps.Request.Timeout).
	MaxTimeout = time.Minute
	// MaxReplyBytes caps a hook's reply body.
	MaxReplyBytes = 1 << 20
)

// Options configure a Client.
type Options struct {
	// Guard refuses destinations outside the allow-list. Required.
	Guard *Guard
	// Timeout bounds one attempt, from dialling to the last byte of the reply.
	Timeout time.Duration
	// UserAgent is sent with every request.
	UserAgent string
	// Now and Sleep are the clock, injectable for tests.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client sends hook requests over HTTP. It is safe for concurrent use and
// keeps a pool of keep-alive connections per host.
type Client struct {
	opts Options
	http *http.Client
}

var _ apps.App = (*Client)(nil)

// NewHTTPClient is the guarded *http.Client for every outbound fetch made for a
// tenant: no redirects followed, the guard's dialer, keep-alive pooling.
// cmd hands it to media (audio URLs) and sandbox (ctx.fetch).
func NewHTTPClient(g *Guard) *http.Client {
	tr := &http.Transport{
		DialContext:           g.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   DefaultConnectTimeout,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// NewClient builds a hook client.
func NewClient(opts Options) (*Client, error) {
	if opts.Guard == nil {
		return nil, errors.New("webhook: a Guard is required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "voxrun"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	return &Client{opts: opts, http: NewHTTPClient(opts.Guard)}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// Marshal encodes a payload as JavaScript's JSON.stringify would: compact,
// no HTML escaping of <, > and &, no trailing newline, and the same bytes as
// JSON.stringify(JSON.parse(body)) (see jsCanonical). Signatures are computed
// over these bytes, and jambonz's SDKs re-stringify the parsed body to verify.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return jsCanonical(buf.Bytes())
}

// Send delivers req: one attempt, then the retries the hook URL's fragment
// allows, with backoff 0.5 s, 1 s, 2 s, 4 s, 6 s. It returns the reply of the
// first successful attempt or the last attempt's *apps.HookError.
func (c *Client) Send(ctx context.Context, req apps.Request) (apps.Reply, error) {
	u, contentType, raw, err := c.exchange(ctx, req)
	if err != nil {
		return apps.Reply{}, err
	}
	return parseReply(u, contentType, raw)
}

// Exchange delivers req like Send (signing, retries, timeouts, the size cap)
// and returns the reply's body as it came, for hooks whose answer is not a
// verb document (the registration hook answers a JSON object).
func (c *Client) Exchange(ctx context.Context, req apps.Request) ([]byte, error) {
	_, _, raw, err := c.exchange(ctx, req)
	return raw, err
}

func (c *Client) exchange(ctx context.Context, req apps.Request) (string, string, []byte, error) {
	target, policy, err := parseRetry(req.Hook.URL)
	if err != nil {
		return "", "", nil, &apps.HookError{Kind: apps.FailRefused, URL: req.Hook.URL, Detail: err.Error(), Err: err}
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", nil, &apps.HookError{Kind: apps.FailRefused, URL: target, Detail: "not an absolute http(s) URL", Err: err}
	}
	body, err := Marshal(req.Payload)
	if err != nil {
		return "", "", nil, fmt.Errorf("webhook: encode payload: %w", err)
	}
	for attempt := 0; ; attempt++ {
		contentType, raw, err := c.attempt(ctx, req, u, body)
		if err == nil {
			return u.String(), contentType, raw, nil
		}
		he, ok := apps.AsHookError(err)
		if !ok || attempt >= policy.count || !policy.retries(he) || ctx.Err() != nil {
			return "", "", nil, err
		}
		if serr := c.opts.Sleep(ctx, backoff(attempt+1)); serr != nil {
			return "", "", nil, err
		}
	}
}

// attempt makes one request and returns the reply's content type and body.
func (c *Client) attempt(ctx context.Context, req apps.Request, u *url.URL, body []byte) (string, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout(req))
	defer cancel()
	connected := false
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { connected = true },
	})

	method := strings.ToUpper(req.Hook.Method)
	if method == "" {
		method = http.MethodPost
	}
	target := *u
	var rd io.Reader
	if method == http.MethodGet {
		target.RawQuery = mergeQuery(u.RawQuery, req.Payload)
	} else {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, method, target.String(), rd)
	if err != nil {
		return "", nil, &apps.HookError{Kind: apps.FailRefused, URL: u.String(), Detail: "bad request", Err: err}
	}
	if method != http.MethodGet {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("User-Agent", c.opts.UserAgent)
	hr.Header.Set("Accept", "application/json")
	if req.Secret != "" {
		hr.Header.Set(SignatureHeader, Sign(req.Secret, c.opts.Now(), body))
	}
	if req.Hook.Username != "" || req.Hook.Password != "" {
		hr.SetBasicAuth(req.Hook.Username, req.Hook.Password)
	}

	resp, err := c.http.Do(hr)
	if err != nil {
		return "", nil, classify(u.String(), err, connected)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusAccepted, http.StatusNoContent:
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return "", nil, &apps.HookError{Kind: apps.FailStatus, URL: u.String(), Status: resp.StatusCode}
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxReplyBytes+1))
	if err != nil {
		return "", nil, classify(u.String(), err, true)
	}
	if len(raw) > MaxReplyBytes {
		return "", nil, &apps.HookError{Kind: apps.FailBody, URL: u.String(), Detail: fmt.Sprintf("reply is larger than %d bytes", MaxReplyBytes)}
	}
	return resp.Header.Get("Content-Type"), raw, nil
}

// timeout bounds one attempt: the request's own (an application's setting,
// at most MaxTimeout) or the client's.
func (c *Client) timeout(req apps.Request) time.Duration {
	if req.Timeout > 0 {
		return min(req.Timeout, MaxTimeout)
	}
	return c.opts.Timeout
}

// parseReply reads a reply body: only a JSON body is read as verbs; anything
// else, or an empty body, means "carry on".
func parseReply(u, contentType string, raw []byte) (apps.Reply, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || !strings.Contains(strings.ToLower(contentType), "json") {
		return apps.Reply{}, nil
	}
	if !json.Valid(trimmed) {
		return apps.Reply{}, &apps.HookError{Kind: apps.FailBody, URL: u, Detail: "reply is not valid JSON"}
	}
	if trimmed[0] != '[' {
		// A JSON object or scalar is not a verb document: carry on.
		return apps.Reply{}, nil
	}
	return apps.Reply{Verbs: json.RawMessage(trimmed)}, nil
}

// classify turns a transport error into a HookError. A connection reset counts
// as a connection error, as jambonz counts it.
func classify(u string, err error, connected bool) error {
	he := &apps.HookError{URL: u, Err: err}
	switch {
	case errors.Is(err, ErrDestinationRefused):
		he.Kind, he.Detail = apps.FailRefused, "loopback, private, link-local and metadata addresses are refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		he.Kind, he.Detail = apps.FailConnect, connDetail(err)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		if connected {
			he.Kind = apps.FailTimeout
		} else {
			he.Kind, he.Detail = apps.FailConnect, "connect timed out"
		}
	case errors.Is(err, context.Canceled):
		he.Kind, he.Detail = apps.FailConnect, "cancelled"
	default:
		he.Kind, he.Detail = apps.FailConnect, connDetail(err)
	}
	return he
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func connDetail(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed before a reply"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "cannot resolve " + dns.Name
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// mergeQuery adds a payload's top-level fields to a URL's query for GET hooks;
// nested objects and arrays are sent as their JSON text.
func mergeQuery(raw string, payload any) string {
	q, _ := url.ParseQuery(raw)
	b, err := Marshal(payload)
	if err != nil {
		return raw
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return raw
	}
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) == nil {
			q.Set(k, s)
		} else if string(v) != "null" {
			q.Set(k, string(v))
		}
	}
	return q.Encode()
}
