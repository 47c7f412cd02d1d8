package registrar_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/admission"
	"github.com/voxrun/voxrun/sip/siptest"
	"github.com/voxrun/voxrun/store"
)

// peer is a real SIP tool run as a child process, killed by PID when the
// test ends if it is still running.
type peer struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

func startPeer(t *testing.T, ctx context.Context, path string, args ...string) *peer {
	t.Helper()
	p := &peer{cmd: exec.CommandContext(ctx, path, args...)}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.Stdin = nil
	p.cmd.WaitDelay = 2 * time.Second
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

func TestBaresipRegisters(t *testing.T) {
	bin := siptest.Tool(t, "baresip", "baresip")
	// Debian's baresip 1.0 (libre 1.1) answers MD5 only, and gives up with
	// ENOSYS ("Register: Function not implemented") when any challenge of
	// the 401 names SHA-256, even listed after an MD5 one: it registers
	// only with a registrar that offers MD5 alone.
	e := newEnv(t, options{algorithms: []string{"MD5"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	dir := t.TempDir()
	// No audio, video or console modules: baresip needs no device and no
	// terminal. account.so reads the accounts file.
	config := fmt.Sprintf(`poll_method		epoll
sip_listen		127.0.0.1:%d
net_interface		127.0.0.1
module_path		/usr/lib/baresip/modules
module			g711.so
module_tmp		account.so
call_max_calls		1
`, siptest.FreeUDPPort(t))
	// regint 600 asks for 600 s; the outbound proxy is the registrar, so no
	// DNS is needed for the realm.
	accounts := fmt.Sprintf("<sip:alice@%s;transport=udp>;auth_pass=%s;outbound=\"sip:%s;transport=udp\";regint=600\n",
		realm, password, e.addr())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "accounts"), []byte(accounts), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "contacts"), nil, 0o600))

	start := time.Now()
	p := startPeer(t, ctx, bin, "-f", dir, "-t", "25")
	var reg store.Registration
	require.Eventually(t, func() bool {
		r, err := e.live.Registration(ctx, "alice", realm)
		reg = r
		return err == nil
	}, 15*time.Second, 20*time.Millisecond, "baresip did not register; its output:\n%s", &p.out)
	t.Logf("baresip registered with digest in %s (challenge and answer included)", time.Since(start).Round(time.Millisecond))
	require.Equal(t, "127.0.0.1", reg.SourceAddress)
	require.Equal(t, "udp", reg.Transport)
	require.Contains(t, strings.ToLower(reg.UserAgent), "baresip")
	require.Regexp(t, `^sip:alice\S*@127\.0\.0\.1:\d+`, reg.Contact)
	require.WithinDuration(t, time.Now().Add(600*time.Second), reg.ExpiresAt, 5*time.Second)
	require.Contains(t, e.logs.String(), `"msg":"sip/registrar: registered"`)
	require.NotContains(t, e.logs.String(), "security_event", "a correct client raises no security event")

	// On SIGTERM baresip unregisters (Expires 0) before it exits.
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.Eventually(t, func() bool {
		_, err := e.live.Registration(ctx, "alice", realm)
		return err != nil
	}, 10*time.Second, 20*time.Millisecond, "baresip did not unregister; its output:\n%s", &p.out)
	_ = p.cmd.Wait()
}

func TestBaresipWrongPassword(t *testing.T) {
	bin := siptest.Tool(t, "baresip", "baresip")
	e := newEnv(t, options{algorithms: []string{"MD5"}, lockout: admission.LockoutConfig{MaxFailures: 3}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	config := fmt.Sprintf("poll_method epoll\nsip_listen 127.0.0.1:%d\nnet_interface 127.0.0.1\nmodule_path /usr/lib/baresip/modules\nmodule_tmp account.so\n", siptest.FreeUDPPort(t))
	accounts := fmt.Sprintf("<sip:alice@%s;transport=udp>;auth_pass=not-the-password;outbound=\"sip:%s;transport=udp\";regint=60\n", realm, e.addr())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "accounts"), []byte(accounts), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "contacts"), nil, 0o600))
	p := startPeer(t, ctx, bin, "-f", dir, "-t", "25")
	require.Eventually(t, func() bool {
		return strings.Contains(e.logs.String(), `"security_event":"sip_auth_failure"`)
	}, 15*time.Second, 20*time.Millisecond, "no failure logged; baresip said:\n%s", &p.out)
	_, err := e.live.Registration(ctx, "alice", realm)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NotContains(t, e.logs.String(), "not-the-password")
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

