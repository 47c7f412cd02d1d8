package verbs

// SpeechListener delivers speech-recognition results for the call while
// subscribed. ok is false when the call has no recognizer (no speech-to-text
// engine is configured); gather then reports that speech is unavailable.
// Simulated calls have one fed by the console and `voxrun simulate`.
type SpeechListener interface {
	SubscribeSpeech() (results <-chan SpeechResult, unsubscribe func(), ok bool)
}

// SpeechResult is one final transcript from a recognizer.
type SpeechResult struct {
	// Transcript is what was recognized.
	Transcript string
	// Confidence is between 0 and 1.
	Confidence float64
	// Language is the recognizer's language code ("en-US").
	Language string
}

// Payload is the result as jambonz's action hooks carry it under "speech":
// {language_code, channel_tag, is_final, alternatives: [{confidence, transcript}]}.
func (r SpeechResult) Payload() map[string]any {
	lang := r.Language
	if lang == "" {
		lang = "en-US"
	}
	return map[string]any{
		"language_code": lang,
		"channel_tag":   1,
		"is_final":      true,
		"alternatives":  []any{map[string]any{"confidence": r.Confidence, "transcript": r.Transcript}},
	}
}
