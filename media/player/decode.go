package player

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hajimehoshi/go-mp3"

	"github.com/voxrun/voxrun/media/wav"
)

// decoder yields interleaved int16 samples of one pass over a stream.
type decoder interface {
	rate() int
	channels() int
	// read fills dst with interleaved samples (whole sample frames) and
	// returns how many; io.EOF at the end.
	read(dst []int16) (int, error)
	// skip drops n sample frames (per channel) from the start.
	skip(n int64) error
	// length is the number of sample frames in a pass, or an estimate a
	// little over it, or -1 when unknown.
	length() int64
}

// kind is the container a stream was recognised as.
type kind uint8

const (
	kindWAV kind = iota + 1
	kindMP3
)

// sniff recognises WAV and MP3 by their first bytes.
func sniff(head []byte) (kind, bool) {
	switch {
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return kindWAV, true
	case len(head) >= 3 && string(head[0:3]) == "ID3":
		return kindMP3, true
	case len(head) >= 3 && head[0] == 0xFF && head[1]&0xE0 == 0xE0 && // frame sync
		head[1]&0x18 != 0x08 && head[1]&0x06 != 0 && // version and layer not reserved
		head[2]&0xF0 != 0xF0 && head[2]&0x0C != 0x0C: // bitrate and rate not invalid
		return kindMP3, true
	}
	return 0, false
}

// newDecoder rewinds rs and opens a decoder of one pass over it.
func newDecoder(rs *bufferedSeeker) (decoder, error) {
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("media/player: rewind: %w", err)
	}
	head, _ := rs.br.Peek(12)
	k, ok := sniff(head)
	if !ok {
		return nil, fmt.Errorf("%w: starts with %q", ErrNotAudio, head)
	}
	if k == kindWAV {
		r, err := wav.NewReader(rs)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotAudio, err)
		}
		size, err := rs.Seek(0, io.SeekEnd)
		if err != nil {
			return nil, fmt.Errorf("media/player: %w", err)
		}
		// Back to the first sample: the header took what wav.NewReader
		// buffered, so re-read it (cheap: the header is small).
		if _, err := rs.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("media/player: rewind: %w", err)
		}
		if r, err = wav.NewReader(rs); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotAudio, err)
		}
		width := max(1, r.Format.BitsPerSample/8) * r.Format.Channels
		return &wavDecoder{r: r, frames: size / int64(width)}, nil
	}
	d, err := newMP3(rs)
	switch {
	case errors.Is(err, ErrNotAudio):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%w: mp3: %w", ErrNotAudio, err)
	}
	if d.SampleRate() <= 0 {
		return nil, fmt.Errorf("%w: mp3 sample rate %d", ErrNotAudio, d.SampleRate())
	}
	return &mp3Decoder{d: d}, nil
}

type wavDecoder struct {
	r      *wav.Reader
	frames int64 // from the stream's size: a little over the data
}

func (w *wavDecoder) length() int64 { return w.frames }

func (w *wavDecoder) rate() int     { return w.r.Format.SampleRate }
func (w *wavDecoder) channels() int { return w.r.Format.Channels }

func (w *wavDecoder) read(dst []int16) (int, error) {
	ch := w.r.Format.Channels
	n, err := w.r.Read(dst[:len(dst)-len(dst)%ch])
	return n - n%ch, err
}

