// Package player turns audio files and URLs into a media.Source of 20 ms
// frames at 8 kHz: WAV (PCM of any width and rate, mono or stereo, µ-law,
// A-law: read by media/wav) and MP3 (github.com/hajimehoshi/go-mp3),
// downmixed to mono and resampled by media/resample's windowed-sinc filter.
// A Player loops (a count, or forever), starts at a seek offset, stops on
// demand (Stop, or the context given to Wait) and reports its progress for
// play's actionHook (playback_seconds, playback_milliseconds,
// playback_last_offset_pos). silence_stream://<ms> plays that much silence.
//
// A Loader opens references a tenant supplies: http(s) URLs, fetched with
// the *http.Client the caller hands it (cmd passes the guarded tenant client;
// this package never dials by itself), with a connect timeout, a total
// timeout and a size cap, and kept in a size-bounded LRU disk cache
// (media/diskcache) revalidated with ETag / Last-Modified on every open. A
// Loader never opens a local file: OpenFile is for paths voxrun trusts
// (its own prompts), never for a tenant's string.
//
// Decoding and resampling cost tens of microseconds per frame (an MP3 at
// 44.1 kHz about 330 µs; an 8 kHz WAV 0.25 µs), so a Player captures its
// first whole pass at 8 kHz (in a buffer sized from the stream's length, up
// to ten minutes) when that pays: loops replay it from memory, and the
// Loader stores it in the cache as an 8 kHz WAV tagged with the version's
// validators, so the next play of an unchanged URL neither decodes nor
// resamples. WAV and replayed passes read frames with no allocation; go-mp3
// allocates while it decodes (about 100 small allocations per 20 ms frame),
// which is one more reason a repeated MP3 plays from its 8 kHz copy. Calls
// into go-mp3 recover its panics (it has some on malformed frames) into
// ErrNotAudio, because ReadFrame runs on the shared pacing goroutine.
//
// A missing file or a 404/410 is ErrNotFound (the interpreter raises
// jambonz's play-url-notfound alert); a body that is neither WAV nor MP3 is
// ErrNotAudio.
//
// It is not a mixer or a scheduler: a Player is one stream, read by whoever
// owns the leg's pacing; ReadFrame decodes and resamples on the caller's
// goroutine (reads are buffered, 32 KiB at a time), so it starts no
// goroutine of its own. It does not play playlists (the play verb walks its
// url array) and does not time out playback (timeoutSecs is the verb's
// context).
package player
