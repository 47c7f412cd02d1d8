package intake

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzIntake feeds arbitrary bytes to Validate (as a datagram and as a
// stream message) and to the Framer. Nothing may panic or hang, and what
// intake passes on must pass again: a message it accepted, or rewrote,
// stays acceptable after the rport rewrite.
func FuzzIntake(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "torture", "*.dat"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, stream := range []bool{false, true} {
			o := Options{Stream: stream, MaxSize: 4096, Supported: []string{"timer"}}
			m, err := Validate(raw, o)
			var ie *Error
			switch {
			case err == nil:
				if m == nil {
					t.Fatal("accepted without a message")
				}
				again := m.Raw
				if !stream {
					again = m.WithRport()
				}
				if _, err := Validate(again, o); err != nil {
					t.Fatalf("accepted %q, then refused %q: %v", raw, again, err)
				}
			case errors.As(err, &ie):
				if ie.Status != 0 {
					if m == nil {
						t.Fatalf("status %d without a message to answer", ie.Status)
					}
					res := m.Response(ie.Status, ie.Reason, ie.Headers...)
					if !bytes.HasPrefix(res, []byte("SIP/2.0 ")) {
						t.Fatalf("bad response %q", res)
					}
				} else if m != nil {
					t.Fatal("a dropped message must not be answerable")
				}
			default:
				t.Fatalf("untyped error %v", err)
			}
		}
		fr := NewFramer(bytes.NewReader(raw), 4096)
		for i := 0; i < 64; i++ { // a finite input yields finitely many frames
			if _, err := fr.Next(); err != nil {
				break
			}
		}
	})
}
