package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/voxrun/voxrun/store"
)

// JSApps is the generic repository of JS apps. Its active_version_sid may
// only name one of the app's own versions (tables.go: ownChild).
func (d *DB) JSApps(s store.Scope) store.Repo[store.JSApp] {
	return newRepo[store.JSApp](d, d.schema.jsApps, s)
}

// JSAppVersions is the generic repository with one difference: Create
// numbers the version (1 + the app's highest) and fingerprints its source,
// whatever the caller put there.
func (d *DB) JSAppVersions(s store.Scope) store.Repo[store.JSAppVersion] {
	return jsAppVersions{newRepo[store.JSAppVersion](d, d.schema.jsAppVersions, s)}
}

type jsAppVersions struct{ *repo[store.JSAppVersion] }

// versionAttempts bounds the retries of a version number taken by a
// concurrent upload of the same app (MySQL; SQLite serialises writers).
const versionAttempts = 5

func (r jsAppVersions) Create(ctx context.Context, rec *store.JSAppVersion) (sid string, err error) {
	if err := r.permit("create", r.t.createMin); err != nil {
		return "", err
	}
	switch {
	case rec == nil:
		return "", fmt.Errorf("store/sql: create js_app_versions: nil record: %w", store.ErrInvalid)
	case strings.TrimSpace(rec.Source) == "":
		return "", fmt.Errorf("store/sql: create js_app_versions: source is empty: %w", store.ErrInvalid)
	case len(rec.Source) > store.MaxJSAppSourceSize:
		return "", fmt.Errorf("store/sql: create js_app_versions: source is %d bytes, more than %d: %w",
			len(rec.Source), store.MaxJSAppSourceSize, store.ErrInvalid)
	}
	orig := *rec
	defer func() {
		if err != nil {
			*rec = orig
		}
	}()
	sum := sha256.Sum256([]byte(rec.Source))
	rec.SHA256 = hex.EncodeToString(sum[:])
	v := reflect.ValueOf(rec).Elem()
	for range versionAttempts {
		err = r.d.inTx(ctx, func(tx *sql.Tx) error {
			var highest sql.NullInt64
			if err := tx.QueryRowContext(ctx, "SELECT MAX(`version`) FROM `js_app_versions` WHERE `js_app_sid` = ?",
				rec.JSAppSID).Scan(&highest); err != nil {
				return err
			}
			rec.Version = int(highest.Int64) + 1
			return r.d.insert(ctx, tx, r.t, r.s, v)
		})
		if err = r.d.wrap("create js_app_versions", opWrite, err); !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		return "", err
	}
	return rec.JSAppVersionSID, nil
}

// invocationRow is a store.JSAppInvocation as the js_app_invocations table
// holds it: the log lines as one JSON array, the duration in microseconds.
type invocationRow struct {
	JSAppInvocationSID string    `db:"js_app_invocation_sid"`
	JSAppSID           string    `db:"js_app_sid"`
	AccountSID         string    `db:"account_sid"`
	JSAppVersionSID    string    `db:"js_app_version_sid,null"`
	CallSID            string    `db:"call_sid,null"`
	Hook               string    `db:"hook"`
	Outcome            string    `db:"outcome"`
	Error              string    `db:"error,null"`
	DurationUS         int64     `db:"duration_us"`
	Logs               string    `db:"logs,null"`
	CreatedAt          time.Time `db:"created_at"`
}

// maxHookLen and maxErrorLen are the widths of the hook and error columns.
const (
	maxHookLen  = 255
	maxErrorLen = 1024
)

// cut shortens s to at most n bytes without splitting a character.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func toRow(inv store.JSAppInvocation, now time.Time) (invocationRow, error) {
	if inv.JSAppSID == "" || inv.AccountSID == "" {
		return invocationRow{}, fmt.Errorf("js_app_sid and account_sid are required: %w", store.ErrInvalid)
	}
	if inv.JSAppInvocationSID == "" {
		inv.JSAppInvocationSID = uuid.NewString()
	}
	if inv.CreatedAt.IsZero() {
		inv.CreatedAt = now
	}
	lines := inv.Logs
	if len(lines) > store.MaxJSAppLogLines {
		dropped := len(lines) - store.MaxJSAppLogLines + 1
		lines = append(lines[:store.MaxJSAppLogLines-1:store.MaxJSAppLogLines-1], store.JSAppLogLine{
			Time: lines[len(lines)-1].Time, Level: "warn", Message: fmt.Sprintf("%d more lines dropped", dropped)})
	}
	kept := make([]store.JSAppLogLine, len(lines))
	for i, l := range lines {
		l.Time = l.Time.UTC().Truncate(timePrecision)
		l.Message = cut(l.Message, store.MaxJSAppLogLineSize)
		kept[i] = l
	}
	var logs string
	if len(kept) > 0 {
		b, err := json.Marshal(kept)
		if err != nil {
			return invocationRow{}, err
		}
		logs = string(b)
	}
	return invocationRow{
		JSAppInvocationSID: inv.JSAppInvocationSID, JSAppSID: inv.JSAppSID, AccountSID: inv.AccountSID,
		JSAppVersionSID: inv.JSAppVersionSID, CallSID: inv.CallSID, Hook: cut(inv.Hook, maxHookLen),
		Outcome: inv.Outcome, Error: cut(inv.Error, maxErrorLen), DurationUS: inv.Duration.Microseconds(),
		Logs: logs, CreatedAt: inv.CreatedAt.UTC().Truncate(timePrecision),
	}, nil
}

