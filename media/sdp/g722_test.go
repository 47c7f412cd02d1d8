package sdp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestG722WhenConfigured: G.722 is chosen only when voxrun's codecs name
// it, in the offerer's order (baresip offers opus, speex, G722, PCMU).
func TestG722WhenConfigured(t *testing.T) {
	offer, err := ParseOffer(readSDP(t, "baresip.sdp"))
	require.NoError(t, err)

	_, sess, err := offer.Answer(local())
	require.NoError(t, err)
	require.Equal(t, PCMU, sess.Codec, "not configured: G.711")

	l := local()
	l.Codecs = []Codec{PCMU, PCMA, G722}
	answer, sess, err := offer.Answer(l)
	require.NoError(t, err)
	require.Equal(t, G722, sess.Codec, "the offerer prefers G722 to PCMU")
	require.Equal(t, 20*time.Millisecond, sess.PTime)
	require.Contains(t, string(answer), "m=audio 40000 RTP/AVP 9 101")
	require.Contains(t, string(answer), "a=rtpmap:9 G722/8000")

	// voxrun's own offer lists it where configured.
	l.Codecs = []Codec{G722, PCMU}
	b, _, err := NewOffer(l)
	require.NoError(t, err)
	require.Contains(t, string(b), "m=audio 40000 RTP/AVP 9 0 101")
	require.Contains(t, string(b), "a=rtpmap:9 G722/8000")
}
