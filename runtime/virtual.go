package runtime

import (
	"context"
	"sync"

	"github.com/voxrun/voxrun/media"
)

// VirtualLeg is a call leg with no SIP: the signaling side of a simulated
// call (the console, `voxrun simulate`, benchmarks). Its media is any
// media.Endpoint, usually one end of a media/virtual pair. What the runtime
// does to it is reported on Events.
type VirtualLeg struct {
	ep     media.Endpoint
	dialog Dialog

	mu     sync.Mutex
	events chan LegEvent
	ended  chan struct{}
	once   sync.Once
}

// LegEvent is one signaling action the runtime took on a virtual leg.
type LegEvent struct {
	// Kind is "ringing", "progress", "answered", "rejected" or "hungup".
	Kind    string
	Status  int
	Reason  string
	Headers map[string]string
}

var _ Leg = (*VirtualLeg)(nil)

// NewVirtualLeg makes a leg over ep; callID names its dialog.
func NewVirtualLeg(ep media.Endpoint, callID string) *VirtualLeg {
	return &VirtualLeg{ep: ep, dialog: Dialog{CallID: callID}, events: make(chan LegEvent, 64), ended: make(chan struct{})}
}

// Events reports what the runtime did, in order. It is never closed; a
// reader that falls 64 events behind loses the oldest.
func (l *VirtualLeg) Events() <-chan LegEvent { return l.events }

func (l *VirtualLeg) emit(e LegEvent) {
	select {
	case l.events <- e:
	default:
		select {
		case <-l.events:
		default:
		}
		select {
		case l.events <- e:
		default:
		}
	}
}

// HangUp is the simulated caller hanging up (Ended closes). The runtime's own
// hangups and rejections are reported as events and do not close Ended, as
// with a SIP leg.
func (l *VirtualLeg) HangUp() { l.once.Do(func() { close(l.ended) }) }

// Answer implements Leg.
func (l *VirtualLeg) Answer(context.Context) error {
	l.emit(LegEvent{Kind: "answered", Status: 200})
	return nil
}

// Progress implements Leg.
func (l *VirtualLeg) Progress(context.Context) error {
	l.emit(LegEvent{Kind: "progress", Status: 183})
	return nil
}

// Ring implements Leg.
func (l *VirtualLeg) Ring(_ context.Context, h map[string]string) error {
	l.emit(LegEvent{Kind: "ringing", Status: 180, Headers: h})
	return nil
}

// Reject implements Leg.
func (l *VirtualLeg) Reject(_ context.Context, status int, reason string, h map[string]string) error {
	l.emit(LegEvent{Kind: "rejected", Status: status, Reason: reason, Headers: h})
	return nil
}

// Hangup implements Leg.
func (l *VirtualLeg) Hangup(_ context.Context, h map[string]string) error {
	l.emit(LegEvent{Kind: "hungup", Headers: h})
	return nil
}

// Endpoint implements Leg.
func (l *VirtualLeg) Endpoint() media.Endpoint { return l.ep }

// Ended implements Leg.
func (l *VirtualLeg) Ended() <-chan struct{} { return l.ended }

// Dialog implements Leg.
func (l *VirtualLeg) Dialog() Dialog { return l.dialog }
