package siptest

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// SippUAS is sipp running a UAS scenario (the called party) on 127.0.0.1.
type SippUAS struct {
	// Target is a SIP URI that reaches sipp: sip:callee@127.0.0.1:port
	// (with ;transport=tcp over TCP).
	Target string
	// Port is sipp's SIP port.
	Port int

	done   chan struct{}
	err    error
	out    []byte
	dir    string
	cancel context.CancelFunc
}

// StartSippUAS starts sipp with the scenario file (a path) as the called
// party over transport "u1" (UDP) or "t1" (TCP), bounded to 30 s, and
// returns once it listens. extra are more sipp arguments ("-m", "2" to take
// two calls; the default is one). The test's cleanup stops sipp.
func StartSippUAS(t testing.TB, scenario, transport string, extra ...string) *SippUAS {
	t.Helper()
	sipp := Tool(t, "sipp", "sip-tester")
	abs, err := filepath.Abs(scenario)
	if err != nil {
		t.Fatal(err)
	}
	port := FreeUDPPort(t)
	s := &SippUAS{Target: fmt.Sprintf("sip:callee@127.0.0.1:%d", port), Port: port, done: make(chan struct{}), dir: t.TempDir()}
	network := "udp"
	if transport == "t1" {
		network = "tcp"
		s.Target += ";transport=tcp"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	s.cancel = cancel
	args := []string{"-sf", abs, "-t", transport,
		"-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(FreeUDPPort(t)),
		"-timeout", "20s", "-timeout_error",
		"-nostdin", "-trace_err", "-error_file", filepath.Join(s.dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(s.dir, "messages.log"),
	}
	hasM := false
	for _, a := range extra {
		hasM = hasM || a == "-m"
	}
	if !hasM {
		args = append(args, "-m", "1")
	}
	cmd := exec.CommandContext(ctx, sipp, append(args, extra...)...)
	cmd.Dir = s.dir
	go func() {
		defer close(s.done)
		s.out, s.err = cmd.CombinedOutput()
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	// sipp listens once its port cannot be bound any more.
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case <-s.done:
			s.Wait(t)
			t.Fatalf("sipp ended before the call:\n%s", Tail(s.out))
		default:
		}
		var c io.Closer
		if network == "tcp" {
			c, err = net.Listen("tcp", addr)
		} else {
			c, err = net.ListenPacket("udp", addr)
		}
		if err != nil {
			return s
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("sipp does not listen")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Wait waits (25 s at most) for sipp to end its calls and fails the test
// with its logs when a call failed.
func (s *SippUAS) Wait(t testing.TB) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(25 * time.Second):
		s.cancel()
		<-s.done
	}
	if s.err != nil {
		errs, _ := os.ReadFile(filepath.Join(s.dir, "errors.log"))
		t.Fatalf("sipp failed: %v\n--- output\n%s\n--- errors\n%s\n--- messages\n%s", s.err, Tail(s.out), errs, s.Messages())
	}
}

// Stop ends sipp (for a scenario left waiting) without checking its result.
func (s *SippUAS) Stop() {
	s.cancel()
	<-s.done
}

// Messages is what sipp sent and received so far (its -trace_msg file).
func (s *SippUAS) Messages() []byte {
	b, _ := os.ReadFile(filepath.Join(s.dir, "messages.log"))
	return b
}

// Tail is the last 4 KiB of a tool's output, for failure messages.
func Tail(b []byte) []byte {
	if len(b) > 4096 {
		return b[len(b)-4096:]
	}
	return b
}