var foundRow = regexp.MustCompile(`(?m)^\|\s*\S+\s*\|\s*(reqauth|noauth|weird)\s*\|`)

func TestSvwarFindsNoExtensions(t *testing.T) {
	bin := siptest.Tool(t, "svwar", "sipvicious")
	e := newEnv(t, options{})
	port := e.addr().Port()
	cases := []struct {
		name string
		args []string
	}{
		// Without --force svwar gives up: every extension is challenged alike.
		{"default", nil},
		// With --force it compares each answer with the one for a surely
		// unknown extension: identical, so nothing is found.
		{"force", []string{"--force"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			before := e.prov.lookups.Load()
			// 100-110 contains the existing user 105; alice and bob exist too.
			args := append([]string{"-e", "100-110", "-d", "/dev/null", "--domain", realm, "-p", fmt.Sprint(port),
				"--maximumtime", "3", "-v"}, tc.args...)
			args = append(args, "127.0.0.1")
			start := time.Now()
			p := startPeer(t, ctx, bin, args...)
			_ = p.cmd.Wait()
			out := p.out.String()
			t.Logf("svwar %s: %s, output:\n%s", tc.name, time.Since(start).Round(time.Millisecond), out)
			require.NoError(t, ctx.Err(), "svwar ran past its bound")
			require.Empty(t, foundRow.FindAllString(out, -1), "svwar found extensions")
			require.NotContains(t, out, "exists")
			require.Equal(t, before, e.prov.lookups.Load(), "svwar's requests were only challenged")
		})
	}
}

func TestSvcrackFindsNoPassword(t *testing.T) {
	bin := siptest.Tool(t, "svcrack", "sipvicious")
	// svcrack answers MD5 challenges only: a registrar configured for MD5
	// (older devices) is the one it can attack at all.
	cases := []struct {
		name     string
		position int // of the right password in the dictionary (1-based)
		cracked  bool
	}{
		// Control: the tool does crack a password that comes before the lockout.
		{"right password first", 1, true},
		// The lockout engages after 5 failures; the right password at 12 is refused.
		{"right password after the lockout", 12, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, options{algorithms: []string{"MD5"}, lockout: admission.LockoutConfig{MaxFailures: 5, LockFor: time.Minute}})
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			var dict strings.Builder
			for i := 1; i <= 12; i++ {
				if i == tc.position {
					dict.WriteString(password + "\n")
					continue
				}
				fmt.Fprintf(&dict, "guess%03d\n", i)
			}
			path := filepath.Join(t.TempDir(), "dict.txt")
			require.NoError(t, os.WriteFile(path, []byte(dict.String()), 0o600))
			start := time.Now()
			p := startPeer(t, ctx, bin, "-u", "alice", "-d", path, "--domain", realm, "-p", fmt.Sprint(e.addr().Port()),
				"--maximumtime", "2", "-v", "127.0.0.1")
			_ = p.cmd.Wait()
			out := p.out.String()
			t.Logf("svcrack %s: %s, output:\n%s", tc.name, time.Since(start).Round(time.Millisecond), out)
			require.NoError(t, ctx.Err(), "svcrack ran past its bound")
			if tc.cracked {
				require.Contains(t, out, "The password for alice is "+password)
				return
			}
			require.NotContains(t, out, password)
			require.Contains(t, out, "found nothing")
			logs := e.logs.String()
			require.Contains(t, logs, `"security_event":"sip_auth_lockout"`)
			require.Equal(t, 5, strings.Count(logs, `"security_event":"sip_auth_failure"`),
				"five guesses were verified, the rest refused unverified")
			_, err := e.live.Registration(ctx, "alice", realm)
			require.ErrorIs(t, err, store.ErrNotFound)
		})
	}
}
