package store

import (
	"context"
	"time"
)

// Live-state key layout (seed 000), shared by every implementation so that
// jambonz's own tools can read voxrun's Redis.
const (
	// ActiveCallSIDsKey is the sorted set of call keys, scored by ms since the epoch.
	ActiveCallSIDsKey = "active-call-sids"
	// CallTTL is how long a call hash lives while the call is up.
	CallTTL = 12 * time.Hour
	// EndedCallTTL is how long a call hash lives once the call has ended.
	EndedCallTTL = time.Hour
	// NATRegistrationTTL is the expiry granted to devices behind NAT.
	NATRegistrationTTL = 30 * time.Second
)

// CallKey is the key of a call's hash: call:{accountSid}:{callSid}.
func CallKey(accountSID, callSID string) string {
	return "call:" + accountSID + ":" + callSID
}

// UserKey is the key of a registration: user:{name}@{domain}.
func UserKey(name, domain string) string { return "user:" + name + "@" + domain }

// QueueKey is the key of a queue: queue:{accountSid}:{name}.
func QueueKey(accountSID, name string) string { return "queue:" + accountSID + ":" + name }

// ConferenceKey is the key of a conference: conf:{accountSid}:{name}.
func ConferenceKey(accountSID, name string) string { return "conf:" + accountSID + ":" + name }

// TTSKey is the key of cached synthesised audio: tts:{key}.
func TTSKey(key string) string { return "tts:" + key }

// KVKey is the key of a JS app's value: kv:{accountSid}:{key}.
func KVKey(accountSID, key string) string { return "kv:" + accountSID + ":" + key }

// LockKey is the key of a Locker lease: lock:{name}.
func LockKey(name string) string { return "lock:" + name }

// PurgeLockName is the Locker name under which PurgeCalls runs, so that one
// node purges at a time.
const PurgeLockName = "purge:active-call-sids"

// CallState mirrors calls in progress: one hash per call plus the
// active-call-sids index.
type CallState interface {
	// PutCall creates the call's hash (TTL CallTTL) or merges fields into it, and
	// adds its key to active-call-sids when it is new.
	PutCall(ctx context.Context, accountSID, callSID string, fields map[string]string) error
	// EndCall shortens the hash's TTL to EndedCallTTL.
	EndCall(ctx context.Context, accountSID, callSID string) error
	// GetCall returns the hash, or ErrNotFound.
	GetCall(ctx context.Context, accountSID, callSID string) (map[string]string, error)
	// DeleteCall removes the hash and its index entry.
	DeleteCall(ctx context.Context, accountSID, callSID string) error
	// ListCalls returns the hashes of an account's calls that have not expired.
	ListCalls(ctx context.Context, accountSID string) ([]map[string]string, error)
	// PurgeCalls removes index members whose hash has expired, under a lock so
	// that one node purges at a time. It reports how many it removed.
	PurgeCalls(ctx context.Context) (int, error)
}

