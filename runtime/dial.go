package runtime

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/room"
	"github.com/voxrun/voxrun/verbs"
)

var _ verbs.Dialer = (*Session)(nil)

// Dial implements verbs.Dialer. The caller's leg is answered first unless
// spec.AnswerOnBridge; every target is called at once, each as a child
// call with its own call_sid and status events; the first to answer (and
// to pass its confirmHook, when there is one) is bridged to the caller in
// a media room, and the others are cancelled. Dial returns when the bridge
// ends (either side hangs up, timeLimit passes, or the verb is cancelled)
// or when no target answered.
func (s *Session) Dial(ctx context.Context, spec verbs.DialSpec) (map[string]any, error) {
	if s.m.deps.Outbound == nil {
		return nil, ErrNoOutbound
	}
	if s.m.deps.Clock == nil {
		return nil, fmt.Errorf("runtime: dial: no media clock to bridge on")
	}
	if !spec.AnswerOnBridge {
		if err := s.Answer(ctx); err != nil {
			return nil, err
		}
	}
	d := &dialRun{s: s, spec: spec, events: make(chan dialEvent, 4*len(spec.Targets)+4)}
	return d.run(ctx), nil
}

// dialRun is one dial verb in progress; only Dial's goroutine touches it
// (the attempts talk to it through events).
type dialRun struct {
	s      *Session
	spec   verbs.DialSpec
	events chan dialEvent
	// pending counts attempts that have not reported their end.
	pending int
	rang    bool
	early   *earlyBridge
}

// attempt is one target being called: a child session whose leg appears
// when the target answers.
type attempt struct {
	target verbs.DialTarget
	child  *Session
	// stopStatuses ends the child's status sender once it has finished.
	stopStatuses func()
	// ctx is the attempt's: cancelled when another target wins.
	ctx    context.Context
	cancel context.CancelFunc
}

type dialEventKind int

const (
	evProvisional dialEventKind = iota + 1
	evAnswered
	evFailed
	evConfirmed
	evDeclined
	evEarlyMedia
)

type dialEvent struct {
	a      *attempt
	kind   dialEventKind
	status int
	reason string
	leg    Leg
	ep     media.Endpoint // evEarlyMedia's media
}

// earlyBridge is the caller joined to a target's early media (its ringback
// or announcement) before the answer; the bridge keeps it when that target
// answers.
type earlyBridge struct {
	a      *attempt
	r      *room.Room
	ma, mb *room.Member
}

// post hands an event to the dial's goroutine; attempts never block on it
// (the channel holds every event an attempt can send).
func (d *dialRun) post(e dialEvent) {
	select {
	case d.events <- e:
	default:
		// Only provisional responses can overflow; they are advisory.
		if e.kind != evProvisional {
			d.events <- e
		}
	}
}

func (d *dialRun) run(ctx context.Context) map[string]any {
	s := d.s
	ringCtx, stopRinging := context.WithCancel(ctx)
	defer stopRinging()
	stopMusic := d.startMusic(ctx)
	defer stopMusic()

	for _, t := range d.spec.Targets {
		d.start(ringCtx, t)
	}
	timer := time.NewTimer(d.spec.Timeout)
	defer timer.Stop()

	var winner, last *attempt
	lastStatus, lastReason := 487, "Request Terminated"
	timedOut := false
	done := ctx.Done()
	for d.pending > 0 && winner == nil {
		select {
		case e := <-d.events:
			switch e.kind {
			case evProvisional:
				d.provisional(ctx, e)
			case evEarlyMedia:
				d.earlyMedia(ctx, e)
			case evAnswered:
				timer.Stop()
				if d.answered(ctx, e) {
					winner = e.a
				}
			case evConfirmed:
				winner = e.a
			case evFailed, evDeclined:
				d.pending--
				last, lastStatus, lastReason = e.a, e.status, e.reason
				if d.early != nil && d.early.a == e.a {
					d.closeEarly()
				}
				d.ended(ctx, e)
			}
		case <-timer.C:
			s.log.Info("dial: no answer in time; cancelling", "timeout", d.spec.Timeout)
			timedOut = true
			stopRinging()
		case <-done:
			done = nil
			stopRinging()
		}
	}
	if winner == nil {
		d.closeEarly()
		status, sipStatus := failureStatus(lastStatus), lastStatus
		if timedOut {
			status, sipStatus = StatusNoAnswer, 487
		}
		s.log.Info("dial: no target answered", "dial_call_status", status, "dial_sip_status", sipStatus, "reason", lastReason)
		var child *Session
		if last != nil {
			child = last.child
		}
		return dialResults(status, sipStatus, child, 0)
	}
	// The others are cancelled; they report their end in the background.
	d.pending--
	stopRinging()
	losers := make(chan struct{})
	s.goSafe("dial: the other targets", func() {
		defer close(losers)
		d.drain(context.WithoutCancel(ctx))
	}, nil)
	defer func() { <-losers }()
	stopMusic()
	return d.bridge(ctx, winner)
}

