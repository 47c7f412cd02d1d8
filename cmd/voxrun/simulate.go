package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/voxrun/voxrun/api"
	"github.com/voxrun/voxrun/apps"
	jsapp "github.com/voxrun/voxrun/apps/js"
	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/virtual"
	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/sandbox"
	"github.com/voxrun/voxrun/schemas"
	"github.com/voxrun/voxrun/store"
	memorystore "github.com/voxrun/voxrun/store/memory"
)

// consoleSimulations is the REST API's simulated calls (api.Simulations):
// sessions of the node's own call manager on virtual legs.
type consoleSimulations struct {
	sim   *runtime.Simulator
	reach reach
}

var _ api.Simulations = (*consoleSimulations)(nil)

func newConsoleSimulations(calls *runtime.Manager, clk virtual.Pacer, r reach) *consoleSimulations {
	return &consoleSimulations{sim: runtime.NewSimulator(calls, runtime.SimulatorConfig{Clock: clk}), reach: r}
}

// simulatedCall is the call information of a simulated call.
func simulatedCall(acct store.Account, applicationSID, from, to string) runtime.CallInfo {
	if from == "" {
		from = "+15550001111"
	}
	if to == "" {
		to = "+15550002222"
	}
	sid := uuid.NewString()
	return runtime.CallInfo{
		CallSID: sid, AccountSID: acct.AccountSID, ApplicationSID: applicationSID, ServiceProviderSID: acct.ServiceProviderSID,
		Direction: "inbound", From: from, To: to, CallID: "sim-" + sid, TraceID: "00000000000000000000000000000000",
		OriginatingTrunk: "simulator", LocalSIPAddress: "simulator",
	}
}

// Start implements api.Simulations.
func (c *consoleSimulations) Start(ctx context.Context, acct store.Account, a store.Application, from, to string) (*runtime.Simulation, error) {
	app, err := applicationOf(ctx, acct, a, c.reach)
	if err != nil {
		return nil, err
	}
	return c.sim.Start(ctx, simulatedCall(acct, a.ApplicationSID, from, to), app)
}

// Get implements api.Simulations.
func (c *consoleSimulations) Get(callSID string) (*runtime.Simulation, bool) {
	return c.sim.Get(callSID)
}

// List implements api.Simulations.
func (c *consoleSimulations) List(accountSID string) []*runtime.Simulation {
	return c.sim.List(accountSID)
}

const simulateAbout = `Run a simulated call of an application on this machine, without SIP: the
real interpreter on a virtual leg. It prints the call's timeline (one JSON
object per event with --json) and exits 1 when the application fails (an
alert: a hook that fails or answers unusable verbs, a verb that fails), so
that call flows can be tested in CI.

  --hook URL   a webhook application at URL (no server, no database)
  --app ID     a provisioned application, read from the configured database
  --app F.js   a JS app file, run in the JS sandbox (no server, no database)

Each --digits and --speech is one caller input, given in order to the
gathers as they start: --digits 1# presses 1 then #; --speech "sales" is a
recognizer result. Hook URLs on loopback are allowed on embedded defaults
(see hook_allow). Nothing is written to the database: no CDR, no alert.`

// callerInputs are the caller's inputs, in command-line order.
type callerInputs struct{ list []callerInput }

type callerInput struct{ kind, value string }

type inputFlag struct {
	in   *callerInputs
	kind string
}

func (f inputFlag) String() string { return "" }
func (f inputFlag) Set(v string) error {
	if f.kind == "digits" && !validKeys(v) {
		return fmt.Errorf("digits must be 0-9, *, #, A-D")
	}
	f.in.list = append(f.in.list, callerInput{f.kind, v})
	return nil
}

func validKeys(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789*#ABCD", r) {
			return false
		}
	}
	return true
}

type simulateFlags struct {
	app, hook, from, to string
	json                bool
	timeout             time.Duration
	inputs              callerInputs
}