// Registration is a SIP device's binding.
type Registration struct {
	Name          string    `json:"name"`
	Domain        string    `json:"domain"`
	Contact       string    `json:"contact"`
	SourceAddress string    `json:"source_address"`
	SourcePort    int       `json:"source_port"`
	Transport     string    `json:"protocol"`
	Node          string    `json:"node"`
	UserAgent     string    `json:"user_agent,omitempty"`
	CallID        string    `json:"call_id,omitempty"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// Registrations keeps SIP bindings under user:{name}@{domain}, each expiring on its own.
type Registrations interface {
	// Register stores the binding with TTL ttl (the granted expiry).
	Register(ctx context.Context, r Registration, ttl time.Duration) error
	Unregister(ctx context.Context, name, domain string) error
	// Registration returns the binding, or ErrNotFound.
	Registration(ctx context.Context, name, domain string) (Registration, error)
	// ListRegistrations returns the live bindings of a SIP realm.
	ListRegistrations(ctx context.Context, domain string) ([]Registration, error)
}

// QueueEntry is a call waiting in a queue.
type QueueEntry struct {
	CallSID    string    `json:"call_sid"`
	Priority   int       `json:"priority"` // lower is served first; 0..999999
	EnqueuedAt time.Time `json:"enqueued_at"`
}

// QueueInfo summarises one queue of an account.
type QueueInfo struct {
	Name   string `json:"name"`
	Length int    `json:"length"`
}

// Queues keeps call queues ordered by priority, then arrival.
type Queues interface {
	// Enqueue adds the entry and returns its 1-based position.
	Enqueue(ctx context.Context, accountSID, queue string, e QueueEntry) (int, error)
	// Dequeue removes and returns the first entry, or ErrNotFound when empty.
	Dequeue(ctx context.Context, accountSID, queue string) (QueueEntry, error)
	// RemoveFromQueue takes one call out of the queue (it hung up).
	RemoveFromQueue(ctx context.Context, accountSID, queue, callSID string) error
	// QueueMembers lists the entries in service order.
	QueueMembers(ctx context.Context, accountSID, queue string) ([]QueueEntry, error)
	// ListQueues lists the account's non-empty queues.
	ListQueues(ctx context.Context, accountSID string) ([]QueueInfo, error)
}

// ConferenceMember is one call in a conference.
type ConferenceMember struct {
	CallSID   string    `json:"call_sid"`
	Node      string    `json:"node"`
	JoinedAt  time.Time `json:"joined_at"`
	Moderator bool      `json:"moderator,omitempty"`
}

// Conferences keeps who is in which conference.
type Conferences interface {
	// JoinConference adds the member and returns the member count.
	JoinConference(ctx context.Context, accountSID, name string, m ConferenceMember) (int, error)
	// LeaveConference removes the member and returns the count left; the
	// conference disappears when it is empty.
	LeaveConference(ctx context.Context, accountSID, name, callSID string) (int, error)
	ConferenceMembers(ctx context.Context, accountSID, name string) ([]ConferenceMember, error)
	// ListConferences lists the account's conference names.
	ListConferences(ctx context.Context, accountSID string) ([]string, error)
}

// TTSCache keeps synthesised audio so that a repeated prompt is not synthesised twice.
type TTSCache interface {
	GetTTS(ctx context.Context, key string) ([]byte, error)
	PutTTS(ctx context.Context, key string, audio []byte, ttl time.Duration) error
}

// KV is the per-account key/value store with expiry that JS apps use (ctx.kv).
type KV interface {
	KVGet(ctx context.Context, accountSID, key string) (string, error)
	// KVSet stores value; ttl 0 means no expiry.
	KVSet(ctx context.Context, accountSID, key, value string, ttl time.Duration) error
	KVDelete(ctx context.Context, accountSID, key string) error
}

// Values are system keys with expiry: session checkpoints, digest nonces, node
// adverts. SetValueNX stores only when the key is absent, for single-use tokens.
type Values interface {
	GetValue(ctx context.Context, key string) ([]byte, error)
	SetValue(ctx context.Context, key string, v []byte, ttl time.Duration) error
	SetValueNX(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error)
	DeleteValue(ctx context.Context, key string) error
}

// Locker takes short cluster-wide locks with a lease.
type Locker interface {
	// TryLock takes the lock for ttl; ok is false when another holder has it.
	// unlock releases it only if this holder still owns it.
	TryLock(ctx context.Context, name string, ttl time.Duration) (unlock func(context.Context) error, ok bool, err error)
}

// Message is one event received on a channel.
type Message struct {
	Channel string
	Payload []byte
}

// Subscription delivers a channel's messages until it is closed.
type Subscription interface {
	Messages() <-chan Message
	Close() error
}

// PubSub carries events between nodes.
type PubSub interface {
	Publish(ctx context.Context, channel string, payload []byte) error
	// Subscribe returns once the subscription is active, so that a Publish after
	// it is delivered.
	Subscribe(ctx context.Context, channels ...string) (Subscription, error)
}

// Live is the live state of calls and devices: in memory on a laptop, Redis in production.
type Live interface {
	CallState
	Registrations
	Queues
	Conferences
	TTSCache
	KV
	Values
	Locker
	PubSub
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	Close() error
}
