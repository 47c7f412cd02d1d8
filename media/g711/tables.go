package g711

// The tables are computed once from the ITU-T G.711 segment rules and are
// read-only afterwards. Encoding tables are indexed by the top 14 bits (µ-law)
// or 13 bits (A-law) of the sample taken as unsigned, which is all the
// precision each law uses.
var (
	ulawEncode = buildUlawEncode()
	ulawDecode = buildUlawDecode()
	alawEncode = buildAlawEncode()
	alawDecode = buildAlawDecode()
)

// ITU-T G.711 §2 (µ-law): 14-bit magnitude, bias 33, eight segments. A
// negative sample's magnitude is its one's complement, as in the ITU-T G.191
// reference implementation.
const (
	ulawBias = 0x21
	ulawClip = 8159
)

func ulawEncodeSample(pcm14 int) byte {
	mask := byte(0xFF)
	if pcm14 < 0 {
		pcm14 = ^pcm14
		mask = 0x7F
	}
	pcm14 = min(pcm14, ulawClip) + ulawBias
	seg := 0
	for v := pcm14 >> 6; v > 0 && seg < 8; v >>= 1 {
		seg++
	}
	if seg >= 8 {
		return 0x7F ^ mask
	}
	return byte(seg<<4|(pcm14>>(seg+1))&0x0F) ^ mask
}

func buildUlawEncode() *[1 << 14]byte {
	var t [1 << 14]byte
	for i := range t {
		t[i] = ulawEncodeSample(int(int16(uint16(i<<2))) >> 2)
	}
	return &t
}

func buildUlawDecode() *[256]int16 {
	var t [256]int16
	for i := range t {
		u := ^byte(i)
		v := (int(u&0x0F)<<3 + 0x84) << ((u & 0x70) >> 4)
		if u&0x80 != 0 {
			t[i] = int16(0x84 - v)
		} else {
			t[i] = int16(v - 0x84)
		}
	}
	return &t
}

// ITU-T G.711 §3 (A-law): 13-bit magnitude, even bits inverted (0x55).
func alawEncodeSample(pcm13 int) byte {
	mask := byte(0xD5)
	if pcm13 < 0 {
		mask = 0x55
		pcm13 = -pcm13 - 1
	}
	seg := 0
	for v := pcm13 >> 5; v > 0 && seg < 8; v >>= 1 {
		seg++
	}
	if seg >= 8 {
		return 0x7F ^ mask
	}
	aval := seg << 4
	if seg < 2 {
		aval |= (pcm13 >> 1) & 0x0F
	} else {
		aval |= (pcm13 >> seg) & 0x0F
	}
	return byte(aval) ^ mask
}

func buildAlawEncode() *[1 << 13]byte {
	var t [1 << 13]byte
	for i := range t {
		t[i] = alawEncodeSample(int(int16(uint16(i<<3))) >> 3)
	}
	return &t
}

func buildAlawDecode() *[256]int16 {
	var t [256]int16
	for i := range t {
		a := byte(i) ^ 0x55
		v := int(a&0x0F) << 4
		switch seg := (a & 0x70) >> 4; seg {
		case 0:
			v += 8
		case 1:
			v += 0x108
		default:
			v = (v + 0x108) << (seg - 1)
		}
		if a&0x80 != 0 {
			t[i] = int16(v)
		} else {
			t[i] = int16(-v)
		}
	}
	return &t
}