// start places one target as a child call.
func (d *dialRun) start(ctx context.Context, t verbs.DialTarget) {
	s := d.s
	child := s.newChild(ctx, t, d.spec)
	s.m.track(child)
	actx, cancel := context.WithCancel(ctx)
	a := &attempt{target: t, child: child, ctx: actx, cancel: cancel}
	a.stopStatuses = child.startStatuses(context.WithoutCancel(ctx))
	d.pending++
	child.setStatus(ctx, StatusTrying, 100, "")

	headers := make(map[string]string, len(d.spec.Headers)+len(t.Headers))
	for k, v := range d.spec.Headers {
		headers[k] = v
	}
	for k, v := range t.Headers {
		headers[k] = v
	}
	proxy := t.Proxy
	if proxy == "" {
		proxy = d.spec.Proxy
	}
	req := PlaceRequest{
		AccountSID:         s.info.AccountSID,
		ServiceProviderSID: s.info.ServiceProviderSID,
		CallSID:            child.info.CallSID,
		CallID:             child.info.CallID,
		Target:             t,
		From:               child.info.From,
		CallerName:         d.spec.CallerName,
		Headers:            headers,
		Proxy:              proxy,
		Timeout:            d.spec.Timeout,
		OnProvisional: func(status int) {
			d.post(dialEvent{a: a, kind: evProvisional, status: status})
		},
		OnEarlyMedia: func(ep media.Endpoint) {
			d.post(dialEvent{a: a, kind: evEarlyMedia, ep: ep})
		},
	}
	s.goSafe("dial: place a target", func() {
		leg, err := s.m.deps.Outbound.Place(actx, req)
		if err != nil {
			status, reason := placeStatus(err)
			s.log.Info("dial: target did not answer", "target", t.Key(), "child_call_sid", child.info.CallSID, "sip_status", status, "err", err)
			d.post(dialEvent{a: a, kind: evFailed, status: status, reason: reason})
			return
		}
		d.post(dialEvent{a: a, kind: evAnswered, status: 200, leg: leg})
	}, func() {
		d.post(dialEvent{a: a, kind: evFailed, status: 500, reason: "Server Internal Error"})
	})
}

// newChild is the session of one outbound leg of s: its own call_sid and
// status events, the parent's application and call as parent_call_sid.
func (s *Session) newChild(ctx context.Context, t verbs.DialTarget, spec verbs.DialSpec) *Session {
	from := spec.CallerID
	if from == "" {
		from = s.info.From
	}
	if t.From != nil && t.From.User != "" {
		from = t.From.User
	}
	info := CallInfo{
		CallSID:            uuid.NewString(),
		ParentCallSID:      s.info.CallSID,
		AccountSID:         s.info.AccountSID,
		ApplicationSID:     s.info.ApplicationSID,
		ServiceProviderSID: s.info.ServiceProviderSID,
		Direction:          "outbound",
		From:               from,
		To:                 t.Callee(),
		CallerName:         spec.CallerName,
		CallID:             uuid.NewString(),
		TraceID:            s.info.TraceID,
	}
	c := newSession(s.m, nil, info, s.app)
	c.fellBack.Store(s.fellBack.Load()) // the app that answers the caller answers its B legs
	if len(spec.Tag) > 0 {
		c.customerData = append([]byte(nil), spec.Tag...)
	}
	return c
}

