package api

import (
	"errors"
	"reflect"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/voxrun/voxrun/store"
)

// resource is the REST face of one kind of provisioning record: the generic
// list, create, retrieve, update and delete that every jambonz collection
// shares. Scoping is the store's: every call goes through a repository bound
// to the scope that the request resolved (see target).
type resource[T any] struct {
	// name is the record kind, for logs.
	name string
	// repo binds the store's repository to a scope.
	repo func(store.Scope) store.Repo[T]
	// fixed lists properties that a PUT may carry but never changes (parent
	// sids): they are ignored, like the sid, the owners and the timestamps.
	fixed []string
	// frozen lists properties that a PUT may carry only with their current
	// value (jambonz's "... may not be modified", 400): a phone number's
	// number and carrier.
	frozen []string
	// filters lists the query parameters a list accepts as equality filters.
	filters []string
	// required lists the properties a create must carry (jambonz's
	// "missing field" 400).
	required []string
	// defaults are the values of properties a create leaves out: jambonz's
	// column defaults (voxrun's store writes every column, so the database's
	// own defaults never apply).
	defaults map[string]any
	// prepare adjusts a body before it is read (optional).
	prepare func(body map[string]any) error
	// beforeCreate completes a new record (optional).
	beforeCreate func(rec *T) error
	// view shapes a record for the wire (optional): it hides secrets.
	view func(rec T) any

	fields map[string]wireField
}

// target resolves, for one request, the scope that the repository is bound
// to and the filter a list applies (a nested collection narrows both).
type target func(c *fiber.Ctx) (store.Scope, store.Filter, error)

// keyScope is the target of a top-level collection: the key's own scope.
func keyScope(c *fiber.Ctx) (store.Scope, store.Filter, error) {
	return scopeOf(c), nil, nil
}

// ops says which operations a mount serves.
type ops struct{ list, create, get, update, del bool }

// allOps serves every operation; listCreate only the collection's.
func allOps() ops     { return ops{list: true, create: true, get: true, update: true, del: true} }
func listCreate() ops { return ops{list: true, create: true} }

func newResource[T any](r resource[T]) *resource[T] {
	r.fields = wireFields[T]()
	return &r
}

// mount registers the resource's operations on path (and path/:rsid).
func (r *resource[T]) mount(v *v1, g fiber.Router, path string, tgt target, o ops) {
	rec := v.doc.schemaFor(reflect.TypeFor[T]())
	tag := strings.Split(strings.TrimPrefix(path, "/"), "/")[0]
	item := path + "/:rsid"
	if o.list {
		v.handle(g, opDoc{method: "GET", path: path, summary: "list " + r.name + "s", tag: tag, query: r.filters,
			result: arrayOf(rec)}, func(c *fiber.Ctx) error { return r.list(v, c, tgt) })
	}
	if o.create {
		v.handle(g, opDoc{method: "POST", path: path, summary: "create " + r.name, tag: tag, body: rec,
			status: fiber.StatusCreated, result: ref("Created")}, func(c *fiber.Ctx) error { return r.create(v, c, tgt) })
	}
	if o.get {
		v.handle(g, opDoc{method: "GET", path: item, summary: "retrieve " + r.name, tag: tag, result: rec},
			func(c *fiber.Ctx) error { return r.get(v, c, tgt) })
	}
	if o.update {
		v.handle(g, opDoc{method: "PUT", path: item, summary: "update " + r.name, tag: tag, body: rec,
			status: fiber.StatusNoContent}, func(c *fiber.Ctx) error { return r.update(v, c, tgt) })
	}
	if o.del {
		v.handle(g, opDoc{method: "DELETE", path: item, summary: "delete " + r.name, tag: tag,
			status: fiber.StatusNoContent}, func(c *fiber.Ctx) error { return r.delete(v, c, tgt) })
	}
}

func (r *resource[T]) out(rec T) any {
	if r.view != nil {
		return r.view(rec)
	}
	return rec
}

func (r *resource[T]) list(v *v1, c *fiber.Ctx, tgt target) error {
	s, f, err := tgt(c)
	if err != nil {
		return v.fail(c, "list "+r.name, err)
	}
	filter := store.Filter{}
	for k, val := range f {
		filter[k] = val
	}
	for _, q := range r.filters {
		if val := c.Query(q); val != "" {
			filter[q] = val
		}
	}
	recs, err := r.repo(s).List(c.UserContext(), filter)
	if err != nil {
		return v.fail(c, "list "+r.name, err)
	}
	out := make([]any, 0, len(recs))
	for _, rec := range recs {
		out = append(out, r.out(rec))
	}
	return c.JSON(out)
}

func (r *resource[T]) get(v *v1, c *fiber.Ctx, tgt target) error {
	s, _, err := tgt(c)
	if err != nil {
		return v.fail(c, "get "+r.name, err)
	}
	rec, err := r.repo(s).Get(c.UserContext(), c.Params("rsid"))
	if err != nil {
		return v.fail(c, "get "+r.name, err)
	}
	return c.JSON(r.out(rec))
}

