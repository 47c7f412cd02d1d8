// Package g711 encodes and decodes ITU-T G.711 audio (PCMU, µ-law, and PCMA,
// A-law) between 16-bit linear PCM and one byte per sample, through lookup
// tables built once when the package loads and never written again.
//
// It is only the codec: no framing, no RTP, no resampling. Encode and decode
// never allocate, so they can sit on the per-packet path.
package g711
