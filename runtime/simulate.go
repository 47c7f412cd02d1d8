package runtime

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/virtual"
	"github.com/voxrun/voxrun/media/wav"
	"github.com/voxrun/voxrun/verbs"
)

// SimulatorConfig configures the simulated calls of a node.
type SimulatorConfig struct {
	// Clock paces the virtual media of simulated calls (a *clock.Clock).
	// Required.
	Clock virtual.Pacer
	// Keep is how long a finished call's transcript and audio stay
	// readable (default one hour).
	Keep time.Duration
	// MaxRunning bounds the simulated calls running at once (default 50).
	MaxRunning int
	// MaxAudio bounds the audio kept per call (default five minutes); what
	// plays beyond it is not recorded.
	MaxAudio time.Duration
	// MaxEvents bounds a call's timeline (default 5,000 events); later
	// events are counted, not kept.
	MaxEvents int
}

// Simulator runs simulated calls: ordinary sessions of the Manager on a
// virtual leg whose far side is driven from Go (the console, `voxrun
// simulate`). It keeps each call's timeline and the audio it played.
type Simulator struct {
	m   *Manager
	cfg SimulatorConfig

	mu      sync.Mutex
	sims    map[string]*Simulation
	running int
}

// Simulator errors.
var (
	// ErrTooManySimulations: MaxRunning simulated calls are running.
	ErrTooManySimulations = errors.New("runtime: too many simulated calls running")
	// ErrSimulationEnded: the call has ended; it takes no more input.
	ErrSimulationEnded = errors.New("runtime: the simulated call has ended")
)

// NewSimulator builds a simulator that runs its calls on m.
func NewSimulator(m *Manager, cfg SimulatorConfig) *Simulator {
	if cfg.Keep <= 0 {
		cfg.Keep = time.Hour
	}
	if cfg.MaxRunning <= 0 {
		cfg.MaxRunning = 50
	}
	if cfg.MaxAudio <= 0 {
		cfg.MaxAudio = 5 * time.Minute
	}
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = 5000
	}
	return &Simulator{m: m, cfg: cfg, sims: map[string]*Simulation{}}
}

// Start runs a simulated call of app. info.CallSID names it (and must be
// new); Direction defaults to inbound and OriginatingTrunk to "simulator".
// The call's events start with its first hook and end with an EventEnd.
func (sm *Simulator) Start(ctx context.Context, info CallInfo, app Application) (*Simulation, error) {
	if info.CallSID == "" {
		return nil, errors.New("runtime: a simulated call needs a call_sid")
	}
	if info.Direction == "" {
		info.Direction = "inbound"
	}
	if info.OriginatingTrunk == "" {
		info.OriginatingTrunk = "simulator"
	}
	if info.CallID == "" {
		info.CallID = "sim-" + info.CallSID
	}
	sm.mu.Lock()
	sm.purgeLocked()
	if sm.running >= sm.cfg.MaxRunning {
		sm.mu.Unlock()
		return nil, ErrTooManySimulations
	}
	if _, dup := sm.sims[info.CallSID]; dup {
		sm.mu.Unlock()
		return nil, fmt.Errorf("runtime: simulated call %s exists", info.CallSID)
	}
	sm.running++
	sm.mu.Unlock()
	release := func() {
		sm.mu.Lock()
		sm.running--
		sm.mu.Unlock()
	}

	legEnd, party, err := virtual.NewPair(sm.cfg.Clock)
	if err != nil {
		release()
		return nil, err
	}
	x := &Simulation{
		sm: sm, info: info, party: party, done: make(chan struct{}),
		started: sm.m.deps.Now(), subs: map[int]chan Event{},
	}
	x.leg = NewVirtualLeg(&tapEndpoint{Endpoint: legEnd, x: x}, info.CallID)
	sm.mu.Lock()
	sm.sims[info.CallSID] = x
	sm.mu.Unlock()
	s, err := sm.m.Start(ctx, x.leg, info, app, WithObserver(x), withRecognizer())
	if err != nil {
		sm.mu.Lock()
		delete(sm.sims, info.CallSID)
		sm.mu.Unlock()
		party.Close()
		release()
		return nil, err
	}
	x.session = s
	go func() {
		<-s.Done()
		x.finish()
		party.Close()
		release()
	}()
	return x, nil
}

// Get returns a simulated call, running or kept after its end.
func (sm *Simulator) Get(callSID string) (*Simulation, bool) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	sm.purgeLocked()
	x, ok := sm.sims[callSID]
	return x, ok
}

// List returns the simulated calls of an account, newest first.
func (sm *Simulator) List(accountSID string) []*Simulation {
	sm.mu.Lock()
	sm.purgeLocked()
	var out []*Simulation
	for _, x := range sm.sims {
		if x.info.AccountSID == accountSID {
			out = append(out, x)
		}
	}
	sm.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].started.After(out[j].started) })
	return out
}

