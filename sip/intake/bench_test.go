package intake

import (
	"os"
	"path/filepath"
	"testing"
)

// typicalInvite is an INVITE as a softphone or a carrier sends it: one line
// per header, nothing folded.
const typicalInvite = "INVITE sip:+15551230000@sip.example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---d8754z-;rport\r\n" +
	"Max-Forwards: 70\r\n" +
	"Contact: <sip:alice@192.0.2.10:5060;transport=udp>\r\n" +
	"To: <sip:+15551230000@sip.example.com>\r\n" +
	"From: \"Alice\" <sip:alice@sip.example.com>;tag=9fxced76sl\r\n" +
	"Call-ID: 3848276298220188511@192.0.2.10\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Supported: replaces, norefersub, extended-refer, timer, X-cisco-serviceuri\r\n" +
	"User-Agent: Softphone 1.0\r\n" +
	"Content-Length: 143\r\n\r\n" +
	"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
	"m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"

// BenchmarkValidate measures intake on a typical INVITE, on esc01 (a
// folded Contact: rewritten for sipgo) and on wsinv (folding and spacing
// everywhere).
func BenchmarkValidate(b *testing.B) {
	for _, name := range []string{"typical", "esc01", "wsinv"} {
		raw := []byte(typicalInvite)
		if name != "typical" {
			var err error
			raw, err = os.ReadFile(filepath.Join("..", "testdata", "torture", name+".dat"))
			if err != nil {
				b.Fatal(err)
			}
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				m, err := Validate(raw, Options{})
				if err != nil {
					b.Fatal(err)
				}
				_ = m.WithRport()
			}
		})
	}
}
