package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/player"
	"github.com/voxrun/voxrun/media/speech"
	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/schemas"
	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/verbs"
	"github.com/voxrun/voxrun/verbs/builtin"
)

// tenantGuard is the guard of every outbound fetch made for a tenant
// (webhooks, audio URLs, JS ctx.fetch): hook_allow, or its default.
func tenantGuard(cfg Config, log *slog.Logger) (*webhook.Guard, error) {
	allow := cfg.HookAllowList()
	guard, err := webhook.NewGuard(allow, webhook.DefaultConnectTimeout)
	if err != nil {
		return nil, fmt.Errorf("hook_allow: %w", err)
	}
	if len(allow) == 0 {
		log.Info("outbound guard: loopback, private, link-local and metadata addresses are refused for tenant requests (set hook_allow to allow some)")
	} else {
		log.Info("outbound guard: tenant requests may also reach these private destinations", "allow", allow, "embedded_defaults", cfg.Embedded() && cfg.HookAllow == "")
	}
	return guard, nil
}

// newCalls builds the runtime: the verb registry, the webhook client
// through guard and the call manager. The reach it returns has the webhook
// client and the guard; the caller adds the JS apps (newJSApps) when the
// node runs them.
func newCalls(cfg Config, st *stores, validator *schemas.Validator, records runtime.Records, reg prometheus.Registerer, out runtime.Outbound, clk *clock.Clock, guard *webhook.Guard, log *slog.Logger) (*runtime.Manager, reach, error) {
	registry := verbs.NewRegistry(validator)
	builtin.Register(registry)

	hooks, err := webhook.NewClient(webhook.Options{Guard: guard, Timeout: cfg.HookTimeout, UserAgent: "voxrun/" + version})
	if err != nil {
		return nil, reach{}, err
	}
	loader, err := player.NewLoader(player.Config{
		Client:   webhook.NewHTTPClient(guard),
		CacheDir: filepath.Join(cfg.DataDir, "cache", "audio"),
	})
	if err != nil {
		return nil, reach{}, fmt.Errorf("audio: %w", err)
	}

	speaker, err := speech.NewSpeaker(speech.NewEspeak(context.Background(), speech.EspeakConfig{}),
		speech.Config{CacheDir: filepath.Join(cfg.DataDir, "cache", "tts")})
	if err != nil {
		return nil, reach{}, fmt.Errorf("text-to-speech: %w", err)
	}
	m := runtime.NewManager(runtime.Deps{
		Live:     st.live,
		Records:  records,
		Registry: registry,
		Audio:    &audio{loader: loader, speaker: speaker},
		Logger:   log,
		Node:     nodeName(cfg),
		Metrics:  reg,
		Outbound: out,
		Clock:    clk,
	})
	return m, reach{hooks: hooks, guard: guard}, nil
}

// nodeName is node_name, or the host name.
func nodeName(cfg Config) string {
	if cfg.NodeName != "" {
		return cfg.NodeName
	}
	h, _ := os.Hostname()
	return h
}

// hookOf turns a provisioned webhook into an application hook.
func hookOf(w *store.Webhook) *apps.Hook {
	if w == nil || w.URL == "" {
		return nil
	}
	return &apps.Hook{URL: w.URL, Method: w.Method, Username: w.Username, Password: w.Password}
}
