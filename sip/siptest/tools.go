package siptest

import (
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
