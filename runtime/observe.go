package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/verbs"
)

// Observer receives what happens on one call, in order: the console's
// timeline and `voxrun simulate` are observers. Observe is called from the
// call's goroutines (never concurrently for one call) and must not block:
// copy the event and return.
//
// A call started without an observer pays one nil check per place an event
// would be made; nothing is built.
type Observer interface {
	Observe(e Event)
}

// ObserverFunc adapts a function to an Observer.
type ObserverFunc func(e Event)

// Observe calls f.
func (f ObserverFunc) Observe(e Event) { f(e) }

// Event types.
const (
	// EventVerbStart: a verb of the stack starts (Verb, Path, Data = its attributes).
	EventVerbStart = "verb:start"
	// EventVerbEnd: it ended (Data = its results, Error when it failed).
	EventVerbEnd = "verb:end"
	// EventHookRequest: a request to the application (Kind, URL, Data = payload).
	EventHookRequest = "hook:request"
	// EventHookReply: its reply (Status, LatencyMS, Data = verbs, or Error).
	EventHookReply = "hook:reply"
	// EventLeg: a signaling action on the call's leg (Kind: ringing,
	// progress, answered, rejected, hungup; Status, Message = reason).
	EventLeg = "leg"
	// EventStatus: the call's status changed (Kind = call_status, Status = sip_status).
	EventStatus = "status"
	// EventAlert: an alert was raised (Kind = alert type, Message).
	EventAlert = "alert"
	// EventDTMF: a digit arrived from the caller (Digit).
	EventDTMF = "dtmf"
	// EventSpeech: a recognizer result arrived (Message = transcript).
	EventSpeech = "speech"
	// EventLog: the application logged a line (Kind = level, Message).
	EventLog = "log"
	// EventState: the application's per-call state after a hook (Data).
	EventState = "state"
	// EventAudio: the call played audio to the caller (Clip, DurationMS).
	EventAudio = "audio"
	// EventEnd: the call ended (Kind = final call_status, Status = sip_status).
	EventEnd = "end"
)

