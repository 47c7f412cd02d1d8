package sqlstore

import (
	"database/sql"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/voxrun/voxrun/store"
)

// fieldKind is how a struct field travels to and from a column.
type fieldKind int

const (
	kString  fieldKind = iota
	kInt               // any signed or unsigned integer
	kBool              // TINYINT(1) / INTEGER 0 or 1
	kTime              // time.Time, NOT NULL
	kTimePtr           // *time.Time, NULL when nil
	kHook              // *store.Webhook, stored as a webhooks row; the column holds its sid
)

// field is one stored struct field, from its db tag
// `db:"column[,null][,secret][,hook]"`.
type field struct {
	index  []int
	col    string
	json   string // the REST name: a hook's Patch key
	kind   fieldKind
	null   bool // "" or 0 is stored as NULL
	secret bool // sealed at rest
}

// mapping is the row ↔ struct mapping of one record type, built once.
type mapping struct {
	typ    reflect.Type
	fields []*field
	byCol  map[string]*field
	hooks  []*field
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	timePtrType = reflect.TypeFor[*time.Time]()
	hookType    = reflect.TypeFor[*store.Webhook]()
)

func newMapping(typ reflect.Type) (*mapping, error) {
	m := &mapping{typ: typ, byCol: map[string]*field{}}
	for i := range typ.NumField() {
		sf := typ.Field(i)
		tag, ok := sf.Tag.Lookup("db")
		if !ok || tag == "-" || !sf.IsExported() {
			continue
		}
		parts := strings.Split(tag, ",")
		f := &field{index: sf.Index, col: parts[0]}
		f.json, _, _ = strings.Cut(sf.Tag.Get("json"), ",")
		hook := false
		for _, opt := range parts[1:] {
			switch opt {
			case "null":
				f.null = true
			case "secret":
				f.secret = true
			case "hook":
				hook = true
			default:
				return nil, fmt.Errorf("store/sql: %s.%s: unknown db tag option %q", typ.Name(), sf.Name, opt)
			}
		}
		switch t := sf.Type; {
		case hook:
			if t != hookType {
				return nil, fmt.Errorf("store/sql: %s.%s: a hook must be a *store.Webhook", typ.Name(), sf.Name)
			}
			f.kind, f.null = kHook, true
			m.hooks = append(m.hooks, f)
		case t == timeType:
			f.kind = kTime
		case t == timePtrType:
			f.kind, f.null = kTimePtr, true
		case t.Kind() == reflect.String:
			f.kind = kString
		case t.Kind() == reflect.Bool:
			f.kind = kBool
		case isInt(t.Kind()):
			f.kind = kInt
		default:
			return nil, fmt.Errorf("store/sql: %s.%s: unsupported field type %s", typ.Name(), sf.Name, t)
		}
		if f.secret && f.kind != kString {
			return nil, fmt.Errorf("store/sql: %s.%s: only strings can be secret", typ.Name(), sf.Name)
		}
		if _, dup := m.byCol[f.col]; dup {
			return nil, fmt.Errorf("store/sql: %s: column %s tagged twice", typ.Name(), f.col)
		}
		m.fields = append(m.fields, f)
		m.byCol[f.col] = f
	}
	return m, nil
}

// columns is the quoted column list in field order: "`a`, `b`, ...".
func (m *mapping) columns() string {
	cols := make([]string, len(m.fields))
	for i, f := range m.fields {
		cols[i] = quote(f.col)
	}
	return strings.Join(cols, ", ")
}

// qualifiedColumns is the column list qualified by table: "`t`.`a`, ...".
func (m *mapping) qualifiedColumns(table string) string {
	cols := make([]string, len(m.fields))
	for i, f := range m.fields {
		cols[i] = quote(table) + "." + quote(f.col)
	}
	return strings.Join(cols, ", ")
}

// str reads a string field.
func (f *field) str(v reflect.Value) string { return v.FieldByIndex(f.index).String() }

func (f *field) setStr(v reflect.Value, s string) { v.FieldByIndex(f.index).SetString(s) }

// arg is the value bound for f of the record v. Secrets are sealed; hooks are
// handled by the caller (it passes the webhook sid).
func (d *DB) arg(f *field, v reflect.Value) (any, error) {
	fv := v.FieldByIndex(f.index)
	switch f.kind {
	case kString:
		s := fv.String()
		if f.secret {
			sealed, err := d.sealer.Seal(s)
			if err != nil {
				return nil, fmt.Errorf("seal %s: %w", f.col, err)
			}
			s = sealed
		}
		if f.null && s == "" {
			return nil, nil
		}
		return s, nil
	case kInt:
		var n int64
		if fv.CanInt() {
			n = fv.Int()
		} else {
			u := fv.Uint()
			if u > math.MaxInt64 {
				return nil, fmt.Errorf("%s: %d overflows: %w", f.col, u, store.ErrInvalid)
			}
			n = int64(u)
		}
		if f.null && n == 0 {
			return nil, nil
		}
		return n, nil
	case kBool:
		return fv.Bool(), nil
	case kTime:
		return d.dialect.timeArg(fv.Interface().(time.Time)), nil
	case kTimePtr:
		tp := fv.Interface().(*time.Time)
		if tp == nil {
			return nil, nil
		}
		return d.dialect.timeArg(*tp), nil
	case kHook:
		wh := fv.Interface().(*store.Webhook)
		if wh == nil || wh.WebhookSID == "" {
			return nil, nil
		}
		return wh.WebhookSID, nil
	}
	return nil, fmt.Errorf("%s: unknown field kind", f.col)
}

