package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/voxrun/voxrun/store"
)

// maxBatch is the rows per multi-row INSERT (and the largest page): 500 CDRs
// of 20 columns are 10,000 placeholders, under both SQLite's (32,766) and
// MySQL's (65,535) limits.
const maxBatch = 500

// defaultPageSize is the page size when a query asks for none.
const defaultPageSize = 25

// WriteCDRs stores call records in one transaction, 500 rows per INSERT. A
// record whose call_sid is already stored is skipped, so replaying a spool is
// harmless.
func (d *DB) WriteCDRs(ctx context.Context, cdrs []store.CDR) error {
	if len(cdrs) == 0 {
		return nil
	}
	for i := range cdrs {
		c := &cdrs[i]
		if c.CallSID == "" || c.AccountSID == "" || c.AttemptedAt.IsZero() || c.TerminatedAt.IsZero() {
			return fmt.Errorf("store/sql: write cdrs: record %d (%s): call_sid, account_sid, attempted_at and terminated_at are required: %w",
				i, c.CallSID, store.ErrInvalid)
		}
	}
	if err := writeBatch(ctx, d, d.schema.cdrs, cdrs); err != nil {
		return d.wrap("write cdrs", opWrite, err)
	}
	return nil
}

// WriteAlerts stores alerts in one transaction; a missing alert_sid is
// generated and a zero created_at is now.
func (d *DB) WriteAlerts(ctx context.Context, alerts []store.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	now := time.Now().UTC().Truncate(timePrecision)
	recs := make([]store.Alert, len(alerts))
	for i, a := range alerts {
		if a.AccountSID == "" {
			return fmt.Errorf("store/sql: write alerts: record %d: account_sid is required: %w", i, store.ErrInvalid)
		}
		if a.AlertSID == "" {
			a.AlertSID = uuid.NewString()
		}
		if a.CreatedAt.IsZero() {
			a.CreatedAt = now
		}
		recs[i] = a
	}
	if err := writeBatch(ctx, d, d.schema.alerts, recs); err != nil {
		return d.wrap("write alerts", opWrite, err)
	}
	return nil
}

// writeBatch inserts recs into t with multi-row INSERTs that skip rows whose
// primary key exists, all in one transaction.
func writeBatch[T any](ctx context.Context, d *DB, t *table, recs []T) error {
	return d.inTx(ctx, func(tx *sql.Tx) error { return insertRows(ctx, d, tx, t, recs) })
}

// insertRows is writeBatch's work in the caller's transaction.
func insertRows[T any](ctx context.Context, d *DB, tx *sql.Tx, t *table, recs []T) error {
	n := len(t.m.fields)
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	head := "INSERT INTO " + quote(t.name) + " (" + t.m.columns() + ") VALUES "
	var full string // the statement for a whole chunk, built once
	args := make([]any, 0, min(len(recs), maxBatch)*n)
	for start := 0; start < len(recs); start += maxBatch {
		chunk := recs[start:min(start+maxBatch, len(recs))]
		args = args[:0]
		for i := range chunk {
			v := reflect.ValueOf(&chunk[i]).Elem()
			for _, f := range t.m.fields {
				a, err := d.arg(f, v)
				if err != nil {
					return fmt.Errorf("record %d: %w", start+i, err)
				}
				args = append(args, a)
			}
		}
		var query string
		if len(chunk) == maxBatch && full != "" {
			query = full
		} else {
			query = d.dialect.insertIgnoreDup(head, strings.TrimSuffix(strings.Repeat(row+", ", len(chunk)), ", "), t.pk)
			if len(chunk) == maxBatch {
				full = query
			}
		}
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
	}
	return nil
}

// page validates a page request: Page is 1-based (0 means 1), Count is at
// most 500 (0 means 25).
func page(p, count int) (limit, offset int, err error) {
	switch {
	case p < 0:
		return 0, 0, fmt.Errorf("page %d: %w", p, store.ErrInvalid)
	case count < 0 || count > maxBatch:
		return 0, 0, fmt.Errorf("count %d: at most %d per page: %w", count, maxBatch, store.ErrInvalid)
	}
	if count == 0 {
		count = defaultPageSize
	}
	if p == 0 {
		p = 1
	}
	return count, (p - 1) * count, nil
}

