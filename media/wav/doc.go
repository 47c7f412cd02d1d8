// Package wav reads RIFF/WAVE audio: PCM of 8, 16, 24 or 32 bits, 32-bit
// float, µ-law and A-law, mono or stereo (or more), at any rate, including
// WAVE_FORMAT_EXTENSIBLE headers and streams whose data size was never
// filled in. NewSource turns a file into a media.Source of 20 ms frames at
// 8 kHz: downmixed to mono and resampled through media/resample.
//
// It is not a player: fetching URLs, caching, looping and progress belong to
// the player built on it. It does not write WAV (the recorder will).
package wav
