package diskcache

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

const (
	dataExt = ".data"
	metaExt = ".meta"
	tmpPfx  = "tmp-"
)

// Cache is a size-bounded LRU directory. It is safe for concurrent use.
type Cache struct {
	dir string
	max int64

	mu    sync.Mutex
	total int64
	lru   *list.List               // front = most recent; values are *entry
	index map[string]*list.Element // by file name stem (hash of the key)
}

type entry struct {
	stem string
	size int64 // data + metadata bytes
}

// Stats are a cache's figures.
type Stats struct {
	Entries int
	Bytes   int64
	Max     int64
}

// Open opens (creating it if needed) the cache in dir, bounded to maxBytes,
// and indexes the entries a previous run left there, oldest first.
func Open(dir string, maxBytes int64) (*Cache, error) {
	if dir == "" || maxBytes <= 0 {
		return nil, fmt.Errorf("%w: dir %q, max %d bytes", ErrConfig, dir, maxBytes)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c := &Cache{dir: dir, max: maxBytes, lru: list.New(), index: map[string]*list.Element{}}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	type found struct {
		stem string
		size int64
		mod  time.Time
	}
	var all []found
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, tmpPfx) {
			_ = os.Remove(filepath.Join(dir, name)) // a crash mid-put
			continue
		}
		stem, ok := strings.CutSuffix(name, dataExt)
		if !ok {
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue
		}
		size := info.Size()
		if mi, err := os.Stat(filepath.Join(dir, stem+metaExt)); err == nil {
			size += mi.Size()
		}
		all = append(all, found{stem, size, info.ModTime()})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mod.After(all[j].mod) })
	for _, f := range all {
		c.index[f.stem] = c.lru.PushBack(&entry{stem: f.stem, size: f.size})
		c.total += f.size
	}
	c.mu.Lock()
	c.evictLocked("")
	c.mu.Unlock()
	return c, nil
}

// Stem is the file name stem of key: the hex SHA-256 of the key.
func Stem(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Get opens the entry of key and returns it with its metadata, and marks it
// most recently used. ok is false when there is no such entry. The caller
// closes the file.
func (c *Cache) Get(key string) (f *os.File, meta []byte, ok bool) {
	stem := Stem(key)
	c.mu.Lock()
	el, ok := c.index[stem]
	if !ok {
		c.mu.Unlock()
		return nil, nil, false
	}
	c.lru.MoveToFront(el)
	// Open under the lock so that eviction cannot remove it in between;
	// once open, removal leaves the file readable.
	f, err := os.Open(c.path(stem, dataExt))
	if err != nil {
		c.removeLocked(el)
		c.mu.Unlock()
		return nil, nil, false
	}
	meta, err = os.ReadFile(c.path(stem, metaExt))
	c.mu.Unlock()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		f.Close()
		return nil, nil, false
	}
	now := time.Now()
	_ = os.Chtimes(f.Name(), now, now) // recency for the next run
	return f, meta, true
}

// Touch marks key's entry most recently used and replaces its metadata
// (a revalidated URL keeps its body and gets new validators).
func (c *Cache) Touch(key string, meta []byte) error {
	stem := Stem(key)
	tmp, err := writeTemp(c.dir, meta)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // a no-op once renamed
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.index[stem]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*entry)
	old := int64(0)
	if fi, err := os.Stat(c.path(stem, metaExt)); err == nil {
		old = fi.Size()
	}
	if err := os.Rename(tmp, c.path(stem, metaExt)); err != nil {
		return fmt.Errorf("media/diskcache: %w", err)
	}
	e.size += int64(len(meta)) - old
	c.total += int64(len(meta)) - old
	return nil
}

// Put stores an entry for key: write writes its data (to a temporary file),
// meta is stored beside it. An entry larger than the cache is refused with
// ErrTooLarge; write may also return ErrTooLarge itself. Storing evicts the
// least recently used entries until the cache fits its bound.
func (c *Cache) Put(key string, meta []byte, write func(w io.Writer) error) error {
	stem := Stem(key)
	tmp, err := os.CreateTemp(c.dir, tmpPfx)
	if err != nil {
		return fmt.Errorf("media/diskcache: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	lw := &limitWriter{w: tmp, left: c.max - int64(len(meta))}
	werr := write(lw)
	cerr := tmp.Close()
	switch {
	case werr != nil:
		return werr
	case cerr != nil:
		return fmt.Errorf("media/diskcache: %w", cerr)
	}
	size := lw.n + int64(len(meta))
	var metaTmp string
	if meta != nil {
		if metaTmp, err = writeTemp(c.dir, meta); err != nil {
			return err
		}
		defer os.Remove(metaTmp) // a no-op once renamed
	}
	// Both renames under the lock, so that two puts of one key cannot pair
	// one's data with the other's metadata.
	c.mu.Lock()
	defer c.mu.Unlock()
	if metaTmp != "" {
		err = os.Rename(metaTmp, c.path(stem, metaExt))
	} else if err = os.Remove(c.path(stem, metaExt)); errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path(stem, dataExt))
	}
	if err != nil {
		return fmt.Errorf("media/diskcache: %w", err)
	}
	if el, ok := c.index[stem]; ok {
		c.total -= el.Value.(*entry).size
		c.lru.Remove(el)
	}
	c.index[stem] = c.lru.PushFront(&entry{stem: stem, size: size})
	c.total += size
	c.evictLocked(stem)
	return nil
}

// Remove deletes key's entry, if any.
func (c *Cache) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.index[Stem(key)]; ok {
		c.removeLocked(el)
	}
}

// Stats returns the cache's figures.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Entries: c.lru.Len(), Bytes: c.total, Max: c.max}
}

// evictLocked drops least recently used entries until the cache fits,
// never keep (the entry just stored).
func (c *Cache) evictLocked(keep string) {
	for c.total > c.max {
		el := c.lru.Back()
		if el == nil {
			return
		}
		if el.Value.(*entry).stem == keep {
			if el.Prev() == nil {
				return
			}
			el = el.Prev()
		}
		c.removeLocked(el)
	}
}

func (c *Cache) removeLocked(el *list.Element) {
	e := el.Value.(*entry)
	c.lru.Remove(el)
	delete(c.index, e.stem)
	c.total -= e.size
	_ = os.Remove(c.path(e.stem, dataExt))
	_ = os.Remove(c.path(e.stem, metaExt))
}

func (c *Cache) path(stem, ext string) string { return filepath.Join(c.dir, stem+ext) }

// writeTemp writes b to a new temporary file in dir and returns its path.
func writeTemp(dir string, b []byte) (string, error) {
	tmp, err := os.CreateTemp(dir, tmpPfx)
	if err != nil {
		return "", fmt.Errorf("media/diskcache: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("media/diskcache: %w", err)
	}
	return tmp.Name(), nil
}

// limitWriter refuses to grow an entry past the cache's bound.
type limitWriter struct {
	w    io.Writer
	left int64
	n    int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, ErrTooLarge
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	l.n += int64(n)
	return n, err
}