func cmdSimulate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, path := newFlagSet("simulate", simulateAbout, stderr)
	var sf simulateFlags
	fs.StringVar(&sf.app, "app", "", "an application sid, or a JS app file (FILE.js)")
	fs.StringVar(&sf.hook, "hook", "", "the call hook URL of a webhook application")
	fs.StringVar(&sf.from, "from", "+15550001111", "the caller's number")
	fs.StringVar(&sf.to, "to", "+15550002222", "the called number")
	fs.Var(inputFlag{&sf.inputs, "digits"}, "digits", "DTMF keys the caller presses at the next gather (repeatable)")
	fs.Var(inputFlag{&sf.inputs, "speech"}, "speech", "what the caller says at the next gather (repeatable)")
	fs.BoolVar(&sf.json, "json", false, "print one JSON object per event")
	fs.DurationVar(&sf.timeout, "timeout", 2*time.Minute, "hang up and fail when the call lasts longer")
	cfg, err := parseConfig(fs, path, args, getenv)
	if err != nil {
		return err
	}
	if (sf.app == "") == (sf.hook == "") {
		fmt.Fprintln(stderr, "voxrun simulate: give one of --app and --hook")
		fs.Usage()
		return errUsage
	}
	level := "warn"
	if fs.Lookup("log-level") != nil && isFlagSet(fs, "log-level") {
		level = cfg.LogLevel
	}
	log := newLogger(stderr, level)
	return runSimulation(ctx, cfg, sf, stdout, log)
}

func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// errAppFailed is the exit status of a simulation whose application failed.
var errAppFailed = errors.New("the application failed")