func (w *wavDecoder) skip(n int64) error {
	buf := make([]int16, 4096*w.r.Format.Channels)
	for left := n * int64(w.r.Format.Channels); left > 0; {
		got, err := w.r.Read(buf[:min(int64(len(buf)), left)])
		left -= int64(got)
		if errors.Is(err, io.EOF) {
			return nil // seeking past the end plays nothing
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// mp3Decoder reads go-mp3's output: always 16-bit little-endian stereo.
type mp3Decoder struct {
	d   *mp3.Decoder
	raw []byte
}

func (m *mp3Decoder) rate() int { return m.d.SampleRate() }

func (m *mp3Decoder) length() int64 {
	if l := m.d.Length(); l >= 0 {
		return l / 4
	}
	return -1
}

func (m *mp3Decoder) channels() int { return 2 }

// go-mp3 indexes slices with values read from the stream and panics on
// some malformed frames (FuzzOpenReader found one in maindata). A tenant's
// URL can serve anything and ReadFrame runs on the shared pacing goroutine,
// so every call into go-mp3 turns a panic into ErrNotAudio: the one place
// below the call boundary that recovers, because the parser is not ours.
func mp3Guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: mp3 decoder panicked: %v", ErrNotAudio, r)
	}
}

func newMP3(r io.Reader) (d *mp3.Decoder, err error) {
	defer mp3Guard(&err)
	return mp3.NewDecoder(r)
}

func (m *mp3Decoder) read(dst []int16) (n int, err error) {
	defer mp3Guard(&err)
	return m.readUnguarded(dst)
}

func (m *mp3Decoder) readUnguarded(dst []int16) (int, error) {
	want := (len(dst) / 2) * 4
	if cap(m.raw) < want {
		m.raw = make([]byte, want)
	}
	raw := m.raw[:want]
	n, err := io.ReadFull(m.d, raw)
	n -= n % 4
	for i := range n / 2 {
		dst[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	switch {
	case n > 0 && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)):
		return n / 2, nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		return 0, io.EOF
	case err != nil && !errors.Is(err, io.EOF):
		return n / 2, fmt.Errorf("media/player: mp3: %w", err)
	}
	return n / 2, err
}

func (m *mp3Decoder) skip(n int64) (err error) {
	defer mp3Guard(&err)
	if l := m.d.Length(); l >= 0 && n*4 >= l {
		_, err = m.d.Seek(0, io.SeekEnd)
		return err
	}
	_, err = m.d.Seek(n*4, io.SeekStart)
	return err
}

// bufferedSeeker buffers reads of a seekable stream (a file: one syscall per
// 32 KiB, not per MP3 frame) and stays seekable.
type bufferedSeeker struct {
	rs io.ReadSeeker
	br *bufio.Reader
}

func newBufferedSeeker(rs io.ReadSeeker) *bufferedSeeker {
	return &bufferedSeeker{rs: rs, br: bufio.NewReaderSize(rs, 32<<10)}
}

func (b *bufferedSeeker) Read(p []byte) (int, error) { return b.br.Read(p) }

func (b *bufferedSeeker) Seek(offset int64, whence int) (int64, error) {
	if whence == io.SeekCurrent {
		offset -= int64(b.br.Buffered())
	}
	pos, err := b.rs.Seek(offset, whence)
	b.br.Reset(b.rs)
	return pos, err
}

// silenceDecoder is silence_stream://<ms>: n samples of nothing at 8 kHz.
type silenceDecoder struct {
	left int64
}

func (s *silenceDecoder) rate() int     { return 8000 }
func (s *silenceDecoder) channels() int { return 1 }

func (s *silenceDecoder) read(dst []int16) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(dst)), s.left))
	clear(dst[:n])
	s.left -= int64(n)
	return n, nil
}

func (s *silenceDecoder) skip(n int64) error {
	s.left = max(0, s.left-n)
	return nil
}

func (s *silenceDecoder) length() int64 { return -1 } // nothing worth capturing

// pcmDecoder replays a captured pass: mono at 8 kHz.
type pcmDecoder struct {
	pcm []int16
	pos int
}

func (d *pcmDecoder) rate() int     { return 8000 }
func (d *pcmDecoder) channels() int { return 1 }
func (d *pcmDecoder) length() int64 { return int64(len(d.pcm)) }
func (d *pcmDecoder) skip(n int64) error {
	d.pos = int(min(int64(len(d.pcm)), int64(d.pos)+n))
	return nil
}

func (d *pcmDecoder) read(dst []int16) (int, error) {
	if d.pos >= len(d.pcm) {
		return 0, io.EOF
	}
	n := copy(dst, d.pcm[d.pos:])
	d.pos += n
	return n, nil
}
