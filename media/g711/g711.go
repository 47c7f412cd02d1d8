package g711

// Codec is one of the two G.711 laws.
type Codec uint8

// The two laws, with their static RTP payload types (RFC 3551 §6, table 4).
const (
	PCMU Codec = 0 // µ-law, payload type 0
	PCMA Codec = 8 // A-law, payload type 8
)

// PayloadType returns the static RTP payload type of the law.
func (c Codec) PayloadType() uint8 { return uint8(c) }

// String returns the SDP encoding name ("PCMU" or "PCMA").
func (c Codec) String() string {
	if c == PCMA {
		return "PCMA"
	}
	return "PCMU"
}

// Encode writes one byte per sample of src into dst and returns the number
// written (the shorter of the two lengths).
func (c Codec) Encode(dst []byte, src []int16) int {
	if c == PCMA {
		return EncodeAlaw(dst, src)
	}
	return EncodeUlaw(dst, src)
}

// Decode writes one sample per byte of src into dst and returns the number
// written (the shorter of the two lengths).
func (c Codec) Decode(dst []int16, src []byte) int {
	if c == PCMA {
		return DecodeAlaw(dst, src)
	}
	return DecodeUlaw(dst, src)
}

// Silence returns the encoded byte of a zero sample (0xFF for µ-law, 0xD5
// for A-law).
func (c Codec) Silence() byte {
	if c == PCMA {
		return alawEncode[0]
	}
	return ulawEncode[0]
}

// EncodeUlaw encodes linear PCM to µ-law and returns the number of bytes written.
func EncodeUlaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = ulawEncode[uint16(src[i])>>2]
	}
	return n
}

// DecodeUlaw decodes µ-law to linear PCM and returns the number of samples written.
func DecodeUlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = ulawDecode[src[i]]
	}
	return n
}

// EncodeAlaw encodes linear PCM to A-law and returns the number of bytes written.
func EncodeAlaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = alawEncode[uint16(src[i])>>3]
	}
	return n
}

// DecodeAlaw decodes A-law to linear PCM and returns the number of samples written.
func DecodeAlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = alawDecode[src[i]]
	}
	return n
}

// UlawToAlaw and AlawToUlaw transcode one byte without going through an
// int16 buffer (for relaying between legs of different laws).
func UlawToAlaw(u byte) byte { return alawEncode[uint16(ulawDecode[u])>>3] }

// AlawToUlaw transcodes one A-law byte to µ-law.
func AlawToUlaw(a byte) byte { return ulawEncode[uint16(alawDecode[a])>>2] }
