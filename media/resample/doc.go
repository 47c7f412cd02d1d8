// Package resample converts 16-bit PCM between sample rates with a
// polyphase windowed-sinc (Kaiser) low-pass filter: any rational ratio
// (48, 44.1, 22.05 and 16 kHz to 8 kHz and back), streaming, with the cutoff
// below the lower Nyquist frequency so that nothing folds back into the
// voice band. It never decimates or repeats samples naively.
//
// It is not a general DSP library: mono int16 only (downmix first), no
// variable ratio, no dithering.
package resample
