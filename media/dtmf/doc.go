// Package dtmf carries DTMF digits as RFC 4733 telephone-events: the 4-byte
// payload, a Receiver that turns a peer's packets into exactly one digit per
// event (however many updates and end retransmissions arrive), and a Sender
// that produces the packet sequence of a digit, end-packet triplet included.
//
// It does no I/O and keeps no goroutines: the RTP session feeds it packets
// and asks it for the packet of each 20 ms tick. It is not (yet) the in-band
// tone detector, and SIP INFO digits are the SIP layer's; all three report
// media.Digit so that the interpreter sees one kind of digit.
package dtmf
