package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/siptest"
)

// voxrun serves SIP over TLS, WebSocket and secure WebSocket when they are
// configured: each answers OPTIONS.
func TestSIPOverTLSAndWebSocket(t *testing.T) {
	serverTLS, clientTLS, err := siptest.SelfSignedTLS()
	require.NoError(t, err)
	dir := t.TempDir()
	crt, key := filepath.Join(dir, "sip.crt"), filepath.Join(dir, "sip.key")
	pkcs8, err := x509.MarshalPKCS8PrivateKey(serverTLS.Certificates[0].PrivateKey)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(crt, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: serverTLS.Certificates[0].Certificate[0]}), 0o600))
	require.NoError(t, os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600))

	p := startServe(t, filepath.Join(dir, "data"), "--sip-tls-addr", freeAddr(t), "--sip-tls-cert", crt, "--sip-tls-key", key,
		"--sip-ws-addr", freeAddr(t), "--sip-wss-addr", freeAddr(t))
	addr := func(msg, field string) netip.AddrPort {
		return netip.MustParseAddrPort(p.waitLog(t, msg)[field].(string))
	}
	tlsAddr, wsAddr, wssAddr := addr("sip: serving tls", "tls"), addr("sip: serving ws", "ws"), addr("sip: serving wss", "wss")
	p.waitLog(t, "voxrun ready")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tc, err := siptest.DialTLS(ctx, tlsAddr, clientTLS)
	require.NoError(t, err)
	defer tc.Close()
	wc, err := siptest.DialWS(ctx, wsAddr, nil)
	require.NoError(t, err)
	defer wc.Close()
	wsc, err := siptest.DialWS(ctx, wssAddr, clientTLS)
	require.NoError(t, err)
	defer wsc.Close()
	for name, c := range map[string]struct {
		conn siptest.Conn
		to   netip.AddrPort
	}{"tls": {tc, tlsAddr}, "ws": {wc, wsAddr}, "wss": {wsc, wssAddr}} {
		status, err := siptest.Ping(ctx, c.conn, c.to, "e2e-"+name)
		require.NoError(t, err, name)
		require.Equal(t, 200, status, name)
	}
	p.stop(t)
}

// TLS without a certificate is a configuration error at start.
func TestSIPTLSNeedsACertificate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SIPTLSAddr = ":5061"
	require.ErrorContains(t, cfg.validate(), "sip_tls_cert")
}
