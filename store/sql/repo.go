package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/voxrun/voxrun/store"
)

// queryer is what *sql.DB and *sql.Tx have in common.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// repo is the one generic implementation of store.Repo, for every table.
type repo[T any] struct {
	d *DB
	t *table
	s store.Scope
}

var _ store.Repo[store.Account] = (*repo[store.Account])(nil)

func newRepo[T any](d *DB, t *table, s store.Scope) *repo[T] {
	if t.m.typ != reflect.TypeFor[T]() {
		panic(fmt.Sprintf("store/sql: table %s holds %s, not %s", t.name, t.m.typ, reflect.TypeFor[T]()))
	}
	return &repo[T]{d: d, t: t, s: s}
}

// permit checks that the scope is well formed and broad enough for op.
func (r *repo[T]) permit(op string, min store.ScopeKind) error {
	switch {
	case r.s.Kind == store.ScopeServiceProvider && r.s.ServiceProviderSID == "",
		r.s.Kind == store.ScopeAccount && r.s.AccountSID == "":
		return fmt.Errorf("store/sql: %s %s: incomplete scope %s: %w", op, r.t.name, r.s, store.ErrForbidden)
	case r.s.Kind > min:
		return fmt.Errorf("store/sql: %s %s in scope %s: %w", op, r.t.name, r.s, store.ErrForbidden)
	}
	return nil
}

