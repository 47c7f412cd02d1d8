package runtime

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/voxrun/voxrun/verbs"
)

// Target is a party to call (the dial verb's target), named here for the
// REST API, which does not import verbs.
type Target = verbs.DialTarget

// TargetFrom overrides the From user and host of a Target's INVITE.
type TargetFrom = verbs.DialFrom

// OutboundCall is a call this node places and then runs an application on
// (jambonz's rest:dial, made by REST POST /Calls).
type OutboundCall struct {
	// Info is the call's information: AccountSID, ApplicationSID, From, To
	// and CallerName at least. CallSID and CallID are chosen when empty;
	// Direction is "outbound".
	Info CallInfo
	// Target is who is called.
	Target Target
	// Headers go on the INVITE.
	Headers map[string]string
	// Timeout is how long the call may ring (default 60 s).
	Timeout time.Duration
	// TimeLimit hangs the call up this long after the answer (0: none).
	TimeLimit time.Duration
	// Tag is the call's first customerData.
	Tag json.RawMessage
}

// StartOutbound places a call and, once it is answered, runs app on it, as
// for an inbound call. It returns at once with the session, whose CallSID
// and Dialog().CallID the REST API reports; the call sends its status
// events (trying, ringing, early-media, then in-progress or busy,
// no-answer, failed) as it goes.
func (m *Manager) StartOutbound(ctx context.Context, call OutboundCall, app Application, opts ...StartOption) (*Session, error) {
	if m.deps.Outbound == nil {
		return nil, ErrNoOutbound
	}
	if call.Info.CallSID == "" {
		call.Info.CallSID = uuid.NewString()
	}
	if call.Info.CallID == "" {
		call.Info.CallID = uuid.NewString()
	}
	call.Info.Direction = "outbound"
	if call.Timeout <= 0 {
		call.Timeout = 60 * time.Second
	}
	return m.start(ctx, nil, call.Info, app, func(s *Session) {
		s.outbound = &call
		if len(call.Tag) > 0 {
			s.customerData = append(json.RawMessage(nil), call.Tag...)
		}
	}, opts...)
}

// place calls the outbound call's target and adopts its leg once it
// answers; it reports false when the call ended unanswered (recorded).
// A hangup command while it rings cancels it.
func (s *Session) place(ctx context.Context) bool {
	c := s.outbound
	s.setStatus(ctx, StatusTrying, 100, "")
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		leg Leg
		err error
	}
	done := make(chan result, 1)
	req := PlaceRequest{
		AccountSID:         s.info.AccountSID,
		ServiceProviderSID: s.info.ServiceProviderSID,
		CallSID:            s.info.CallSID,
		CallID:             s.info.CallID,
		Target:             c.Target,
		From:               s.info.From,
		CallerName:         s.info.CallerName,
		Headers:            c.Headers,
		Timeout:            c.Timeout,
		OnProvisional: func(status int) {
			s.setStatus(ctx, provisionalStatus(status), status, "")
		},
	}
	s.goSafe("place the call", func() {
		leg, err := s.m.deps.Outbound.Place(pctx, req)
		done <- result{leg, err}
	}, func() { done <- result{err: errPanic} })
	var r result
	for waiting := true; waiting; {
		select {
		case r = <-done:
			waiting = false
		case cmd := <-s.inbox:
			if cmd.Kind == CommandHangup {
				s.mu.Lock()
				s.endedBy = endedByApplication
				s.mu.Unlock()
				cancel()
			}
		}
	}
	if r.err != nil {
		status, reason := placeStatus(r.err)
		s.log.Info("outbound call not answered", "target", c.Target.Key(), "sip_status", status, "err", r.err)
		s.mu.Lock()
		s.state = verbs.StateEnded
		s.sipStatus, s.sipReason = status, reason
		if s.endedBy == "" {
			s.endedBy = endedBySystem
		}
		s.mu.Unlock()
		s.finish(ctx, failureStatus(status))
		return false
	}
	s.adopt(ctx, r.leg)
	if c.TimeLimit > 0 {
		t := time.AfterFunc(c.TimeLimit, func() {
			s.log.Info("timeLimit reached; hanging up", "time_limit", c.TimeLimit)
			s.Send(Command{Kind: CommandHangup})
		})
		go func() {
			<-s.done
			t.Stop()
		}()
	}
	return true
}
