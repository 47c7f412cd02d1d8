package runtime

import (
	"context"

	"github.com/voxrun/voxrun/media"
)

// Leg is the signaling side of one call leg as the runtime needs it. A
// *sip.Leg implements it for real calls; VirtualLeg for simulated ones.
type Leg interface {
	// Answer sends 200 OK with the SDP answer. It is idempotent.
	Answer(ctx context.Context) error
	// Progress sends 183 Session Progress with SDP (early media). Idempotent.
	Progress(ctx context.Context) error
	// Ring sends 180 Ringing with extra headers.
	Ring(ctx context.Context, headers map[string]string) error
	// Reject answers an unanswered call with a final status, reason and headers.
	Reject(ctx context.Context, status int, reason string, headers map[string]string) error
	// Hangup ends an answered call with BYE (or CANCEL for an outbound call
	// not answered yet), with extra headers.
	Hangup(ctx context.Context, headers map[string]string) error
	// Endpoint is the leg's media.
	Endpoint() media.Endpoint
	// Ended is closed when the far end ends the call (BYE, CANCEL, timeout).
	Ended() <-chan struct{}
	// Dialog returns the dialog identifiers, for checkpoints.
	Dialog() Dialog
}

// Dialog is what another node needs to take over a leg's dialog (seed 003):
// Call-ID, tags, CSeq, route set, remote target and the negotiated SDP.
type Dialog struct {
	CallID       string   `json:"call_id"`
	LocalTag     string   `json:"local_tag,omitempty"`
	RemoteTag    string   `json:"remote_tag,omitempty"`
	LocalCSeq    uint32   `json:"local_cseq,omitempty"`
	RemoteCSeq   uint32   `json:"remote_cseq,omitempty"`
	RouteSet     []string `json:"route_set,omitempty"`
	RemoteTarget string   `json:"remote_target,omitempty"`
	LocalSDP     string   `json:"local_sdp,omitempty"`
	RemoteSDP    string   `json:"remote_sdp,omitempty"`
	Transport    string   `json:"transport,omitempty"`
}
