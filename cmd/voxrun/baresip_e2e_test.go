package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/siptest"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// baresip, a real user agent, registers with digest and calls a number:
// voxrun challenges the INVITE, routes it to the account's device-calling
// application, which answers, plays a tone and hangs up; baresip sees the
// call established and closed by voxrun.
func TestBaresipRegistersAndCallsTheDeviceApp(t *testing.T) {
	bin := siptest.Tool(t, "baresip", "baresip")
	hooks := &hookLog{got: map[string][]map[string]any{}}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		hooks.add(r.URL.Path, p)
		if r.URL.Path != "/device" {
			w.WriteHeader(204)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `[{"verb":"answer"},{"verb":"play","url":"silence_stream://700"},{"verb":"hangup"}]`)
	}))
	defer app.Close()
	n := startTenant(t)
	base, key, acct := n.base, n.key, n.acct
	application := rest(t, base, key, "POST", "/Applications", map[string]any{"name": "devices", "account_sid": acct,
		"call_hook": map[string]any{"url": app.URL + "/device"}, "call_status_hook": map[string]any{"url": app.URL + "/status"}})
	rest(t, base, key, "PUT", "/Accounts/"+acct, map[string]any{"device_calling_application_sid": application["sid"]})
	rest(t, base, key, "POST", "/Clients", map[string]any{"account_sid": acct, "username": "alice", "password": "s3cret-Pass", "is_active": true})
	sipAddr := n.ready["sip_udp"].(string)

	dir := t.TempDir()
	// No sound card: a WAV file of tones is the microphone, aubridge the
	// speaker.
	mic := filepath.Join(dir, "mic.wav")
	require.NoError(t, os.WriteFile(mic, wavBytes(synth(promptTones)), 0o600))
	config := fmt.Sprintf(`poll_method		epoll
sip_listen		127.0.0.1:%d
net_interface		127.0.0.1
audio_player		aubridge,speaker
audio_source		aufile,%s
rtp_ports		%d-%d
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			aubridge.so
module			menu.so
module_tmp		account.so
call_max_calls		1
`, siptest.FreeSIPPort(t), mic, 35000, 35100)
	accounts := fmt.Sprintf("<sip:alice@localhost;transport=udp>;auth_pass=s3cret-Pass;outbound=\"sip:%s;transport=udp\";regint=600\n", sipAddr)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "accounts"), []byte(accounts), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "contacts"), nil, 0o600))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := &lockedBuffer{}
	cmd := exec.CommandContext(ctx, bin, "-f", dir, "-t", "20", "-e", "/dial sip:18005550123@localhost")
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()

	require.Eventually(t, func() bool {
		for _, s := range hooks.get("/status") {
			if s["call_status"] == "completed" {
				return true
			}
		}
		return false
	}, 20*time.Second, 50*time.Millisecond, "the call did not complete; baresip said:\n%s", out)
	calls := hooks.get("/device")
	require.Len(t, calls, 1)
	require.Equal(t, "alice", calls[0]["from"])
	require.Equal(t, "18005550123", calls[0]["to"])
	require.Eventually(t, func() bool {
		s := out.String()
		return strings.Contains(s, "Call established") && strings.Contains(strings.ToLower(s), "closed")
	}, 10*time.Second, 50*time.Millisecond, "baresip did not see the call answered and ended:\n%s", out)
	require.Contains(t, out.String(), "alice@localhost: {0/UDP/v4} 200 OK", "baresip registered with digest")
	n.p.stop(t)
}