func runSimulation(ctx context.Context, cfg Config, sf simulateFlags, stdout io.Writer, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	validator, err := schemas.NewValidator()
	if err != nil {
		return fmt.Errorf("verb schemas: %w", err)
	}
	live := memorystore.New()
	defer live.Close()
	clk := clock.New(clock.Config{})
	defer clk.Close()
	guard, err := tenantGuard(cfg, log)
	if err != nil {
		return err
	}
	calls, r, err := newCalls(cfg, &stores{live: live, liveKind: "memory"}, validator, nil, nil, nil, clk, guard, log)
	if err != nil {
		return err
	}
	acct := store.Account{AccountSID: "simulated-account", ServiceProviderSID: "simulated-provider"}
	var app runtime.Application
	appSID := "simulated-application"
	switch {
	case sf.hook != "":
		app = runtime.Application{ApplicationSID: appSID, AccountSID: acct.AccountSID, CallHook: apps.Hook{URL: sf.hook}, App: r.hooks}
	case strings.HasSuffix(strings.ToLower(sf.app), ".js"):
		js, closeJS, err := fileJSApp(cfg, sf.app, acct.AccountSID, live, log)
		if err != nil {
			return err
		}
		defer closeJS()
		appSID = "file:" + filepath.Base(sf.app)
		app = runtime.Application{ApplicationSID: appSID, AccountSID: acct.AccountSID, CallHook: apps.Hook{URL: "js:" + appSID}, App: js}
	default:
		st, err := openStores(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer st.close(log)
		a, err := st.prov.Applications(store.Scope{Kind: store.ScopeAdmin}).Get(ctx, sf.app)
		if err != nil {
			return fmt.Errorf("application %s: %w", sf.app, err)
		}
		if a.AccountSID != "" {
			if acct, err = st.prov.Accounts(store.Scope{Kind: store.ScopeAdmin}).Get(ctx, a.AccountSID); err != nil {
				return fmt.Errorf("account of application %s: %w", sf.app, err)
			}
		}
		appSID = a.ApplicationSID
		if a.JSAppSID != "" || a.FallbackJSAppSID != "" {
			// The provisioned JS app runs in a sandbox of one worker here.
			one := cfg
			one.JSWorkers = 1
			if r.js, err = newJSApps(one, st.prov, live, nil, r.guard, log); err != nil {
				return err
			}
			defer r.js.close()
		}
		if app, err = applicationOf(ctx, acct, a, r); err != nil {
			return err
		}
	}
	sim := runtime.NewSimulator(calls, runtime.SimulatorConfig{Clock: clk})
	x, err := sim.Start(ctx, simulatedCall(acct, appSID, sf.from, sf.to), app)
	if err != nil {
		return err
	}
	timedOut := driveSimulation(ctx, x, sf, stdout)
	calls.Drain(ctx)
	if timedOut {
		return fmt.Errorf("the call lasted longer than %s; hung up", sf.timeout)
	}
	if x.Failed() {
		return errAppFailed
	}
	return nil
}

// driveSimulation prints the call's events as they come and gives each
// gather the next caller input. It reports whether the timeout hung it up.
func driveSimulation(ctx context.Context, x *runtime.Simulation, sf simulateFlags, stdout io.Writer) bool {
	backlog, live, cancel := x.Subscribe()
	defer cancel()
	timeout := time.NewTimer(sf.timeout)
	defer timeout.Stop()
	inputs := sf.inputs.list
	var start time.Time
	handle := func(e runtime.Event) {
		if start.IsZero() {
			start = e.Time
		}
		printEvent(stdout, e, start, sf.json)
		if e.Type == runtime.EventVerbStart && e.Verb == "gather" && len(inputs) > 0 {
			in := inputs[0]
			inputs = inputs[1:]
			go func() {
				if in.kind == "digits" {
					_ = x.Press(ctx, in.value)
				} else {
					_ = x.Speak(in.value)
				}
			}()
		}
	}
	for _, e := range backlog {
		handle(e)
	}
	timedOut := false
	for {
		select {
		case e, ok := <-live:
			if !ok {
				<-x.Done()
				return timedOut
			}
			handle(e)
		case <-timeout.C:
			timedOut = true
			x.HangUp()
		case <-ctx.Done():
			x.HangUp()
		}
	}
}

// printEvent writes one event: its JSON, or a line for people.
func printEvent(w io.Writer, e runtime.Event, start time.Time, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(e)
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	at := e.Time.Sub(start).Seconds()
	var line string
	switch e.Type {
	case runtime.EventVerbStart:
		line = fmt.Sprintf("%s %s", e.Verb, compact(e.Data))
	case runtime.EventVerbEnd:
		line = fmt.Sprintf("%s ended %s", e.Verb, compact(e.Data))
		if e.Error != "" {
			line += " error: " + e.Error
		}
	case runtime.EventHookRequest:
		line = fmt.Sprintf("→ %s %s", e.Kind, e.URL)
	case runtime.EventHookReply:
		line = fmt.Sprintf("← %s %d in %.1f ms %s", e.Kind, e.Status, e.LatencyMS, compact(e.Data))
		if e.Error != "" {
			line += " error: " + e.Error
		}
	case runtime.EventLeg:
		line = fmt.Sprintf("leg %s %s", e.Kind, e.Message)
		if e.Status != 0 {
			line = fmt.Sprintf("leg %s %d %s", e.Kind, e.Status, e.Message)
		}
	case runtime.EventStatus:
		line = "status " + e.Kind
	case runtime.EventAlert:
		line = fmt.Sprintf("ALERT %s: %s", e.Kind, e.Message)
	case runtime.EventDTMF:
		line = "caller pressed " + e.Digit
	case runtime.EventSpeech:
		line = fmt.Sprintf("caller said %q (%s)", e.Message, e.Kind)
	case runtime.EventLog:
		line = fmt.Sprintf("log %s: %s", e.Kind, e.Message)
	case runtime.EventState:
		line = "state " + compact(e.Data)
	case runtime.EventAudio:
		line = fmt.Sprintf("audio clip %d, %.0f ms", e.Clip, e.Duration)
	case runtime.EventEnd:
		line = "end " + e.Kind
	default:
		line = e.Type
	}
	fmt.Fprintf(w, "%8.3fs  %-12s %s\n", at, e.Type, strings.TrimSpace(line))
}

func compact(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	s := string(raw)
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}

// fileJSApp runs the JS app in file in a sandbox pool of one worker (this
// executable re-executed), with ctx.state and ctx.kv in live and ctx.fetch
// through the guarded tenant client. A file that does not compile is
// FILE:LINE:COLUMN.
func fileJSApp(cfg Config, file, accountSID string, live *memorystore.Store, log *slog.Logger) (apps.App, func(), error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	if err := sandbox.Check(string(src)); err != nil {
		var ce *sandbox.CompileError
		if errors.As(err, &ce) {
			return nil, nil, fmt.Errorf("%s:%d:%d: %s", file, ce.Line, ce.Column, ce.Message)
		}
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	guard, err := webhook.NewGuard(cfg.HookAllowList(), webhook.DefaultConnectTimeout)
	if err != nil {
		return nil, nil, fmt.Errorf("hook_allow: %w", err)
	}
	notFound := func(err error) bool { return errors.Is(err, store.ErrNotFound) }
	pool, err := sandbox.New(sandbox.Config{Workers: 1, Logger: log, HTTPClient: webhook.NewHTTPClient(guard), KV: live, KVNotFound: notFound})
	if err != nil {
		return nil, nil, fmt.Errorf("js sandbox: %w", err)
	}
	app, err := jsapp.New(jsapp.Config{Invoker: pool, State: live, StateNotFound: notFound},
		jsapp.Program{AppSID: "file:" + filepath.Base(file), AccountSID: accountSID, Source: string(src)})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return app, func() { pool.Close() }, nil
}
