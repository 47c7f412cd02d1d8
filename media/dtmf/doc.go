// Package dtmf detects and carries DTMF digits: the RFC 4733 telephone-event
// payload, a Receiver that turns a peer's packets into exactly one digit per
// event (however many updates and end retransmissions arrive), a Sender that
// produces the packet sequence of a digit, end-packet triplet included, and
// an InbandDetector (Goertzel, with energy, twist, relative-peak, tone-share
// and harmonic checks) for peers that send digits as tones in the audio.
//
// It does no I/O and keeps no goroutines: the RTP session feeds it packets
// and frames and asks it for the packet of each 20 ms tick. SIP INFO digits
// are the SIP layer's; all three kinds report media.Digit so that the
// interpreter sees one kind of digit.
package dtmf
