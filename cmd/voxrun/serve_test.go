package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// voxrunBinary builds cmd/voxrun once per test run.
func voxrunBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "voxrun-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "voxrun")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// proc is a running voxrun serve.
type proc struct {
	cmd    *exec.Cmd
	stdout *strings.Builder
	logs   chan map[string]any
	http   string
	done   chan error
}

func startServe(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	p := &proc{http: freeAddr(t), stdout: &strings.Builder{}, logs: make(chan map[string]any, 1000), done: make(chan error, 1)}
	args := append([]string{"serve", "--data-dir", dataDir, "--http-addr", p.http, "--sip-addr", freeAddr(t)}, extra...)
	p.cmd = exec.Command(voxrunBinary(t), args...)
	p.cmd.Env = append(os.Environ(), "VOXRUN_CONFIG=")
	p.cmd.Stdout = p.stdout
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.logs <- m
			}
		}
		close(p.logs)
	}()
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// waitLog waits for a log line whose msg is msg.
func (p *proc) waitLog(t *testing.T, msg string) map[string]any {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m, ok := <-p.logs:
			require.True(t, ok, "voxrun exited before logging %q; stdout: %s", msg, p.stdout)
			if m["msg"] == msg {
				return m
			}
		case <-deadline:
			t.Fatalf("no %q log line within 20s", msg)
		}
	}
}

func (p *proc) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + p.http + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		require.NoError(t, err, "SIGTERM drains and exits 0")
		p.done <- err // for Cleanup
	case <-time.After(15 * time.Second):
		t.Fatal("voxrun did not exit within 15s of SIGTERM")
	}
}

func TestServeZeroConfigFirstStart(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")

	p := startServe(t, dataDir)
	ready := p.waitLog(t, "voxrun ready")
	require.Equal(t, "sqlite", ready["provisioning"])
	require.Equal(t, "memory", ready["live_state"])

	code, body := p.get(t, "/readyz")
	require.Equal(t, 200, code, body)
	code, _ = p.get(t, "/healthz")
	require.Equal(t, 200, code)
	code, body = p.get(t, "/metrics")
	require.Equal(t, 200, code)
	require.Contains(t, body, "voxrun_build_info")

	// SIP answers OPTIONS over UDP on the configured address.
	conn, err := net.Dial("udp", ready["sip_udp"].(string))
	require.NoError(t, err)
	defer conn.Close()
	local := conn.LocalAddr().String()
	_, err = conn.Write([]byte("OPTIONS sip:voxrun@" + ready["sip_udp"].(string) + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-serve-test\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:test@127.0.0.1>;tag=1\r\nTo: <sip:voxrun@127.0.0.1>\r\n" +
		"Call-ID: serve-test@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(buf[:n]), "SIP/2.0 200"), string(buf[:n]))

	// The keys are printed once and written with mode 0600.
	credPath := filepath.Join(dataDir, "initial-credentials")
	st, err := os.Stat(credPath)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	cred, err := os.ReadFile(credPath)
	require.NoError(t, err)
	fields := map[string]string{}
	for _, line := range strings.Split(string(cred), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			fields[k] = v
		}
	}
	for _, k := range []string{"admin_api_key", "account_api_key", "account_sid", "service_provider_sid", "sip_realm", "webhook_secret"} {
		require.NotEmpty(t, fields[k], k)
	}
	// The first keys work on the REST API: the account key sees its account.
	req, err := http.NewRequest("GET", "http://"+p.http+"/v1/Accounts/"+fields["account_sid"], nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+fields["account_api_key"])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	acct, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, string(acct))
	require.Contains(t, string(acct), `"sip_realm":"localhost"`)
	req.Header.Set("Authorization", "Bearer not-a-key")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 401, resp.StatusCode)

	p.stop(t)
	require.Contains(t, p.stdout.String(), fields["admin_api_key"], "printed at the first start")

	// The encryption key was generated with mode 0600.
	st, err = os.Stat(filepath.Join(dataDir, "secret.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// A second start finds the tenant and never prints the keys again.
	p2 := startServe(t, dataDir)
	p2.waitLog(t, "voxrun ready")
	p2.stop(t)
	require.NotContains(t, p2.stdout.String(), fields["admin_api_key"])
	require.NotContains(t, p2.stdout.String(), fields["account_api_key"])
	cred2, err := os.ReadFile(credPath)
	require.NoError(t, err)
	require.Equal(t, string(cred), string(cred2), "the credentials file is not rewritten")
}

func TestServeDrainsOnSIGTERM(t *testing.T) {
	p := startServe(t, filepath.Join(t.TempDir(), "data"))
	p.waitLog(t, "voxrun ready")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	p.waitLog(t, "draining")
	p.waitLog(t, "stopped")
	select {
	case err := <-p.done:
		require.NoError(t, err)
		p.done <- err
	case <-time.After(15 * time.Second):
		t.Fatal("no exit after drain")
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	cmd := exec.Command(voxrunBinary(t), "serve", "--log-level", "loud")
	cmd.Env = append(os.Environ(), "VOXRUN_CONFIG=")
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "log_level")
}
