package redisstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/voxrun/voxrun/store"
)

// Calls.

// PutCall writes the call's fields in one MULTI round trip: HSET merges them,
// EXPIRE NX gives a new hash store.CallTTL (and leaves an existing hash's TTL,
// 12 h or the 1 h of an ended call, alone), and ZADD NX indexes the key in
// active-call-sids scored by the time of entry. EXPIRE NX needs Redis ≥ 7.0.
// On a cluster see [Store.callPipeline].
func (s *Store) PutCall(ctx context.Context, accountSID, callSID string, fields map[string]string) error {
	if err := s.begin(ctx, "put call"); err != nil {
		return err
	}
	if len(fields) == 0 {
		return fmt.Errorf("store/redis: put call %s: no fields: %w", callSID, store.ErrInvalid)
	}
	key := store.CallKey(accountSID, callSID)
	args := make([]any, 0, 2*len(fields))
	for k, v := range fields {
		args = append(args, k, v)
	}
	pipe := s.callPipeline()
	pipe.HSet(ctx, key, args...)
	pipe.ExpireNX(ctx, key, store.CallTTL)
	pipe.ZAddNX(ctx, store.ActiveCallSIDsKey, redis.Z{Score: float64(s.now().UnixMilli()), Member: key})
	_, err := pipe.Exec(ctx)
	return wrap("put call", err)
}

// EndCall sets the call's TTL to store.EndedCallTTL.
func (s *Store) EndCall(ctx context.Context, accountSID, callSID string) error {
	if err := s.begin(ctx, "end call"); err != nil {
		return err
	}
	key := store.CallKey(accountSID, callSID)
	ok, err := s.client.Expire(ctx, key, store.EndedCallTTL).Result()
	if err != nil {
		return wrap("end call", err)
	}
	if !ok {
		return fmt.Errorf("store/redis: end call %q: %w", key, store.ErrNotFound)
	}
	return nil
}

// GetCall returns the call's hash, or store.ErrNotFound.
func (s *Store) GetCall(ctx context.Context, accountSID, callSID string) (map[string]string, error) {
	if err := s.begin(ctx, "get call"); err != nil {
		return nil, err
	}
	key := store.CallKey(accountSID, callSID)
	h, err := s.client.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, wrap("get call", err)
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("store/redis: get call %q: %w", key, store.ErrNotFound)
	}
	return h, nil
}

// DeleteCall removes the hash and its active-call-sids member in one round
// trip (see [Store.callPipeline]).
func (s *Store) DeleteCall(ctx context.Context, accountSID, callSID string) error {
	if err := s.begin(ctx, "delete call"); err != nil {
		return err
	}
	key := store.CallKey(accountSID, callSID)
	pipe := s.callPipeline()
	pipe.Del(ctx, key)
	pipe.ZRem(ctx, store.ActiveCallSIDsKey, key)
	_, err := pipe.Exec(ctx)
	return wrap("delete call", err)
}

// callPipeline batches a write to a call's hash and to active-call-sids: a
// MULTI on a single server. On a cluster the two keys live in different hash
// slots (the layout has no hash tags, so that jambonz's tools find them), and
// MULTI cannot span slots: there it is a plain pipeline, one round trip per
// node and not atomic. The worst a crash between the two can leave is a hash
// missing from the index (PutCall adds it back on the next write) or an index
// member without a hash (PurgeCalls removes it).
func (s *Store) callPipeline() redis.Pipeliner {
	if _, ok := s.client.(*redis.ClusterClient); ok {
		return s.client.Pipeline()
	}
	return s.client.TxPipeline()
}

// indexed is a member of active-call-sids.
type indexed struct {
	key   string
	score float64
}

// zscan returns the members of active-call-sids that match the pattern, each
// once (ZSCAN may repeat one).
func (s *Store) zscan(ctx context.Context, match string) ([]indexed, error) {
	var (
		cursor uint64
		seen   = map[string]struct{}{}
		found  []indexed
	)
	for {
		batch, next, err := s.client.ZScan(ctx, store.ActiveCallSIDsKey, cursor, match, scanCount).Result()
		if err != nil {
			return nil, err
		}
		for i := 0; i+1 < len(batch); i += 2 { // member, score, member, score...
			if _, dup := seen[batch[i]]; dup {
				continue
			}
			seen[batch[i]] = struct{}{}
			score, _ := strconv.ParseFloat(batch[i+1], 64)
			found = append(found, indexed{batch[i], score})
		}
		if cursor = next; cursor == 0 {
			return found, nil
		}
	}
}

