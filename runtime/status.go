package runtime

import (
	"context"
	"time"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/verbs"
)

// setStatus records a call state change: the call's live hash and the status
// hook, in that order.
func (s *Session) setStatus(ctx context.Context, status string, sipStatus int, reason string) {
	s.publishStatus(ctx, status, sipStatus, reason, nil)
}

// publishStatus is setStatus with extra fields for the status hook.
func (s *Session) publishStatus(ctx context.Context, status string, sipStatus int, reason string, extra map[string]any) {
	s.mu.Lock()
	s.status = status
	if sipStatus != 0 {
		s.sipStatus = sipStatus
	}
	if reason != "" {
		s.sipReason = reason
	}
	s.mu.Unlock()
	s.obs.status(status, sipStatus)
	if err := s.m.deps.Live.PutCall(ctx, s.info.AccountSID, s.info.CallSID, s.liveFields()); err != nil {
		s.log.Warn("live state: cannot record the call", "err", err)
	}
	// A state change is a checkpoint too (answered, a B leg's dialog).
	s.checkpointNow(ctx)
	s.queueStatus(s.payload(extra))
}

// queueStatus hands a payload to the status sender without blocking the call.
func (s *Session) queueStatus(p map[string]any) {
	if s.app.StatusHook == nil {
		return
	}
	select {
	case s.statusQ <- p:
	default:
		s.log.Warn("status hook queue full; dropping an update", "call_status", p["call_status"])
	}
}

// sendStatuses sends queued status updates one at a time, in order, until the
// queue is closed.
func (s *Session) sendStatuses(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	for p := range s.statusQ {
		_, err := s.send(ctx, apps.Request{Kind: apps.KindCallStatus, Hook: *s.app.StatusHook, Payload: p, Secret: s.app.Secret})
		if err != nil {
			s.log.Warn("status hook failed", "err", err)
			s.hookAlert(ctx, err)
		}
	}
}

// finish records the end of the call: the final status (with duration and
// call_termination_by), the live hash's shorter expiry, the CDR, and the
// checkpoint's removal.
func (s *Session) finish(ctx context.Context, final string) {
	now := s.m.deps.Now()
	s.mu.Lock()
	if s.finished {
		s.mu.Unlock()
		return
	}
	s.finished = true
	s.state = verbs.StateEnded
	s.status = final
	duration := 0
	if !s.answeredAt.IsZero() {
		duration = int(now.Sub(s.answeredAt).Round(time.Second) / time.Second)
	}
	endedBy := s.endedBy
	cdr := store.CDR{
		CallSID:            s.info.CallSID,
		AccountSID:         s.info.AccountSID,
		ServiceProviderSID: s.info.ServiceProviderSID,
		ApplicationSID:     s.info.ApplicationSID,
		ParentCallSID:      s.info.ParentCallSID,
		Direction:          s.info.Direction,
		From:               s.info.From,
		To:                 s.info.To,
		CallID:             s.info.CallID,
		SIPStatus:          s.sipStatus,
		Duration:           duration,
		AttemptedAt:        s.startedAt,
		TerminatedAt:       now,
		Answered:           !s.answeredAt.IsZero(),
		TerminationReason:  endedBy,
		Trunk:              s.info.OriginatingTrunk,
		Host:               s.m.deps.Node,
		RemoteHost:         s.info.OriginatingSIPIP,
		TraceID:            s.info.TraceID,
	}
	if !s.answeredAt.IsZero() {
		at := s.answeredAt
		cdr.AnsweredAt = &at
	}
	s.mu.Unlock()

	// The final status carries how long the call lasted and who ended it:
	// jambonz says "caller" or "jambonz" (the platform or the application).
	by := "jambonz"
	if endedBy == endedByCaller {
		by = "caller"
	}
	s.publishStatus(ctx, final, 0, "", map[string]any{"duration": duration, "call_termination_by": by})
	if err := s.m.deps.Live.EndCall(ctx, s.info.AccountSID, s.info.CallSID); err != nil {
		s.log.Warn("live state: cannot expire the call", "err", err)
	}
	if err := s.m.deps.Live.DeleteValue(ctx, checkpointKey(s.info.CallSID)); err != nil {
		s.log.Debug("checkpoint not removed", "err", err)
	}
	if s.m.deps.Records != nil {
		if err := s.m.deps.Records.WriteCDRs(ctx, []store.CDR{cdr}); err != nil {
			s.log.Error("cdr not written", "err", err)
		}
	}
	s.log.Info("call ended", "call_status", final, "duration", duration, "call_termination_by", endedBy, "sip_status", cdr.SIPStatus)
}

// Alert implements verbs.Alerter: the alert is stored for the account.
func (s *Session) Alert(ctx context.Context, alertType, message string) {
	s.log.Warn("alert", "alert_type", alertType, "message", message)
	s.obs.alert(alertType, message)
	if s.m.deps.Records == nil {
		return
	}
	a := store.Alert{
		AccountSID: s.info.AccountSID,
		AlertType:  alertType,
		Message:    message,
		TargetSID:  s.info.CallSID,
		CreatedAt:  s.m.deps.Now(),
	}
	if err := s.m.deps.Records.WriteAlerts(context.WithoutCancel(ctx), []store.Alert{a}); err != nil {
		s.log.Error("alert not written", "err", err)
	}
}
