// Package speech is text-to-speech for say: an Engine interface (text or
// SSML, a language and a voice in; 16-bit mono PCM out), an offline default
// engine that runs espeak-ng, and a Speaker that puts a disk cache in front
// of any engine and hands the verb a *player.Player of 8 kHz frames.
//
// The default engine is espeak-ng (a Debian package, run as a subprocess:
// `espeak-ng --stdout --stdin -b 1 -v <voice> [-m]`) rather than flite:
// both start and synthesise a sentence in 10-15 ms here, but espeak-ng has
// voices for about a hundred languages (flite: English), reads SSML with -m
// (breaks, say-as, prosody are honoured and the markup is never read out;
// flite's SSML mode ignores most of it), and writes WAV to stdout. The
// figures are in docs/speech.md.
//
// The Speaker's cache is keyed by engine, voice, language and text, bounded
// in size (LRU, media/diskcache), and holds the prompt already resampled to
// 8 kHz, so a repeated prompt is never synthesised (or resampled) twice and
// its first frame is ready as soon as a file is opened; concurrent requests
// for the same prompt share one synthesis.
//
// A missing binary is ErrUnavailable and a failed synthesis ErrSynthesis:
// the interpreter raises jambonz's tts-failure alert and skips the say. The
// package is not speech recognition, and not a vendor client: vendors come
// later as other Engines behind the same interface.
package speech