// ListCalls finds the account's keys by ZSCAN of active-call-sids with MATCH
// call:{accountSid}:*, then reads them with HGETALL in pipelines. Members
// whose hash has expired (not yet purged) are skipped. Oldest first.
func (s *Store) ListCalls(ctx context.Context, accountSID string) ([]map[string]string, error) {
	if err := s.begin(ctx, "list calls"); err != nil {
		return nil, err
	}
	found, err := s.zscan(ctx, "call:"+globEscape(accountSID)+":*")
	if err != nil {
		return nil, wrap("list calls", err)
	}
	slices.SortFunc(found, func(a, b indexed) int {
		return cmp.Or(cmp.Compare(a.score, b.score), strings.Compare(a.key, b.key))
	})
	var calls []map[string]string
	for batch := range slices.Chunk(found, scanCount) {
		pipe := s.client.Pipeline()
		cmds := make([]*redis.MapStringStringCmd, len(batch))
		for i, f := range batch {
			cmds[i] = pipe.HGetAll(ctx, f.key)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, wrap("list calls", err)
		}
		for _, c := range cmds {
			if h := c.Val(); len(h) > 0 {
				calls = append(calls, h)
			}
		}
	}
	return calls, nil
}

// PurgeCalls removes the members of active-call-sids whose hash no longer
// exists, under the lock lock:purge:active-call-sids so that one node purges
// at a time; when another node holds it, it returns 0 at once. Existence is
// checked with EXISTS in pipelines of scanCount, and the dead members removed
// with one ZREM per batch.
func (s *Store) PurgeCalls(ctx context.Context) (int, error) {
	unlock, ok, err := s.TryLock(ctx, PurgeLockName, purgeLease)
	if err != nil || !ok {
		return 0, err
	}
	defer func() { _ = unlock(context.WithoutCancel(ctx)) }()
	members, err := s.zscan(ctx, "")
	if err != nil {
		return 0, wrap("purge calls", err)
	}
	removed := 0
	for batch := range slices.Chunk(members, scanCount) {
		pipe := s.client.Pipeline()
		cmds := make([]*redis.IntCmd, len(batch))
		for i, m := range batch {
			cmds[i] = pipe.Exists(ctx, m.key)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return removed, wrap("purge calls", err)
		}
		var dead []any
		for i, c := range cmds {
			if c.Val() == 0 {
				dead = append(dead, batch[i].key)
			}
		}
		if len(dead) == 0 {
			continue
		}
		n, err := s.client.ZRem(ctx, store.ActiveCallSIDsKey, dead...).Result()
		removed += int(n)
		if err != nil {
			return removed, wrap("purge calls", err)
		}
	}
	return removed, nil
}

// Registrations.

// Registration hash fields. contact, protocol, sbcAddress, proxy and
// expiryTime are the names jambonz's registrar writes (sbcAddress is the node
// that took the REGISTER, proxy is sip:{source address}:{source port},
// expiryTime is ms since the epoch), so that its tools read voxrun's bindings.
const (
	regName       = "name"
	regDomain     = "domain"
	regContact    = "contact"
	regSourceAddr = "source_address"
	regSourcePort = "source_port"
	regProtocol   = "protocol"
	regNode       = "sbcAddress"
	regProxy      = "proxy"
	regUserAgent  = "user_agent"
	regCallID     = "call_id"
	regExpiry     = "expiryTime"
)

