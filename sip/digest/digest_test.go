package digest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	icholy "github.com/icholy/digest"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/digest"
	"github.com/voxrun/voxrun/sip/siptest"
	"github.com/voxrun/voxrun/store"
)

// values is a store.Values in memory, for this unit test only.
type values struct {
	mu sync.Mutex
	m  map[string][]byte
}

var _ store.Values = (*values)(nil)

func (v *values) GetValue(_ context.Context, k string) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	b, ok := v.m[k]
	if !ok {
		return nil, store.ErrNotFound
	}
	return b, nil
}

func (v *values) SetValue(_ context.Context, k string, b []byte, _ time.Duration) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m[k] = b
	return nil
}

func (v *values) SetValueNX(_ context.Context, k string, b []byte, _ time.Duration) (bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.m[k]; ok {
		return false, nil
	}
	v.m[k] = b
	return true, nil
}

func (v *values) DeleteValue(_ context.Context, k string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, k)
	return nil
}

const realm = "acme.sip.example.com"

type fixture struct {
	auth    *digest.Authenticator
	clock   *siptest.Clock
	lookups int
}

func newFixture(t *testing.T, algs ...string) *fixture {
	f := &fixture{clock: siptest.NewClock(time.Unix(1_700_000_000, 0))}
	a, err := digest.New(digest.Config{
		Secret:     []byte("0123456789abcdef0123456789abcdef"),
		Algorithms: algs,
		Clock:      f.clock.Now,
	}, &values{m: map[string][]byte{}})
	require.NoError(t, err)
	f.auth = a
	return f
}

func (f *fixture) lookup(_ context.Context, r, user string) (string, error) {
	f.lookups++
	if r == realm && user == "alice" {
		return "s3cret", nil
	}
	return "", digest.ErrUnknownUser
}

// answer computes credentials as a client would, with icholy/digest.
func answer(t *testing.T, challenge, user, password string, count int) string {
	t.Helper()
	chal, err := icholy.ParseChallenge(challenge)
	require.NoError(t, err)
	cred, err := icholy.Digest(chal, icholy.Options{Method: "REGISTER", URI: "sip:" + realm, Username: user, Password: password, Count: count})
	require.NoError(t, err)
	return cred.String()
}

func (f *fixture) verify(auth string) (string, error) {
	return f.auth.Verify(context.Background(), digest.Request{Method: "REGISTER", Authorization: auth, Realm: realm}, f.lookup)
}

func requireDigestError(t *testing.T, err error, status int, sentinel error) *digest.Error {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	var de *digest.Error
	require.True(t, errors.As(err, &de))
	require.Equal(t, status, de.Status)
	return de
}

func TestChallenge(t *testing.T) {
	f := newFixture(t)
	ch, err := f.auth.Challenge(realm, false)
	require.NoError(t, err)
	require.Len(t, ch, 2)
	require.Contains(t, ch[0], "algorithm=SHA-256")
	require.Contains(t, ch[1], "algorithm=MD5")
	for _, c := range ch {
		parsed, err := icholy.ParseChallenge(c)
		require.NoError(t, err)
		require.Equal(t, realm, parsed.Realm)
		require.Equal(t, []string{"auth"}, parsed.QOP)
	}
	other, err := f.auth.Challenge(realm, false)
	require.NoError(t, err)
	require.NotEqual(t, ch[0], other[0], "every challenge has a fresh nonce")
	require.Zero(t, f.lookups, "challenging looks no user up")
}

func TestVerify(t *testing.T) {
	for _, alg := range []string{digest.SHA256, digest.MD5} {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			ch, err := f.auth.Challenge(realm, false)
			require.NoError(t, err)
			user, err := f.verify(answer(t, ch[0], "alice", "s3cret", 1))
			require.NoError(t, err)
			require.Equal(t, "alice", user)
			// The same nonce count again is a replay; the next count is fine.
			_, err = f.verify(answer(t, ch[0], "alice", "s3cret", 1))
			requireDigestError(t, err, 401, digest.ErrReplay)
			_, err = f.verify(answer(t, ch[0], "alice", "s3cret", 2))
			require.NoError(t, err)
		})
	}
}