// scopeOnly refuses incomplete scopes for the record listings.
func scopeOnly(what string, s store.Scope) error {
	if (s.Kind == store.ScopeServiceProvider && s.ServiceProviderSID == "") ||
		(s.Kind == store.ScopeAccount && s.AccountSID == "") {
		return fmt.Errorf("store/sql: %s: incomplete scope %s: %w", what, s, store.ErrForbidden)
	}
	return nil
}

// ListCDRs pages an account's (or a service provider's, or everyone's) call
// records, newest first.
func (d *DB) ListCDRs(ctx context.Context, s store.Scope, q store.CDRQuery) ([]store.CDR, int, error) {
	if err := scopeOnly("list cdrs", s); err != nil {
		return nil, 0, err
	}
	limit, offset, err := page(q.Page, q.Count)
	if err != nil {
		return nil, 0, fmt.Errorf("store/sql: list cdrs: %w", err)
	}
	t := d.schema.cdrs
	w, args := scopeWhere(t, s)
	conds := []string{w}
	add := func(cond string, a any) { conds = append(conds, cond); args = append(args, a) }
	if q.Direction != "" {
		add("`cdrs`.`direction` = ?", q.Direction)
	}
	if q.Answered != nil {
		add("`cdrs`.`answered` = ?", *q.Answered)
	}
	if q.From != "" {
		add("`cdrs`.`from` = ?", q.From)
	}
	if q.To != "" {
		add("`cdrs`.`to` = ?", q.To)
	}
	if !q.Start.IsZero() {
		add("`cdrs`.`attempted_at` >= ?", d.dialect.timeArg(q.Start))
	}
	if !q.End.IsZero() {
		add("`cdrs`.`attempted_at` < ?", d.dialect.timeArg(q.End))
	}
	where := "WHERE " + strings.Join(conds, " AND ")
	return listPage[store.CDR](ctx, d, t, where, "`cdrs`.`attempted_at` DESC, `cdrs`.`call_sid`", args, limit, offset)
}

// ListAlerts pages alerts, newest first.
func (d *DB) ListAlerts(ctx context.Context, s store.Scope, q store.AlertQuery) ([]store.Alert, int, error) {
	if err := scopeOnly("list alerts", s); err != nil {
		return nil, 0, err
	}
	limit, offset, err := page(q.Page, q.Count)
	if err != nil {
		return nil, 0, fmt.Errorf("store/sql: list alerts: %w", err)
	}
	t := d.schema.alerts
	w, args := scopeWhere(t, s)
	conds := []string{w}
	add := func(cond string, a any) { conds = append(conds, cond); args = append(args, a) }
	if q.AlertType != "" {
		add("`alerts`.`alert_type` = ?", q.AlertType)
	}
	if !q.Start.IsZero() {
		add("`alerts`.`created_at` >= ?", d.dialect.timeArg(q.Start))
	}
	if !q.End.IsZero() {
		add("`alerts`.`created_at` < ?", d.dialect.timeArg(q.End))
	}
	where := "WHERE " + strings.Join(conds, " AND ")
	return listPage[store.Alert](ctx, d, t, where, "`alerts`.`created_at` DESC, `alerts`.`alert_sid`", args, limit, offset)
}

// listPage counts the rows matching where and reads one page of them, in one
// read transaction so that the total and the page agree.
func listPage[T any](ctx context.Context, d *DB, t *table, where, order string, args []any, limit, offset int) ([]T, int, error) {
	what := "list " + t.name
	tx, err := d.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, d.wrap(what, opRead, err)
	}
	defer func() { _ = tx.Rollback() }()
	var total int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quote(t.name)+" "+where, args...).Scan(&total); err != nil {
		return nil, 0, d.wrap(what, opRead, err)
	}
	if total == 0 || offset >= total {
		return []T{}, total, nil
	}
	recs, err := selectRows[T](ctx, d, tx, t, where+" ORDER BY "+order+" LIMIT ? OFFSET ?",
		append(args, limit, offset))
	if err != nil {
		return nil, 0, d.wrap(what, opRead, err)
	}
	return recs, total, nil
}