// Register replaces user:{name}@{domain} with the binding and gives it TTL
// ttl, in one MULTI (DEL, HSET, PEXPIRE).
func (s *Store) Register(ctx context.Context, r store.Registration, ttl time.Duration) error {
	if err := s.begin(ctx, "register"); err != nil {
		return err
	}
	if ttl <= 0 || r.Name == "" || r.Domain == "" {
		return fmt.Errorf("store/redis: register %s@%s for %v: %w", r.Name, r.Domain, ttl, store.ErrInvalid)
	}
	if r.ExpiresAt.IsZero() {
		r.ExpiresAt = s.now().Add(ttl)
	}
	fields := []any{
		regName, r.Name,
		regDomain, r.Domain,
		regContact, r.Contact,
		regProtocol, r.Transport,
		regNode, r.Node,
		regExpiry, strconv.FormatInt(r.ExpiresAt.UnixMilli(), 10),
	}
	if r.SourceAddress != "" {
		fields = append(fields, regSourceAddr, r.SourceAddress, regSourcePort, strconv.Itoa(r.SourcePort),
			regProxy, "sip:"+r.SourceAddress+":"+strconv.Itoa(r.SourcePort))
	}
	if r.UserAgent != "" {
		fields = append(fields, regUserAgent, r.UserAgent)
	}
	if r.CallID != "" {
		fields = append(fields, regCallID, r.CallID)
	}
	key := store.UserKey(r.Name, r.Domain)
	pipe := s.client.TxPipeline()
	pipe.Del(ctx, key)
	pipe.HSet(ctx, key, fields...)
	pipe.PExpire(ctx, key, ttl)
	_, err := pipe.Exec(ctx)
	return wrap("register", err)
}

// Unregister removes the binding; a missing one is not an error.
func (s *Store) Unregister(ctx context.Context, name, domain string) error {
	return s.del(ctx, "unregister", store.UserKey(name, domain))
}

// Registration returns the binding, or store.ErrNotFound.
func (s *Store) Registration(ctx context.Context, name, domain string) (store.Registration, error) {
	if err := s.begin(ctx, "registration"); err != nil {
		return store.Registration{}, err
	}
	key := store.UserKey(name, domain)
	h, err := s.client.HGetAll(ctx, key).Result()
	if err != nil {
		return store.Registration{}, wrap("registration", err)
	}
	if len(h) == 0 {
		return store.Registration{}, fmt.Errorf("store/redis: registration %q: %w", key, store.ErrNotFound)
	}
	return decodeRegistration(name, domain, h), nil
}

func decodeRegistration(name, domain string, h map[string]string) store.Registration {
	r := store.Registration{
		Name:          cmp.Or(h[regName], name),
		Domain:        cmp.Or(h[regDomain], domain),
		Contact:       h[regContact],
		SourceAddress: h[regSourceAddr],
		Transport:     h[regProtocol],
		Node:          h[regNode],
		UserAgent:     h[regUserAgent],
		CallID:        h[regCallID],
	}
	r.SourcePort, _ = strconv.Atoi(h[regSourcePort])
	if ms, err := strconv.ParseInt(h[regExpiry], 10, 64); err == nil {
		r.ExpiresAt = time.UnixMilli(ms)
	}
	return r
}

// ListRegistrations finds user:*@{domain} by SCAN (on every master of a
// cluster) and reads the hashes with HGETALL in pipelines. By name.
func (s *Store) ListRegistrations(ctx context.Context, domain string) ([]store.Registration, error) {
	if err := s.begin(ctx, "list registrations"); err != nil {
		return nil, err
	}
	keys, err := s.scanKeys(ctx, "user:*@"+globEscape(domain))
	if err != nil {
		return nil, wrap("list registrations", err)
	}
	var regs []store.Registration
	for batch := range slices.Chunk(keys, scanCount) {
		pipe := s.client.Pipeline()
		cmds := make([]*redis.MapStringStringCmd, len(batch))
		for i, k := range batch {
			cmds[i] = pipe.HGetAll(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, wrap("list registrations", err)
		}
		for i, c := range cmds {
			h := c.Val()
			if len(h) == 0 {
				continue // expired since the scan
			}
			user := strings.TrimSuffix(strings.TrimPrefix(batch[i], "user:"), "@"+domain)
			if r := decodeRegistration(user, domain, h); r.Domain == domain {
				regs = append(regs, r)
			}
		}
	}
	slices.SortFunc(regs, func(a, b store.Registration) int { return strings.Compare(a.Name, b.Name) })
	return regs, nil
}
