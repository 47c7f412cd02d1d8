package api

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLimiter(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := newLimiter(Rate{PerSecond: 2, Burst: 3}, clk.now)
	for i := range 3 {
		ok, _ := l.allow("a")
		require.True(t, ok, "burst request %d", i)
	}
	ok, wait := l.allow("a")
	require.False(t, ok)
	require.Equal(t, 500*time.Millisecond, wait)
	ok, _ = l.allow("b")
	require.True(t, ok, "buckets are per key")
	clk.advance(500 * time.Millisecond)
	ok, _ = l.allow("a")
	require.True(t, ok, "one token back after 1/rate")
	ok, _ = l.allow("a")
	require.False(t, ok)
	clk.advance(time.Hour)
	for range 3 {
		ok, _ = l.allow("a")
		require.True(t, ok)
	}
	ok, _ = l.allow("a")
	require.False(t, ok, "a long pause refills to the burst, not beyond")
}

func TestLimiterBoundsMemory(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := newLimiter(Rate{PerSecond: 1, Burst: 1}, clk.now)
	for i := range maxBuckets + 10 {
		l.allow(fmt.Sprint(i))
	}
	require.LessOrEqual(t, len(l.buckets), maxBuckets)
}

func TestJSONDepth(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want int
	}{
		{"scalar", `"x"`, 0},
		{"flat object", `{"a":1}`, 1},
		{"nested", `{"a":[{"b":[]}]}`, 4},
		{"brackets in strings", `{"a":"[[[{{{\"]]]"}`, 1},
		{"escaped backslash before quote", `{"a":"\\","b":[1]}`, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, jsonDepth([]byte(tc.in), 100))
		})
	}
}

func TestBodyLimits(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	deep := func(n int) string { return `{"name":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}` }

	cases := []struct {
		name string
		body string
		code int
	}{
		{"depth 32 is fine", deep(31), 400}, // accepted by the depth check, refused as a wrong type
		{"depth 33 is refused", deep(32), 400},
		{"deep in a string is fine", `{"name":"` + strings.Repeat("[", 100) + `"}`, 201},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/Applications", a.key, tc.body)
			require.Equal(t, tc.code, r.code, r.raw)
			if tc.code == 400 {
				msg := r.obj(t)["msg"].(string)
				if strings.Contains(tc.name, "refused") {
					require.Contains(t, msg, "nested deeper than 32")
				} else {
					require.NotContains(t, msg, "nested deeper")
				}
			}
		})
	}

}

// serve runs e's server on an ephemeral loopback port until the test ends.
func (e *env) serve(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, e.srv.Shutdown(ctx))
		require.NoError(t, <-done)
	})
	return "http://" + ln.Addr().String()
}

// postRaw sends a POST of size bytes over a raw connection, writing the body
// in the background, and returns the status line the server answers with.
func postRaw(t *testing.T, base, key string, size int) string {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	head := fmt.Sprintf("POST /v1/Applications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", key, size)
	_, err = conn.Write([]byte(head))
	require.NoError(t, err)
	go func() {
		// The server may close before it is all written; that is the point.
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for left := size; left > 0; left -= len(chunk) {
			if _, err := conn.Write(chunk[:min(len(chunk), left)]); err != nil {
				return
			}
		}
	}()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	line, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err)
	return strings.TrimSpace(line)
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t)
	base := e.serve(t)
	key := e.accounts[0][0].key
	cases := []struct {
		name string
		size int
	}{
		{"just over 1 MiB", 1<<20 + 1},
		{"10 MB", 10 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			line := postRaw(t, base, key, tc.size)
			require.Less(t, time.Since(start), time.Second)
			require.Equal(t, "HTTP/1.1 413 Request Entity Too Large", line)
		})
	}
	t.Run("exactly 1 MiB is read", func(t *testing.T) {
		body := `{"name":"` + strings.Repeat("a", 1<<20-11) + `"}`
		require.Len(t, body, 1<<20)
		req, err := http.NewRequest("POST", base+"/v1/Applications", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.NotEqual(t, 413, res.StatusCode)
	})
}

func TestRateLimits(t *testing.T) {
	t.Run("per key", func(t *testing.T) {
		e := newEnv(t, func(c *Config) {
			c.RateLimit = RateLimit{PerKey: Rate{PerSecond: 1, Burst: 3}, PerAddress: Rate{PerSecond: 100, Burst: 100}}
		})
		a, b := e.accounts[0][0], e.accounts[0][1]
		for i := range 3 {
			require.Equal(t, 200, e.do("GET", "/v1/Accounts", a.key, nil).code, "request %d", i)
		}
		r := e.do("GET", "/v1/Accounts", a.key, nil)
		require.Equal(t, 429, r.code)
		require.Equal(t, map[string]any{"msg": "too many requests"}, r.obj(t))
		require.Equal(t, "1", r.hdr["Retry-After"])
		require.Equal(t, 200, e.do("GET", "/v1/Accounts", b.key, nil).code, "another key has its own bucket")
		e.clock.advance(time.Second)
		require.Equal(t, 200, e.do("GET", "/v1/Accounts", a.key, nil).code, "a token comes back")
	})
	t.Run("per address", func(t *testing.T) {
		e := newEnv(t, func(c *Config) {
			c.RateLimit = RateLimit{PerKey: Rate{PerSecond: 100, Burst: 100}, PerAddress: Rate{PerSecond: 1, Burst: 2}}
		})
		base := e.serve(t)
		get := func(local string, key string) int {
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
			cl := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
			req, err := http.NewRequest("GET", base+"/v1/Accounts", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+key)
			res, err := cl.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res.StatusCode
		}
		require.Equal(t, 401, get("127.0.0.1", "guess-1"))
		require.Equal(t, 401, get("127.0.0.1", "guess-2"))
		require.Equal(t, 429, get("127.0.0.1", e.accounts[0][0].key), "guessing keys spends the address's tokens")
		require.Equal(t, 200, get("127.0.0.2", e.accounts[0][0].key), "another address has its own bucket")
	})
}
