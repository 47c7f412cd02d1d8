package sdp

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestQuirks covers what real devices send that the RFC examples do not.
func TestQuirks(t *testing.T) {
	base := "v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n"
	cases := []struct {
		name  string
		sdp   string
		codec Codec
		te    uint8
		ptime time.Duration
	}{
		{"LF line endings", strings.ReplaceAll(base+"m=audio 4000 RTP/AVP 8\r\n", "\r\n", "\n"), PCMA, 0, 20 * time.Millisecond},
		{"lower-case encoding names", base + "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 pcmu/8000\r\na=rtpmap:101 TELEPHONE-EVENT/8000\r\n", PCMU, 101, 20 * time.Millisecond},
		{"PCMU on a dynamic payload type", base + "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 PCMU/8000\r\n", Codec{Name: "PCMU", PayloadType: 96, ClockRate: 8000}, 0, 20 * time.Millisecond},
		{"telephone-event at 48 kHz and 8 kHz: the 8 kHz one", base + "m=audio 4000 RTP/AVP 111 0 110 101\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:110 telephone-event/48000\r\na=rtpmap:101 telephone-event/8000\r\n", PCMU, 101, 20 * time.Millisecond},
		{"rtpmap with a channel count", base + "m=audio 4000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000/1\r\na=rtpmap:101 telephone-event/8000/1\r\n", PCMA, 101, 20 * time.Millisecond},
		{"odd ptime falls back to 20 ms", base + "m=audio 4000 RTP/AVP 0\r\na=ptime:30\r\n", PCMU, 0, 20 * time.Millisecond},
		{"ptime 60", base + "m=audio 4000 RTP/AVP 0\r\na=ptime:60\r\n", PCMU, 0, 60 * time.Millisecond},
		{"multicast TTL on the address", strings.Replace(base, "c=IN IP4 192.0.2.5", "c=IN IP4 192.0.2.5/127", 1) + "m=audio 4000 RTP/AVP 0\r\n", PCMU, 0, 20 * time.Millisecond},
		{"garbage format tokens ignored", base + "m=audio 4000 RTP/AVP x 0 300\r\n", PCMU, 0, 20 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			offer, err := ParseOffer([]byte(tc.sdp))
			require.NoError(t, err)
			_, s, err := offer.Answer(local())
			require.NoError(t, err)
			require.Equal(t, tc.codec, s.Codec)
			require.Equal(t, tc.te, s.TelephoneEvent.PayloadType)
			require.Equal(t, tc.te != 0, s.HasTelephoneEvent())
			require.Equal(t, tc.ptime, s.PTime)
		})
	}
}
