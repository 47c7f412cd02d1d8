package intake

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// msg joins header lines with CRLF and ends the header section.
func msg(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n")
}

// base is a valid OPTIONS; cases replace or drop its lines.
func base(replace map[string]string, add ...string) []byte {
	lines := []string{
		"OPTIONS sip:voxrun@example.com SIP/2.0",
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1",
		"Max-Forwards: 70",
		"From: <sip:a@example.com>;tag=1",
		"To: <sip:voxrun@example.com>",
		"Call-ID: abc@192.0.2.1",
		"CSeq: 1 OPTIONS",
		"Content-Length: 0",
	}
	var out []string
	for _, l := range lines {
		name, _, _ := strings.Cut(l, ":")
		if strings.HasPrefix(l, "OPTIONS ") {
			name = "start"
		}
		if r, ok := replace[name]; ok {
			if r != "" {
				out = append(out, r)
			}
			continue
		}
		out = append(out, l)
	}
	out = append(out, add...)
	return msg(out...)
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		raw    []byte
		opts   Options
		status int   // 0 with err: dropped
		err    error // nil: accepted
	}{
		{name: "valid OPTIONS", raw: base(nil)},
		{name: "compact forms", raw: base(map[string]string{"Via": "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1", "Call-ID": "i: x@y", "From": "f: sip:a@b;tag=1", "To": "t: sip:c@d", "Content-Length": "l: 0"})},
		{name: "folded header", raw: base(map[string]string{"Via": "Via: SIP/2.0/UDP\r\n 192.0.2.1\r\n ;branch=z9hG4bK-1"})},
		{name: "keep-alive", raw: []byte("\r\n\r\n"), err: ErrKeepAlive},
		{name: "leading CRLF ignored", raw: append([]byte("\r\n"), base(nil)...)},
		{name: "missing Call-ID", raw: base(map[string]string{"Call-ID": ""}), status: 400, err: ErrMissingHeader},
		{name: "missing From", raw: base(map[string]string{"From": ""}), status: 400, err: ErrMissingHeader},
		{name: "missing To", raw: base(map[string]string{"To": ""}), status: 400, err: ErrMissingHeader},
		{name: "missing CSeq", raw: base(map[string]string{"CSeq": ""}), status: 400, err: ErrMissingHeader},
		{name: "missing Via dropped", raw: base(map[string]string{"Via": ""}), err: ErrVia},
		{name: "unusable Via dropped", raw: base(map[string]string{"Via": "Via: garbage"}), err: ErrVia},
		{name: "duplicate Call-ID", raw: base(nil, "Call-ID: other@x"), status: 400, err: ErrDuplicateHeader},
		{name: "duplicate Content-Length", raw: base(nil, "l: 0"), status: 400, err: ErrDuplicateHeader},
		{name: "negative Content-Length", raw: base(map[string]string{"Content-Length": "Content-Length: -5"}), status: 400, err: ErrContentLength},
		{name: "Content-Length larger than body", raw: base(map[string]string{"Content-Length": "Content-Length: 10"}), status: 400, err: ErrBodyTruncated},
		{name: "Content-Length smaller than body on stream", raw: append(base(nil), "xyz"...), opts: Options{Stream: true}, status: 400, err: ErrFraming},
		{name: "CSeq method mismatch", raw: base(map[string]string{"CSeq": "CSeq: 1 INVITE"}), status: 400, err: ErrCSeqMethod},
		{name: "CSeq over 2**31", raw: base(map[string]string{"CSeq": "CSeq: 2147483648 OPTIONS"}), status: 400, err: ErrCSeq},
		{name: "Max-Forwards zero on OPTIONS answered", raw: base(map[string]string{"Max-Forwards": "Max-Forwards: 0"})},
		{name: "Max-Forwards zero on INVITE", raw: base(map[string]string{"start": "INVITE sip:voxrun@example.com SIP/2.0", "CSeq": "CSeq: 1 INVITE", "Max-Forwards": "Max-Forwards: 0"}), status: 483, err: ErrTooManyHops},
		{name: "Max-Forwards over 255", raw: base(map[string]string{"Max-Forwards": "Max-Forwards: 256"}), status: 400, err: ErrMaxForwards},
		{name: "Max-Forwards not a number", raw: base(map[string]string{"Max-Forwards": "Max-Forwards: many"}), status: 400, err: ErrMaxForwards},
		{name: "unknown SIP version", raw: base(map[string]string{"start": "OPTIONS sip:voxrun@example.com SIP/3.0"}), status: 505, err: ErrVersion},
		{name: "Request-URI in angle brackets", raw: base(map[string]string{"start": "OPTIONS <sip:voxrun@example.com> SIP/2.0"}), status: 400, err: ErrRequestURI},
		{name: "extra spaces in Request-Line", raw: base(map[string]string{"start": "OPTIONS  sip:voxrun@example.com SIP/2.0"}), status: 400, err: ErrStartLine},
		{name: "unsupported URI scheme", raw: base(map[string]string{"start": "OPTIONS http://example.com SIP/2.0"}), status: 416, err: ErrURIScheme},
		{name: "headers in Request-URI", raw: base(map[string]string{"start": "OPTIONS sip:a@example.com?Route=x SIP/2.0"}), status: 400, err: ErrRequestURI},
		{name: "tel Request-URI", raw: base(map[string]string{"start": "OPTIONS tel:+15551234 SIP/2.0"})},
		{name: "header line without colon", raw: base(nil, "Garbage line"), status: 400, err: ErrHeaderLine},
		{name: "space in header name", raw: base(nil, "X Bad: 1"), status: 400, err: ErrHeaderLine},
		{name: "unterminated quote in To", raw: base(map[string]string{"To": `To: "Mr J <sip:j@example.com>`}), status: 400, err: ErrAddress},
		{name: "two To values", raw: base(map[string]string{"To": "To: sip:a@b, sip:c@d"}), status: 400, err: ErrDuplicateHeader},
		{name: "comma in unquoted display name", raw: base(map[string]string{"From": "From: Bell, Alexander <sip:a@b>;tag=1"}), status: 400, err: ErrDuplicateHeader},
		{name: "quoted display name with comma", raw: base(map[string]string{"From": `From: "Bell, Alexander" <sip:a@b>;tag=1`})},
		{name: "required extension unsupported", raw: base(nil, "Require: foo, bar"), status: 420, err: ErrUnsupportedExt},
		{name: "required extension supported", raw: base(nil, "Require: timer"), opts: Options{Supported: []string{"timer"}}},
		{name: "oversized", raw: base(nil, "X-Pad: "+strings.Repeat("a", 200)), opts: Options{MaxSize: 200}, status: 513, err: ErrTooLarge},
		{name: "malformed response dropped", raw: msg("SIP/2.0 99999 Huh", "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1"), err: ErrStatusCode},
		{name: "valid response passed", raw: msg("SIP/2.0 200 OK", "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1", "From: <sip:a@b>;tag=1", "To: <sip:c@d>;tag=2", "Call-ID: x", "CSeq: 1 OPTIONS", "Content-Length: 0")},
		{name: "bad ACK dropped, never answered", raw: base(map[string]string{"start": "ACK sip:voxrun@example.com SIP/2.0", "Call-ID": ""}), err: ErrMissingHeader},
		{name: "binary garbage dropped", raw: []byte{0x16, 0x03, 0x01, 0x00, 0xa5, 0x01}, err: ErrStartLine},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Validate(tc.raw, tc.opts)
			if tc.err == nil {
				require.NoError(t, err)
				require.NotNil(t, m)
				return
			}
			require.ErrorIs(t, err, tc.err)
			var ie *Error
			require.True(t, errors.As(err, &ie))
			require.Equal(t, tc.status, ie.Status, "reason %q", ie.Reason)
			if tc.status == 0 {
				require.Nil(t, m, "a dropped message cannot be answered")
				return
			}
			require.NotNil(t, m)
			require.NotEmpty(t, ie.Reason)
		})
	}
}

