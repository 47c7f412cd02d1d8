package dtmf

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/voxrun/voxrun/media"
)

// FuzzEvent feeds arbitrary payloads to the parser and the receiver: no
// panic, a parsed event marshals back to the same bytes (reserved bit aside),
// and the receiver never reports an event twice.
func FuzzEvent(f *testing.F) {
	f.Add(uint32(1000), []byte{5, 0x0A, 0x00, 0xA0})
	f.Add(uint32(1000), []byte{11, 0x8A, 0x03, 0x20})
	f.Add(uint32(0), []byte{16, 0x00, 0xFF, 0xFF, 1, 2})
	f.Add(uint32(7), []byte{})
	f.Fuzz(func(t *testing.T, ts uint32, b []byte) {
		var e Event
		if err := e.Unmarshal(b); err != nil {
			if len(b) >= PayloadSize {
				t.Fatalf("rejected %d bytes: %v", len(b), err)
			}
			return
		}
		var out [PayloadSize]byte
		if _, err := e.MarshalTo(out[:]); err != nil {
			t.Fatal(err)
		}
		if out[0] != b[0] || out[1] != b[1]&^0x40 || binary.BigEndian.Uint16(out[2:]) != binary.BigEndian.Uint16(b[2:4]) {
			t.Fatalf("round trip %x -> %x", b[:4], out)
		}
		var r Receiver
		now := time.Unix(0, 0)
		// The same packet many times, interleaved with expiry: at most one digit.
		n := 0
		count := media.DigitSinkFunc(func(media.Digit) { n++ })
		for i := range 5 {
			_ = r.Packet(now, ts, b, count)
			r.Expire(now.Add(time.Duration(i)*time.Second), count)
		}
		if n > 1 {
			t.Fatalf("one event reported %d times", n)
		}
	})
}
