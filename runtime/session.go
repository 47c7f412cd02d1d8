package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/room"
	"github.com/voxrun/voxrun/verbs"
)

// CommandKind says what a live-control command does.
type CommandKind int

// Commands a session's inbox takes (REST and websocket live control).
const (
	// CommandHangup ends the call.
	CommandHangup CommandKind = iota + 1
	// CommandRedirect replaces the stack with Document, or with what Hook returns.
	CommandRedirect
	// CommandTag replaces customerData with Document (a JSON object).
	CommandTag
	// CommandMute mutes (Mute true) or unmutes the call's audio towards
	// the other party of a dial.
	CommandMute
	// CommandWhisper plays Document (say and play verbs) to this call
	// only, during a dial; the bridge resumes afterwards.
	CommandWhisper
	// CommandDTMF sends Digits to the call, each held DigitDuration.
	CommandDTMF
	// CommandSIPRequest sends SIP within the call's dialog; Reply gets the
	// final status.
	CommandSIPRequest
	// CommandChildRedirect gives the B leg of the call's dial an
	// application of its own, from Hook (child_call_hook); the dial ends.
	CommandChildRedirect
)

// Hook is an application hook (apps.Hook), named here for the callers of
// live control that do not import apps.
type Hook = apps.Hook

// Command is a message to a running call.
type Command struct {
	Kind     CommandKind
	Document json.RawMessage
	Hook     *apps.Hook
	// Mute is CommandMute's setting.
	Mute bool
	// Digits and DigitDuration are CommandDTMF's keys and how long each
	// is held (default 250 ms).
	Digits        string
	DigitDuration time.Duration
	// SIP is CommandSIPRequest's request.
	SIP *SIPRequest
	// Reply, when set, is told once how the command went (it must have
	// room for one result).
	Reply chan<- CommandResult
}

// SIPRequest is a request to send within a call's dialog.
type SIPRequest struct {
	Method      string
	ContentType string
	Body        []byte
	Headers     map[string]string
}

// CommandResult is how a live-control command went: an error the tenant
// may read, and for CommandSIPRequest the SIP status of the answer.
type CommandResult struct {
	SIPStatus int
	Err       error
}

// Who ended a call (call_termination_by).
const (
	endedByCaller      = "caller"
	endedByApplication = "application"
	endedBySystem      = "system"
)

// Session is one call. Its goroutine (started by Manager.Start) owns the verb
// stack; everything else reaches it through Send.
type Session struct {
	m     *Manager
	leg   Leg
	app   Application
	log   *slog.Logger
	inbox chan Command
	done  chan struct{}
	// statusQ feeds the goroutine that sends status hooks in order.
	statusQ chan map[string]any

	mu           sync.Mutex
	info         CallInfo
	status       string
	sipStatus    int
	sipReason    string
	state        verbs.CallState
	customerData json.RawMessage
	settings     verbs.Settings
	stack        []verbs.Entry
	running      string
	// step is the running verb's step, for checkpoints taken while it runs.
	step       *verbs.Step
	startedAt  time.Time
	answeredAt time.Time
	endedBy    string
	digitSubs  map[int]chan media.Digit
	nextSub    int
	finished   bool
	// obs is nil unless the call is observed (observe.go).
	obs *observation
	// room names the media room the call is in (a dial's bridge).
	room string
	// outbound is set for a call this node places (REST POST /Calls).
	outbound *OutboundCall
	// member is the call's place in a dial's bridge while it lasts;
	// muted is the mute_status applied to it.
	member *room.Member
	muted  bool
	// bridged is the B leg of the caller's dial while it is bridged.
	bridged *Session
	// fellBack is set once the application's fallback app answered the
	// call: it gets every later hook.
	fellBack atomic.Bool
}

func newSession(m *Manager, leg Leg, info CallInfo, app Application) *Session {
	return &Session{
		m:         m,
		leg:       leg,
		app:       app,
		log:       m.deps.Logger.With("call_sid", info.CallSID, "account_sid", info.AccountSID),
		inbox:     make(chan Command, 8),
		done:      make(chan struct{}),
		statusQ:   make(chan map[string]any, 16),
		info:      info,
		state:     verbs.StateEarly,
		startedAt: m.deps.Now(),
		digitSubs: map[int]chan media.Digit{},
	}
}

// Send delivers a command to the call; it never blocks the caller for long.
// It reports false when the call has ended.
func (s *Session) Send(c Command) bool {
	select {
	case <-s.done:
		return false
	default:
	}
	select {
	case <-s.done:
		return false
	case s.inbox <- c:
		return true
	case <-time.After(time.Second):
		return false
	}
}

