package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voxrun/voxrun/verbs"
)

// Errors a live-control command replies with; their text is for the tenant.
var (
	// ErrNotBridged means the command needs a dial in progress.
	ErrNotBridged = errors.New("the call is not in a dial")
	// ErrNotAnswered means the command needs an answered call.
	ErrNotAnswered = errors.New("the call is not answered")
	// ErrWhisperVerbs means a whisper document holds other verbs than say and play.
	ErrWhisperVerbs = errors.New("whisper takes say and play verbs only")
	// ErrNoSIPRequest means the call's leg cannot send requests (a simulated call).
	ErrNoSIPRequest = errors.New("the call's leg cannot send SIP requests")
)

// Live reports whether the command acts on the call without changing what
// runs: the running verb carries on, and Reply gets how it went.
func (c Command) Live() bool {
	switch c.Kind {
	case CommandMute, CommandWhisper, CommandDTMF, CommandSIPRequest, CommandChildRedirect:
		return true
	}
	return false
}

func (c Command) reply(r CommandResult) {
	if c.Reply != nil {
		select {
		case c.Reply <- r:
		default:
		}
	}
}

// sipRequester is a leg that sends requests within its dialog (*sip/leg.Leg).
type sipRequester interface {
	SendRequest(ctx context.Context, method, contentType string, body []byte, headers map[string]string) (int, error)
}

// liveCommand applies a live command. What takes time (digits, a SIP
// transaction, a whisper) runs in the background and the call goes on.
func (s *Session) liveCommand(ctx context.Context, c Command) {
	answered := s.State() == verbs.StateAnswered
	switch c.Kind {
	case CommandMute:
		s.mu.Lock()
		s.muted = c.Mute
		m := s.member
		s.mu.Unlock()
		if m != nil {
			m.SetMuted(c.Mute)
		}
		s.log.Info("live control: mute", "mute", c.Mute, "bridged", m != nil)
		c.reply(CommandResult{})
	case CommandDTMF:
		if !answered {
			c.reply(CommandResult{Err: ErrNotAnswered})
			return
		}
		d := c.DigitDuration
		if d <= 0 {
			d = 250 * time.Millisecond
		}
		ep := s.leg.Endpoint()
		c.reply(CommandResult{})
		s.goSafe("live control: dtmf", func() {
			for i := range len(c.Digits) {
				if err := ep.SendDigit(ctx, c.Digits[i], d); err != nil {
					s.log.Warn("live control: dtmf not sent", "err", err)
					return
				}
			}
		}, nil)
	case CommandSIPRequest:
		r, ok := s.leg.(sipRequester)
		switch {
		case !answered:
			c.reply(CommandResult{Err: ErrNotAnswered})
		case !ok || c.SIP == nil:
			c.reply(CommandResult{Err: ErrNoSIPRequest})
		default:
			s.goSafe("live control: sip_request", func() {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 32*time.Second)
				defer cancel()
				status, err := r.SendRequest(rctx, c.SIP.Method, c.SIP.ContentType, c.SIP.Body, c.SIP.Headers)
				c.reply(CommandResult{SIPStatus: status, Err: err})
			}, func() { c.reply(CommandResult{Err: errPanic}) })
		}
	case CommandWhisper:
		s.whisper(ctx, c)
	case CommandChildRedirect:
		s.mu.Lock()
		child := s.bridged
		s.mu.Unlock()
		if child == nil || c.Hook == nil {
			c.reply(CommandResult{Err: ErrNotBridged})
			return
		}
		if !child.Send(Command{Kind: CommandRedirect, Hook: c.Hook}) {
			c.reply(CommandResult{Err: ErrNotBridged})
			return
		}
		c.reply(CommandResult{})
	}
}

// whisper plays say and play verbs to this call alone while it is bridged:
// the others in the room stop hearing nothing of it, and the bridge goes
// back to normal when the verbs are done.
func (s *Session) whisper(ctx context.Context, c Command) {
	s.mu.Lock()
	m := s.member
	s.mu.Unlock()
	if m == nil {
		c.reply(CommandResult{Err: ErrNotBridged})
		return
	}
	entries, _, err := s.m.deps.Registry.Decode(c.Document, verbs.DecodeOptions{})
	if err != nil {
		c.reply(CommandResult{Err: fmt.Errorf("whisper: %w", err)})
		return
	}
	for _, e := range entries {
		if n := e.Verb.Name(); n != "say" && n != "play" {
			c.reply(CommandResult{Err: ErrWhisperVerbs})
			return
		}
	}
	c.reply(CommandResult{})
	s.goSafe("live control: whisper", func() {
		for _, e := range entries {
			if ctx.Err() != nil {
				break
			}
			if _, err := e.Verb.Run(ctx, s); err != nil {
				s.log.Warn("whisper: verb failed", "verb", e.Step.Verb, "err", err)
			}
		}
		// The member is the endpoint's source again, and the room relays
		// again if it can; unless the bridge ended meanwhile.
		s.mu.Lock()
		still := s.member == m
		s.mu.Unlock()
		if still {
			s.leg.Endpoint().SetSource(m)
			m.Resume()
		}
	}, nil)
}
