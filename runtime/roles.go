package runtime

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/verbs"
)

// The roles a Session plays for verbs.
var (
	_ verbs.Call          = (*Session)(nil)
	_ verbs.Answerer      = (*Session)(nil)
	_ verbs.Media         = (*Session)(nil)
	_ verbs.Hanger        = (*Session)(nil)
	_ verbs.Decliner      = (*Session)(nil)
	_ verbs.Ringer        = (*Session)(nil)
	_ verbs.Tagger        = (*Session)(nil)
	_ verbs.DigitListener = (*Session)(nil)
	_ verbs.Alerter       = (*Session)(nil)
	_ verbs.Configurer    = (*Session)(nil)
)

// Logger implements verbs.Call.
func (s *Session) Logger() *slog.Logger { return s.log }

// State implements verbs.Call.
func (s *Session) State() verbs.CallState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Answer implements verbs.Answerer: 200 OK once, then in-progress.
func (s *Session) Answer(ctx context.Context) error {
	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	switch state {
	case verbs.StateAnswered:
		return nil
	case verbs.StateEnded:
		return verbs.ErrPrecondition
	}
	if err := s.leg.Answer(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.state = verbs.StateAnswered
	s.answeredAt = s.m.deps.Now()
	s.mu.Unlock()
	s.setStatus(ctx, StatusInProgress, 200, "")
	return nil
}

// Endpoint implements verbs.Media: it answers first (or sends 183 with SDP
// when early media is asked for and the call is not answered yet).
func (s *Session) Endpoint(ctx context.Context, earlyMedia bool) (media.Endpoint, error) {
	if earlyMedia && s.State() == verbs.StateEarly {
		if err := s.leg.Progress(ctx); err != nil {
			return nil, err
		}
		s.mu.Lock()
		already := s.status == StatusEarlyMedia
		s.mu.Unlock()
		if !already {
			s.setStatus(ctx, StatusEarlyMedia, 183, "")
		}
		return s.leg.Endpoint(), nil
	}
	if err := s.Answer(ctx); err != nil {
		return nil, err
	}
	return s.leg.Endpoint(), nil
}

// Hangup implements verbs.Hanger.
func (s *Session) Hangup(ctx context.Context, headers map[string]string) error {
	s.mu.Lock()
	s.endedBy = endedByApplication
	s.mu.Unlock()
	s.hangupLeg(ctx, headers)
	return nil
}

// Decline implements verbs.Decliner.
func (s *Session) Decline(ctx context.Context, status int, reason string, headers map[string]string) error {
	if s.State() != verbs.StateEarly {
		return verbs.ErrPrecondition
	}
	err := s.leg.Reject(ctx, status, reason, headers)
	s.mu.Lock()
	s.state = verbs.StateEnded
	s.sipStatus, s.sipReason = status, reason
	s.endedBy = endedByApplication
	s.mu.Unlock()
	return err
}

// Ring implements verbs.Ringer.
func (s *Session) Ring(ctx context.Context, headers map[string]string) error {
	if err := s.leg.Ring(ctx, headers); err != nil {
		return err
	}
	s.setStatus(ctx, StatusRinging, 180, "")
	return nil
}

// Tag implements verbs.Tagger.
func (s *Session) Tag(data json.RawMessage) {
	s.mu.Lock()
	s.customerData = append(json.RawMessage(nil), data...)
	s.mu.Unlock()
}

// SubscribeDigits implements verbs.DigitListener.
func (s *Session) SubscribeDigits() (<-chan media.Digit, func()) {
	ch := make(chan media.Digit, 32)
	s.mu.Lock()
	id := s.nextSub
	s.nextSub++
	s.digitSubs[id] = ch
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.digitSubs, id)
		s.mu.Unlock()
	}
}

// dispatchDigit hands a digit from the endpoint to every subscriber; it
// never blocks the media path (a subscriber that is 32 digits behind loses one).
func (s *Session) dispatchDigit(d media.Digit) {
	s.obs.digit(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.digitSubs {
		select {
		case ch <- d:
		default:
		}
	}
}

// Settings implements verbs.Configurer.
func (s *Session) Settings() *verbs.Settings { return &s.settings }
