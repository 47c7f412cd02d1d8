package spool

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// flakyDB is a database that can be taken down; it stores by key, as the SQL
// store does (INSERT ... skip duplicates).
type flakyDB struct {
	mu     sync.Mutex
	down   bool
	cdrs   map[string]store.CDR
	alerts map[string]store.Alert
	writes int
}

func newFlaky() *flakyDB {
	return &flakyDB{cdrs: map[string]store.CDR{}, alerts: map[string]store.Alert{}}
}

func (d *flakyDB) setDown(v bool) { d.mu.Lock(); d.down = v; d.mu.Unlock() }

func (d *flakyDB) WriteCDRs(_ context.Context, cdrs []store.CDR) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return fmt.Errorf("dial tcp: connection refused: %w", store.ErrUnavailable)
	}
	d.writes++
	for _, c := range cdrs {
		if c.CallSID == "invalid" {
			return fmt.Errorf("bad record: %w", store.ErrInvalid)
		}
		d.cdrs[c.CallSID] = c
	}
	return nil
}
func (d *flakyDB) WriteAlerts(_ context.Context, as []store.Alert) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return store.ErrUnavailable
	}
	for _, a := range as {
		d.alerts[a.AlertSID] = a
	}
	return nil
}
func (d *flakyDB) ListCDRs(context.Context, store.Scope, store.CDRQuery) ([]store.CDR, int, error) {
	return nil, 0, nil
}
func (d *flakyDB) ListAlerts(context.Context, store.Scope, store.AlertQuery) ([]store.Alert, int, error) {
	return nil, 0, nil
}
func (d *flakyDB) counts() (int, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.cdrs), len(d.alerts)
}

func cdr(i int) store.CDR {
	now := time.Now()
	return store.CDR{CallSID: fmt.Sprintf("call-%04d", i), AccountSID: "a", AttemptedAt: now, TerminatedAt: now}
}

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	return m
}

func TestBatchesAndWritesWhenTheDatabaseIsUp(t *testing.T) {
	db := newFlaky()
	w, err := New(db, Options{Dir: t.TempDir(), FlushEvery: time.Hour, BatchSize: 10})
	require.NoError(t, err)
	defer w.Close()
	for i := range 25 {
		require.NoError(t, w.WriteCDRs(context.Background(), []store.CDR{cdr(i)}))
	}
	w.Flush()
	n, _ := db.counts()
	require.Equal(t, 25, n)
	db.mu.Lock()
	require.LessOrEqual(t, db.writes, 4, "records are written in batches, not one by one")
	db.mu.Unlock()
}

func TestOutageSpoolsAndReplaysWithoutLossOrDuplicates(t *testing.T) {
	dir := t.TempDir()
	db := newFlaky()
	db.setDown(true)
	w, err := New(db, Options{Dir: dir, FlushEvery: time.Hour, RetryEvery: time.Hour})
	require.NoError(t, err)

	for i := range 100 {
		require.NoError(t, w.WriteCDRs(context.Background(), []store.CDR{cdr(i)}))
	}
	require.NoError(t, w.WriteAlerts(context.Background(), []store.Alert{{AccountSID: "a", AlertType: "webhook-failure", Message: "m"}}))
	w.Flush()
	require.Len(t, spoolFiles(t, dir), 2, "one cdr file and one alert file")
	n, _ := db.counts()
	require.Zero(t, n)

	// The process restarts while the database is still down: nothing is lost.
	require.NoError(t, w.Close())
	w2, err := New(db, Options{Dir: dir, FlushEvery: time.Hour, RetryEvery: time.Hour})
	require.NoError(t, err)
	defer w2.Close()
	w2.Flush()
	require.Len(t, spoolFiles(t, dir), 2)

	db.setDown(false)
	w2.Flush()
	require.Empty(t, spoolFiles(t, dir), "replayed files are removed")
	n, a := db.counts()
	require.Equal(t, 100, n)
	require.Equal(t, 1, a)

	// Replaying the same records again (a crash after the write, before the
	// file was removed) stores nothing twice.
	_, err = writeLines(filepath.Join(dir, "cdrs-1.jsonl"), []store.CDR{cdr(1), cdr(2)})
	require.NoError(t, err)
	w2.Flush()
	n, _ = db.counts()
	require.Equal(t, 100, n)
}

func TestTornSpoolLineIsSkipped(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "cdrs-5.jsonl")
	_, err := writeLines(name, []store.CDR{cdr(1), cdr(2)})
	require.NoError(t, err)
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, _ = f.WriteString(`{"call_sid":"call-9`)
	f.Close()

	db := newFlaky()
	w, err := New(db, Options{Dir: dir, FlushEvery: time.Hour})
	require.NoError(t, err)
	defer w.Close()
	w.Flush()
	n, _ := db.counts()
	require.Equal(t, 2, n)
}

func TestInvalidRecordsAreKeptForAHuman(t *testing.T) {
	dir := t.TempDir()
	db := newFlaky()
	w, err := New(db, Options{Dir: dir, FlushEvery: time.Hour})
	require.NoError(t, err)
	require.NoError(t, w.WriteCDRs(context.Background(), []store.CDR{{CallSID: "invalid", AccountSID: "a"}}))
	w.Flush()
	files := spoolFiles(t, dir)
	require.Len(t, files, 1)
	require.Contains(t, filepath.Base(files[0]), "rejected-cdrs-")
	w.Flush()
	require.Len(t, spoolFiles(t, dir), 1, "rejected files are not retried")
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "Close is idempotent")
	require.Error(t, w.WriteCDRs(context.Background(), []store.CDR{cdr(1)}))
}

func TestCloseFlushesTheQueue(t *testing.T) {
	db := newFlaky()
	w, err := New(db, Options{Dir: t.TempDir(), FlushEvery: time.Hour})
	require.NoError(t, err)
	require.NoError(t, w.WriteCDRs(context.Background(), []store.CDR{cdr(1), cdr(2), cdr(3)}))
	require.NoError(t, w.Close())
	n, _ := db.counts()
	require.Equal(t, 3, n)
}
