package leg

import (
	"testing"
	"time"

	sipgosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
)

func TestParseDTMFInfo(t *testing.T) {
	cases := []struct {
		name, ctype, body string
		want              media.Digit
		bad               bool
	}{
		{"relay", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", media.Digit{Key: '5', Duration: 160 * time.Millisecond}, false},
		{"relay lower case and spaces", "application/dtmf-relay", "signal= b \nduration = 250", media.Digit{Key: 'B', Duration: 250 * time.Millisecond}, false},
		{"event code 10 is *", "application/dtmf-relay", "Signal=10\r\n", media.Digit{Key: '*'}, false},
		{"event code 15 is D", "application/dtmf-relay", "Signal=15\r\n", media.Digit{Key: 'D'}, false},
		{"duration capped", "application/dtmf-relay", "Signal=1\r\nDuration=999999\r\n", media.Digit{Key: '1', Duration: maxInfoDuration}, false},
		{"duration that would overflow", "application/dtmf-relay", "Signal=1\r\nDuration=1000000000000000\r\n", media.Digit{Key: '1', Duration: maxInfoDuration}, false},
		{"dtmf", "application/dtmf", "#\r\n", media.Digit{Key: '#'}, false},
		{"code 16 (flash) is no key", "application/dtmf-relay", "Signal=16", media.Digit{}, true},
		{"no signal", "application/dtmf-relay", "Duration=100", media.Digit{}, true},
		{"negative duration", "application/dtmf-relay", "Signal=1\nDuration=-5", media.Digit{}, true},
		{"letter", "application/dtmf", "x", media.Digit{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := parseDTMFInfo(c.ctype, []byte(c.body))
			if c.bad {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			c.want.Origin = media.DigitSIPInfo
			require.Equal(t, c.want, d)
		})
	}
}

func TestAddHeaders(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		want    []string
		bad     bool
	}{
		{"sorted", map[string]string{"X-B": "2", "X-A": "1"}, []string{"X-A: 1", "X-B: 2"}, false},
		{"crlf replaced", map[string]string{"X-Reason": "a\r\nVia: x"}, []string{"X-Reason: a  Via: x"}, false},
		{"reserved", map[string]string{"Call-ID": "x"}, nil, true},
		{"compact reserved", map[string]string{"v": "x"}, nil, true},
		{"not a token", map[string]string{"X Reason": "x"}, nil, true},
		{"empty name", map[string]string{"": "x"}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := sipgosip.NewResponse(200, "OK")
			err := addHeaders(res, c.headers)
			if c.bad {
				require.ErrorIs(t, err, ErrHeader)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, h := range res.Headers() {
				got = append(got, h.Name()+": "+h.Value())
			}
			require.Equal(t, c.want, got)
		})
	}
}

func TestSplitHeaderValues(t *testing.T) {
	require.Equal(t, []string{"<sip:p1;lr>", "<sip:p2;lr>"}, splitHeaderValues("<sip:p1;lr>, <sip:p2;lr>"))
	require.Equal(t, []string{`"a, b" <sip:x,y@h;lr>`}, splitHeaderValues(`"a, b" <sip:x,y@h;lr>`))
	require.Nil(t, splitHeaderValues(" "))
}

func TestConfigDefaults(t *testing.T) {
	_, err := NewAgent(Config{})
	require.ErrorIs(t, err, ErrConfig)
}

func FuzzParseDTMFInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf-relay", []byte("Signal=11\nDuration=99999999999999999999"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf-relay", []byte("Signal=1\nDuration=1000000000000000"))
	f.Add("application/dtmf-relay", []byte("=\n==\nSignal"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		d, err := parseDTMFInfo(ctype, body)
		if err != nil {
			return
		}
		require.Contains(t, "0123456789*#ABCD", string(d.Key))
		require.GreaterOrEqual(t, d.Duration, time.Duration(0))
		require.LessOrEqual(t, d.Duration, maxInfoDuration)
		require.Equal(t, media.DigitSIPInfo, d.Origin)
	})
}
