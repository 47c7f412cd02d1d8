// Package spool makes call records and alerts survive a database outage
// (seed 002): writes are queued and flushed in batches, and a batch the
// database will not take is appended to a local spool file, replayed when the
// database answers again. Records carry their own keys (call_sid, alert_sid),
// so a replay after a partial success never duplicates a row.
//
// It wraps the write side of store.CDRs and store.Alerts; reads go straight
// through. It is not a general queue: nothing but CDRs and alerts goes here.
package spool

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxrun/voxrun/store"
)

// Target is where records go when the database answers.
type Target interface {
	store.CDRs
	store.Alerts
}

// Options configure a Writer.
type Options struct {
	// Dir holds the spool files; it is created when missing.
	Dir string
	// FlushEvery is the longest a record waits in memory (default 1 s).
	FlushEvery time.Duration
	// BatchSize flushes as soon as this many records are queued (default 500).
	BatchSize int
	// RetryEvery is how often spooled files are replayed (default 5 s).
	RetryEvery time.Duration
	// WriteTimeout bounds one database write (default 10 s).
	WriteTimeout time.Duration
	Logger       *slog.Logger
	Metrics      prometheus.Registerer
}

// Writer batches and spools. Build it with New; Close flushes and stops it.
type Writer struct {
	target Target
	opts   Options
	log    *slog.Logger

	mu     sync.Mutex
	cdrs   []store.CDR
	alerts []store.Alert
	closed bool

	// io serialises flushing and replaying, so that a file is never read while
	// it is written, nor replayed twice at once.
	io sync.Mutex

	kick chan struct{}
	stop chan struct{}
	done chan struct{}

	written, spooled, replayed *prometheus.CounterVec
}

var (
	_ store.CDRs   = (*Writer)(nil)
	_ store.Alerts = (*Writer)(nil)
)

// New starts a writer in front of target. Files left in Dir by an earlier run
// are replayed first.
func New(target Target, opts Options) (*Writer, error) {
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = time.Second
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.RetryEvery <= 0 {
		opts.RetryEvery = 5 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("store/spool: %w", err)
	}
	w := &Writer{
		target: target, opts: opts, log: opts.Logger,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		written:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voxrun_records_written_total", Help: "CDRs and alerts written to the database."}, []string{"kind"}),
		spooled:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voxrun_records_spooled_total", Help: "CDRs and alerts spooled to disk because the database did not take them."}, []string{"kind"}),
		replayed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voxrun_records_replayed_total", Help: "Spooled CDRs and alerts later written to the database."}, []string{"kind"}),
	}
	if opts.Metrics != nil {
		opts.Metrics.MustRegister(w.written, w.spooled, w.replayed)
	}
	go w.loop()
	return w, nil
}

// WriteCDRs queues CDRs; it does not wait for the database.
func (w *Writer) WriteCDRs(_ context.Context, cdrs []store.CDR) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return errors.New("store/spool: closed")
	}
	w.cdrs = append(w.cdrs, cdrs...)
	full := len(w.cdrs)+len(w.alerts) >= w.opts.BatchSize
	w.mu.Unlock()
	if full {
		w.poke()
	}
	return nil
}

// WriteAlerts queues alerts, giving each its alert_sid now so that a replay is
// idempotent.
func (w *Writer) WriteAlerts(_ context.Context, alerts []store.Alert) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return errors.New("store/spool: closed")
	}
	for _, a := range alerts {
		if a.AlertSID == "" {
			a.AlertSID = uuid.NewString()
		}
		if a.CreatedAt.IsZero() {
			a.CreatedAt = time.Now()
		}
		w.alerts = append(w.alerts, a)
	}
	full := len(w.cdrs)+len(w.alerts) >= w.opts.BatchSize
	w.mu.Unlock()
	if full {
		w.poke()
	}
	return nil
}

// ListCDRs reads from the database.
func (w *Writer) ListCDRs(ctx context.Context, s store.Scope, q store.CDRQuery) ([]store.CDR, int, error) {
	return w.target.ListCDRs(ctx, s, q)
}

// ListAlerts reads from the database.
func (w *Writer) ListAlerts(ctx context.Context, s store.Scope, q store.AlertQuery) ([]store.Alert, int, error) {
	return w.target.ListAlerts(ctx, s, q)
}

func (w *Writer) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Flush writes what is queued now (or spools it) and replays the spool.
func (w *Writer) Flush() {
	w.flush()
	w.replay()
}

// Close flushes what is queued (to the database, or to the spool) and stops.
// It is idempotent.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.done
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	w.flush()
	return nil
}