// Done is closed when the call has ended and its records are written.
func (s *Session) Done() <-chan struct{} { return s.done }

// CallSID is the call's identifier.
func (s *Session) CallSID() string { return s.info.CallSID }

// CallID is the SIP Call-ID of the call's (first) leg.
func (s *Session) CallID() string { return s.info.CallID }

// AlertPayloadWarning is the alert type of a document that was accepted
// with unknown attributes (jambonz accepts them silently; voxrun says so).
const AlertPayloadWarning = "app-payload-warning"

// errPanic marks a verb that panicked (or a task it started, see
// verbs.Safely); the call ends with an alert.
var errPanic = verbs.ErrPanic

func (s *Session) run(ctx context.Context) {
	defer close(s.done)
	stopStatuses := s.startStatuses(ctx)
	defer stopStatuses()
	defer func() {
		if r := recover(); r != nil {
			s.recovered(ctx, r)
			s.end(ctx)
		}
	}()

	if s.outbound != nil {
		// A call this node places (REST): it runs once it is answered.
		if !s.place(ctx) {
			return
		}
	} else {
		s.leg.Endpoint().OnDigit(media.DigitSinkFunc(s.dispatchDigit))
		s.setStatus(ctx, StatusTrying, 100, "")
	}
	defer s.leg.Endpoint().OnDigit(nil)

	entries, err := s.firstDocument(ctx)
	if err != nil {
		s.refuse(ctx, err)
		return
	}
	s.mu.Lock()
	s.stack = entries
	s.mu.Unlock()
	s.loop(ctx)
	s.end(ctx)
}

// recovered records a panic in the call: a metric, a log line with the stack
// and an alert. The caller then ends the call; every other call goes on.
func (s *Session) recovered(ctx context.Context, r any) {
	s.m.panics.Inc()
	s.log.Error("call panicked; hanging it up", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	s.Alert(ctx, "application-error", "voxrun hit an internal error on this call and hung it up")
	s.mu.Lock()
	s.endedBy = endedBySystem
	s.mu.Unlock()
}

// firstDocument asks the application for the first verbs (or takes its static
// document); the fallback hook is tried when the call hook fails.
func (s *Session) firstDocument(ctx context.Context) ([]verbs.Entry, error) {
	if len(s.app.Document) > 0 {
		return s.decode(ctx, s.app.Document)
	}
	entries, err := s.ask(ctx, apps.KindSessionNew, s.app.CallHook, s.firstPayload())
	if err == nil {
		return entries, nil
	}
	if s.app.FallbackHook != nil {
		s.log.Warn("call hook failed; trying the fallback hook", "err", err)
		entries, ferr := s.ask(ctx, apps.KindSessionNew, *s.app.FallbackHook, s.firstPayload())
		if ferr == nil {
			return entries, nil
		}
	}
	if s.app.FallbackApp != nil {
		s.log.Warn("call hook failed; the fallback app answers the call", "err", err)
		s.fellBack.Store(true)
		entries, ferr := s.ask(ctx, apps.KindSessionNew, apps.Hook{}, s.firstPayload())
		if ferr == nil {
			return entries, nil
		}
		s.fellBack.Store(false)
	}
	return nil, err
}

func (s *Session) firstPayload() map[string]any {
	if s.info.SIP != nil {
		return s.payload(map[string]any{"sip": s.info.SIP})
	}
	return s.payload(nil)
}

// ask sends a request whose reply must be a non-empty, valid verb document.
func (s *Session) ask(ctx context.Context, kind apps.Kind, hook apps.Hook, payload map[string]any) ([]verbs.Entry, error) {
	reply, err := s.send(ctx, apps.Request{Kind: kind, Hook: hook, Payload: payload, Secret: s.app.Secret})
	if err != nil {
		s.hookAlert(ctx, err)
		return nil, err
	}
	if !reply.HasVerbs() {
		err := fmt.Errorf("the application returned no verbs from %s", hook.URL)
		s.Alert(ctx, "invalid-app-payload", err.Error())
		return nil, err
	}
	return s.decode(ctx, reply.Verbs)
}

// decode validates and decodes a document, raising invalid-app-payload (with
// the JSON path of the first problem) when it is refused, and logging a
// warning for every unknown attribute.
func (s *Session) decode(ctx context.Context, doc []byte) ([]verbs.Entry, error) {
	entries, warnings, err := s.m.deps.Registry.Decode(doc, verbs.DecodeOptions{Strict: s.app.StrictVerbs})
	if len(warnings) > 0 {
		// Accepted, as jambonz accepts them, but never silently: the log,
		// one warning alert per document (the console's timeline shows it).
		var b strings.Builder
		for i, w := range warnings {
			s.log.Warn("unknown verb attribute", "path", w.Path, "message", w.Message)
			if i < 10 {
				if i > 0 {
					b.WriteString("; ")
				}
				b.WriteString(w.Path + ": " + w.Message)
			}
		}
		if len(warnings) > 10 {
			fmt.Fprintf(&b, "; and %d more", len(warnings)-10)
		}
		s.Alert(ctx, AlertPayloadWarning, "unknown attributes accepted (strict_verbs refuses them): "+b.String())
	}
	if err != nil {
		s.Alert(ctx, "invalid-app-payload", err.Error())
		return nil, err
	}
	return entries, nil
}

// hookAlert raises the alert that matches a failed hook.
func (s *Session) hookAlert(ctx context.Context, err error) {
	alertType := "webhook-failure"
	if he, ok := apps.AsHookError(err); ok && (he.Kind == apps.FailConnect || he.Kind == apps.FailRefused) {
		alertType = "webhook-connection-failure"
	}
	s.Alert(ctx, alertType, err.Error())
}

// refuse ends a call whose first document could not be had: 480 with X-Reason.
func (s *Session) refuse(ctx context.Context, err error) {
	reason := err.Error()
	if len(reason) > 200 {
		reason = reason[:200]
	}
	if s.State() == verbs.StateAnswered {
		// An outbound call is answered before its application runs.
		s.mu.Lock()
		s.endedBy = endedByApplication
		s.mu.Unlock()
		s.hangupLeg(ctx, map[string]string{"X-Reason": reason})
		s.finish(ctx, StatusCompleted)
		return
	}
	if rerr := s.leg.Reject(ctx, 480, "Temporarily Unavailable", map[string]string{"X-Reason": reason}); rerr != nil {
		s.log.Warn("reject failed", "err", rerr)
	}
	s.mu.Lock()
	s.state = verbs.StateEnded
	s.sipStatus, s.sipReason = 480, reason
	s.endedBy = endedByApplication
	s.mu.Unlock()
	s.finish(ctx, StatusFailed)
}

// pop takes the next verb off the stack.
func (s *Session) pop() (verbs.Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.stack) == 0 || s.state == verbs.StateEnded {
		return verbs.Entry{}, false
	}
	e := s.stack[0]
	s.stack = s.stack[1:]
	s.running = e.Step.Verb
	step := e.Step
	s.step = &step
	return e, true
}

