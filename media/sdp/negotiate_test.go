package sdp

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	psdp "github.com/pion/sdp/v3"
	"github.com/stretchr/testify/require"
)

func readSDP(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func local() Local {
	return Local{Addr: netip.MustParseAddr("203.0.113.99"), Port: 40000, SessionID: 77, SessionVersion: 1}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestAnswerRealOffers(t *testing.T) {
	cases := []struct {
		name string
		file string
		want Session
		// answerHas are lines the answer must contain.
		answerHas []string
		// mLines is the number of m= lines (equal to the offer's).
		mLines int
	}{
		{
			name: "baresip prefers opus, first common is PCMU, rtcp-mux kept",
			file: "baresip.sdp",
			want: Session{
				Remote: ap("192.168.1.20:10998"), RemoteRTCP: ap("192.168.1.20:10998"),
				Codec: PCMU, TelephoneEvent: Codec{Name: "telephone-event", PayloadType: 101, ClockRate: 8000},
				PTime: 20 * time.Millisecond, Direction: SendRecv, RTCPMux: true, SessionID: 77,
			},
			answerHas: []string{"m=audio 40000 RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=fmtp:101 0-15", "a=rtcp-mux", "a=sendrecv", "c=IN IP4 203.0.113.99"},
			mLines:    1,
		},
		{
			name: "sipp offers PCMA with its own event list",
			file: "sipp_pcap.sdp",
			want: Session{
				Remote: ap("127.0.0.1:6000"), RemoteRTCP: ap("127.0.0.1:6001"),
				Codec: PCMA, TelephoneEvent: Codec{Name: "telephone-event", PayloadType: 101, ClockRate: 8000},
				PTime: 20 * time.Millisecond, Direction: SendRecv, SessionID: 77,
			},
			answerHas: []string{"m=audio 40000 RTP/AVP 8 101", "a=fmtp:101 0-11,16"},
			mLines:    1,
		},
		{
			name: "asterisk: G729 first is skipped, PCMU chosen, event type 97 and ptime 40 kept",
			file: "asterisk.sdp",
			want: Session{
				Remote: ap("203.0.113.5:18234"), RemoteRTCP: ap("203.0.113.5:18235"),
				Codec: PCMU, TelephoneEvent: Codec{Name: "telephone-event", PayloadType: 97, ClockRate: 8000},
				PTime: 40 * time.Millisecond, Direction: SendRecv, SessionID: 77,
			},
			answerHas: []string{"m=audio 40000 RTP/AVP 0 97", "a=rtpmap:97 telephone-event/8000", "a=ptime:40"},
			mLines:    1,
		},
		{
			name: "freeswitch holds with sendonly: we receive only; a=rtcp names the RTCP address",
			file: "freeswitch_hold.sdp",
			want: Session{
				Remote: ap("198.51.100.7:30000"), RemoteRTCP: ap("198.51.100.8:30005"),
				Codec: PCMA, TelephoneEvent: Codec{Name: "telephone-event", PayloadType: 101, ClockRate: 8000},
				PTime: 20 * time.Millisecond, Direction: RecvOnly, SessionID: 77,
			},
			answerHas: []string{"a=recvonly", "m=audio 40000 RTP/AVP 8 101"},
			mLines:    1,
		},
		{
			name: "RFC 2543 hold with c=0.0.0.0: no remote address, we do not send",
			file: "rfc2543_hold.sdp",
			want: Session{
				Codec: PCMU, TelephoneEvent: Codec{Name: "telephone-event", PayloadType: 101, ClockRate: 8000},
				PTime: 20 * time.Millisecond, Direction: RecvOnly, SessionID: 77,
			},
			answerHas: []string{"a=recvonly"},
			mLines:    1,
		},
		{
			name: "IPv6 with video first: video rejected with port 0, audio recvonly so we send only",
			file: "ipv6_with_video.sdp",
			want: Session{
				Remote: ap("[2001:db8::1]:49170"), RemoteRTCP: ap("[2001:db8::1]:49171"),
				Codec: PCMU, TelephoneEvent: Codec{Name: "telephone-event", PayloadType: 96, ClockRate: 8000},
				PTime: 20 * time.Millisecond, Direction: SendOnly, SessionID: 77,
			},
			answerHas: []string{"m=video 0 RTP/AVP 31", "m=audio 40000 RTP/AVP 0 96", "a=sendonly"},
			mLines:    2,
		},
		{
			name: "session-level inactive applies to the stream",
			file: "session_level_inactive.sdp",
			want: Session{
				Remote: ap("10.0.0.5:4000"), RemoteRTCP: ap("10.0.0.5:4001"),
				Codec: PCMA, PTime: 20 * time.Millisecond, Direction: Inactive, SessionID: 77,
			},
			answerHas: []string{"a=inactive", "m=audio 40000 RTP/AVP 8\r\n"},
			mLines:    1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			offer, err := ParseOffer(readSDP(t, tc.file))
			require.NoError(t, err)
			answer, sess, err := offer.Answer(local())
			require.NoError(t, err)
			require.Equal(t, tc.want, sess)
			for _, line := range tc.answerHas {
				require.Contains(t, string(answer), line)
			}
			// The answer parses back, with as many m= lines as the offer.
			var back psdp.SessionDescription
			require.NoError(t, back.Unmarshal(answer))
			require.Len(t, back.MediaDescriptions, tc.mLines)
		})
	}
}

func TestAnswerFailures(t *testing.T) {
	cases := []struct {
		name   string
		sdp    []byte
		local  Local
		is     error
		status int
	}{
		{"G.729 only", readSDP(t, "g729_only.sdp"), local(), ErrNoCommonCodec, 488},
		{"WebRTC SAVPF only", readSDP(t, "webrtc.sdp"), local(), ErrNoAudio, 488},
		{"PCMA offered, only PCMU allowed", readSDP(t, "sipp_pcap.sdp"), Local{Addr: local().Addr, Port: 4000, Codecs: []Codec{PCMU}}, ErrNoCommonCodec, 488},
		{"hostname in c=", []byte("v=0\r\no=- 1 1 IN IP4 h.example\r\ns=-\r\nc=IN IP4 h.example\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"), local(), ErrBadAddress, 488},
		{"no c= anywhere", []byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"), local(), ErrBadAddress, 488},
		{"audio stream disabled", []byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n"), local(), ErrNoAudio, 488},
		{"no media at all", []byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"), local(), ErrNoAudio, 488},
		{"garbage", []byte("hello\r\n"), local(), ErrMalformed, 400},
		{"empty", nil, local(), ErrMalformed, 400},
		{"truncated", []byte(strings.SplitAfter(string(readSDP(t, "baresip.sdp")), "m=audio 109")[0]), local(), ErrMalformed, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			offer, err := ParseOffer(tc.sdp)
			if err == nil {
				_, _, err = offer.Answer(tc.local)
			}
			require.ErrorIs(t, err, tc.is)
			require.Equal(t, tc.status, StatusOf(err))
			var e *Error
			require.True(t, errors.As(err, &e))
			require.True(t, strings.HasPrefix(err.Error(), "media/sdp: "), err.Error())
		})
	}
}

func TestAnswerHonoursLocalDirection(t *testing.T) {
	cases := []struct {
		name    string
		offered string
		want    Direction
		line    string
	}{
		{"we hold a sendrecv offer", "sendrecv", SendOnly, "a=sendonly"},
		{"we hold a recvonly offer", "recvonly", SendOnly, "a=sendonly"},
		{"we hold a sendonly offer", "sendonly", Inactive, "a=inactive"},
		{"we hold an inactive offer", "inactive", Inactive, "a=inactive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=" + tc.offered + "\r\n"
			offer, err := ParseOffer([]byte(raw))
			require.NoError(t, err)
			l := local()
			l.Direction = SendOnly
			answer, sess, err := offer.Answer(l)
			require.NoError(t, err)
			require.Equal(t, tc.want, sess.Direction)
			require.Contains(t, string(answer), tc.line)
		})
	}
}

func TestOfferAndAnswerRoundTrip(t *testing.T) {
	us := Local{Addr: netip.MustParseAddr("192.0.2.1"), Port: 41000, Codecs: []Codec{PCMA, PCMU}, RTCPMux: true, SessionVersion: 3}
	offer, id, err := NewOffer(us)
	require.NoError(t, err)
	require.NotZero(t, id)
	s := string(offer)
	require.Contains(t, s, "m=audio 41000 RTP/AVP 8 0 101")
	require.Contains(t, s, "a=rtpmap:101 telephone-event/8000")
	require.Contains(t, s, "a=rtcp-mux")

	// The peer is another voxrun that prefers PCMU but follows our order.
	them := Local{Addr: netip.MustParseAddr("192.0.2.2"), Port: 42000, SessionID: 9}
	parsed, err := ParseOffer(offer)
	require.NoError(t, err)
	answer, theirs, err := parsed.Answer(them)
	require.NoError(t, err)
	require.Equal(t, PCMA, theirs.Codec)
	require.Equal(t, ap("192.0.2.1:41000"), theirs.Remote)
	require.True(t, theirs.RTCPMux)

	us.SessionID = id
	ours, err := ParseAnswer(answer, us)
	require.NoError(t, err)
	require.Equal(t, Session{
		Remote: ap("192.0.2.2:42000"), RemoteRTCP: ap("192.0.2.2:42000"),
		Codec: PCMA, TelephoneEvent: Codec{Name: "telephone-event", PayloadType: 101, ClockRate: 8000},
		PTime: 20 * time.Millisecond, Direction: SendRecv, RTCPMux: true, SessionID: id,
	}, ours)
}

func TestParseAnswerFailures(t *testing.T) {
	us := local()
	_, err := ParseAnswer(readSDP(t, "g729_only.sdp"), us)
	require.ErrorIs(t, err, ErrNoCommonCodec)
	_, err = ParseAnswer([]byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n"), us)
	require.ErrorIs(t, err, ErrNoAudio)
	_, err = ParseAnswer([]byte("x"), us)
	require.Equal(t, 400, StatusOf(err))
}

func TestLocalValidation(t *testing.T) {
	_, _, err := NewOffer(Local{})
	require.ErrorIs(t, err, ErrBadAddress)
	offer, err := ParseOffer(readSDP(t, "sipp_pcap.sdp"))
	require.NoError(t, err)
	_, _, err = offer.Answer(Local{Addr: netip.MustParseAddr("::1"), Port: 70000})
	require.ErrorIs(t, err, ErrBadAddress)
	require.Zero(t, StatusOf(nil))
	require.Equal(t, 500, StatusOf(errors.New("x")))
}

func TestDirection(t *testing.T) {
	cases := []struct {
		d               Direction
		sends, receives bool
		reverse         Direction
	}{
		{SendRecv, true, true, SendRecv},
		{SendOnly, true, false, RecvOnly},
		{RecvOnly, false, true, SendOnly},
		{Inactive, false, false, Inactive},
	}
	for _, tc := range cases {
		t.Run(tc.d.String(), func(t *testing.T) {
			require.Equal(t, tc.sends, tc.d.Sends())
			require.Equal(t, tc.receives, tc.d.Receives())
			require.Equal(t, tc.reverse, tc.d.Reverse())
			back, ok := parseDirection(tc.d.String())
			require.True(t, ok)
			require.Equal(t, tc.d, back)
		})
	}
}