// startStatuses runs the session's status sender until the returned stop
// is called (Manager.Start does this for calls it runs itself).
func (s *Session) startStatuses(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	s.goSafe("status hook", func() { s.sendStatuses(ctx, done) }, nil)
	return func() {
		close(s.statusQ)
		<-done
	}
}

// provisional relays a target's 180 or 183: the child's status, and ringing
// for a caller who waits for the bridge to be answered.
func (d *dialRun) provisional(ctx context.Context, e dialEvent) {
	e.a.child.setStatus(ctx, provisionalStatus(e.status), e.status, "")
	// A 183 brings early media (earlyMedia): the caller is not rung.
	if d.spec.AnswerOnBridge && e.status != 183 && !d.rang && d.spec.DialMusic == "" && d.s.State() == verbs.StateEarly {
		d.rang = true
		if err := d.s.Ring(ctx, nil); err != nil {
			d.s.log.Warn("dial: cannot ring the caller", "err", err)
		}
	}
}

// earlyMedia lets the caller hear a target's early media, as jambonz does
// when one target is dialled without dialMusic: the caller gets 183 (or
// is already answered) and joins the target's early media in a room, which
// becomes the bridge if that target answers.
func (d *dialRun) earlyMedia(ctx context.Context, e dialEvent) {
	s := d.s
	if d.early != nil || len(d.spec.Targets) != 1 || d.spec.DialMusic != "" {
		return
	}
	aep, err := s.Endpoint(ctx, true)
	if err != nil {
		s.log.Warn("dial: cannot pass early media to the caller", "err", err)
		return
	}
	r, err := room.New(s.m.deps.Clock, room.Config{MaxMembers: 2})
	if err != nil {
		s.log.Warn("dial: cannot pass early media to the caller", "err", err)
		return
	}
	ma, err := r.Join(aep)
	var mb *room.Member
	if err == nil {
		mb, err = r.Join(e.ep)
	}
	if err != nil {
		_ = r.Close()
		s.log.Warn("dial: cannot pass early media to the caller", "err", err)
		return
	}
	s.log.Info("dial: the caller hears the target's early media", "child_call_sid", e.a.child.info.CallSID)
	d.early = &earlyBridge{a: e.a, r: r, ma: ma, mb: mb}
}

// closeEarly ends the early media bridge, if any.
func (d *dialRun) closeEarly() {
	if d.early != nil {
		_ = d.early.r.Close()
		d.early = nil
	}
}

// answered takes a target's answer; it reports whether the target won
// outright (no confirmHook to pass first).
func (d *dialRun) answered(ctx context.Context, e dialEvent) bool {
	c := e.a.child
	c.adopt(ctx, e.leg)
	hook := e.a.target.ConfirmHook
	if hook == nil {
		hook = d.spec.ConfirmHook
	}
	if hook == nil {
		return true
	}
	c.goSafe("dial: confirmHook", func() {
		if c.confirm(e.a.ctx, *hook) {
			d.post(dialEvent{a: e.a, kind: evConfirmed, status: 200})
			return
		}
		d.post(dialEvent{a: e.a, kind: evDeclined, status: 603, reason: "Declined by confirmHook"})
	}, func() {
		d.post(dialEvent{a: e.a, kind: evDeclined, status: 500, reason: "Server Internal Error"})
	})
	return false
}

