package player

import (
	"errors"
	"fmt"
	"net/http"
)

var (
	// ErrNotFound means the file does not exist or the server answered 404
	// or 410: jambonz's play-url-notfound.
	ErrNotFound = errors.New("media/player: audio not found")
	// ErrNotAudio means the file or body is neither WAV nor MP3 (an HTML
	// error page, say), or is broken past its header.
	ErrNotAudio = errors.New("media/player: not wav or mp3 audio")
	// ErrTooLarge means a body exceeds the configured size cap.
	ErrTooLarge = errors.New("media/player: audio too large")
	// ErrFetch means fetching a URL failed (status, network, timeout).
	ErrFetch = errors.New("media/player: fetch failed")
	// ErrConnectTimeout is the cause when no connection was made within the
	// connect timeout.
	ErrConnectTimeout = errors.New("media/player: connect timeout")
	// ErrTimeout is the cause when a fetch outlived the total timeout.
	ErrTimeout = errors.New("media/player: fetch timeout")
	// ErrReference means a reference this package does not open: another
	// scheme, a malformed URL or silence_stream length, or a URL with no
	// HTTP client configured.
	ErrReference = errors.New("media/player: unsupported audio reference")
	// ErrStopped is the error of a Player stopped before it completed.
	ErrStopped = errors.New("media/player: stopped")
)

// HTTPError is a fetch answered with a status other than 200 or 304. It
// matches ErrFetch, and ErrNotFound for 404 and 410.
type HTTPError struct {
	URL    string
	Status int
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("media/player: GET %s: %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// Is makes errors.Is(err, ErrNotFound) and errors.Is(err, ErrFetch) work.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrFetch:
		return true
	case ErrNotFound:
		return e.Status == http.StatusNotFound || e.Status == http.StatusGone
	}
	return false
}