func (s *Session) replaceStack(entries []verbs.Entry) {
	s.mu.Lock()
	s.stack = entries
	s.mu.Unlock()
}

// loop runs verbs until the stack is empty or the call ends.
func (s *Session) loop(ctx context.Context) {
	for {
		if s.handlePending(ctx) {
			return
		}
		entry, ok := s.pop()
		if !ok {
			return
		}
		s.checkpointNow(ctx) // pop set the running step
		s.obs.verbStart(entry)
		out, err, ended := s.runVerb(ctx, entry)
		s.obs.verbEnd(entry, out, err)
		s.mu.Lock()
		s.running, s.step = "", nil
		s.mu.Unlock()
		if ended {
			return
		}
		if err != nil {
			if errors.Is(err, errPanic) {
				s.recovered(ctx, err)
				return
			}
			s.log.Warn("verb failed", "verb", entry.Step.Verb, "path", entry.Step.Path, "err", err)
			s.Alert(ctx, "application-error", fmt.Sprintf("%s at %s: %v", entry.Step.Verb, entry.Step.Path, err))
			continue
		}
		if out.Hangup || s.State() == verbs.StateEnded {
			return
		}
		if out.ActionHook != nil {
			s.actionHook(ctx, out)
		}
	}
}

// handlePending takes a BYE or a command that arrived between verbs. It
// reports whether the call has ended.
func (s *Session) handlePending(ctx context.Context) bool {
	select {
	case <-s.leg.Ended():
		s.farEndHungUp()
		return true
	case c := <-s.inbox:
		return s.command(ctx, c)
	default:
		return false
	}
}

type verbResult struct {
	out verbs.Outcome
	err error
}