func fromRow(r invocationRow) (store.JSAppInvocation, error) {
	inv := store.JSAppInvocation{
		JSAppInvocationSID: r.JSAppInvocationSID, JSAppSID: r.JSAppSID, AccountSID: r.AccountSID,
		JSAppVersionSID: r.JSAppVersionSID, CallSID: r.CallSID, Hook: r.Hook, Outcome: r.Outcome,
		Error: r.Error, Duration: time.Duration(r.DurationUS) * time.Microsecond, CreatedAt: r.CreatedAt,
		Logs: []store.JSAppLogLine{},
	}
	if r.Logs != "" {
		if err := json.Unmarshal([]byte(r.Logs), &inv.Logs); err != nil {
			return inv, fmt.Errorf("logs of invocation %s: %w", r.JSAppInvocationSID, err)
		}
	}
	return inv, nil
}

// WriteJSAppInvocations stores invocations in one transaction and keeps the
// newest store.KeepJSAppInvocations of each app concerned. An invocation
// already stored (same sid) is skipped.
func (d *DB) WriteJSAppInvocations(ctx context.Context, invs []store.JSAppInvocation) error {
	if len(invs) == 0 {
		return nil
	}
	now := time.Now()
	rows := make([]invocationRow, len(invs))
	apps := map[string]bool{}
	for i, inv := range invs {
		r, err := toRow(inv, now)
		if err != nil {
			return fmt.Errorf("store/sql: write js app invocations: record %d: %w", i, err)
		}
		rows[i] = r
		apps[r.JSAppSID] = true
	}
	appSIDs := make([]string, 0, len(apps))
	for a := range apps {
		appSIDs = append(appSIDs, a)
	}
	sort.Strings(appSIDs) // the same lock order in every transaction
	t := d.schema.jsAppInvocations
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertRows(ctx, d, tx, t, rows); err != nil {
			return err
		}
		for _, app := range appSIDs {
			if err := d.trimInvocations(ctx, tx, app); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return d.wrap("write js app invocations", opWrite, err)
	}
	return nil
}

// trimInvocations deletes all but the newest KeepJSAppInvocations of app:
// those older than the oldest row to keep, in (created_at, sid) order.
func (d *DB) trimInvocations(ctx context.Context, tx *sql.Tx, app string) error {
	var at time.Time
	var sid string
	err := tx.QueryRowContext(ctx, "SELECT `created_at`, `js_app_invocation_sid` FROM `js_app_invocations` WHERE `js_app_sid` = ? "+
		"ORDER BY `created_at` DESC, `js_app_invocation_sid` DESC LIMIT 1 OFFSET ?", app, store.KeepJSAppInvocations-1).Scan(&at, &sid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // no more than the bound
	} else if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "DELETE FROM `js_app_invocations` WHERE `js_app_sid` = ? AND "+
		"(`created_at` < ? OR (`created_at` = ? AND `js_app_invocation_sid` < ?))", app, d.dialect.timeArg(at), d.dialect.timeArg(at), sid)
	return err
}

// ListJSAppInvocations reads one app's invocations, newest first.
func (d *DB) ListJSAppInvocations(ctx context.Context, s store.Scope, jsAppSID string, q store.JSAppInvocationQuery) ([]store.JSAppInvocation, error) {
	if err := scopeOnly("list js app invocations", s); err != nil {
		return nil, err
	}
	switch {
	case q.Count < 0 || q.Count > store.KeepJSAppInvocations:
		return nil, fmt.Errorf("store/sql: list js app invocations: count %d: at most %d: %w", q.Count, store.KeepJSAppInvocations, store.ErrInvalid)
	case q.Count == 0:
		q.Count = defaultPageSize
	}
	if err := visible(ctx, d.r, d.schema.jsApps, s, jsAppSID, "js_app_sid"); err != nil {
		return nil, d.wrap("list js app invocations", opRead, err)
	}
	t := d.schema.jsAppInvocations
	w, args := scopeWhere(t, s)
	where := "WHERE `js_app_invocations`.`js_app_sid` = ? AND " + w
	args = append([]any{jsAppSID}, args...)
	if q.CallSID != "" {
		where += " AND `js_app_invocations`.`call_sid` = ?"
		args = append(args, q.CallSID)
	}
	rows, err := selectRows[invocationRow](ctx, d, d.r, t, where+
		" ORDER BY `js_app_invocations`.`created_at` DESC, `js_app_invocations`.`js_app_invocation_sid` DESC LIMIT ?",
		append(args, q.Count))
	if err != nil {
		return nil, d.wrap("list js app invocations", opRead, err)
	}
	out := make([]store.JSAppInvocation, len(rows))
	for i, r := range rows {
		if out[i], err = fromRow(r); err != nil {
			return nil, d.wrap("list js app invocations", opRead, err)
		}
	}
	return out, nil
}