func TestUnknownUserAndWrongPasswordLookAlike(t *testing.T) {
	f := newFixture(t)
	ch, err := f.auth.Challenge(realm, false)
	require.NoError(t, err)
	_, errWrong := f.verify(answer(t, ch[0], "alice", "guess", 1))
	_, errUnknown := f.verify(answer(t, ch[0], "mallory", "guess", 1))
	a := requireDigestError(t, errWrong, 401, digest.ErrBadCredentials)
	b := requireDigestError(t, errUnknown, 401, digest.ErrBadCredentials)
	require.Equal(t, *a, *b)
	require.Equal(t, errWrong.Error(), errUnknown.Error())
}

func TestVerifyRefusals(t *testing.T) {
	f := newFixture(t, digest.SHA256)
	ch, err := f.auth.Challenge(realm, false)
	require.NoError(t, err)
	good := answer(t, ch[0], "alice", "s3cret", 1)
	otherRealm, err := f.auth.Challenge("other.example.com", false)
	require.NoError(t, err)
	otherNonce, _ := icholy.ParseChallenge(otherRealm[0])
	md5Chal := strings.Replace(ch[0], "algorithm=SHA-256", "algorithm=MD5", 1)

	cases := []struct {
		name     string
		auth     string
		status   int
		sentinel error
	}{
		{"no credentials", "", 401, digest.ErrMissing},
		{"not digest", "Basic YWxpY2U6czNjcmV0", 400, digest.ErrMalformed},
		{"no response", strings.Replace(good, "response=", "x-response=", 1), 400, digest.ErrMalformed},
		{"tampered nonce", strings.Replace(good, `nonce="`, `nonce="A`, 1), 401, digest.ErrBadNonce},
		{"nonce of another realm", strings.Replace(good, ch0Nonce(t, ch[0]), otherNonce.Nonce, 1), 401, digest.ErrBadNonce},
		{"credentials for another realm", strings.Replace(good, `realm="`+realm, `realm="other.example.com`, 1), 401, digest.ErrBadNonce},
		{"algorithm not offered", answer(t, md5Chal, "alice", "s3cret", 1), 401, digest.ErrUnsupported},
		{"no qop", strings.Replace(good, "qop=auth", "qop=none", 1), 401, digest.ErrUnsupported},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.lookups
			_, err := f.verify(tc.auth)
			requireDigestError(t, err, tc.status, tc.sentinel)
			require.Equal(t, before, f.lookups, "refused before any user lookup")
		})
	}
}

func ch0Nonce(t *testing.T, ch string) string {
	c, err := icholy.ParseChallenge(ch)
	require.NoError(t, err)
	return c.Nonce
}

func TestNonceExpires(t *testing.T) {
	f := newFixture(t)
	ch, err := f.auth.Challenge(realm, false)
	require.NoError(t, err)
	f.clock.Advance(digest.MaxNonceTTL - time.Second)
	_, err = f.verify(answer(t, ch[0], "alice", "s3cret", 1))
	require.NoError(t, err)
	f.clock.Advance(2 * time.Second)
	_, err = f.verify(answer(t, ch[0], "alice", "s3cret", 2))
	de := requireDigestError(t, err, 401, digest.ErrStale)
	require.True(t, de.Stale)
	stale, err := f.auth.Challenge(realm, true)
	require.NoError(t, err)
	require.Contains(t, stale[0], "stale=true")
}

func TestConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  digest.Config
		vals store.Values
	}{
		{"short secret", digest.Config{Secret: []byte("short")}, &values{}},
		{"no store", digest.Config{Secret: make([]byte, 32)}, nil},
		{"unknown algorithm", digest.Config{Secret: make([]byte, 32), Algorithms: []string{"SHA-1"}}, &values{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := digest.New(tc.cfg, tc.vals)
			require.ErrorIs(t, err, digest.ErrConfig)
		})
	}
}