func TestResponseEchoesRequest(t *testing.T) {
	raw := base(map[string]string{"CSeq": "CSeq: 1 INVITE"},
		"Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-2")
	m, err := Validate(raw, Options{})
	var ie *Error
	require.True(t, errors.As(err, &ie))
	res := string(m.Response(ie.Status, ie.Reason, "Server: test"))
	require.True(t, strings.HasPrefix(res, "SIP/2.0 400 CSeq Method Mismatch\r\n"), res)
	require.Contains(t, res, "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-2\r\n")
	require.Contains(t, res, "Call-ID: abc@192.0.2.1\r\n")
	require.Contains(t, res, "CSeq: 1 INVITE\r\n")
	require.Contains(t, res, "To: <sip:voxrun@example.com>;tag=")
	require.True(t, strings.HasSuffix(res, "Server: test\r\nContent-Length: 0\r\n\r\n"))
	// The same request gets the same To tag (RFC 3261 §8.2.6.2).
	require.Equal(t, res, string(m.Response(ie.Status, ie.Reason, "Server: test")))
}

func TestWithRport(t *testing.T) {
	cases := []struct {
		name, via, want string
	}{
		{"plain", "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1", "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1;rport\r\n"},
		{"two values", "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK-1 , SIP/2.0/UDP b;branch=z9hG4bK-2", "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK-1;rport , SIP/2.0/UDP b;branch=z9hG4bK-2\r\n"},
		{"folded, rewritten on one line", "Via: SIP/2.0/UDP a.example.com\r\n ;branch=z9hG4bK-1  ", "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK-1;rport\r\n"},
		{"already there", "Via: SIP/2.0/UDP a;rport;branch=z9hG4bK-1", "Via: SIP/2.0/UDP a;rport;branch=z9hG4bK-1\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Validate(base(map[string]string{"Via": tc.via}), Options{})
			require.NoError(t, err)
			require.Contains(t, string(m.WithRport()), tc.want)
			_, err = Validate(m.WithRport(), Options{})
			require.NoError(t, err)
		})
	}
}

func TestDatagramTrimmedToContentLength(t *testing.T) {
	raw := append(base(nil), "INVITE sip:x@y SIP/2.0\r\n\r\n"...)
	m, err := Validate(raw, Options{})
	require.NoError(t, err)
	require.True(t, bytes.HasSuffix(m.Raw, []byte("Content-Length: 0\r\n\r\n")))
}

func TestCanonicalRewrite(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"spaced tag", "From: \"J R \\\"\"  <sip:j@example.com>\r\n  ;\r\n  tag = 98", "From: \"J R \\\"\" <sip:j@example.com>;tag=98\r\n"},
		{"spaced via", "Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=z9hG4bK-1", "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK-1;rport\r\n"},
		{"quoted spaces kept", "To: \"a ; b = c\" <sip:x@y> ; tag = 1", "To: \"a ; b = c\" <sip:x@y>;tag=1\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name, _, _ := strings.Cut(tc.in, ":")
			m, err := Validate(base(map[string]string{strings.TrimSpace(name): tc.in}), Options{})
			require.NoError(t, err)
			require.Contains(t, string(m.WithRport()), tc.want)
		})
	}
}
