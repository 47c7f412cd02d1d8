package room

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/clock"
)

// Pacer is the shared clock a room registers with (*clock.Clock).
type Pacer interface {
	Register(t clock.Ticker) (unregister func(), err error)
}

// Config tunes a room. Zero values mean the defaults.
type Config struct {
	// MaxMembers bounds the room (0: no bound).
	MaxMembers int
	// NoRelay always mixes, even two members on the same codec (for
	// measuring the fast path against transcoding).
	NoRelay bool
}

// depth is how many frames a member's queues hold: enough to absorb the
// phase between the room's tick, the endpoint's tick and packet arrival,
// small enough to add at most a few frames of delay.
const depth = 4

// ring is a fixed queue of frames; it drops the oldest when full.
type ring struct {
	frames [depth][media.FrameSamples]int16
	head   int
	n      int
}

func (q *ring) push(f []int16) {
	i := (q.head + q.n) % depth
	if q.n == depth {
		q.head = (q.head + 1) % depth // full: drop the oldest
	} else {
		q.n++
	}
	copy(q.frames[i][:], f)
}

func (q *ring) pop(dst []int16) bool {
	if q.n == 0 {
		return false
	}
	copy(dst, q.frames[q.head][:])
	q.head = (q.head + 1) % depth
	q.n--
	return true
}

// Room mixes its members' audio on every tick.
type Room struct {
	cfg        Config
	mu         sync.Mutex
	members    []*Member
	closed     bool
	unregister func()
	closeOnce  sync.Once
	relaying   bool
	pair       [2]*Member // the relayed members

	// Only Tick touches these.
	sum  [media.FrameSamples]int32
	in   [][media.FrameSamples]int16
	have []bool
}

// Member is one endpoint in a room.
type Member struct {
	room   *Room
	ep     media.Endpoint
	remove func()

	mu    sync.Mutex
	in    ring // frames from the endpoint, waiting for the room's tick
	out   ring // mixes waiting for the endpoint's tick
	muted bool
	deaf  bool
	left  bool
	// whisper: the endpoint was given another source while relayed; the
	// room mixes until Resume. resumes counts Resume calls.
	whisper        bool
	resumes        uint64
	resumesAtRelay uint64
}

var (
	_ media.Sink   = (*Member)(nil)
	_ media.Source = (*Member)(nil)
)

// New returns a room on the clock; Close ends it.
func New(clk Pacer, cfg Config) (*Room, error) {
	r := &Room{cfg: cfg}
	unregister, err := clk.Register(r)
	if err != nil {
		return nil, fmt.Errorf("media/room: %w", err)
	}
	r.unregister = unregister
	return r, nil
}

// Join adds ep: from now on the room listens to it and it plays the mix of
// the others (ep's current source is replaced).
func (r *Room) Join(ep media.Endpoint) (*Member, error) {
	m := &Member{room: r, ep: ep}
	r.mu.Lock()
	switch {
	case r.closed:
		r.mu.Unlock()
		return nil, ErrClosed
	case r.cfg.MaxMembers > 0 && len(r.members) >= r.cfg.MaxMembers:
		r.mu.Unlock()
		return nil, ErrFull
	}
	r.members = append(r.members, m)
	r.mu.Unlock()
	m.remove = ep.AddSink(m)
	ep.SetSource(m)
	return m, nil
}

// Len is the number of members.
func (r *Room) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members)
}

// Close removes every member (their endpoints go back to silence) and stops
// the room; it is idempotent.
func (r *Room) Close() error {
	r.closeOnce.Do(func() {
		r.unregister()
		r.mu.Lock()
		r.closed = true
		r.exitRelayLocked()
		members := r.members
		r.members = nil
		r.mu.Unlock()
		for _, m := range members {
			m.detach()
		}
	})
	return nil
}

// Leave takes the member out of the room; its endpoint goes back to
// silence. It is idempotent.
func (m *Member) Leave() {
	r := m.room
	r.mu.Lock()
	for i, x := range r.members {
		if x == m {
			r.members = append(r.members[:i], r.members[i+1:]...)
			break
		}
	}
	if r.relaying && (r.pair[0] == m || r.pair[1] == m) {
		r.exitRelayLocked()
	}
	r.mu.Unlock()
	m.detach()
}

func (m *Member) detach() {
	m.mu.Lock()
	if m.left {
		m.mu.Unlock()
		return
	}
	m.left = true
	m.mu.Unlock()
	m.remove()
	m.ep.SetSource(nil)
}

// Endpoint is the member's endpoint.
func (m *Member) Endpoint() media.Endpoint { return m.ep }

// SetMuted sets whether the others hear this member.
func (m *Member) SetMuted(muted bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.muted = muted
}

// SetDeaf sets whether this member hears the others (hold).
func (m *Member) SetDeaf(deaf bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deaf = deaf
}

// Resume gives the member's endpoint its mix back after a whisper (a prompt
// set directly on the endpoint). The endpoint keeps its RTP continuity; a
// two-member room goes back to relaying on its next tick.
func (m *Member) Resume() {
	m.mu.Lock()
	m.whisper = false
	m.resumes++
	m.mu.Unlock()
	m.ep.SetSource(m)
}

// WriteFrame takes a frame the member's endpoint received (media.Sink).
func (m *Member) WriteFrame(frame []int16) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.left {
		return media.ErrClosed // removes the sink
	}
	m.in.push(frame)
	return nil
}

// ReadFrame gives the member's endpoint its next mix (media.Source): the
// others, or silence when none is ready.
func (m *Member) ReadFrame(frame []int16) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.out.pop(frame) {
		clear(frame)
	}
	return nil
}

// Tick mixes one frame: each member's next inbound frame is summed, and each
// member gets the sum minus its own contribution, saturated to 16 bits.
func (r *Room) Tick(time.Time) {
	r.mu.Lock()
	r.updateRelayLocked()
	if r.relaying {
		r.mu.Unlock()
		return
	}
	members := r.members
	n := len(members)
	if cap(r.in) < n {
		r.in = make([][media.FrameSamples]int16, n)
		r.have = make([]bool, n)
	}
	r.in, r.have = r.in[:n], r.have[:n]
	clear(r.sum[:])
	for i, m := range members {
		m.mu.Lock()
		r.have[i] = m.in.pop(r.in[i][:]) && !m.muted
		m.mu.Unlock()
		if r.have[i] {
			for k, v := range r.in[i] {
				r.sum[k] += int32(v)
			}
		}
	}
	var out [media.FrameSamples]int16
	for i, m := range members {
		for k := range out {
			v := r.sum[k]
			if r.have[i] {
				v -= int32(r.in[i][k])
			}
			out[k] = int16(max(math.MinInt16, min(math.MaxInt16, v)))
		}
		m.mu.Lock()
		if m.deaf {
			clear(out[:])
		}
		m.out.push(out[:])
		m.mu.Unlock()
	}
	r.mu.Unlock()
}