// scanner holds one row's destinations in field order.
type scanner struct {
	dest []any
}

func newScanner(m *mapping) *scanner {
	s := &scanner{dest: make([]any, len(m.fields))}
	for i, f := range m.fields {
		switch f.kind {
		case kString, kHook:
			s.dest[i] = new(sql.NullString)
		case kInt:
			s.dest[i] = new(sql.NullInt64)
		case kBool:
			s.dest[i] = new(sql.NullBool)
		case kTime, kTimePtr:
			s.dest[i] = new(sql.NullTime)
		}
	}
	return s
}

// store copies the scanned row into v (an addressable struct), opening
// secrets. Hook fields get a *Webhook holding only the sid; the caller loads
// the rest.
func (d *DB) fill(m *mapping, s *scanner, v reflect.Value) error {
	for i, f := range m.fields {
		fv := v.FieldByIndex(f.index)
		switch f.kind {
		case kString:
			ns := s.dest[i].(*sql.NullString)
			str := ns.String
			if f.secret && str != "" {
				plain, err := d.sealer.Open(str)
				if err != nil {
					return fmt.Errorf("open %s: %w", f.col, err)
				}
				str = plain
			}
			fv.SetString(str)
		case kHook:
			ns := s.dest[i].(*sql.NullString)
			if ns.Valid && ns.String != "" {
				fv.Set(reflect.ValueOf(&store.Webhook{WebhookSID: ns.String}))
			} else {
				fv.Set(reflect.Zero(hookType))
			}
		case kInt:
			n := s.dest[i].(*sql.NullInt64).Int64
			if fv.CanInt() {
				fv.SetInt(n)
			} else {
				fv.SetUint(uint64(n))
			}
		case kBool:
			fv.SetBool(s.dest[i].(*sql.NullBool).Bool)
		case kTime:
			fv.Set(reflect.ValueOf(s.dest[i].(*sql.NullTime).Time.UTC()))
		case kTimePtr:
			nt := s.dest[i].(*sql.NullTime)
			if nt.Valid {
				t := nt.Time.UTC()
				fv.Set(reflect.ValueOf(&t))
			} else {
				fv.Set(reflect.Zero(timePtrType))
			}
		}
	}
	return nil
}

// patchArg converts a Patch or Filter value for f into the bound argument,
// accepting the Go types a REST layer naturally produces (float64 from JSON
// numbers, *time.Time, ...). nil means NULL.
func (d *DB) patchArg(f *field, key string, val any) (any, error) {
	bad := func() (any, error) {
		return nil, fmt.Errorf("%s: %T is not a valid value: %w", key, val, store.ErrInvalid)
	}
	if val == nil {
		if !f.null {
			return nil, fmt.Errorf("%s: cannot be null: %w", key, store.ErrInvalid)
		}
		return nil, nil
	}
	rv := reflect.ValueOf(val)
	switch f.kind {
	case kString, kHook:
		if rv.Kind() != reflect.String {
			if p, ok := val.(*string); ok && p != nil {
				rv = reflect.ValueOf(*p)
			} else if ok {
				return d.patchArg(f, key, nil)
			} else {
				return bad()
			}
		}
		s := rv.String()
		if f.secret {
			sealed, err := d.sealer.Seal(s)
			if err != nil {
				return nil, fmt.Errorf("seal %s: %w", key, err)
			}
			s = sealed
		}
		if f.null && s == "" {
			return nil, nil
		}
		return s, nil
	case kInt:
		var n int64
		switch {
		case rv.CanInt():
			n = rv.Int()
		case rv.CanUint() && rv.Uint() <= math.MaxInt64:
			n = int64(rv.Uint())
		case rv.CanFloat() && rv.Float() == math.Trunc(rv.Float()) && math.Abs(rv.Float()) < 1<<53:
			n = int64(rv.Float())
		default:
			return bad()
		}
		if f.null && n == 0 {
			return nil, nil
		}
		return n, nil
	case kBool:
		if rv.Kind() != reflect.Bool {
			return bad()
		}
		return rv.Bool(), nil
	case kTime, kTimePtr:
		switch t := val.(type) {
		case time.Time:
			return d.dialect.timeArg(t), nil
		case *time.Time:
			if t == nil {
				return d.patchArg(f, key, nil)
			}
			return d.dialect.timeArg(*t), nil
		}
		return bad()
	}
	return bad()
}

func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}
