package speech

import (
	"context"
	"strings"
)

// Request is one thing to say.
type Request struct {
	// Text is plain text, or SSML when it starts with <speak>.
	Text string
	// Language is a BCP 47 tag such as en-US; engines map it to a voice
	// when Voice is empty.
	Language string
	// Voice is the engine's own voice name; empty means the default voice
	// of Language.
	Voice string
}

// SSML reports whether the text is SSML (it opens with <speak, as jambonz
// decides).
func (r Request) SSML() bool {
	return strings.HasPrefix(strings.TrimSpace(r.Text), "<speak")
}

// Audio is synthesised speech: 16-bit mono PCM at Rate samples per second.
type Audio struct {
	Rate    int
	Samples []int16
}

// Engine synthesises speech. Implementations are safe for concurrent use.
type Engine interface {
	// Name identifies the engine in cache keys and alerts ("espeak-ng").
	Name() string
	// Synthesize speaks req. SSML is spoken, never read out as markup.
	Synthesize(ctx context.Context, req Request) (Audio, error)
}