// Event is one thing that happened on a call. The fields that an event type
// does not use are empty; its JSON is one line of a transcript.
type Event struct {
	Seq       int             `json:"seq"`
	Time      time.Time       `json:"time"`
	Type      string          `json:"type"`
	Verb      string          `json:"verb,omitempty"`
	Path      string          `json:"path,omitempty"`
	Kind      string          `json:"kind,omitempty"`
	URL       string          `json:"url,omitempty"`
	Status    int             `json:"status,omitempty"`
	LatencyMS float64         `json:"latency_ms,omitempty"`
	Digit     string          `json:"digit,omitempty"`
	Message   string          `json:"message,omitempty"`
	Error     string          `json:"error,omitempty"`
	Clip      int             `json:"clip,omitempty"`
	Duration  float64         `json:"duration_ms,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// StartOption configures one call at Manager.Start.
type StartOption func(*startOptions)

type startOptions struct {
	observer   Observer
	recognizer bool
}

// WithObserver makes o see the call's events.
func WithObserver(o Observer) StartOption {
	return func(so *startOptions) { so.observer = o }
}

// withRecognizer gives the call a recognizer fed by Session.Recognize
// (simulated calls): gather's speech input listens to it.
func withRecognizer() StartOption {
	return func(so *startOptions) { so.recognizer = true }
}

// observation is a session's observer and its simulated recognizer. A nil
// *observation is a call nobody watches; every method is then a no-op.
type observation struct {
	o   Observer
	now func() time.Time

	mu         sync.Mutex
	seq        int
	recognizer bool
	speechSubs map[int]chan verbs.SpeechResult
	nextSub    int
}

// applyStart applies the options of Manager.Start to a new session: an
// observed call's leg is wrapped so that its signaling is reported.
func (s *Session) applyStart(opts []StartOption) {
	if len(opts) == 0 {
		return
	}
	var so startOptions
	for _, f := range opts {
		f(&so)
	}
	if so.observer == nil && !so.recognizer {
		return
	}
	s.obs = &observation{o: so.observer, now: s.m.deps.Now, recognizer: so.recognizer, speechSubs: map[int]chan verbs.SpeechResult{}}
	if so.observer != nil {
		s.leg = observedLeg{Leg: s.leg, obs: s.obs}
	}
}

func (o *observation) emit(e Event) {
	if o == nil || o.o == nil {
		return
	}
	o.mu.Lock()
	o.seq++
	e.Seq = o.seq
	e.Time = o.now()
	o.o.Observe(e)
	o.mu.Unlock()
}

func (o *observation) watched() bool { return o != nil && o.o != nil }

func (o *observation) verbStart(e verbs.Entry) {
	if !o.watched() {
		return
	}
	o.emit(Event{Type: EventVerbStart, Verb: e.Step.Verb, Path: e.Step.Path, Data: e.Step.Attrs})
}

func (o *observation) verbEnd(e verbs.Entry, out verbs.Outcome, err error) {
	if !o.watched() {
		return
	}
	ev := Event{Type: EventVerbEnd, Verb: e.Step.Verb, Path: e.Step.Path}
	if err != nil {
		ev.Error = err.Error()
	}
	if len(out.Results) > 0 {
		ev.Data = marshalEvent(out.Results)
	}
	o.emit(ev)
}

func (o *observation) status(status string, sipStatus int) {
	if !o.watched() {
		return
	}
	o.emit(Event{Type: EventStatus, Kind: status, Status: sipStatus})
}

func (o *observation) alert(alertType, message string) {
	if !o.watched() {
		return
	}
	o.emit(Event{Type: EventAlert, Kind: alertType, Message: message})
}

func (o *observation) digit(d media.Digit) {
	if !o.watched() {
		return
	}
	o.emit(Event{Type: EventDTMF, Digit: string(d.Key), Duration: float64(d.Duration) / float64(time.Millisecond)})
}

func marshalEvent(v any) json.RawMessage {
	var b []byte
	var err error
	if raw, ok := v.(json.RawMessage); ok {
		b = raw
	} else if b, err = json.Marshal(v); err != nil {
		return nil
	}
	return append(json.RawMessage(nil), b...)
}

// send delivers a request to the application; an observed call reports the
// request, the reply with its latency, and what the application logged.
func (s *Session) send(ctx context.Context, req apps.Request) (apps.Reply, error) {
	if req.Timeout == 0 {
		req.Timeout = s.app.HookTimeout
	}
	if !s.obs.watched() {
		return s.transport().Send(ctx, req)
	}
	s.obs.emit(Event{Type: EventHookRequest, Kind: string(req.Kind), URL: req.Hook.URL, Data: marshalEvent(req.Payload)})
	start := time.Now()
	reply, err := s.transport().Send(ctx, req)
	ev := Event{Type: EventHookReply, Kind: string(req.Kind), URL: req.Hook.URL,
		LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		ev.Error = err.Error()
		if he, ok := apps.AsHookError(err); ok {
			ev.Status = he.Status
		}
	} else {
		ev.Status = 200
		if reply.HasVerbs() {
			ev.Data = append(json.RawMessage(nil), reply.Verbs...)
		}
	}
	s.obs.emit(ev)
	for _, l := range reply.Logs {
		s.obs.emit(Event{Type: EventLog, Kind: l.Level, Message: l.Message, URL: req.Hook.URL})
	}
	if len(reply.State) > 0 {
		s.obs.emit(Event{Type: EventState, URL: req.Hook.URL, Data: append(json.RawMessage(nil), reply.State...)})
	}
	return reply, err
}

// observedLeg reports the runtime's signaling actions on an observed call.
type observedLeg struct {
	Leg
	obs *observation
}

func (l observedLeg) report(kind string, status int, reason string, err error) {
	ev := Event{Type: EventLeg, Kind: kind, Status: status, Message: reason}
	if err != nil {
		ev.Error = err.Error()
	}
	l.obs.emit(ev)
}

func (l observedLeg) Answer(ctx context.Context) error {
	err := l.Leg.Answer(ctx)
	l.report("answered", 200, "", err)
	return err
}

func (l observedLeg) Progress(ctx context.Context) error {
	err := l.Leg.Progress(ctx)
	l.report("progress", 183, "", err)
	return err
}

func (l observedLeg) Ring(ctx context.Context, h map[string]string) error {
	err := l.Leg.Ring(ctx, h)
	l.report("ringing", 180, "", err)
	return err
}

func (l observedLeg) Reject(ctx context.Context, status int, reason string, h map[string]string) error {
	err := l.Leg.Reject(ctx, status, reason, h)
	if x := h["X-Reason"]; x != "" {
		reason += ": " + x
	}
	l.report("rejected", status, reason, err)
	return err
}

func (l observedLeg) Hangup(ctx context.Context, h map[string]string) error {
	err := l.Leg.Hangup(ctx, h)
	l.report("hungup", 0, "", err)
	return err
}

// ErrNoRecognizer means the call has no simulated recognizer to feed.
var ErrNoRecognizer = errors.New("runtime: this call has no simulated recognizer")

// SubscribeSpeech implements verbs.SpeechListener: a call started with a
// simulated recognizer delivers what Recognize is given; other calls have no
// recognizer yet (ok is false).
func (s *Session) SubscribeSpeech() (<-chan verbs.SpeechResult, func(), bool) {
	o := s.obs
	if o == nil || !o.recognizer {
		return nil, nil, false
	}
	ch := make(chan verbs.SpeechResult, 4)
	o.mu.Lock()
	id := o.nextSub
	o.nextSub++
	o.speechSubs[id] = ch
	o.mu.Unlock()
	return ch, func() {
		o.mu.Lock()
		delete(o.speechSubs, id)
		o.mu.Unlock()
	}, true
}

// listeningForSpeech reports whether a verb is subscribed to speech.
func (s *Session) listeningForSpeech() bool {
	o := s.obs
	if o == nil {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.speechSubs) > 0
}

// Recognize hands a recognizer result to the verbs listening for speech. It
// reports how many were listening (0: the result is reported but nobody took
// it), or ErrNoRecognizer.
func (s *Session) Recognize(r verbs.SpeechResult) (int, error) {
	o := s.obs
	if o == nil || !o.recognizer {
		return 0, ErrNoRecognizer
	}
	o.mu.Lock()
	n := 0
	for _, ch := range o.speechSubs {
		select {
		case ch <- r:
			n++
		default:
		}
	}
	o.mu.Unlock()
	kind := "taken"
	if n == 0 {
		kind = "ignored" // no gather was listening for speech
	}
	o.emit(Event{Type: EventSpeech, Kind: kind, Message: r.Transcript})
	return n, nil
}

var _ verbs.SpeechListener = (*Session)(nil)
