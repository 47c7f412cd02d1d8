package main

import (
	"context"
	"crypto/sha256"
	"net/http"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/sip/registrar"
)

// digestSecret keys the SIP digest nonces. Every node must share it, and every
// node shares the encryption key, so it is derived from that key.
func digestSecret(encryptionKey []byte) []byte {
	h := sha256.New()
	h.Write(encryptionKey)
	h.Write([]byte("voxrun sip digest nonces v1"))
	return h.Sum(nil)
}

// registrationHooks delivers the registration hook through the node's
// guarded webhook client (signature, timeouts, size cap, SSRF guard).
type registrationHooks struct{ client *webhook.Client }

var _ registrar.HookSender = registrationHooks{}

// SendHook implements registrar.HookSender.
func (h registrationHooks) SendHook(ctx context.Context, req registrar.HookRequest) ([]byte, error) {
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	return h.client.Exchange(ctx, apps.Request{
		Hook:    apps.Hook{URL: req.URL, Method: method, Username: req.Username, Password: req.Password},
		Payload: req.Payload,
		Secret:  req.Secret,
	})
}