// inTx runs fn in a transaction on the writer.
func (d *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (r *repo[T]) Create(ctx context.Context, rec *T) (sid string, err error) {
	if err := r.permit("create", r.t.createMin); err != nil {
		return "", err
	}
	if rec == nil {
		return "", fmt.Errorf("store/sql: create %s: nil record: %w", r.t.name, store.ErrInvalid)
	}
	orig := *rec
	defer func() {
		if err != nil {
			*rec = orig // a failed Create leaves the caller's record as it was
		}
	}()
	v := reflect.ValueOf(rec).Elem()
	err = r.d.inTx(ctx, func(tx *sql.Tx) error {
		return r.d.insert(ctx, tx, r.t, r.s, v)
	})
	if err != nil {
		return "", r.d.wrap("create "+r.t.name, opWrite, err)
	}
	return r.t.m.byCol[r.t.pk].str(v), nil
}

// insert stores the record v in t on behalf of s: ownership forced by the
// scope, references checked, sid and timestamps set, hooks written first.
func (d *DB) insert(ctx context.Context, tx *sql.Tx, t *table, s store.Scope, v reflect.Value) error {
	if err := d.claim(ctx, tx, t, s, v); err != nil {
		return err
	}
	var account string
	if f, ok := t.m.byCol["account_sid"]; ok {
		account = f.str(v)
	}
	for _, rf := range t.refs {
		if val := t.m.byCol[rf.col].str(v); val != "" {
			// A new row has no sid yet: no row is its child, and its
			// account is the one claim settled.
			if err := checkRef(ctx, tx, t, rf, s, val, "", account); err != nil {
				return err
			}
		}
	}
	t.m.byCol[t.pk].setStr(v, uuid.NewString())
	now := time.Now().UTC().Truncate(timePrecision)
	for _, c := range []string{"created_at", "updated_at"} {
		if f, ok := t.m.byCol[c]; ok && f.kind == kTime {
			v.FieldByIndex(f.index).Set(reflect.ValueOf(now))
		}
	}
	for _, hf := range t.m.hooks {
		fv := v.FieldByIndex(hf.index)
		wh := fv.Interface().(*store.Webhook)
		if wh == nil {
			continue
		}
		c := *wh // never write into the caller's webhook
		if err := d.insertHook(ctx, tx, &c); err != nil {
			return fmt.Errorf("%s: %w", hf.json, err)
		}
		fv.Set(reflect.ValueOf(&c))
	}
	cols := make([]string, len(t.m.fields))
	marks := make([]string, len(t.m.fields))
	args := make([]any, len(t.m.fields))
	for i, f := range t.m.fields {
		a, err := d.arg(f, v)
		if err != nil {
			return err
		}
		cols[i], marks[i], args[i] = quote(f.col), "?", a
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO "+quote(t.name)+" ("+strings.Join(cols, ", ")+") VALUES ("+
		strings.Join(marks, ", ")+")", args...)
	return err
}

// claim sets the owner columns of a new row from the scope: an account
// creates for itself; a service provider for itself or for one of its
// accounts. A row of an ownEither table has exactly one owner, as in jambonz:
// when it belongs to an account its service_provider_sid is NULL, except on
// tables that carry the account's service provider (api_keys, whose
// APIKey.Scope needs it). The refs checks that follow prove the named account
// or parent visible in the scope.
func (d *DB) claim(ctx context.Context, tx *sql.Tx, t *table, s store.Scope, v reflect.Value) error {
	acctF, spF := t.m.byCol["account_sid"], t.m.byCol["service_provider_sid"]
	switch t.own {
	case ownAccountRow:
		if s.Kind == store.ScopeServiceProvider {
			spF.setStr(v, s.ServiceProviderSID)
		}
		if spF.str(v) == "" {
			return fmt.Errorf("service_provider_sid is required: %w", store.ErrInvalid)
		}
	case ownAccount:
		if s.Kind == store.ScopeAccount {
			acctF.setStr(v, s.AccountSID)
		}
		if acctF.str(v) == "" {
			return fmt.Errorf("account_sid is required: %w", store.ErrInvalid)
		}
	case ownEither:
		if s.Kind == store.ScopeAccount {
			acctF.setStr(v, s.AccountSID)
		}
		acct := acctF.str(v)
		if acct == "" {
			if s.Kind == store.ScopeServiceProvider {
				spF.setStr(v, s.ServiceProviderSID)
			}
			if spF.str(v) == "" && !(t.ownerOptional && s.Kind == store.ScopeAdmin) {
				return fmt.Errorf("account_sid or service_provider_sid is required: %w", store.ErrInvalid)
			}
			return nil
		}
		if !t.carrySP {
			spF.setStr(v, "")
			return nil
		}
		w, args := scopeWhere(d.schema.accounts, s)
		var sp string
		err := tx.QueryRowContext(ctx, "SELECT `service_provider_sid` FROM `accounts` WHERE `account_sid` = ? AND "+w,
			append([]any{acct}, args...)...).Scan(&sp)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("account_sid %s: %w", acct, store.ErrNotFound)
		} else if err != nil {
			return err
		}
		spF.setStr(v, sp)
	case ownParent:
		if t.m.byCol[t.parentCol].str(v) == "" {
			return fmt.Errorf("%s is required: %w", t.parentCol, store.ErrInvalid)
		}
	}
	return nil
}

// checkRef checks that the row val named by the ref column rf of a row of
// from may be referenced by a caller in s: visible in the scope, and, when
// from says so, of the same account as the referring row or one of its
// children. fromSID is the referring row's sid ("" while it is created) and
// account its account_sid when it is known (on create).
func checkRef(ctx context.Context, q queryer, from *table, rf ref, s store.Scope, val, fromSID, account string) error {
	t := rf.to
	w, args := refWhere(t, s)
	col := func(c string) string { return quote(t.name) + "." + quote(c) }
	if from.sameAccount[rf.col] {
		if fromSID == "" {
			w += " AND " + col("account_sid") + " = ?"
			args = append(args, account)
		} else {
			w += " AND " + col("account_sid") + " = (SELECT " + quote(from.name) + "." + quote("account_sid") +
				" FROM " + quote(from.name) + " WHERE " + quote(from.name) + "." + quote(from.pk) + " = ?)"
			args = append(args, fromSID)
		}
	}
	if from.ownChild[rf.col] {
		w += " AND " + col(t.parentCol) + " = ?"
		args = append(args, fromSID)
	}
	return exists(ctx, q, t, val, rf.col, w, args)
}

// visible checks that the row sid of t may be referenced by a caller in s.
func visible(ctx context.Context, q queryer, t *table, s store.Scope, sid, col string) error {
	w, args := refWhere(t, s)
	return exists(ctx, q, t, sid, col, w, args)
}

// exists checks that the row sid of t meets the condition w, or answers
// ErrNotFound naming col.
func exists(ctx context.Context, q queryer, t *table, sid, col, w string, args []any) error {
	rows, err := q.QueryContext(ctx, "SELECT 1 FROM "+quote(t.name)+" WHERE "+quote(t.name)+"."+quote(t.pk)+
		" = ? AND "+w, append([]any{sid}, args...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return fmt.Errorf("%s %s: %w", col, sid, store.ErrNotFound)
	}
	return rows.Close()
}

func (r *repo[T]) Get(ctx context.Context, sid string) (T, error) {
	var zero T
	if err := r.permit("get", store.ScopeAccount); err != nil {
		return zero, err
	}
	w, args := scopeWhere(r.t, r.s)
	recs, err := selectRows[T](ctx, r.d, r.d.r, r.t, "WHERE "+quote(r.t.name)+"."+quote(r.t.pk)+" = ? AND "+w,
		append([]any{sid}, args...))
	if err != nil {
		return zero, r.d.wrap("get "+r.t.name, opRead, err)
	}
	if len(recs) == 0 {
		return zero, fmt.Errorf("store/sql: get %s %s: %w", r.t.name, sid, store.ErrNotFound)
	}
	return recs[0], nil
}

func (r *repo[T]) List(ctx context.Context, f store.Filter) ([]T, error) {
	if err := r.permit("list", store.ScopeAccount); err != nil {
		return nil, err
	}
	w, args := scopeWhere(r.t, r.s)
	conds := []string{w}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fl, ok := r.t.m.byCol[k]
		if !ok {
			return nil, fmt.Errorf("store/sql: list %s: unknown filter column %q: %w", r.t.name, k, store.ErrInvalid)
		}
		if fl.secret {
			return nil, fmt.Errorf("store/sql: list %s: cannot filter on secret column %q: %w", r.t.name, k, store.ErrInvalid)
		}
		a, err := r.d.patchArg(fl, k, f[k])
		if err != nil && !(f[k] == nil && errors.Is(err, store.ErrInvalid)) {
			return nil, fmt.Errorf("store/sql: list %s: %w", r.t.name, err)
		}
		c := quote(r.t.name) + "." + quote(k)
		if a == nil {
			conds = append(conds, c+" IS NULL")
		} else {
			conds = append(conds, c+" = ?")
			args = append(args, a)
		}
	}
	order := quote(r.t.name) + "." + quote(r.t.pk)
	for _, c := range []string{"created_at", "name"} {
		if _, ok := r.t.m.byCol[c]; ok {
			order = quote(r.t.name) + "." + quote(c) + ", " + order
			break
		}
	}
	recs, err := selectRows[T](ctx, r.d, r.d.r, r.t, "WHERE "+strings.Join(conds, " AND ")+" ORDER BY "+order, args)
	if err != nil {
		return nil, r.d.wrap("list "+r.t.name, opRead, err)
	}
	return recs, nil
}

// selectRows reads the rows of t matching tail ("WHERE ... ORDER BY ...")
// into records, with their hooks loaded.
func selectRows[T any](ctx context.Context, d *DB, q queryer, t *table, tail string, args []any) ([]T, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+t.m.qualifiedColumns(t.name)+" FROM "+quote(t.name)+" "+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	sc := newScanner(t.m)
	for rows.Next() {
		if err := rows.Scan(sc.dest...); err != nil {
			return nil, err
		}
		var rec T
		if err := d.fill(t.m, sc, reflect.ValueOf(&rec).Elem()); err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if len(t.m.hooks) > 0 && len(out) > 0 {
		vals := make([]reflect.Value, len(out))
		for i := range out {
			vals[i] = reflect.ValueOf(&out[i]).Elem()
		}
		if err := d.loadHooks(ctx, q, t.m, vals); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *repo[T]) Update(ctx context.Context, sid string, p store.Patch) error {
	if err := r.permit("update", r.t.updateMin); err != nil {
		return err
	}
	if err := r.d.inTx(ctx, func(tx *sql.Tx) error { return r.d.update(ctx, tx, r.t, r.s, sid, p) }); err != nil {
		return r.d.wrap("update "+r.t.name+" "+sid, opWrite, err)
	}
	return nil
}

func (d *DB) update(ctx context.Context, tx *sql.Tx, t *table, s store.Scope, sid string, p store.Patch) error {
	hookPatches := map[*field]*store.Webhook{}
	var sets []string
	var args []any
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		val := p[k]
		if hf := hookByJSON(t.m, k); hf != nil {
			wh, err := webhookValue(k, val)
			if err != nil {
				return err
			}
			hookPatches[hf] = wh
			continue
		}
		f, ok := t.m.byCol[k]
		switch {
		case !ok:
			return fmt.Errorf("unknown column %q: %w", k, store.ErrInvalid)
		case k == t.pk || k == "created_at" || t.readOnly[k]:
			return fmt.Errorf("column %q is read-only: %w", k, store.ErrInvalid)
		case f.kind == kHook:
			return fmt.Errorf("column %q is a hook: patch %q with a webhook: %w", k, f.json, store.ErrInvalid)
		}
		if min, ok := t.patchMin[k]; ok && s.Kind > min {
			return fmt.Errorf("column %q in scope %s: %w", k, s, store.ErrForbidden)
		}
		a, err := d.patchArg(f, k, val)
		if err != nil {
			return err
		}
		if a != nil {
			for _, rf := range t.refs {
				if rf.col == k {
					if err := checkRef(ctx, tx, t, rf, s, a.(string), sid, ""); err != nil {
						return err
					}
				}
			}
		}
		sets = append(sets, quote(k)+" = ?")
		args = append(args, a)
	}
	if f, ok := t.m.byCol["updated_at"]; ok && f.kind == kTime {
		sets = append(sets, quote("updated_at")+" = ?")
		args = append(args, d.dialect.timeArg(time.Now()))
	}

	// The row must be visible; read its current hooks at the same time.
	w, wargs := scopeWhere(t, s)
	where := " WHERE " + quote(t.name) + "." + quote(t.pk) + " = ? AND " + w
	wargs = append([]any{sid}, wargs...)
	current, err := currentHooks(ctx, tx, t, where+d.dialect.forUpdate(), wargs)
	if err != nil {
		return err
	}
	var drop []string
	for _, hf := range t.m.hooks {
		wh, patched := hookPatches[hf]
		if !patched {
			continue
		}
		old := current[hf.col]
		switch {
		case wh == nil && old != "":
			sets = append(sets, quote(hf.col)+" = NULL")
			drop = append(drop, old)
		case wh != nil && old != "":
			c := *wh
			c.WebhookSID = old
			if err := d.replaceHook(ctx, tx, &c); err != nil {
				return fmt.Errorf("%s: %w", hf.json, err)
			}
		case wh != nil:
			c := *wh
			if err := d.insertHook(ctx, tx, &c); err != nil {
				return fmt.Errorf("%s: %w", hf.json, err)
			}
			sets = append(sets, quote(hf.col)+" = ?")
			args = append(args, c.WebhookSID)
		}
	}
	if len(sets) > 0 {
		if _, err := tx.ExecContext(ctx, "UPDATE "+quote(t.name)+" SET "+strings.Join(sets, ", ")+where,
			append(args, wargs...)...); err != nil {
			return err
		}
	}
	return d.deleteHooks(ctx, tx, drop)
}

func (r *repo[T]) Delete(ctx context.Context, sid string) error {
	if err := r.permit("delete", r.t.deleteMin); err != nil {
		return err
	}
	err := r.d.inTx(ctx, func(tx *sql.Tx) error {
		w, args := scopeWhere(r.t, r.s)
		where := " WHERE " + quote(r.t.name) + "." + quote(r.t.pk) + " = ? AND " + w
		args = append([]any{sid}, args...)
		current, err := currentHooks(ctx, tx, r.t, where+r.d.dialect.forUpdate(), args)
		if err != nil {
			return err
		}
		if err := usedBy(ctx, tx, r.t, sid); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+quote(r.t.name)+where, args...); err != nil {
			return err
		}
		var drop []string
		for _, hsid := range current {
			if hsid != "" {
				drop = append(drop, hsid)
			}
		}
		return r.d.deleteHooks(ctx, tx, drop)
	})
	if err != nil {
		return r.d.wrap("delete "+r.t.name+" "+sid, opDelete, err)
	}
	return nil
}

// usedBy answers ErrInUse while a row of another table names the row sid of
// t in one of t.usedBy's columns, or names a row of t's children that the
// delete would cascade to. A reference from the deleted row itself does not
// count: it goes too (a JS app's active version, an lcr's default entry).
func usedBy(ctx context.Context, tx *sql.Tx, t *table, sid string) error {
	return usedByBut(ctx, tx, t, sid, t, sid)
}

func usedByBut(ctx context.Context, tx *sql.Tx, t *table, sid string, root *table, rootSID string) error {
	for _, u := range t.usedBy {
		q := "SELECT 1 FROM " + quote(u.to.name) + " WHERE " + quote(u.to.name) + "." + quote(u.col) + " = ?"
		args := []any{sid}
		if u.to == root {
			q += " AND " + quote(root.name) + "." + quote(root.pk) + " <> ?"
			args = append(args, rootSID)
		}
		var one int
		err := tx.QueryRowContext(ctx, q+" LIMIT 1", args...).Scan(&one)
		switch {
		case err == nil:
			return fmt.Errorf("%s %s is named by %s.%s: %w", t.name, sid, u.to.name, u.col, store.ErrInUse)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	for _, c := range t.children {
		if len(c.usedBy) == 0 && len(c.children) == 0 {
			continue
		}
		sids, err := childSIDs(ctx, tx, c, sid)
		if err != nil {
			return err
		}
		for _, csid := range sids {
			if err := usedByBut(ctx, tx, c, csid, root, rootSID); err != nil {
				return err
			}
		}
	}
	return nil
}

// childSIDs lists the rows of c whose parent is sid.
func childSIDs(ctx context.Context, tx *sql.Tx, c *table, sid string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT "+quote(c.pk)+" FROM "+quote(c.name)+" WHERE "+quote(c.parentCol)+" = ?", sid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// currentHooks reads the hook columns of the one row matching where, or
// ErrNotFound when no visible row matches. Update and Delete call it with
// FOR UPDATE (on MySQL), so that the row cannot vanish between this check and
// their statement; on SQLite the transaction already holds the write lock.
func currentHooks(ctx context.Context, q queryer, t *table, where string, args []any) (map[string]string, error) {
	cols := []string{quote(t.name) + "." + quote(t.pk)}
	for _, hf := range t.m.hooks {
		cols = append(cols, quote(t.name)+"."+quote(hf.col))
	}
	rows, err := q.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+quote(t.name)+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, store.ErrNotFound
	}
	dest := make([]any, len(cols))
	vals := make([]sql.NullString, len(cols))
	for i := range dest {
		dest[i] = &vals[i]
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i, hf := range t.m.hooks {
		out[hf.col] = vals[i+1].String
	}
	return out, rows.Close()
}

func hookByJSON(m *mapping, key string) *field {
	for _, hf := range m.hooks {
		if hf.json == key {
			return hf
		}
	}
	return nil
}

// webhookValue accepts *Webhook, Webhook or nil for a hook Patch key.
func webhookValue(key string, val any) (*store.Webhook, error) {
	switch w := val.(type) {
	case nil:
		return nil, nil
	case *store.Webhook:
		return w, nil
	case store.Webhook:
		return &w, nil
	}
	return nil, fmt.Errorf("%s: %T is not a webhook: %w", key, val, store.ErrInvalid)
}
