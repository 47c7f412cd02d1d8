package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/voxrun/voxrun/api"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/schemas"
	"github.com/voxrun/voxrun/store/spool"
)

const serveAbout = `Serve SIP (UDP and TCP), media, the REST API, the console, /healthz,
/readyz and /metrics. With no configuration at all it runs on embedded
defaults: SQLite and an encryption key in ./data, live state in memory.
On the first start it creates a default service provider, account and API
keys, prints the keys once and writes them to <data_dir>/initial-credentials.

SIGTERM or SIGINT drains: /readyz turns 503, new calls are refused, running
calls get drain_timeout to end, then SIP, HTTP and the stores close. A second
signal exits at once.`

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	started := time.Now()
	fs, path := newFlagSet("serve", serveAbout, stderr)
	cfg, err := parseConfig(fs, path, args, getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	n, err := startNode(ctx, cfg, log, stdout)
	if err != nil {
		return err
	}
	log.Info("voxrun ready",
		"version", version,
		"http", n.httpAddr.String(),
		"sip_udp", n.sip.srv.UDPAddr().String(),
		"sip_tcp", n.sip.srv.TCPAddr().String(),
		"provisioning", n.stores.provKind,
		"live_state", n.stores.liveKind,
		"data_dir", cfg.DataDir,
		"startup_ms", time.Since(started).Milliseconds())

	select {
	case sig := <-sigs:
		log.Info("draining", "signal", sig.String(), "drain_timeout", cfg.DrainTimeout.String())
	case err := <-n.httpErr:
		log.Error("http server stopped", "err", err)
		n.close(context.Background(), log)
		return err
	}
	go func() {
		sig := <-sigs
		log.Warn("second signal: exiting at once", "signal", sig.String())
		os.Exit(1)
	}()
	return n.drain(ctx, cfg, log)
}

type validatorResult struct {
	v   *schemas.Validator
	err error
}

// node is one running voxrun: its stores, calls and servers.
type node struct {
	stores   *stores
	records  *spool.Writer
	calls    *runtime.Manager
	js       *jsApps
	chores   *housekeeper
	debug    *debugServer
	sip      *signaling
	http     *api.Server
	httpAddr net.Addr
	httpErr  chan error
}

// startNode opens the stores, creates the first tenant on an empty database and
// starts the servers.
func startNode(ctx context.Context, cfg Config, log *slog.Logger, stdout io.Writer) (*node, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	// Compiling the verb schemas takes tens of milliseconds: do it while the
	// stores open.
	validator := make(chan validatorResult, 1)
	go func() {
		v, err := schemas.NewValidator()
		validator <- validatorResult{v, err}
	}()
	st, err := openStores(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if cfg.AutoMigrate {
		if err := st.migrate(ctx); err != nil {
			st.close(log)
			return nil, err
		}
	}
	if err := bootstrap(ctx, st, cfg, stdout, log); err != nil {
		st.close(log)
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
	)
	records, err := spool.New(st.prov, spool.Options{Dir: filepath.Join(cfg.DataDir, "spool"), Logger: log, Metrics: reg})
	if err != nil {
		st.close(log)
		return nil, err
	}
	guard, err := tenantGuard(cfg, log)
	if err != nil {
		records.Close()
		st.close(log)
		return nil, err
	}
	// The JS workers start (processes of their own) while the rest of the
	// node is built.
	type jsResult struct {
		js  *jsApps
		err error
	}
	jsc := make(chan jsResult, 1)
	go func() {
		js, err := newJSApps(cfg, st.prov, st.live, records, guard, log)
		jsc <- jsResult{js, err}
	}()
	vr := <-validator
	if vr.err != nil {
		if j := <-jsc; j.err == nil {
			j.js.close()
		}
		records.Close()
		st.close(log)
		return nil, fmt.Errorf("verb schemas: %w", vr.err)
	}
	// The media clock paces every leg and bridge; the SIP side owns it
	// once it starts. Outbound legs are placed by the SIP agent.
	clk := clock.New(clock.Config{})
	out := &outbound{}
	calls, r, err := newCalls(cfg, st, vr.v, records, reg, out, clk, guard, log)
	j := <-jsc
	r.js = j.js
	if err == nil {
		err = j.err
	}
	if err != nil {
		if j.err == nil {
			j.js.close()
		}
		clk.Close()
		records.Close()
		st.close(log)
		return nil, err
	}
	sipSrv, err := startSIP(ctx, cfg, st, calls, r, clk, out, log)
	if err != nil {
		r.js.close()
		records.Close()
		st.close(log)
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		sipSrv.close(log)
		r.js.close()
		records.Close()
		st.close(log)
		return nil, fmt.Errorf("http listen %s: %w", cfg.HTTPAddr, err)
	}
	srv := api.New(api.Config{
		Logger:       log,
		Gatherer:     reg,
		Provisioning: st.prov,
		Live:         st.live,
		Calls:        calls,
		Simulations:  newConsoleSimulations(calls, sipSrv.clock, r),
		CompileJS:    r.js.compileJS,
		Creator:      &callCreator{calls: calls, reach: r},
		RateLimit:    cfg.APIRateLimit(),
		Ready: []api.Check{
			{Name: "provisioning", Ping: st.prov.Ping},
			{Name: "live_state", Ping: st.live.Ping},
		},
	})
	n := &node{stores: st, records: records, calls: calls, js: r.js, sip: sipSrv, http: srv, httpAddr: ln.Addr(), httpErr: make(chan error, 1)}
	n.chores = startHousekeeping(st.live, log, purgeEvery)
	if n.debug, err = startDebug(cfg.DebugAddr, log); err != nil {
		log.Warn("debug server not started", "debug_addr", cfg.DebugAddr, "err", err)
	}
	go func() { n.httpErr <- srv.Serve(ln) }()
	return n, nil
}

// drain stops the node in order: refuse new work (readiness 503), let running
// calls finish within the drain timeout, stop the servers, then close the
// stores so that pending CDRs are flushed last.
func (n *node) drain(ctx context.Context, cfg Config, log *slog.Logger) error {
	n.http.SetDraining()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.DrainTimeout)
	if active := n.calls.Active(); active > 0 {
		log.Info("waiting for calls to end", "active", active)
	}
	n.calls.Drain(dctx)
	cancel()
	n.close(ctx, log)
	log.Info("stopped")
	return nil
}

func (n *node) close(ctx context.Context, log *slog.Logger) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	n.sip.close(log)
	if err := n.http.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("http shutdown", "err", err)
	}
	n.chores.Close()
	n.debug.Close()
	// The JS workers stop once the calls are over; their last invocation
	// logs are written before the database closes.
	n.js.close()
	// Queued CDRs and alerts go to the database (or the spool) before it closes.
	if err := n.records.Close(); err != nil {
		log.Warn("closing the record writer", "err", err)
	}
	n.stores.close(log)
}

func buildInfo() prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "voxrun_build_info",
		Help: "Always 1; the version label says which voxrun is running.",
	}, []string{"version"})
	g.WithLabelValues(version).Set(1)
	return g
}

// credentialsFile is where the first start writes the keys it created.
func credentialsFile(cfg Config) string { return filepath.Join(cfg.DataDir, "initial-credentials") }

// keyFile is where the generated encryption key lives when none is configured.
func keyFile(cfg Config) string { return filepath.Join(cfg.DataDir, "secret.key") }