// purgeLocked forgets calls that ended more than Keep ago.
func (sm *Simulator) purgeLocked() {
	cutoff := sm.m.deps.Now().Add(-sm.cfg.Keep)
	for id, x := range sm.sims {
		if end, ok := x.endedAt(); ok && end.Before(cutoff) {
			delete(sm.sims, id)
		}
	}
}

// Simulation is one simulated call: its live timeline, the caller's side
// (keypad, speech, hang-up) and the audio it played.
type Simulation struct {
	sm      *Simulator
	info    CallInfo
	leg     *VirtualLeg
	party   *virtual.Endpoint
	session *Session
	done    chan struct{}
	started time.Time

	mu        sync.Mutex
	events    []Event
	dropped   int
	seq       int
	subs      map[int]chan Event
	nextSub   int
	status    string
	sipStatus int
	failed    bool
	ended     time.Time
	clips     []*audioClip
	audio     time.Duration
}

// audioClip is the audio of one playback: what a say or play sent to the caller.
type audioClip struct {
	n       int
	samples []int16
	closed  bool
}

var _ Observer = (*Simulation)(nil)

// CallSID is the call's call_sid.
func (x *Simulation) CallSID() string { return x.info.CallSID }

// AccountSID is the account the call belongs to.
func (x *Simulation) AccountSID() string { return x.info.AccountSID }

// Done is closed when the call has ended and its EventEnd is recorded.
func (x *Simulation) Done() <-chan struct{} { return x.done }

// Observe implements Observer: the session's events join the timeline.
func (x *Simulation) Observe(e Event) { x.record(e) }

func (x *Simulation) record(e Event) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.seq++
	e.Seq = x.seq
	if e.Time.IsZero() {
		e.Time = x.sm.m.deps.Now()
	}
	switch e.Type {
	case EventStatus:
		x.status, x.sipStatus = e.Kind, e.Status
	case EventAlert:
		// A warning (unknown verb attributes) is worth seeing, not a failure.
		x.failed = x.failed || !strings.HasSuffix(e.Kind, "-warning")
	}
	if len(x.events) < x.sm.cfg.MaxEvents {
		x.events = append(x.events, e)
	} else {
		x.dropped++
	}
	for id, ch := range x.subs {
		select {
		case ch <- e:
		default:
			// A reader this far behind reloads the transcript.
			close(ch)
			delete(x.subs, id)
		}
	}
}

// Subscribe returns the events so far and a channel of the ones that follow;
// the channel is closed after EventEnd, or when the reader falls 256 events
// behind. cancel stops the subscription.
func (x *Simulation) Subscribe() (backlog []Event, live <-chan Event, cancel func()) {
	ch := make(chan Event, 256)
	x.mu.Lock()
	defer x.mu.Unlock()
	backlog = append([]Event(nil), x.events...)
	if !x.ended.IsZero() {
		close(ch)
		return backlog, ch, func() {}
	}
	id := x.nextSub
	x.nextSub++
	x.subs[id] = ch
	return backlog, ch, func() {
		x.mu.Lock()
		defer x.mu.Unlock()
		if _, ok := x.subs[id]; ok {
			delete(x.subs, id)
			close(ch)
		}
	}
}

func (x *Simulation) finish() {
	x.mu.Lock()
	for _, c := range x.clips {
		c.closed = true
	}
	status, sip := x.status, x.sipStatus
	x.mu.Unlock()
	x.record(Event{Type: EventEnd, Kind: status, Status: sip})
	x.mu.Lock()
	x.ended = x.sm.m.deps.Now()
	for id, ch := range x.subs {
		close(ch)
		delete(x.subs, id)
	}
	x.mu.Unlock()
	close(x.done)
}

func (x *Simulation) endedAt() (time.Time, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.ended, !x.ended.IsZero()
}

func (x *Simulation) running() error {
	select {
	case <-x.done:
		return ErrSimulationEnded
	default:
		return nil
	}
}

// Press sends DTMF keys from the caller, one after the other, each held
// 100 ms, as RFC 4733 digits would arrive.
func (x *Simulation) Press(ctx context.Context, keys string) error {
	if err := x.running(); err != nil {
		return err
	}
	for i := range len(keys) {
		if err := x.party.SendDigit(ctx, keys[i], 100*time.Millisecond); err != nil {
			if errors.Is(err, media.ErrClosed) {
				return ErrSimulationEnded
			}
			return err
		}
	}
	return nil
}