// adopt gives an answered leg to a child session.
func (s *Session) adopt(ctx context.Context, leg Leg) {
	s.mu.Lock()
	s.leg = leg
	s.state = verbs.StateAnswered
	s.answeredAt = s.m.deps.Now()
	s.mu.Unlock()
	leg.Endpoint().OnDigit(media.DigitSinkFunc(s.dispatchDigit))
	s.setStatus(ctx, StatusInProgress, 200, "")
}

// confirm runs a confirmHook's verbs on an answered child leg: it passes
// when the verbs end with the leg still up.
func (s *Session) confirm(ctx context.Context, hook verbs.Hook) bool {
	h := s.resolveHook(apps.Hook(hook))
	entries, err := s.ask(ctx, apps.KindVerbHook, h, s.payload(nil))
	if err != nil {
		s.log.Warn("dial: confirmHook failed; not bridging this target", "err", err)
		return false
	}
	s.replaceStack(entries)
	s.loop(ctx)
	return s.State() == verbs.StateAnswered && ctx.Err() == nil
}

// ended records a target that did not answer, or declined in its confirmHook.
func (d *dialRun) ended(ctx context.Context, e dialEvent) {
	c := e.a.child
	if e.kind == evDeclined {
		if c.State() != verbs.StateEnded {
			c.hangupLeg(ctx, nil)
		}
		c.finish(ctx, StatusCompleted)
	} else {
		c.mu.Lock()
		c.sipStatus, c.sipReason = e.status, e.reason
		c.endedBy = endedByApplication
		c.mu.Unlock()
		c.finish(ctx, failureStatus(e.status))
	}
	e.a.cancel()
	e.a.stopStatuses()
	d.s.m.untrack(c)
}

// drain waits for the attempts still running once a target has won: they
// are cancelled, and one that answered anyway is hung up.
func (d *dialRun) drain(ctx context.Context) {
	for d.pending > 0 {
		e := <-d.events
		switch e.kind {
		case evAnswered:
			e.a.child.adopt(ctx, e.leg)
			d.pending--
			d.ended(ctx, dialEvent{a: e.a, kind: evDeclined})
		case evConfirmed:
			d.pending--
			d.ended(ctx, dialEvent{a: e.a, kind: evDeclined})
		case evFailed, evDeclined:
			d.pending--
			d.ended(ctx, e)
		}
	}
}

