package diskcache

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func put(t *testing.T, c *Cache, key string, n int, meta string) {
	t.Helper()
	var m []byte
	if meta != "" {
		m = []byte(meta)
	}
	require.NoError(t, c.Put(key, m, func(w io.Writer) error {
		_, err := w.Write(bytes.Repeat([]byte{byte(len(key))}, n))
		return err
	}))
}

func has(c *Cache, key string) bool {
	f, _, ok := c.Get(key)
	if ok {
		f.Close()
	}
	return ok
}

func TestPutGet(t *testing.T) {
	c, err := Open(t.TempDir(), 1000)
	require.NoError(t, err)
	put(t, c, "https://example.com/a.wav", 100, `{"etag":"x"}`)
	f, meta, ok := c.Get("https://example.com/a.wav")
	require.True(t, ok)
	defer f.Close()
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	require.Len(t, b, 100)
	require.Equal(t, `{"etag":"x"}`, string(meta))
	require.False(t, has(c, "https://example.com/other.wav"))
	require.Equal(t, Stats{Entries: 1, Bytes: 112, Max: 1000}, c.Stats())
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	cases := []struct {
		name    string
		touch   string // key read before the third put
		evicted string
	}{
		{"oldest goes", "", "a"},
		{"a read keeps a", "a", "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Open(t.TempDir(), 250)
			require.NoError(t, err)
			put(t, c, "a", 100, "")
			put(t, c, "b", 100, "")
			if tc.touch != "" {
				require.True(t, has(c, tc.touch))
			}
			put(t, c, "c", 100, "")
			require.False(t, has(c, tc.evicted))
			require.True(t, has(c, "c"))
			require.LessOrEqual(t, c.Stats().Bytes, int64(250))
			require.Equal(t, 2, c.Stats().Entries)
		})
	}
}

func TestTooLargeIsRefused(t *testing.T) {
	c, err := Open(t.TempDir(), 50)
	require.NoError(t, err)
	err = c.Put("big", nil, func(w io.Writer) error {
		_, err := w.Write(make([]byte, 51))
		return err
	})
	require.ErrorIs(t, err, ErrTooLarge)
	require.False(t, has(c, "big"))
	ents, err := os.ReadDir(c.dir)
	require.NoError(t, err)
	require.Empty(t, ents, "no temporary file left behind")
}

func TestReplaceAndTouchAccounting(t *testing.T) {
	c, err := Open(t.TempDir(), 1000)
	require.NoError(t, err)
	put(t, c, "k", 100, "m1")
	put(t, c, "k", 40, "m2")
	require.Equal(t, Stats{Entries: 1, Bytes: 42, Max: 1000}, c.Stats())
	require.NoError(t, c.Touch("k", []byte("meta-3")))
	require.Equal(t, int64(46), c.Stats().Bytes)
	_, meta, ok := c.Get("k")
	require.True(t, ok)
	require.Equal(t, "meta-3", string(meta))
	c.Remove("k")
	require.Equal(t, Stats{Max: 1000}, c.Stats())
}

func TestReopenKeepsEntriesAndOrder(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir, 1000)
	require.NoError(t, err)
	put(t, c, "a", 100, "")
	put(t, c, "b", 100, "")
	// A crash mid-put leaves a temporary file: reopening clears it.
	require.NoError(t, os.WriteFile(filepath.Join(dir, tmpPfx+"123"), []byte("junk"), 0o600))

	c2, err := Open(dir, 150) // smaller bound: the older entry goes
	require.NoError(t, err)
	require.Equal(t, 1, c2.Stats().Entries)
	require.NoFileExists(t, filepath.Join(dir, tmpPfx+"123"))
}

func TestConcurrentPutsAndGets(t *testing.T) {
	c, err := Open(t.TempDir(), 5000)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				key := string(rune('a' + (i+j)%5))
				put(t, c, key, 300, "m")
				has(c, key)
			}
		})
	}
	wg.Wait()
	require.LessOrEqual(t, c.Stats().Bytes, int64(5000))
}

func TestBadConfig(t *testing.T) {
	_, err := Open("", 10)
	require.ErrorIs(t, err, ErrConfig)
	_, err = Open(t.TempDir(), 0)
	require.ErrorIs(t, err, ErrConfig)
}
