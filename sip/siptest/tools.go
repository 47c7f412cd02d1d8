package siptest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
)

// Tool finds a real peer's binary (sipp, baresip, svwar, ...) on PATH. Without
// it the test is skipped, except under CI=true, where its absence is a failure:
// scripts/test-deps.sh installs every tool the tests use (pkg names the Debian
// package, for the message).
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (Debian package %s; run scripts/test-deps.sh)", name, pkg)
		}
		t.Skipf("%s is not installed (Debian package %s)", name, pkg)
	}
	return p
}

// FreeUDPPort returns a UDP port free on 127.0.0.1 right now.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// FreeSIPPort is a port of 127.0.0.1 free now for UDP and TCP, with the
// next port free for TCP too: a user agent such as baresip listens on its
// SIP port over UDP and TCP and for TLS on the port after it, and a port
// that is free for UDP alone makes such a test flaky.
func FreeSIPPort(t testing.TB) int {
	t.Helper()
	for range 100 {
		p := FreeUDPPort(t)
		if p >= 65535 {
			continue
		}
		free := true
		for _, port := range []int{p, p + 1} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				free = false
				break
			}
			_ = l.Close()
		}
		if free {
			return p
		}
	}
	t.Fatal("no free SIP port pair on 127.0.0.1")
	return 0
}