// Speak hands text to the call's recognizer as a final transcript, as if the
// caller had said it: a gather listening for speech ends with it. When no
// verb listens, it waits up to two seconds for one (a gather starting), then
// reports the speech as ignored.
func (x *Simulation) Speak(text string) error {
	if err := x.running(); err != nil {
		return err
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return errors.New("runtime: nothing to say")
	}
	// A gather subscribes as it starts: give one that is starting a moment.
	for wait := 0; wait < 100 && !x.session.listeningForSpeech(); wait++ {
		select {
		case <-x.done:
			return ErrSimulationEnded
		case <-time.After(20 * time.Millisecond):
		}
	}
	_, err := x.session.Recognize(verbs.SpeechResult{Transcript: text, Confidence: 1})
	return err
}

// HangUp is the caller hanging up.
func (x *Simulation) HangUp() { x.leg.HangUp() }

// Failed reports whether the application failed: an alert other than a
// warning was raised (a hook that failed or answered something unusable, a
// verb that failed).
func (x *Simulation) Failed() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.failed
}

// Transcript is a simulated call as it stands: its identity, its status
// and every event so far. It is what the console downloads as JSON.
type Transcript struct {
	CallSID        string     `json:"call_sid"`
	AccountSID     string     `json:"account_sid"`
	ApplicationSID string     `json:"application_sid,omitempty"`
	From           string     `json:"from"`
	To             string     `json:"to"`
	StartedAt      time.Time  `json:"started_at"`
	EndedAt        *time.Time `json:"ended_at,omitempty"`
	Running        bool       `json:"running"`
	CallStatus     string     `json:"call_status"`
	SIPStatus      int        `json:"sip_status"`
	Failed         bool       `json:"failed"`
	Clips          int        `json:"clips"`
	DroppedEvents  int        `json:"dropped_events,omitempty"`
	Events         []Event    `json:"events"`
}

// Transcript returns the call's transcript.
func (x *Simulation) Transcript() Transcript {
	x.mu.Lock()
	defer x.mu.Unlock()
	t := Transcript{
		CallSID: x.info.CallSID, AccountSID: x.info.AccountSID, ApplicationSID: x.info.ApplicationSID,
		From: x.info.From, To: x.info.To, StartedAt: x.started, Running: x.ended.IsZero(),
		CallStatus: x.status, SIPStatus: x.sipStatus, Failed: x.failed, Clips: len(x.clips),
		DroppedEvents: x.dropped, Events: append([]Event{}, x.events...),
	}
	if !x.ended.IsZero() {
		end := x.ended
		t.EndedAt = &end
	}
	return t
}

// ClipWAV returns audio clip n (numbered from 1 in EventAudio) as a WAV
// file: 16-bit mono PCM at 8 kHz. ok is false for an unknown clip.
func (x *Simulation) ClipWAV(n int) ([]byte, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if n < 1 || n > len(x.clips) {
		return nil, false
	}
	return wav.EncodeMono(media.SampleRate, x.clips[n-1].samples), true
}

// beginClip starts recording a playback.
func (x *Simulation) beginClip() *audioClip {
	x.mu.Lock()
	defer x.mu.Unlock()
	c := &audioClip{n: len(x.clips) + 1}
	x.clips = append(x.clips, c)
	return c
}

// addFrame records one frame of c, within MaxAudio.
func (x *Simulation) addFrame(c *audioClip, frame []int16) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if c.closed || x.audio >= x.sm.cfg.MaxAudio {
		return
	}
	c.samples = append(c.samples, frame...)
	x.audio += media.FrameDuration
}

// endClip closes c and reports it (an EventAudio) unless it is empty.
func (x *Simulation) endClip(c *audioClip) {
	x.mu.Lock()
	if c == nil || c.closed {
		x.mu.Unlock()
		return
	}
	c.closed = true
	n, samples := c.n, len(c.samples)
	x.mu.Unlock()
	if samples == 0 {
		return
	}
	x.record(Event{Type: EventAudio, Clip: n, Duration: float64(samples) * 1000 / media.SampleRate})
}

// tapEndpoint is the leg's side of a simulated call: it records what every
// playback sends, one clip per source, and passes everything through.
type tapEndpoint struct {
	media.Endpoint
	x *Simulation

	mu      sync.Mutex
	current *audioClip
}

// SetSource implements media.Endpoint.
func (t *tapEndpoint) SetSource(src media.Source) {
	t.mu.Lock()
	prev := t.current
	t.current = nil
	var c *audioClip
	if src != nil {
		c = t.x.beginClip()
		t.current = c
	}
	t.mu.Unlock()
	t.x.endClip(prev)
	if src == nil {
		t.Endpoint.SetSource(nil)
		return
	}
	t.Endpoint.SetSource(media.SourceFunc(func(frame []int16) error {
		if err := src.ReadFrame(frame); err != nil {
			t.x.endClip(c)
			return err
		}
		t.x.addFrame(c, frame)
		return nil
	}))
}
