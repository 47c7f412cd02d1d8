// Package record records a leg, or both parties of a bridge as a stereo WAV
// (one party per channel), streamed to disk as it goes: the shared clock
// takes one frame per party each tick (silence for a party that sent
// nothing, so the channels stay aligned), and one writer goroutine per
// recording does the disk I/O, never the clock. Size and duration are
// bounded; when a bound is reached or the disk fails, recording stops, the
// call goes on, the file is still closed valid, and OnTruncated names it.
//
// It is not the record verb: choosing the file, the alert, and the upload of
// a finished recording belong to the runtime and its verbs.
package record