func (w *Writer) loop() {
	defer close(w.done)
	w.replay()
	flush := time.NewTicker(w.opts.FlushEvery)
	defer flush.Stop()
	retry := time.NewTicker(w.opts.RetryEvery)
	defer retry.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-w.kick:
			w.flush()
		case <-flush.C:
			w.flush()
		case <-retry.C:
			w.replay()
		}
	}
}

// flush hands the queue to the database; what it refuses is spooled.
func (w *Writer) flush() {
	w.io.Lock()
	defer w.io.Unlock()
	w.mu.Lock()
	cdrs, alerts := w.cdrs, w.alerts
	w.cdrs, w.alerts = nil, nil
	w.mu.Unlock()
	if len(cdrs) > 0 {
		if err := w.write(func(ctx context.Context) error { return w.target.WriteCDRs(ctx, cdrs) }); err != nil {
			w.spool("cdrs", cdrs, err)
		} else {
			w.written.WithLabelValues("cdr").Add(float64(len(cdrs)))
		}
	}
	if len(alerts) > 0 {
		if err := w.write(func(ctx context.Context) error { return w.target.WriteAlerts(ctx, alerts) }); err != nil {
			w.spool("alerts", alerts, err)
		} else {
			w.written.WithLabelValues("alert").Add(float64(len(alerts)))
		}
	}
}

func (w *Writer) write(f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.opts.WriteTimeout)
	defer cancel()
	return f(ctx)
}

// spool appends records to a new spool file, one JSON record per line,
// synced to disk. A batch the database rejected as invalid goes to a
// "rejected" file instead: it would never be accepted, and is kept for a human.

func (w *Writer) spool(kind string, recs any, cause error) {
	prefix := kind
	if errors.Is(cause, store.ErrInvalid) {
		prefix = "rejected-" + kind
	}
	name := filepath.Join(w.opts.Dir, fmt.Sprintf("%s-%d.jsonl", prefix, time.Now().UnixNano()))
	n, err := writeLines(name, recs)
	if err != nil {
		w.log.Error("records LOST: cannot write the spool", "kind", kind, "file", name, "err", err, "cause", cause)
		return
	}
	w.spooled.WithLabelValues(strings.TrimSuffix(kind, "s")).Add(float64(n))
	w.log.Warn("database did not take records; spooled to disk", "kind", kind, "count", n, "file", name, "cause", cause)
}

// writeLines writes the file under a temporary name and renames it into
// place once it is complete and synced, so a replay never sees half a file.
func writeLines(name string, recs any) (int, error) {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	n := 0
	switch rs := recs.(type) {
	case []store.CDR:
		for _, r := range rs {
			if err = enc.Encode(r); err != nil {
				break
			}
			n++
		}
	case []store.Alert:
		for _, r := range rs {
			if err = enc.Encode(r); err != nil {
				break
			}
			n++
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return n, err
}

// replay writes spooled files back, oldest first, removing each once the
// database has taken it. It stops at the first failure and tries again later.
func (w *Writer) replay() {
	w.io.Lock()
	defer w.io.Unlock()
	files, _ := filepath.Glob(filepath.Join(w.opts.Dir, "*.jsonl"))
	sort.Strings(files)
	for _, name := range files {
		base := filepath.Base(name)
		var err error
		var n int
		switch {
		case strings.HasPrefix(base, "cdrs-"):
			var recs []store.CDR
			if recs, err = readLines[store.CDR](name); err == nil && len(recs) > 0 {
				n = len(recs)
				err = w.write(func(ctx context.Context) error { return w.target.WriteCDRs(ctx, recs) })
				w.replayedAdd("cdr", n, err)
			}
		case strings.HasPrefix(base, "alerts-"):
			var recs []store.Alert
			if recs, err = readLines[store.Alert](name); err == nil && len(recs) > 0 {
				n = len(recs)
				err = w.write(func(ctx context.Context) error { return w.target.WriteAlerts(ctx, recs) })
				w.replayedAdd("alert", n, err)
			}
		default:
			continue // rejected-* files wait for a human
		}
		if err != nil {
			w.log.Debug("spool replay deferred", "file", base, "err", err)
			return
		}
		if err := os.Remove(name); err != nil {
			w.log.Warn("spool file replayed but not removed", "file", base, "err", err)
			return
		}
		w.log.Info("spooled records written to the database", "file", base, "count", n)
	}
}

func (w *Writer) replayedAdd(kind string, n int, err error) {
	if err == nil {
		w.replayed.WithLabelValues(kind).Add(float64(n))
	}
}

// readLines reads a spool file; a torn last line (a crash mid-write) is skipped.
func readLines[T any](name string) ([]T, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var r T
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		out = append(out, r)
	}
	return out, sc.Err()
}
