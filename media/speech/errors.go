package speech

import "errors"

var (
	// ErrUnavailable means the engine cannot run here (espeak-ng is not
	// installed): the say is skipped with an alert.
	ErrUnavailable = errors.New("media/speech: engine unavailable")
	// ErrSynthesis means the engine ran and failed, or produced no audio.
	ErrSynthesis = errors.New("media/speech: synthesis failed")
	// ErrVoice means the engine has no voice for the request's voice or
	// language.
	ErrVoice = errors.New("media/speech: no such voice")
	// ErrText means the text is empty or longer than the limit.
	ErrText = errors.New("media/speech: bad text")
)
