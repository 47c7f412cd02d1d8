// Package wav reads RIFF/WAVE audio: PCM of 8, 16, 24 or 32 bits, 32-bit
// float, µ-law and A-law, mono or stereo (or more), at any rate, including
// WAVE_FORMAT_EXTENSIBLE headers and streams whose data size was never
// filled in. NewSource turns a file into a media.Source of 20 ms frames at
// 8 kHz: downmixed to mono and resampled through media/resample.
//
// Writer streams 16-bit PCM (mono, or stereo with one party per channel) to
// a WAV file as it comes, with a size bound; when the bound is reached or
// the disk fails it stops, reports ErrTruncated, and Close still leaves a
// valid file.
//
// It is not a player or a recorder: fetching URLs, caching, looping and
// progress belong to media/player; choosing what to record, the duration
// bound and alerts belong to the recorder built on Writer.
package wav