// runVerb runs one verb in a goroutine that it joins, while it watches for the
// far end hanging up and for commands, which cancel the verb with a cause.
func (s *Session) runVerb(ctx context.Context, e verbs.Entry) (verbs.Outcome, error, bool) {
	vctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan verbResult, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("verb panicked", "verb", e.Step.Verb, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				done <- verbResult{err: fmt.Errorf("%w: %v", errPanic, r)}
			}
		}()
		out, err := e.Verb.Run(vctx, s)
		done <- verbResult{out: out, err: err}
	}()
	for {
		select {
		case r := <-done:
			return r.out, r.err, false
		case <-s.leg.Ended():
			cancel(verbs.CauseHangup)
			<-done
			s.farEndHungUp()
			return verbs.Outcome{}, nil, true
		case c := <-s.inbox:
			if c.Kind == CommandTag || c.Live() {
				s.command(ctx, c)
				continue
			}
			switch c.Kind {
			case CommandHangup:
				cancel(verbs.CauseHangup)
			case CommandRedirect:
				cancel(verbs.CauseRedirect)
			}
			<-done
			if s.command(ctx, c) {
				return verbs.Outcome{}, nil, true
			}
			return verbs.Outcome{}, nil, false
		}
	}
}

// command applies a live-control command; it reports whether the call ended.
func (s *Session) command(ctx context.Context, c Command) bool {
	switch c.Kind {
	case CommandHangup:
		s.mu.Lock()
		s.endedBy = endedByApplication
		s.mu.Unlock()
		s.hangupLeg(ctx, nil)
		return true
	case CommandRedirect:
		var entries []verbs.Entry
		var err error
		if len(c.Document) > 0 {
			entries, err = s.decode(ctx, c.Document)
		} else if c.Hook != nil {
			h := s.resolveHook(*c.Hook)
			entries, err = s.ask(ctx, apps.KindRedirect, h, s.payload(nil))
		}
		if err == nil {
			s.replaceStack(entries)
		}
	case CommandTag:
		s.Tag(c.Document)
	default:
		if c.Live() {
			s.liveCommand(ctx, c)
		}
	}
	return false
}

// actionHook sends a verb's results; a reply with verbs replaces the stack.
// A failed hook raises an alert, tells the status hook, and the stack goes on.
func (s *Session) actionHook(ctx context.Context, out verbs.Outcome) {
	h := s.resolveHook(apps.Hook(*out.ActionHook))
	reply, err := s.send(ctx, apps.Request{Kind: apps.KindVerbHook, Hook: h, Payload: s.payload(out.Results), Secret: s.app.Secret})
	if err != nil {
		s.log.Warn("action hook failed; continuing", "hook", h.URL, "err", err)
		s.hookAlert(ctx, err)
		s.queueStatus(s.payload(map[string]any{"error": err.Error()}))
		return
	}
	if !reply.HasVerbs() {
		return
	}
	entries, err := s.decode(ctx, reply.Verbs)
	if err != nil {
		s.log.Warn("action hook returned an invalid document; continuing", "hook", h.URL, "err", err)
		s.queueStatus(s.payload(map[string]any{"error": fmt.Sprintf("invalid actionHook response from %s: %v", h.URL, err)}))
		return
	}
	s.replaceStack(entries)
}

func (s *Session) farEndHungUp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != verbs.StateEnded {
		s.state = verbs.StateEnded
		if s.endedBy == "" {
			s.endedBy = endedByCaller
		}
	}
}

// hangupLeg ends the leg: BYE when answered, a 480 when not.
func (s *Session) hangupLeg(ctx context.Context, headers map[string]string) {
	s.mu.Lock()
	state := s.state
	s.state = verbs.StateEnded
	s.mu.Unlock()
	var err error
	switch state {
	case verbs.StateAnswered:
		err = s.leg.Hangup(ctx, headers)
	case verbs.StateEarly:
		err = s.leg.Reject(ctx, 480, "Temporarily Unavailable", map[string]string{"X-Reason": "application ended the call"})
		s.mu.Lock()
		s.sipStatus = 480
		s.mu.Unlock()
	}
	if err != nil {
		s.log.Warn("hangup failed", "err", err)
	}
}

// end hangs up a call that is still up once the stack is done, then finishes it.
func (s *Session) end(ctx context.Context) {
	s.mu.Lock()
	state, answered := s.state, !s.answeredAt.IsZero()
	if s.endedBy == "" {
		s.endedBy = endedByApplication
	}
	s.mu.Unlock()
	if state != verbs.StateEnded {
		s.hangupLeg(ctx, nil)
	}
	final := StatusCompleted
	if !answered {
		s.mu.Lock()
		final = failureStatus(s.sipStatus)
		s.mu.Unlock()
	}
	s.finish(ctx, final)
}