// ownerSkips are the properties a body may not set in scope s: the owners
// come from the key (or the path), never from the body.
func ownerSkips(s store.Scope) map[string]bool {
	skip := map[string]bool{"created_at": true, "updated_at": true}
	switch s.Kind {
	case store.ScopeAccount:
		skip["account_sid"], skip["service_provider_sid"] = true, true
	case store.ScopeServiceProvider:
		skip["service_provider_sid"] = true
	}
	return skip
}

func (r *resource[T]) create(v *v1, c *fiber.Ctx, tgt target) error {
	s, _, err := tgt(c)
	if err != nil {
		return v.fail(c, "create "+r.name, err)
	}
	body, err := readObject(c)
	if err != nil {
		return err
	}
	if r.prepare != nil {
		if err := r.prepare(body); err != nil {
			return err
		}
	}
	skip := ownerSkips(s)
	skip[r.pk()] = true
	vals, err := wireValues(r.fields, body, skip)
	if err != nil {
		return err
	}
	for _, k := range r.required {
		if v, ok := vals[k]; !ok || v == nil || v == "" {
			return fiber.NewError(fiber.StatusBadRequest, "missing field "+k)
		}
	}
	for k, d := range r.defaults {
		if v, ok := vals[k]; !ok || v == nil {
			vals[k] = d
		}
	}
	var rec T
	setFields(r.fields, &rec, vals)
	if r.beforeCreate != nil {
		if err := r.beforeCreate(&rec); err != nil {
			return err
		}
	}
	sid, err := r.repo(s).Create(c.UserContext(), &rec)
	if errors.Is(err, store.ErrNotFound) {
		// The scope does not see a record this one names (an account, a
		// carrier, an application): the same answer whether it exists or not.
		v.log.Debug("api: create refers to an invisible record", "kind", r.name, "err", err)
		return fiber.NewError(fiber.StatusUnprocessableEntity, "a referenced record does not exist")
	}
	if err != nil {
		return v.fail(c, "create "+r.name, err)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"sid": sid})
}

// pk is the JSON name of the record's sid: the first field, by convention of
// store's records.
func (r *resource[T]) pk() string {
	for name, f := range r.fields {
		if len(f.index) == 1 && f.index[0] == 0 {
			return name
		}
	}
	return ""
}

func (r *resource[T]) update(v *v1, c *fiber.Ctx, tgt target) error {
	s, _, err := tgt(c)
	if err != nil {
		return v.fail(c, "update "+r.name, err)
	}
	body, err := readObject(c)
	if err != nil {
		return err
	}
	if r.prepare != nil {
		if err := r.prepare(body); err != nil {
			return err
		}
	}
	skip := map[string]bool{r.pk(): true, "created_at": true, "updated_at": true,
		"account_sid": true, "service_provider_sid": true}
	for _, k := range r.fixed {
		skip[k] = true
	}
	vals, err := wireValues(r.fields, body, skip)
	if err != nil {
		return err
	}
	repo := r.repo(s)
	sid := c.Params("rsid")
	if err := r.checkFrozen(v, c, repo, sid, vals); err != nil {
		return err
	}
	if len(vals) == 0 {
		// Nothing to change: still 404 for a record the caller cannot see.
		if _, err := repo.Get(c.UserContext(), sid); err != nil {
			return v.fail(c, "update "+r.name, err)
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
	if err := repo.Update(c.UserContext(), sid, toPatch(r.fields, vals)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			// Either the record is not visible, or a sid in the body names a
			// record that is not: tell them apart without saying which exists.
			if _, gerr := repo.Get(c.UserContext(), sid); gerr == nil {
				return fiber.NewError(fiber.StatusUnprocessableEntity, "a referenced record does not exist")
			}
		}
		return v.fail(c, "update "+r.name, err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// checkFrozen refuses a change to a frozen property with 400, after a 404
// for a record the caller cannot see; a frozen property sent with its
// current value (a GET then PUT round trip) is dropped from vals.
func (r *resource[T]) checkFrozen(v *v1, c *fiber.Ctx, repo store.Repo[T], sid string, vals map[string]any) error {
	var cur reflect.Value
	for _, k := range r.frozen {
		val, ok := vals[k]
		if !ok {
			continue
		}
		if !cur.IsValid() {
			rec, err := repo.Get(c.UserContext(), sid)
			if err != nil {
				return v.fail(c, "update "+r.name, err)
			}
			cur = reflect.ValueOf(rec)
		}
		now := cur.FieldByIndex(r.fields[k].index)
		if val == nil {
			val = reflect.Zero(now.Type()).Interface()
		}
		if !reflect.DeepEqual(now.Interface(), val) {
			return fiber.NewError(fiber.StatusBadRequest, k+" may not be modified")
		}
		delete(vals, k)
	}
	return nil
}

func (r *resource[T]) delete(v *v1, c *fiber.Ctx, tgt target) error {
	s, _, err := tgt(c)
	if err != nil {
		return v.fail(c, "delete "+r.name, err)
	}
	if err := r.repo(s).Delete(c.UserContext(), c.Params("rsid")); err != nil {
		return v.fail(c, "delete "+r.name, err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}
