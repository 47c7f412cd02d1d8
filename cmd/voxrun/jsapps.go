package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	jsapp "github.com/voxrun/voxrun/apps/js"
	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/sandbox"
	"github.com/voxrun/voxrun/store"
)

// jsApps runs the JS apps of this node: one sandbox pool of worker
// processes, the apps/js App of each app version (built once, kept while
// the version and its variables stay the same), and the writer of their
// invocation logs (REST /JsApps/{sid}/Logs, `voxrun apps logs`).
type jsApps struct {
	pool    *sandbox.Pool
	prov    store.Provisioning
	records runtime.Records
	cfg     jsapp.Config
	log     *slog.Logger

	mu    sync.Mutex
	cache map[string]*jsapp.App // by version sid and variables
	owner map[string]string     // app sid → account sid, for alerts

	invocations chan store.JSAppInvocation
	closed      bool // under mu: no more invocations are queued
	done        chan struct{}
}

// maxCachedJSApps bounds the cache of built apps; past it, it starts over.
const maxCachedJSApps = 4096

// newJSApps starts the sandbox pool: workers are this executable in its
// hidden worker mode. ctx.fetch goes through the tenant guard, ctx.kv and
// ctx.state live in live state.
func newJSApps(cfg Config, prov store.Provisioning, live store.Live, records runtime.Records, guard *webhook.Guard, log *slog.Logger) (*jsApps, error) {
	notFound := func(err error) bool { return errors.Is(err, store.ErrNotFound) }
	j := &jsApps{prov: prov, records: records, log: log, cache: map[string]*jsapp.App{}, owner: map[string]string{},
		invocations: make(chan store.JSAppInvocation, 1024), done: make(chan struct{})}
	pool, err := sandbox.New(sandbox.Config{
		Workers: cfg.JSWorkers, Logger: log, HTTPClient: webhook.NewHTTPClient(guard),
		KV: live, KVNotFound: notFound, OnSuspend: j.suspended,
	})
	if err != nil {
		return nil, fmt.Errorf("js sandbox: %w", err)
	}
	j.pool = pool
	j.cfg = jsapp.Config{Invoker: pool, State: live, StateNotFound: notFound, Observe: j.observe}
	go j.writeInvocations()
	log.Info("js apps: sandbox workers started", "workers", cfg.JSWorkers)
	return j, nil
}

// app is the apps.App of a JS app of acct: its active version with its
// variables. An app without an active version cannot answer calls.
func (j *jsApps) app(ctx context.Context, acct store.Account, jsAppSID string) (*jsapp.App, error) {
	scope := store.ForAccount(acct.ServiceProviderSID, acct.AccountSID)
	a, err := j.prov.JSApps(scope).Get(ctx, jsAppSID)
	if err != nil {
		return nil, fmt.Errorf("js app %s: %w", jsAppSID, err)
	}
	if a.ActiveVersionSID == "" {
		return nil, fmt.Errorf("js app %s has no active version: upload one (voxrun apps push)", a.Name)
	}
	env, err := a.Env()
	if err != nil {
		return nil, fmt.Errorf("js app %s: variables: %w", a.Name, err)
	}
	envJSON, _ := json.Marshal(env)
	sum := sha256.Sum256(envJSON)
	key := a.ActiveVersionSID + "/" + hex.EncodeToString(sum[:8])
	j.mu.Lock()
	cached := j.cache[key]
	j.mu.Unlock()
	if cached != nil {
		return cached, nil
	}
	v, err := j.prov.JSAppVersions(scope).Get(ctx, a.ActiveVersionSID)
	if err != nil {
		return nil, fmt.Errorf("js app %s: active version: %w", a.Name, err)
	}
	built, err := jsapp.New(j.cfg, jsapp.Program{AppSID: a.JSAppSID, VersionSID: v.JSAppVersionSID, AccountSID: acct.AccountSID, Source: v.Source, Env: env})
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	if len(j.cache) >= maxCachedJSApps {
		j.cache = map[string]*jsapp.App{}
	}
	j.cache[key] = built
	j.owner[a.JSAppSID] = acct.AccountSID
	j.mu.Unlock()
	return built, nil
}

// observe queues an invocation for the log; it never blocks a call.
func (j *jsApps) observe(_ context.Context, r jsapp.Record) {
	inv := store.JSAppInvocation{
		JSAppSID: r.AppSID, AccountSID: r.AccountSID, JSAppVersionSID: r.VersionSID, CallSID: r.CallSID,
		Hook: r.Hook, Outcome: r.Outcome, Error: r.Error, Duration: r.Duration, CreatedAt: r.Start,
	}
	for _, l := range r.Logs {
		inv.Logs = append(inv.Logs, store.JSAppLogLine{Time: l.Time, Level: l.Level, Message: l.Message})
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return
	}
	select {
	case j.invocations <- inv:
	default:
		j.log.Warn("js apps: invocation log queue full; dropping one", "js_app_sid", r.AppSID)
	}
}

// writeInvocations writes queued invocations in batches, at most every
// half second.
func (j *jsApps) writeInvocations() {
	defer close(j.done)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var batch []store.JSAppInvocation
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := j.prov.WriteJSAppInvocations(ctx, batch); err != nil {
			j.log.Warn("js apps: invocation logs not written", "count", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case inv, ok := <-j.invocations:
			if !ok {
				flush()
				return
			}
			batch = append(batch, inv)
			if len(batch) >= 100 {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// suspended alerts the account of an app that keeps crashing its workers.
func (j *jsApps) suspended(app string, reason error) {
	sid, _, _ := strings.Cut(app, "@") // the program key is appSID@version
	j.mu.Lock()
	acct := j.owner[sid]
	j.mu.Unlock()
	j.log.Warn("js apps: app suspended after crashing its workers", "js_app_sid", sid, "err", reason)
	if acct == "" || j.records == nil {
		return
	}
	_ = j.records.WriteAlerts(context.Background(), []store.Alert{{
		AccountSID: acct, AlertType: "js-app-suspended", TargetSID: sid, CreatedAt: time.Now(),
		Message: fmt.Sprintf("JS app %s was suspended for crashing its workers: %v", sid, reason),
	}})
}

// close stops the workers, then writes the last invocation logs.
func (j *jsApps) close() {
	if j == nil {
		return
	}
	_ = j.pool.Close()
	j.mu.Lock()
	j.closed = true
	close(j.invocations)
	j.mu.Unlock()
	<-j.done
}