// startMusic plays dialMusic to the caller while the targets ring (as early
// media when the caller is not answered yet). stop ends it and waits.
func (d *dialRun) startMusic(ctx context.Context) (stop func()) {
	if d.spec.DialMusic == "" || d.s.m.deps.Audio == nil {
		return func() {}
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	d.s.goSafe("dial: dialMusic", func() {
		defer close(done)
		ep, err := d.s.Endpoint(mctx, true)
		if err != nil {
			return
		}
		for mctx.Err() == nil {
			pb, err := d.s.m.deps.Audio.OpenURL(mctx, d.spec.DialMusic, 0)
			if err != nil {
				if mctx.Err() == nil {
					d.s.Alert(mctx, "play-url-failure", fmt.Sprintf("dial: dialMusic %s: %v", d.spec.DialMusic, err))
				}
				return
			}
			_, completed, _ := verbs.PlayOn(mctx, ep, pb, 0)
			pb.Close()
			if !completed {
				return
			}
		}
	}, nil)
	var once bool
	return func() {
		if once {
			return
		}
		once = true
		cancel()
		<-done
	}
}

// bridge joins the caller and the winner in a room until one hangs up, the
// time limit passes or the verb is cancelled.
func (d *dialRun) bridge(ctx context.Context, w *attempt) map[string]any {
	s, c := d.s, w.child
	var adult *Hook // set when the B leg leaves with an application of its own
	defer func() {
		w.cancel()
		if adult == nil {
			w.stopStatuses()
			d.s.m.untrack(c)
		}
	}()
	if d.spec.AnswerOnBridge {
		if err := s.Answer(ctx); err != nil {
			s.log.Warn("dial: cannot answer the caller", "err", err)
			c.hangupLeg(ctx, nil)
			c.finish(ctx, StatusCompleted)
			return dialResults(StatusFailed, 500, c, 0)
		}
	}
	var r *room.Room
	var ma, mb *room.Member
	var err error
	if e := d.early; e != nil && e.a == w {
		// The caller already hears this target: its answered media takes
		// the place of its early media in the same room.
		r, ma = e.r, e.ma
		d.early = nil
		e.mb.Leave()
		mb, err = r.Join(c.leg.Endpoint())
	} else {
		d.closeEarly()
		r, err = room.New(s.m.deps.Clock, room.Config{MaxMembers: 2})
		if err == nil {
			ma, err = r.Join(s.leg.Endpoint())
		}
		if err == nil {
			mb, err = r.Join(c.leg.Endpoint())
		}
	}
	if r != nil {
		defer r.Close()
	}
	if err != nil {
		s.log.Error("dial: cannot bridge", "err", err)
		c.hangupLeg(ctx, nil)
		c.finish(ctx, StatusCompleted)
		return dialResults(StatusFailed, 500, c, 0)
	}
	for _, x := range []struct {
		s *Session
		m *room.Member
	}{{s, ma}, {c, mb}} {
		x.s.mu.Lock()
		x.s.room = "bridge:" + c.info.CallSID
		x.s.member = x.m
		x.m.SetMuted(x.s.muted)
		x.s.mu.Unlock()
	}
	s.mu.Lock()
	s.bridged = c
	s.mu.Unlock()
	// The room is part of both calls' resumable state.
	s.checkpointNow(ctx)
	c.checkpointNow(ctx)
	defer func() {
		for _, x := range []*Session{s, c} {
			x.mu.Lock()
			x.room, x.member, x.bridged = "", nil, nil
			x.mu.Unlock()
			x.checkpointNow(context.WithoutCancel(ctx))
		}
	}()
	s.log.Info("dial: bridged", "child_call_sid", c.info.CallSID, "target", w.target.Key())
	start := s.m.deps.Now()

	var limit <-chan time.Time
	if d.spec.TimeLimit > 0 {
		t := time.NewTimer(d.spec.TimeLimit)
		defer t.Stop()
		limit = t.C
	}
	parent, child := d.captures(s), d.captures(c)
	defer parent.stop()
	defer child.stop()
	for {
		select {
		case <-ctx.Done():
			c.mu.Lock()
			c.endedBy = endedByApplication
			c.mu.Unlock()
			c.hangupLeg(context.WithoutCancel(ctx), nil)
		case <-c.leg.Ended():
			c.farEndHungUp()
		case <-limit:
			s.log.Info("dial: timeLimit reached; ending the bridge", "time_limit", d.spec.TimeLimit)
			c.mu.Lock()
			c.endedBy = endedByApplication
			c.mu.Unlock()
			c.hangupLeg(ctx, nil)
		case cmd := <-c.inbox:
			// Live control of the B leg (its own call_sid).
			if cmd.Live() || cmd.Kind == CommandTag {
				c.command(ctx, cmd)
				continue
			}
			if cmd.Kind == CommandRedirect && cmd.Hook != nil {
				// child_call_hook: the B leg leaves the bridge with an
				// application of its own; the dial ends for the caller.
				adult = cmd.Hook
				break
			}
			if cmd.Kind != CommandHangup {
				continue
			}
			c.mu.Lock()
			c.endedBy = endedByApplication
			c.mu.Unlock()
			c.hangupLeg(ctx, nil)
		case k := <-parent.digits:
			d.capture(ctx, s, parent, k)
			continue
		case k := <-child.digits:
			d.capture(ctx, c, child, k)
			continue
		}
		break
	}
	duration := s.m.deps.Now().Sub(start)
	if adult != nil {
		s.log.Info("dial: the B leg leaves the bridge for its own application", "child_call_sid", c.info.CallSID, "hook", adult.URL)
		s.m.runAdult(context.WithoutCancel(ctx), c, *adult, w.stopStatuses)
		return dialResults(StatusCompleted, 200, c, duration)
	}
	c.finish(context.WithoutCancel(ctx), StatusCompleted)
	return dialResults(StatusCompleted, 200, c, duration)
}

// runAdult runs a dial's B leg on its own from now on (jambonz's
// "adulting"): it asks hook for its verbs and runs them like any call, on
// this node's manager; its status events and CDR go on as before.
func (m *Manager) runAdult(ctx context.Context, c *Session, hook Hook, stopStatuses func()) {
	m.wg.Add(1)
	m.active.Inc()
	c.goSafe("adult B leg", func() {
		defer func() {
			stopStatuses()
			m.untrack(c)
			close(c.done)
			m.active.Dec()
			m.wg.Done()
		}()
		h := c.resolveHook(apps.Hook(hook))
		entries, err := c.ask(ctx, apps.KindRedirect, h, c.payload(nil))
		if err != nil {
			c.log.Warn("child_call_hook failed; hanging up the B leg", "err", err)
			c.end(ctx)
			return
		}
		c.replaceStack(entries)
		c.loop(ctx)
		c.end(ctx)
	}, nil)
}

// collector watches one leg's digits for the dtmfCapture sequences.
type collector struct {
	patterns []string
	digits   <-chan media.Digit
	stop     func()
	buf      []byte
	max      int
}

// captures subscribes to a leg's digits when the dial watches that side.
func (d *dialRun) captures(leg *Session) *collector {
	patterns := d.spec.DTMFCapture.Parent
	if leg != d.s {
		patterns = d.spec.DTMFCapture.Child
	}
	if d.spec.DTMFHook == nil || len(patterns) == 0 {
		return &collector{stop: func() {}}
	}
	ch, stop := leg.SubscribeDigits()
	c := &collector{patterns: patterns, digits: ch, stop: stop}
	for _, p := range patterns {
		c.max = max(c.max, len(p))
	}
	return c
}

// capture adds a digit; a sequence that now ends the buffer is sent to
// dtmfHook (with that leg's call information) and the buffer starts over.
func (d *dialRun) capture(ctx context.Context, leg *Session, c *collector, k media.Digit) {
	c.buf = append(c.buf, k.Key)
	if len(c.buf) > c.max {
		c.buf = c.buf[len(c.buf)-c.max:]
	}
	for _, p := range c.patterns {
		if p != "" && strings.HasSuffix(string(c.buf), p) {
			c.buf = c.buf[:0]
			h := d.s.resolveHook(apps.Hook(*d.spec.DTMFHook))
			payload := leg.payload(map[string]any{"dtmf": p})
			leg.log.Info("dial: captured dtmf", "dtmf", p)
			leg.goSafe("dial: dtmfHook", func() {
				_, err := d.s.send(context.WithoutCancel(ctx), apps.Request{Kind: apps.KindVerbHook, Hook: h, Payload: payload, Secret: d.s.app.Secret})
				if err != nil {
					d.s.log.Warn("dial: dtmfHook failed", "err", err)
					d.s.hookAlert(ctx, err)
				}
			}, nil)
			return
		}
	}
}

// dialResults are the dial's action hook results.
// child is the B leg the results speak of (nil when none was placed).
func dialResults(status string, sipStatus int, child *Session, duration time.Duration) map[string]any {
	r := map[string]any{
		"dial_call_status": status,
		"dial_sip_status":  sipStatus,
		"duration":         int(duration.Round(time.Second) / time.Second),
	}
	if child != nil {
		r["dial_call_sid"] = child.info.CallSID
		r["dial_sbc_callid"] = child.info.CallID
	}
	return r
}
