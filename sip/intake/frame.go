package intake

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Frame is one unit read from a stream transport.
type Frame struct {
	// Message is a whole message: header section and Content-Length bytes
	// of body. It is nil for a keep-alive.
	Message []byte
	// Ping is true when the peer sent a double-CRLF keep-alive, which is
	// answered with a single CRLF (RFC 5626 §3.5.1).
	Ping bool
}

// Framer cuts a byte stream (TCP, TLS) into SIP messages using
// Content-Length (RFC 3261 §18.3). A framing error (a missing, repeated or
// malformed Content-Length with a body, or a message over the size limit)
// leaves no message boundary to resynchronise on: the caller answers if it
// can and closes the connection.
type Framer struct {
	r   *bufio.Reader
	max int
	buf []byte

	// OnMessageStart, when set, is called when the first byte of a message
	// (not a keep-alive) has arrived: the place to tighten the read deadline
	// against peers that trickle a message in (slowloris).
	OnMessageStart func()
}

// NewFramer returns a Framer reading r, refusing messages over maxSize bytes
// (0: DefaultMaxSize).
func NewFramer(r io.Reader, maxSize int) *Framer {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	return &Framer{r: bufio.NewReaderSize(r, 4096), max: maxSize}
}

// Buffered reports whether bytes are waiting in the framer's buffer, that is
// whether the next Next can return without reading the stream.
func (f *Framer) Buffered() int { return f.r.Buffered() }

// Next returns the next frame. The Message slice is valid until the next call.
// On a framing error it returns what it read of the message (enough, usually,
// for Validate to build a response) with an *Error wrapping ErrFraming or
// ErrTooLarge; io errors are returned as they are.
func (f *Framer) Next() (Frame, error) {
	// RFC 3261 §7.5: CRLFs before a start-line are ignored.
	crlfs := 0
	for {
		c, err := f.r.ReadByte()
		if err != nil {
			return Frame{}, err
		}
		if c == '\r' {
			continue
		}
		if c == '\n' {
			crlfs++
			if crlfs == 2 {
				return Frame{Ping: true}, nil
			}
			continue
		}
		if err := f.r.UnreadByte(); err != nil {
			return Frame{}, err
		}
		if f.OnMessageStart != nil {
			f.OnMessageStart()
		}
		break
	}
	f.buf = f.buf[:0]
	for {
		line, err := f.r.ReadSlice('\n')
		f.buf = append(f.buf, line...)
		if len(f.buf) > f.max {
			return Frame{Message: f.buf}, &Error{Status: 0, Reason: "header section over the limit", Err: ErrTooLarge}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(f.buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return Frame{}, err
		}
		if len(line) <= 2 && (string(line) == "\r\n" || string(line) == "\n") {
			break
		}
	}
	cl, ferr := streamContentLength(f.buf)
	if ferr != nil {
		return Frame{Message: f.buf}, ferr
	}
	if len(f.buf)+cl > f.max {
		return Frame{Message: f.buf}, reject(513, "Message Too Large", ErrTooLarge)
	}
	n := len(f.buf)
	f.buf = append(f.buf, make([]byte, cl)...)
	if _, err := io.ReadFull(f.r, f.buf[n:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	return Frame{Message: f.buf}, nil
}

// streamContentLength finds the one Content-Length of a header section,
// mandatory on a stream (RFC 3261 §18.3).
func streamContentLength(head []byte) (int, *Error) {
	value := ""
	count := 0
	lines := bytes.Split(head, []byte{'\n'})
	for i, line := range lines {
		if i == 0 || len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		name := strings.ToLower(strings.TrimSpace(string(line[:colon])))
		if name != "content-length" && name != "l" {
			continue
		}
		count++
		value = strings.TrimSpace(string(line[colon+1:]))
		// A folded Content-Length value would be odd but legal.
		for j := i + 1; j < len(lines) && len(lines[j]) > 0 && (lines[j][0] == ' ' || lines[j][0] == '\t'); j++ {
			value = strings.TrimSpace(value + " " + strings.TrimSpace(string(lines[j])))
		}
	}
	switch {
	case count > 1:
		return 0, reject(400, "Multiple Content-Length", ErrFraming)
	case count == 0:
		return 0, reject(400, "Missing Content-Length", ErrFraming)
	case !isDigits(value) || len(value) > 9:
		return 0, reject(400, "Malformed Content-Length", ErrFraming)
	}
	n, _ := strconv.Atoi(value)
	return n, nil
}
