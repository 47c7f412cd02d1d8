package sdp

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseOffer feeds offers to ParseOffer and Answer: they must return an
// answer or an *Error, never panic or hang.
func FuzzParseOffer(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.sdp"))
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
	l := local()
	f.Fuzz(func(t *testing.T, b []byte) {
		offer, err := ParseOffer(b)
		if err != nil {
			if StatusOf(err) != 400 && StatusOf(err) != 488 {
				t.Fatalf("parse error without a SIP status: %v", err)
			}
			return
		}
		answer, _, err := offer.Answer(l)
		if err != nil {
			if StatusOf(err) != 488 {
				t.Fatalf("answer error without 488: %v", err)
			}
			return
		}
		if _, err := ParseOffer(answer); err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, answer)
		}
	})
}
