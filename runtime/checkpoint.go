package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/voxrun/voxrun/verbs"
)

// CheckpointVersion is the version of the checkpoint format.
const CheckpointVersion = 1

// Checkpoint is a call's resumable state (DESIGN.md, Checkpoints): everything
// another node needs to take the call over. It is written to live state at
// every verb boundary.
type Checkpoint struct {
	Version        int             `json:"v"`
	CallSID        string          `json:"call_sid"`
	AccountSID     string          `json:"account_sid"`
	ApplicationSID string          `json:"application_sid,omitempty"`
	Node           string          `json:"node"`
	Direction      string          `json:"direction"`
	From           string          `json:"from"`
	To             string          `json:"to"`
	Status         string          `json:"call_status"`
	SIPStatus      int             `json:"sip_status"`
	Answered       bool            `json:"answered"`
	Dialog         Dialog          `json:"dialog"`
	Running        *verbs.Step     `json:"running,omitempty"`
	Remaining      verbs.Plan      `json:"remaining"`
	CustomerData   json.RawMessage `json:"customer_data,omitempty"`
	Settings       verbs.Settings  `json:"settings"`
	AppState       json.RawMessage `json:"app_state,omitempty"`
	Room           string          `json:"room,omitempty"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

func checkpointKey(callSID string) string { return "checkpoint:" + callSID }

// snapshot builds the checkpoint of the call as it stands, with running being
// the verb about to run.
func (s *Session) snapshot(running *verbs.Step) Checkpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	remaining := make(verbs.Plan, 0, len(s.stack))
	for _, e := range s.stack {
		remaining = append(remaining, e.Step)
	}
	var dialog Dialog
	if s.leg != nil {
		dialog = s.leg.Dialog()
	}
	return Checkpoint{
		Version:        CheckpointVersion,
		CallSID:        s.info.CallSID,
		AccountSID:     s.info.AccountSID,
		ApplicationSID: s.info.ApplicationSID,
		Node:           s.m.deps.Node,
		Direction:      s.info.Direction,
		From:           s.info.From,
		To:             s.info.To,
		Status:         s.status,
		SIPStatus:      s.sipStatus,
		Answered:       !s.answeredAt.IsZero(),
		Dialog:         dialog,
		Running:        running,
		Remaining:      remaining,
		CustomerData:   s.customerData,
		Settings:       s.settings,
		Room:           s.room,
		UpdatedAt:      s.m.deps.Now(),
	}
}

// checkpointNow writes the call's state as it stands, with the verb that
// runs; not once the call has finished (finish removes the checkpoint).
func (s *Session) checkpointNow(ctx context.Context) {
	s.mu.Lock()
	step, finished := s.step, s.finished
	s.mu.Unlock()
	if !finished {
		s.checkpointStep(ctx, step)
	}
}

// checkpointStep writes the call's state with running the verb that runs
// (nil between verbs).
func (s *Session) checkpointStep(ctx context.Context, running *verbs.Step) {
	cp := s.snapshot(running)
	b, err := json.Marshal(cp)
	if err != nil {
		s.log.Error("checkpoint not encoded", "err", err)
		return
	}
	if err := s.m.deps.Live.SetValue(ctx, checkpointKey(cp.CallSID), b, 12*time.Hour); err != nil {
		s.log.Warn("checkpoint not written", "err", err)
	}
}

// LoadCheckpoint reads a call's checkpoint from live state.
func (m *Manager) LoadCheckpoint(ctx context.Context, callSID string) (Checkpoint, error) {
	b, err := m.deps.Live.GetValue(ctx, checkpointKey(callSID))
	if err != nil {
		return Checkpoint{}, err
	}
	var cp Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return Checkpoint{}, fmt.Errorf("runtime: checkpoint of %s: %w", callSID, err)
	}
	if cp.Version != CheckpointVersion {
		return Checkpoint{}, fmt.Errorf("runtime: checkpoint of %s has version %d, want %d", callSID, cp.Version, CheckpointVersion)
	}
	return cp, nil
}

// Resume rebuilds the verb stack of a checkpoint: the running verb first (it
// is run again from its start), then the rest.
func (m *Manager) Resume(cp Checkpoint) ([]verbs.Entry, error) {
	plan := cp.Remaining
	if cp.Running != nil {
		plan = append(verbs.Plan{*cp.Running}, plan...)
	}
	return m.deps.Registry.DecodePlan(plan)
}

// restore rebuilds a session from a checkpoint, on leg, for app: the call
// information, its state and status, customerData, the session defaults,
// the room, and the verb stack with the verb that was running first. It
// is not started; snapshotting it before its first verb gives the
// checkpoint back.
func (m *Manager) restore(cp Checkpoint, leg Leg, app Application) (*Session, error) {
	entries, err := m.Resume(cp)
	if err != nil {
		return nil, err
	}
	info := CallInfo{CallSID: cp.CallSID, AccountSID: cp.AccountSID, ApplicationSID: cp.ApplicationSID,
		Direction: cp.Direction, From: cp.From, To: cp.To, CallID: cp.Dialog.CallID}
	s := newSession(m, leg, info, app)
	s.status, s.sipStatus = cp.Status, cp.SIPStatus
	if cp.Answered {
		s.state = verbs.StateAnswered
		s.answeredAt = cp.UpdatedAt
	}
	s.customerData = cp.CustomerData
	s.settings = cp.Settings
	s.room = cp.Room
	s.stack = entries
	return s, nil
}
