package room

import (
	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/rtpsession"
)

// Relayer is an endpoint that can forward packets without decoding them
// (*rtpsession.Session). Two members that are Relayers with the same Format
// are relayed instead of mixed.
type Relayer interface {
	media.Endpoint
	Format() rtpsession.Format
	SetPacketSink(ps rtpsession.PacketSink)
	StartRelay()
	StopRelay()
	Relaying() bool
	SendRelay(p rtpsession.Packet)
}

var _ Relayer = (*rtpsession.Session)(nil)

type relayTo struct{ dst Relayer }

func (r relayTo) RelayPacket(p rtpsession.Packet) { r.dst.SendRelay(p) }

// Relaying reports whether the room is on the fast path: two members on the
// same codec and ptime, nobody muted, deaf or whispered to.
func (r *Room) Relaying() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.relaying
}

// relayableLocked says whether the members could be relayed now.
func (r *Room) relayableLocked() (a, b Relayer, ok bool) {
	if r.cfg.NoRelay || len(r.members) != 2 {
		return nil, nil, false
	}
	m0, m1 := r.members[0], r.members[1]
	a, ok0 := m0.ep.(Relayer)
	b, ok1 := m1.ep.(Relayer)
	if !ok0 || !ok1 || a.Format() != b.Format() {
		return nil, nil, false
	}
	for _, m := range r.members {
		m.mu.Lock()
		plain := !m.muted && !m.deaf && !m.whisper
		m.mu.Unlock()
		if !plain {
			return nil, nil, false
		}
	}
	return a, b, true
}

// updateRelayLocked enters or leaves the fast path. A relaying session that
// stopped without the room's doing had a prompt set on it (a whisper): the
// room mixes until that member's Resume.
func (r *Room) updateRelayLocked() {
	if r.relaying {
		broken := false
		for _, m := range r.pair {
			if !m.ep.(Relayer).Relaying() {
				broken = true
				m.mu.Lock()
				if m.resumes == m.resumesAtRelay {
					m.whisper = true
				}
				m.mu.Unlock()
			}
		}
		if broken {
			r.exitRelayLocked()
		}
	}
	a, b, ok := r.relayableLocked()
	switch {
	case r.relaying && !ok:
		r.exitRelayLocked()
	case !r.relaying && ok:
		r.pair = [2]*Member{r.members[0], r.members[1]}
		for _, m := range r.pair {
			m.mu.Lock()
			m.resumesAtRelay = m.resumes
			m.mu.Unlock()
		}
		a.SetPacketSink(relayTo{b})
		b.SetPacketSink(relayTo{a})
		a.StartRelay()
		b.StartRelay()
		r.relaying = true
	}
}

func (r *Room) exitRelayLocked() {
	if !r.relaying {
		return
	}
	for _, m := range r.pair {
		rel := m.ep.(Relayer)
		rel.SetPacketSink(nil)
		rel.StopRelay()
	}
	r.pair = [2]*Member{}
	r.relaying = false
}
