package registrar

import (
	"net/netip"
	"testing"

	sipgosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"
)

func TestSplitContacts(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"one", "<sip:a@1.2.3.4>", []string{"<sip:a@1.2.3.4>"}},
		{"two", "<sip:a@1.2.3.4>;expires=60, <sip:a@5.6.7.8>", []string{"<sip:a@1.2.3.4>;expires=60", "<sip:a@5.6.7.8>"}},
		{"comma in display name", `"Doe, J" <sip:a@1.2.3.4>`, []string{`"Doe, J" <sip:a@1.2.3.4>`}},
		{"comma in brackets", "<sip:a@1.2.3.4;x=a,b>", []string{"<sip:a@1.2.3.4;x=a,b>"}},
		{"star", " * ", []string{"*"}},
		{"empty", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, splitContacts(tc.in))
		})
	}
}

func TestBehindNAT(t *testing.T) {
	src := netip.MustParseAddrPort("203.0.113.5:40000")
	cases := []struct {
		name      string
		contact   string
		transport string
		nat       bool
	}{
		{"same address and port", "sip:a@203.0.113.5:40000", "udp", false},
		{"private address", "sip:a@192.168.1.10:40000", "udp", true},
		{"port rewritten by NAT", "sip:a@203.0.113.5:5060", "udp", true},
		{"default port", "sip:a@203.0.113.5", "udp", true},
		{"host name", "sip:a@phone.example.com:40000", "udp", true},
		{"tcp ignores the port", "sip:a@203.0.113.5:5060", "tcp", false},
		{"tcp private address", "sip:a@10.0.0.1:5060", "tcp", true},
		{"IPv4-mapped", "sip:a@[::ffff:203.0.113.5]:40000", "udp", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var u sipgosip.Uri
			require.NoError(t, sipgosip.ParseUri(tc.contact, &u))
			require.Equal(t, tc.nat, behindNAT(u, src, tc.transport))
		})
	}
}

func TestClamp(t *testing.T) {
	require.Equal(t, 60, clamp(10, 60, 3600))
	require.Equal(t, 3600, clamp(7200, 60, 3600))
	require.Equal(t, 600, clamp(600, 60, 3600))
}
