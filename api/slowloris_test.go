package api

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSlowClientsAreCutOff opens connections that trickle a request one
// byte at a time (the headers, or the body of a POST), or send nothing, or
// go quiet after one request: the server closes each within its read (or
// idle) timeout, while a well-behaved client is served all along.
func TestSlowClientsAreCutOff(t *testing.T) {
	const (
		readTimeout = 400 * time.Millisecond
		idleTimeout = 600 * time.Millisecond
		trickle     = 40 * time.Millisecond
		slack       = 700 * time.Millisecond // scheduling on a loaded 2-core machine
	)
	e := newEnv(t, func(c *Config) {
		c.ReadTimeout, c.WriteTimeout, c.IdleTimeout = readTimeout, time.Second, idleTimeout
	})
	base := e.serve(t)
	addr := strings.TrimPrefix(base, "http://")
	a := e.accounts[0][0]

	type attack struct {
		name string
		// head is written at once; then drip is written one byte per tick.
		head, drip string
		// served first sends a whole request and reads its answer: the
		// connection then sits idle (keep-alive).
		served bool
		// within is the timeout the server must close by, counted from the
		// last moment it had a complete exchange.
		within time.Duration
	}
	attacks := []attack{
		{name: "headers", head: "GET /healthz HTTP/1.1\r\n", drip: "Host: x\r\nX-Slow: " + strings.Repeat("a", 200), within: readTimeout},
		{name: "headers of /v1", head: "GET /v1/Applications HTTP/1.1\r\nHost: x\r\n", drip: "Authorization: Bearer " + a.key + "\r\nX-Slow: " + strings.Repeat("a", 200), within: readTimeout},
		{name: "body", head: "POST /v1/Applications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + a.key +
			"\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n", drip: `{"name":"` + strings.Repeat("a", 280), within: readTimeout},
		{name: "silent", within: readTimeout},
		{name: "idle keep-alive", served: true, within: idleTimeout},
	}

	type result struct {
		name    string
		elapsed time.Duration
		err     error
	}
	results := make(chan result, 64)
	var wg sync.WaitGroup
	for _, at := range attacks {
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := result{name: at.name}
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					r.err = err
					results <- r
					return
				}
				defer conn.Close()
				start := time.Now()
				if at.served {
					_, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
					if err == nil {
						var res *http.Response
						res, err = http.ReadResponse(bufio.NewReader(conn), nil)
						if err == nil {
							_, _ = io.Copy(io.Discard, res.Body)
							res.Body.Close()
						}
					}
					if err != nil {
						r.err = err
						results <- r
						return
					}
					start = time.Now()
				}
				closed := make(chan struct{})
				go func() {
					// Whatever the server says (a 408 or nothing), then EOF.
					_, _ = io.Copy(io.Discard, conn)
					close(closed)
				}()
				if _, err := io.WriteString(conn, at.head); err != nil {
					r.err = err
				}
				tick := time.NewTicker(trickle)
				defer tick.Stop()
				for i := 0; ; i++ {
					select {
					case <-closed:
						r.elapsed = time.Since(start)
						results <- r
						return
					case <-tick.C:
						if i < len(at.drip) {
							_, _ = conn.Write([]byte{at.drip[i]}) // fails once the server has closed
						}
						if time.Since(start) > at.within+5*time.Second {
							r.err = io.ErrNoProgress
							r.elapsed = time.Since(start)
							results <- r
							return
						}
					}
				}
			}()
		}
	}

	// Meanwhile a well-behaved client is served, each request promptly.
	client := &http.Client{Timeout: 2 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	served := 0
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		default:
		}
		begin := time.Now()
		req, err := http.NewRequest("GET", base+"/v1/Accounts/"+a.account, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+a.key)
		res, err := client.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode, string(body))
		require.Contains(t, string(body), a.account)
		require.Less(t, time.Since(begin), readTimeout-50*time.Millisecond, "a good client waited behind the slow ones")
		served++
		time.Sleep(20 * time.Millisecond)
	}
	require.Greater(t, served, 5, "the good client was served while the slow ones were connected")

	close(results)
	byKind := map[string]int{}
	for r := range results {
		require.NoError(t, r.err, r.name)
		var within time.Duration
		for _, at := range attacks {
			if at.name == r.name {
				within = at.within
			}
		}
		require.GreaterOrEqual(t, r.elapsed, within-50*time.Millisecond, "%s: closed by the timeout, not before", r.name)
		require.Less(t, r.elapsed, within+slack, "%s: closed within the timeout", r.name)
		byKind[r.name]++
	}
	for _, at := range attacks {
		require.Equal(t, 6, byKind[at.name], at.name)
	}
}

// The defaults stay what they were: 10 s to read a request, 30 s to write
// an answer, 60 s of keep-alive idleness.
func TestServerTimeoutDefaults(t *testing.T) {
	s := New(Config{})
	cfg := s.App().Config()
	require.Equal(t, 10*time.Second, cfg.ReadTimeout)
	require.Equal(t, 30*time.Second, cfg.WriteTimeout)
	require.Equal(t, 60*time.Second, cfg.IdleTimeout)
}
