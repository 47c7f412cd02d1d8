package sdp

// Direction is a media stream's direction attribute (RFC 3264 §5.1), seen
// from the side that wrote it.
type Direction uint8

// The four directions. SendRecv is the zero value's meaning when unset.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

// String returns the attribute name.
func (d Direction) String() string {
	switch d {
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return "sendrecv"
}

// Sends reports whether the side that wrote d sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the side that wrote d receives media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// Reverse is the direction as the other side sees it (sendonly ↔ recvonly).
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// answerTo is the direction an answerer willing to do want writes for an
// offer of d (RFC 3264 §6.1): it may only narrow the reverse of the offer.
func answerTo(offer, want Direction) Direction {
	return join(offer.Reverse().Sends() && want.Sends(), offer.Reverse().Receives() && want.Receives())
}

func join(send, recv bool) Direction {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	}
	return Inactive
}

func parseDirection(s string) (Direction, bool) {
	switch s {
	case "sendrecv":
		return SendRecv, true
	case "sendonly":
		return SendOnly, true
	case "recvonly":
		return RecvOnly, true
	case "inactive":
		return Inactive, true
	}
	return SendRecv, false
}
