package dtmf

import "encoding/binary"

// Event is the telephone-event payload (RFC 4733 §2.3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	|     event     |E|R| volume    |          duration             |
type Event struct {
	// Code is the event code: 0-9, 10 for *, 11 for #, 12-15 for A-D,
	// 16 for flash (RFC 4733 §3.2).
	Code uint8
	// End is set on the final packets of the event (§2.3.2).
	End bool
	// Volume is the power level in -dBm0, 0-63 (§2.3.3).
	Volume uint8
	// Duration is the event's length so far, in timestamp units (§2.3.5).
	Duration uint16
}

// PayloadSize is the size of one telephone-event payload.
const PayloadSize = 4

// MarshalTo writes the payload into b, which must hold PayloadSize bytes.
// The reserved bit is written as zero (§2.3.2).
func (e Event) MarshalTo(b []byte) (int, error) {
	if len(b) < PayloadSize {
		return 0, ErrShortPayload
	}
	b[0] = e.Code
	b[1] = e.Volume & 0x3F
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], e.Duration)
	return PayloadSize, nil
}

// Unmarshal reads a payload. Only the first event is read; the receiver
// ignores the reserved bit (§2.3.2).
func (e *Event) Unmarshal(b []byte) error {
	if len(b) < PayloadSize {
		return ErrShortPayload
	}
	e.Code = b[0]
	e.End = b[1]&0x80 != 0
	e.Volume = b[1] & 0x3F
	e.Duration = binary.BigEndian.Uint16(b[2:])
	return nil
}

const keys = "0123456789*#ABCD"

// KeyOf returns the key of a DTMF event code (RFC 4733 §3.2, table 7).
func KeyOf(code uint8) (byte, bool) {
	if int(code) < len(keys) {
		return keys[code], true
	}
	return 0, false
}

// CodeOf returns the event code of a key; lower-case a-d are accepted.
func CodeOf(key byte) (uint8, error) {
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	for i := range len(keys) {
		if keys[i] == key {
			return uint8(i), nil
		}
	}
	return 0, ErrUnknownKey
}
