package wav

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/voxrun/voxrun/media/g711"
)

// Encoding is a WAVE format tag.
type Encoding uint16

// The encodings Reader understands.
const (
	PCM   Encoding = 1
	Float Encoding = 3
	ALaw  Encoding = 6
	MuLaw Encoding = 7

	extensible Encoding = 0xFFFE
)

// Format is a stream's layout, from its fmt chunk.
type Format struct {
	Encoding      Encoding
	Channels      int
	SampleRate    int
	BitsPerSample int
}

// Reader reads the samples of a WAV stream as int16, interleaved.
type Reader struct {
	Format Format

	r         *bufio.Reader
	remaining int64 // data bytes left; -1 means until EOF
	width     int   // bytes per sample
	raw       []byte
}

const maxChunk = 1 << 20 // a fmt (or any skipped pre-data) chunk over 1 MiB is refused

// NewReader reads the header of a WAV stream up to its data chunk.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 4096)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotWAV, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE signature", ErrNotWAV)
	}
	w := &Reader{r: br}
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			return nil, fmt.Errorf("%w: no data chunk: %w", ErrNotWAV, err)
		}
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		if id == "data" {
			if !haveFmt {
				return nil, fmt.Errorf("%w: data before fmt", ErrNotWAV)
			}
			w.remaining = size
			if size == 0 || size == 0xFFFFFFFF {
				w.remaining = -1 // a streaming writer never filled it in
			}
			return w, nil
		}
		if size > maxChunk {
			return nil, fmt.Errorf("%w: %q chunk of %d bytes", ErrNotWAV, id, size)
		}
		body := make([]byte, size+size&1) // chunks are padded to even sizes
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, fmt.Errorf("%w: %q chunk: %w", ErrNotWAV, id, err)
		}
		if id == "fmt " {
			if err := w.parseFmt(body[:size]); err != nil {
				return nil, err
			}
			haveFmt = true
		}
	}
}

func (w *Reader) parseFmt(b []byte) error {
	if len(b) < 16 {
		return fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotWAV, len(b))
	}
	f := Format{
		Encoding:      Encoding(binary.LittleEndian.Uint16(b[0:])),
		Channels:      int(binary.LittleEndian.Uint16(b[2:])),
		SampleRate:    int(binary.LittleEndian.Uint32(b[4:])),
		BitsPerSample: int(binary.LittleEndian.Uint16(b[14:])),
	}
	if f.Encoding == extensible {
		// WAVE_FORMAT_EXTENSIBLE: the real tag opens the sub-format GUID.
		if len(b) < 40 {
			return fmt.Errorf("%w: short extensible fmt", ErrNotWAV)
		}
		f.Encoding = Encoding(binary.LittleEndian.Uint16(b[24:]))
	}
	if f.Channels < 1 || f.Channels > 8 || f.SampleRate < 1000 || f.SampleRate > 384000 {
		return fmt.Errorf("%w: %d channels at %d Hz", ErrUnsupported, f.Channels, f.SampleRate)
	}
	ok := false
	switch f.Encoding {
	case PCM:
		ok = f.BitsPerSample == 8 || f.BitsPerSample == 16 || f.BitsPerSample == 24 || f.BitsPerSample == 32
	case Float:
		ok = f.BitsPerSample == 32
	case ALaw, MuLaw:
		ok = f.BitsPerSample == 8
	}
	if !ok {
		return fmt.Errorf("%w: encoding %d with %d bits", ErrUnsupported, f.Encoding, f.BitsPerSample)
	}
	w.Format = f
	w.width = f.BitsPerSample / 8
	return nil
}

// Read fills samples with interleaved int16 samples and returns how many it
// read; io.EOF at the end of the data. A truncated last sample is dropped.
func (w *Reader) Read(samples []int16) (int, error) {
	want := len(samples) * w.width
	if w.remaining >= 0 {
		want = int(min(int64(want), w.remaining-w.remaining%int64(w.width)))
	}
	if want == 0 {
		return 0, io.EOF
	}
	if cap(w.raw) < want {
		w.raw = make([]byte, want)
	}
	raw := w.raw[:want]
	n, err := io.ReadFull(w.r, raw)
	n -= n % w.width
	if w.remaining >= 0 {
		w.remaining -= int64(n)
	}
	count := n / w.width
	w.convert(samples[:count], raw[:n])
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		if count == 0 {
			return 0, io.EOF
		}
		w.remaining = 0
		return count, nil
	case err != nil:
		return count, fmt.Errorf("media/wav: read: %w", err)
	}
	return count, nil
}

func (w *Reader) convert(dst []int16, raw []byte) {
	f := w.Format
	switch {
	case f.Encoding == MuLaw:
		g711.DecodeUlaw(dst, raw)
	case f.Encoding == ALaw:
		g711.DecodeAlaw(dst, raw)
	case f.Encoding == Float:
		for i := range dst {
			v := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			dst[i] = int16(max(-1, min(1, v)) * 32767)
		}
	case f.BitsPerSample == 8: // unsigned, offset 128
		for i := range dst {
			dst[i] = (int16(raw[i]) - 128) << 8
		}
	case f.BitsPerSample == 16:
		for i := range dst {
			dst[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case f.BitsPerSample == 24:
		for i := range dst {
			dst[i] = int16(uint16(raw[3*i+1]) | uint16(raw[3*i+2])<<8)
		}
	case f.BitsPerSample == 32:
		for i := range dst {
			dst[i] = int16(binary.LittleEndian.Uint32(raw[4*i:]) >> 16)
		}
	}
}
