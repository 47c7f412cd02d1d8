package api

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/voxrun/voxrun/store"
)

// The OpenAPI 3 description of /v1 is collected as the routes are
// registered (v1.handle), so that it cannot list a route that does not exist;
// a test checks the converse, that every registered route is described.

// opDoc describes one operation.
type opDoc struct {
	method  string
	path    string // as registered under /v1, with fiber's :params
	summary string
	tag     string
	query   []string
	body    any // request body schema; nil for none
	status  int // success status
	result  any // success body schema; nil for none
}

// apiDoc is the description being collected.
type apiDoc struct {
	ops     []opDoc
	schemas map[string]any
}

func newAPIDoc() *apiDoc {
	d := &apiDoc{schemas: map[string]any{
		"Error": object(map[string]any{"msg": typ("string")}, "msg"),
		"Created": object(map[string]any{
			"sid":   typ("string"),
			"token": withDesc(typ("string"), "POST /ApiKeys only: the token, shown this once"),
		}, "sid"),
	}}
	return d
}

func typ(t string) map[string]any { return map[string]any{"type": t} }

func withDesc(s map[string]any, desc string) map[string]any {
	s["description"] = desc
	return s
}

func object(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func arrayOf(s any) map[string]any { return map[string]any{"type": "array", "items": s} }

// page is RecentCalls' and Alerts' envelope around items.
func page(items any) map[string]any {
	return object(map[string]any{"total": typ("integer"), "batch": typ("integer"), "page": typ("integer"),
		"data": arrayOf(items)}, "total", "batch", "page", "data")
}

// schemaFor registers the schema of a record type (by its JSON tags) and
// returns a reference to it.
func (d *apiDoc) schemaFor(t reflect.Type) map[string]any {
	name := t.Name()
	if _, ok := d.schemas[name]; ok {
		return ref(name)
	}
	d.schemas[name] = nil // break cycles
	props := map[string]any{}
	for i := range t.NumField() {
		f := t.Field(i)
		jn, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if jn == "" || jn == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == reflect.TypeFor[time.Time]():
			props[jn] = map[string]any{"type": "string", "format": "date-time"}
		case ft.Kind() == reflect.Struct:
			props[jn] = d.schemaFor(ft)
		case ft.Kind() == reflect.String:
			props[jn] = typ("string")
		case ft.Kind() == reflect.Bool:
			props[jn] = typ("boolean")
		case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Uint64:
			props[jn] = typ("integer")
		default:
			props[jn] = map[string]any{}
		}
	}
	d.schemas[name] = object(props)
	return ref(name)
}

func (d *apiDoc) add(op opDoc) { d.ops = append(d.ops, op) }

// pathParams lists the :params of a fiber route.
func pathParams(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if name, ok := strings.CutPrefix(seg, ":"); ok {
			out = append(out, name)
		}
	}
	return out
}

// openAPIPath turns a fiber route under /v1 into an OpenAPI path.
func openAPIPath(p string) string {
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		if name, ok := strings.CutPrefix(seg, ":"); ok {
			segs[i] = "{" + name + "}"
		}
	}
	return "/v1" + strings.Join(segs, "/")
}

// document renders the OpenAPI 3 document.
func (d *apiDoc) document() ([]byte, error) {
	paths := map[string]map[string]any{}
	for _, op := range d.ops {
		p := openAPIPath(op.path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		var params []any
		for _, name := range pathParams(op.path) {
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": typ("string")})
		}
		for _, q := range op.query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": typ("string")})
		}
		ok := map[string]any{"description": "success"}
		if op.result != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": op.result}}
		}
		o := map[string]any{
			"summary": op.summary,
			"tags":    []string{op.tag},
			"responses": map[string]any{
				strconv.Itoa(op.status): ok,
				"default": map[string]any{"description": "an error",
					"content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}},
			},
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		if op.body != nil {
			o["requestBody"] = map[string]any{"required": true,
				"content": map[string]any{"application/json": map[string]any{"schema": op.body}}}
		}
		paths[p][strings.ToLower(op.method)] = o
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "voxrun REST API", "version": "1",
			"description": "jambonz-compatible provisioning and live-state API; see docs/rest.md."},
		"servers":  []any{map[string]any{"url": "/"}},
		"security": []any{map[string]any{"bearer": []any{}}},
		"paths":    paths,
		"components": map[string]any{
			"schemas":         d.schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
	return json.Marshal(doc)
}

// handle registers one operation on g and describes it.
func (v *v1) handle(g fiber.Router, op opDoc, h fiber.Handler) {
	if op.status == 0 {
		op.status = fiber.StatusOK
	}
	g.Add(op.method, op.path, h)
	v.doc.add(op)
}

// speechSchema describes a speech credential on the wire: the record and the
// vendor's own (masked) properties beside it.
func (d *apiDoc) speechSchema() map[string]any {
	r := d.schemaFor(reflect.TypeFor[speechView]())
	return map[string]any{"allOf": []any{r, map[string]any{"type": "object", "additionalProperties": true,
		"description": "the vendor's properties (api_key, service_key, ...), secrets masked"}}}
}

// registrationSchema is jambonz's RegisteredClient.
func registrationSchema() map[string]any {
	return object(map[string]any{"name": typ("string"), "contact": typ("string"), "expiryTime": typ("integer"),
		"protocol": typ("string"), "allow_direct_app_calling": typ("integer"), "allow_direct_queue_calling": typ("integer"),
		"allow_direct_user_calling": typ("integer"), "registered_status": typ("string"), "proxy": typ("string")})
}

// queueSchema is one queue of Queues.
func (d *apiDoc) queueSchema() map[string]any { return d.schemaFor(reflect.TypeFor[store.QueueInfo]()) }
