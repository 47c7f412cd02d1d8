package runtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxrun/voxrun/media/room"
	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/verbs"
)

// Records is where finished calls and alerts go (the provisioning store).
type Records interface {
	store.CDRs
	store.Alerts
}

// Deps are what the Manager needs from cmd.
type Deps struct {
	Live     store.Live
	Records  Records
	Registry *verbs.Registry
	// Audio opens what say and play send (nil: those verbs fail with alerts).
	Audio  AudioProvider
	Logger *slog.Logger
	// Node is this node's name, written into each call's live record.
	Node string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Metrics registers the runtime's metrics (none when nil).
	Metrics prometheus.Registerer
	// Outbound places outbound legs (dial, REST-created calls); nil means
	// this node cannot call out.
	Outbound Outbound
	// Clock paces the media rooms that bridge calls (dial).
	Clock room.Pacer
}

// Manager owns the calls of this node.
type Manager struct {
	deps Deps

	mu       sync.Mutex
	sessions map[string]*Session
	draining bool
	wg       sync.WaitGroup

	active  prometheus.Gauge
	started prometheus.Counter
	panics  prometheus.Counter
}

// ErrDraining means the node is shutting down and takes no new calls.
var ErrDraining = errors.New("runtime: draining, no new calls")

// NewManager builds a manager.
func NewManager(d Deps) *Manager {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	m := &Manager{
		deps:     d,
		sessions: map[string]*Session{},
		active:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "voxrun_calls_active", Help: "Calls running on this node."}),
		started:  prometheus.NewCounter(prometheus.CounterOpts{Name: "voxrun_calls_started_total", Help: "Calls started on this node."}),
		panics:   prometheus.NewCounter(prometheus.CounterOpts{Name: "voxrun_call_panics_total", Help: "Calls ended by a recovered panic."}),
	}
	if d.Metrics != nil {
		d.Metrics.MustRegister(m.active, m.started, m.panics)
	}
	return m
}

// Start runs a new call on leg for app and returns its session. The session
// runs in its own goroutine until the call ends.
// Options observe the call (WithObserver).
func (m *Manager) Start(ctx context.Context, leg Leg, info CallInfo, app Application, opts ...StartOption) (*Session, error) {
	return m.start(ctx, leg, info, app, nil, opts...)
}

// start runs a session; init, when set, prepares it before its goroutine starts.
func (m *Manager) start(ctx context.Context, leg Leg, info CallInfo, app Application, init func(*Session), opts ...StartOption) (*Session, error) {
	m.mu.Lock()
	if m.draining {
		m.mu.Unlock()
		return nil, ErrDraining
	}
	s := newSession(m, leg, info, app)
	s.applyStart(opts)
	if init != nil {
		init(s)
	}
	m.sessions[info.CallSID] = s
	m.wg.Add(1)
	m.mu.Unlock()
	m.active.Inc()
	m.started.Inc()
	go func() {
		defer m.wg.Done()
		defer func() {
			m.mu.Lock()
			delete(m.sessions, info.CallSID)
			m.mu.Unlock()
			m.active.Dec()
		}()
		s.run(context.WithoutCancel(ctx))
	}()
	return s, nil
}

// track makes a call started by another one (a dial's B leg) reachable by
// its call_sid for live control; untrack forgets it.
func (m *Manager) track(s *Session) {
	m.mu.Lock()
	m.sessions[s.info.CallSID] = s
	m.mu.Unlock()
}

func (m *Manager) untrack(s *Session) {
	m.mu.Lock()
	if m.sessions[s.info.CallSID] == s {
		delete(m.sessions, s.info.CallSID)
	}
	m.mu.Unlock()
}

// Session returns a running call by its call_sid.
func (m *Manager) Session(callSID string) (*Session, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[callSID]
	return s, ok
}

// Active is the number of running calls.
func (m *Manager) Active() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// Drain refuses new calls and waits until the running ones end or ctx ends;
// then it hangs up the calls still running and waits for them to finish.
func (m *Manager) Drain(ctx context.Context) {
	m.mu.Lock()
	m.draining = true
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	// Send may wait for an inbox: not under the lock that untrack needs.
	m.mu.Lock()
	running := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		running = append(running, s)
	}
	m.mu.Unlock()
	for _, s := range running {
		s.Send(Command{Kind: CommandHangup})
	}
	<-done
}

// Control sends a live-control command to a call running on this node. It
// reports false when the call is not running here (ended, or on another node).
func (m *Manager) Control(callSID string, c Command) bool {
	s, ok := m.Session(callSID)
	if !ok {
		return false
	}
	return s.Send(c)
}
