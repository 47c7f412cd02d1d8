package api

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/voxrun/voxrun/store"
)

// JS apps are an account's JavaScript applications (issue 8): the app with
// its variables, its uploaded versions (one of them active), and the recent
// invocations with what they logged. They live under the account only:
// /v1/Accounts/{sid}/JsApps.

// CompileError is a syntax error in an uploaded JS app: where it is and what
// the compiler said. Config.CompileJS returns it; the upload answers 422
// {"msg", "line", "column"}.
type CompileError struct {
	Line, Column int
	Message      string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("api: js app: line %d, column %d: %s", e.Line, e.Column, e.Message)
}

// jsAppsPath is where an account's JS apps live under /v1.
const jsAppsPath = "/Accounts/:sid/JsApps"

// jsAppView is a JS app on the wire: its variables as objects, the secret
// ones masked.
type jsAppView struct {
	JSAppSID         string            `json:"js_app_sid"`
	AccountSID       string            `json:"account_sid"`
	Name             string            `json:"name"`
	Description      string            `json:"description,omitempty"`
	ActiveVersionSID string            `json:"active_version_sid,omitempty"`
	EnvVars          map[string]string `json:"env_vars"`
	SecretEnvVars    map[string]string `json:"secret_env_vars"`
	CreatedAt        time.Time         `json:"created_at"`
	UpdatedAt        time.Time         `json:"updated_at"`
}

// jsVersionView is a version on the wire; lists leave the source out.
type jsVersionView struct {
	JSAppVersionSID string    `json:"js_app_version_sid"`
	JSAppSID        string    `json:"js_app_sid"`
	Version         int       `json:"version"`
	Label           string    `json:"label,omitempty"`
	SHA256          string    `json:"sha256"`
	Size            int       `json:"size"`
	Active          bool      `json:"active"`
	CreatedAt       time.Time `json:"created_at"`
	Source          string    `json:"source,omitempty"`
}

// jsUploaded is the answer to an upload.
type jsUploaded struct {
	SID     string `json:"sid"`
	Version int    `json:"version"`
	SHA256  string `json:"sha256"`
	Active  bool   `json:"active"`
}

// jsInvocationView is one invocation on the wire.
type jsInvocationView struct {
	JSAppInvocationSID string               `json:"js_app_invocation_sid"`
	JSAppVersionSID    string               `json:"js_app_version_sid,omitempty"`
	CallSID            string               `json:"call_sid,omitempty"`
	Hook               string               `json:"hook"`
	Outcome            string               `json:"outcome"`
	Error              string               `json:"error,omitempty"`
	DurationMS         float64              `json:"duration_ms"`
	Logs               []store.JSAppLogLine `json:"logs"`
	CreatedAt          time.Time            `json:"created_at"`
}

// compileErrorSchema is the 422 of an upload that does not compile.
func compileErrorSchema() map[string]any {
	return object(map[string]any{"msg": typ("string"), "line": typ("integer"), "column": typ("integer")}, "msg")
}

// jsAppRoutes mounts /Accounts/{sid}/JsApps and everything below it.
func (v *v1) jsAppRoutes(g fiber.Router) {
	const tag = "JsApps"
	item, versions := jsAppsPath+"/:rsid", jsAppsPath+"/:rsid/Versions"
	app := v.doc.schemaFor(reflect.TypeFor[jsAppView]())
	version := v.doc.schemaFor(reflect.TypeFor[jsVersionView]())
	vars := map[string]any{"type": "object", "additionalProperties": typ("string")}
	body := object(map[string]any{"name": typ("string"), "description": typ("string"), "env_vars": vars,
		"secret_env_vars": withDesc(map[string]any{"type": "object", "additionalProperties": typ("string")},
			"secret variables, shown masked; a masked value sent back keeps the secret"),
		"active_version_sid": typ("string")})

	v.handle(g, opDoc{method: "GET", path: jsAppsPath, summary: "list the account's JS apps", tag: tag, result: arrayOf(app)}, v.listJSApps)
	v.handle(g, opDoc{method: "POST", path: jsAppsPath, summary: "create a JS app (its code comes in versions)", tag: tag,
		body: body, status: fiber.StatusCreated, result: ref("Created")}, v.createJSApp)
	v.handle(g, opDoc{method: "GET", path: item, summary: "retrieve a JS app, secret variables masked", tag: tag, result: app}, v.getJSApp)
	v.handle(g, opDoc{method: "PUT", path: item, summary: "update a JS app: name, description, variables, the active version", tag: tag,
		body: body, status: fiber.StatusNoContent}, v.updateJSApp)
	v.handle(g, opDoc{method: "DELETE", path: item, summary: "delete a JS app with its versions and logs (422 while an application uses it)", tag: tag,
		status: fiber.StatusNoContent}, v.deleteJSApp)
	v.handle(g, opDoc{method: "GET", path: versions, summary: "list the app's versions, newest first (without their source)", tag: tag,
		result: arrayOf(version)}, v.listJSVersions)
	v.handle(g, opDoc{method: "POST", path: versions, summary: "upload a version: JSON {source, label} or the source itself as text/javascript; " +
		"at most 256 KiB (413); a syntax error is 422 {msg, line, column}; ?activate=true makes it the active version", tag: tag,
		query: []string{"activate", "label"}, body: object(map[string]any{"source": typ("string"), "label": typ("string")}, "source"),
		status: fiber.StatusCreated, result: v.doc.schemaFor(reflect.TypeFor[jsUploaded]())}, v.uploadJSVersion)
	v.handle(g, opDoc{method: "GET", path: versions + "/:vsid", summary: "retrieve a version with its source", tag: tag, result: version}, v.getJSVersion)
	v.handle(g, opDoc{method: "DELETE", path: versions + "/:vsid", summary: "delete a version (422 while it is the active one)", tag: tag,
		status: fiber.StatusNoContent}, v.deleteJSVersion)
	v.handle(g, opDoc{method: "GET", path: item + "/Logs", summary: "the app's recent invocations with their log lines, newest first", tag: tag,
		query: []string{"count", "call_sid"}, result: arrayOf(v.doc.schemaFor(reflect.TypeFor[jsInvocationView]()))}, v.jsAppLogs)
	v.doc.schemas["CompileError"] = compileErrorSchema()
}

// jsApp resolves /Accounts/{sid}/JsApps/{rsid}: the account in the key's
// scope, then the app in the account's.
func (v *v1) jsApp(c *fiber.Ctx) (store.Scope, store.JSApp, error) {
	s, _, err := v.accountTarget(c)
	if err != nil {
		return s, store.JSApp{}, err
	}
	a, err := v.prov.JSApps(s).Get(c.UserContext(), c.Params("rsid"))
	return s, a, err
}

func viewJSApp(a store.JSApp) (jsAppView, error) {
	env, err := store.DecodeJSAppVars(a.EnvVars)
	if err != nil {
		return jsAppView{}, err
	}
	sec, err := store.DecodeJSAppVars(a.SecretEnvVars)
	if err != nil {
		return jsAppView{}, err
	}
	for k, val := range sec {
		sec[k] = obscure(val)
	}
	return jsAppView{JSAppSID: a.JSAppSID, AccountSID: a.AccountSID, Name: a.Name, Description: a.Description,
		ActiveVersionSID: a.ActiveVersionSID, EnvVars: env, SecretEnvVars: sec, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}, nil
}

func (v *v1) listJSApps(c *fiber.Ctx) error {
	s, _, err := v.accountTarget(c)
	if err != nil {
		return v.fail(c, "list js apps", err)
	}
	apps, err := v.prov.JSApps(s).List(c.UserContext(), nil)
	if err != nil {
		return v.fail(c, "list js apps", err)
	}
	out := make([]jsAppView, 0, len(apps))
	for _, a := range apps {
		view, err := viewJSApp(a)
		if err != nil {
			return v.fail(c, "list js apps", err)
		}
		out = append(out, view)
	}
	return c.JSON(out)
}

func (v *v1) getJSApp(c *fiber.Ctx) error {
	_, a, err := v.jsApp(c)
	if err != nil {
		return v.fail(c, "get js app", err)
	}
	view, err := viewJSApp(a)
	if err != nil {
		return v.fail(c, "get js app", err)
	}
	return c.JSON(view)
}

// readVars reads a variables property: an object of names to strings. prev
// holds the stored secrets, so that a value sent back masked keeps its
// secret; nil for plain variables. present is false when the body leaves
// the property out; null is the empty set.
func readVars(body map[string]any, key string, prev map[string]string) (vars map[string]string, present bool, err error) {
	raw, ok := body[key]
	if !ok {
		return nil, false, nil
	}
	out := map[string]string{}
	if raw == nil {
		return out, true, nil
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, true, badValue(key)
	}
	for k, val := range obj {
		s, ok := val.(string)
		if !ok {
			return nil, true, badValue(key + "." + k)
		}
		if old, had := prev[k]; had && s == obscure(old) {
			s = old
		}
		out[k] = s
	}
	return out, true, nil
}

// jsVarsPatch turns a body's variables into the stored columns: plain and
// secret names may not clash, and the store checks names and sizes.
func jsVarsPatch(body map[string]any, cur store.JSApp, p store.Patch) error {
	prevSecret, err := store.DecodeJSAppVars(cur.SecretEnvVars)
	if err != nil {
		return err
	}
	plain, hasPlain, err := readVars(body, "env_vars", nil)
	if err != nil {
		return err
	}
	secret, hasSecret, err := readVars(body, "secret_env_vars", prevSecret)
	if err != nil {
		return err
	}
	if !hasPlain {
		if plain, err = store.DecodeJSAppVars(cur.EnvVars); err != nil {
			return err
		}
	}
	if !hasSecret {
		secret = prevSecret
	}
	for k := range plain {
		if _, clash := secret[k]; clash {
			return fiber.NewError(fiber.StatusBadRequest, "variable "+k+" is both plain and secret")
		}
	}
	if len(plain)+len(secret) > store.MaxJSAppVars {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("at most %d variables", store.MaxJSAppVars))
	}
	for _, set := range []struct {
		key     string
		present bool
		vars    map[string]string
	}{{"env_vars", hasPlain, plain}, {"secret_env_vars", hasSecret, secret}} {
		if !set.present {
			continue
		}
		enc, err := store.EncodeJSAppVars(set.vars)
		if errors.Is(err, store.ErrInvalid) {
			return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("invalid value for %s: names are JavaScript identifiers, values at most %d bytes",
				set.key, store.MaxJSAppVarSize))
		} else if err != nil {
			return err
		}
		p[set.key] = enc
	}
	return nil
}

// jsAppFields reads name (at most 64 bytes) and description (255).
func jsAppFields(body map[string]any, p store.Patch) error {
	for k, maxLen := range map[string]int{"name": 64, "description": 255} {
		raw, ok := body[k]
		if !ok {
			continue
		}
		switch s := raw.(type) {
		case nil:
			if k == "name" {
				return badValue(k)
			}
			p[k] = nil
		case string:
			if (k == "name" && strings.TrimSpace(s) == "") || len(s) > maxLen {
				return badValue(k)
			}
			p[k] = s
		default:
			return badValue(k)
		}
	}
	return nil
}

func (v *v1) createJSApp(c *fiber.Ctx) error {
	s, _, err := v.accountTarget(c)
	if err != nil {
		return v.fail(c, "create js app", err)
	}
	body, err := readObject(c)
	if err != nil {
		return err
	}
	if _, ok := body["name"]; !ok {
		return fiber.NewError(fiber.StatusBadRequest, "missing field name")
	}
	p := store.Patch{}
	if err := jsAppFields(body, p); err != nil {
		return err
	}
	if err := jsVarsPatch(body, store.JSApp{}, p); err != nil {
		return v.fail(c, "create js app", err)
	}
	rec := store.JSApp{Name: p["name"].(string)}
	rec.Description, _ = p["description"].(string)
	rec.EnvVars, _ = p["env_vars"].(string)
	rec.SecretEnvVars, _ = p["secret_env_vars"].(string)
	sid, err := v.prov.JSApps(s).Create(c.UserContext(), &rec)
	if err != nil {
		return v.fail(c, "create js app", err)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"sid": sid})
}

func (v *v1) updateJSApp(c *fiber.Ctx) error {
	s, cur, err := v.jsApp(c)
	if err != nil {
		return v.fail(c, "update js app", err)
	}
	body, err := readObject(c)
	if err != nil {
		return err
	}
	p := store.Patch{}
	if err := jsAppFields(body, p); err != nil {
		return err
	}
	if err := jsVarsPatch(body, cur, p); err != nil {
		return v.fail(c, "update js app", err)
	}
	if raw, ok := body["active_version_sid"]; ok {
		switch sid := raw.(type) {
		case nil:
			p["active_version_sid"] = nil
		case string:
			p["active_version_sid"] = sid
		default:
			return badValue("active_version_sid")
		}
	}
	if len(p) == 0 {
		return c.SendStatus(fiber.StatusNoContent)
	}
	if err := v.prov.JSApps(s).Update(c.UserContext(), cur.JSAppSID, p); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			// The app was visible a moment ago: the version is not one of its own.
			return fiber.NewError(fiber.StatusUnprocessableEntity, "a referenced record does not exist")
		}
		return v.fail(c, "update js app", err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (v *v1) deleteJSApp(c *fiber.Ctx) error {
	s, cur, err := v.jsApp(c)
	if err != nil {
		return v.fail(c, "delete js app", err)
	}
	if err := v.prov.JSApps(s).Delete(c.UserContext(), cur.JSAppSID); err != nil {
		return v.fail(c, "delete js app", err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func viewJSVersion(r store.JSAppVersion, active string, withSource bool) jsVersionView {
	view := jsVersionView{JSAppVersionSID: r.JSAppVersionSID, JSAppSID: r.JSAppSID, Version: r.Version, Label: r.Label,
		SHA256: r.SHA256, Size: len(r.Source), Active: r.JSAppVersionSID == active, CreatedAt: r.CreatedAt}
	if withSource {
		view.Source = r.Source
	}
	return view
}

func (v *v1) listJSVersions(c *fiber.Ctx) error {
	s, a, err := v.jsApp(c)
	if err != nil {
		return v.fail(c, "list js app versions", err)
	}
	recs, err := v.prov.JSAppVersions(s).List(c.UserContext(), store.Filter{"js_app_sid": a.JSAppSID})
	if err != nil {
		return v.fail(c, "list js app versions", err)
	}
	slices.SortFunc(recs, func(x, y store.JSAppVersion) int { return y.Version - x.Version })
	out := make([]jsVersionView, len(recs))
	for i, r := range recs {
		out[i] = viewJSVersion(r, a.ActiveVersionSID, false)
	}
	return c.JSON(out)
}

// jsVersion resolves /Accounts/{sid}/JsApps/{rsid}/Versions/{vsid}: a
// version of that app, not merely of the account.
func (v *v1) jsVersion(c *fiber.Ctx) (store.Scope, store.JSApp, store.JSAppVersion, error) {
	s, a, err := v.jsApp(c)
	if err != nil {
		return s, a, store.JSAppVersion{}, err
	}
	r, err := v.prov.JSAppVersions(s).Get(c.UserContext(), c.Params("vsid"))
	if err == nil && r.JSAppSID != a.JSAppSID {
		err = store.ErrNotFound // a version of another of the account's apps
	}
	return s, a, r, err
}

func (v *v1) getJSVersion(c *fiber.Ctx) error {
	_, a, r, err := v.jsVersion(c)
	if err != nil {
		return v.fail(c, "get js app version", err)
	}
	return c.JSON(viewJSVersion(r, a.ActiveVersionSID, true))
}

func (v *v1) deleteJSVersion(c *fiber.Ctx) error {
	s, _, r, err := v.jsVersion(c)
	if err != nil {
		return v.fail(c, "delete js app version", err)
	}
	if err := v.prov.JSAppVersions(s).Delete(c.UserContext(), r.JSAppVersionSID); err != nil {
		return v.fail(c, "delete js app version", err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// isJSONBody reports whether the request says its body is JSON (or says nothing).
func isJSONBody(c *fiber.Ctx) bool {
	ct := strings.ToLower(strings.TrimSpace(c.Get(fiber.HeaderContentType)))
	return ct == "" || strings.HasPrefix(ct, fiber.MIMEApplicationJSON) || strings.Contains(ct, "+json")
}

// isSourceUpload reports a version upload whose body is the source itself,
// which the JSON depth check leaves alone (braces in JavaScript are not JSON).
func isSourceUpload(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && strings.HasSuffix(strings.TrimSuffix(c.Path(), "/"), "/Versions") &&
		strings.Contains(c.Path(), "/JsApps/") && !isJSONBody(c)
}

// uploadSource reads an upload's source and label: a JSON object
// {source, label}, or the body itself with ?label=.
func uploadSource(c *fiber.Ctx) (source, label string, err error) {
	label = c.Query("label")
	if isJSONBody(c) && len(bytes.TrimSpace(c.Body())) > 0 {
		body, err := readObject(c)
		if err != nil {
			return "", "", err
		}
		var ok bool
		if source, ok = body["source"].(string); !ok {
			if _, present := body["source"]; present {
				return "", "", badValue("source")
			}
			return "", "", fiber.NewError(fiber.StatusBadRequest, "missing field source")
		}
		switch l := body["label"].(type) {
		case nil:
		case string:
			label = l
		default:
			return "", "", badValue("label")
		}
	} else {
		source = string(c.Body())
	}
	switch {
	case len(source) > store.MaxJSAppSourceSize:
		return "", "", fiber.NewError(fiber.StatusRequestEntityTooLarge,
			fmt.Sprintf("source is larger than %d bytes", store.MaxJSAppSourceSize))
	case strings.TrimSpace(source) == "":
		return "", "", fiber.NewError(fiber.StatusBadRequest, "missing field source")
	case !utf8.ValidString(source):
		return "", "", fiber.NewError(fiber.StatusBadRequest, "source is not UTF-8")
	case len(label) > 255:
		return "", "", badValue("label")
	}
	return source, label, nil
}

func (v *v1) uploadJSVersion(c *fiber.Ctx) error {
	s, a, err := v.jsApp(c)
	if err != nil {
		return v.fail(c, "upload js app version", err)
	}
	activate := false
	if q := c.Query("activate"); q != "" {
		if activate, err = strconv.ParseBool(q); err != nil {
			return badValue("activate")
		}
	}
	source, label, err := uploadSource(c)
	if err != nil {
		return err
	}
	if v.compileJS != nil {
		if err := v.compileJS(source); err != nil {
			var ce *CompileError
			if errors.As(err, &ce) {
				return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{
					"msg": "the source does not compile: " + ce.Message, "line": ce.Line, "column": ce.Column})
			}
			v.log.Error("api: js app compile check failed", "js_app_sid", a.JSAppSID, "err", err)
			return fiber.NewError(fiber.StatusServiceUnavailable, "service temporarily unavailable")
		}
	}
	rec := store.JSAppVersion{JSAppSID: a.JSAppSID, Label: label, Source: source}
	sid, err := v.prov.JSAppVersions(s).Create(c.UserContext(), &rec)
	if err != nil {
		return v.fail(c, "upload js app version", err)
	}
	if activate {
		if err := v.prov.JSApps(s).Update(c.UserContext(), a.JSAppSID, store.Patch{"active_version_sid": sid}); err != nil {
			return v.fail(c, "activate js app version", err)
		}
	}
	v.log.Info("js app version uploaded", "account_sid", a.AccountSID, "js_app_sid", a.JSAppSID,
		"version", rec.Version, "sha256", rec.SHA256, "bytes", len(source), "active", activate)
	return c.Status(fiber.StatusCreated).JSON(jsUploaded{SID: sid, Version: rec.Version, SHA256: rec.SHA256, Active: activate})
}

func (v *v1) jsAppLogs(c *fiber.Ctx) error {
	s, a, err := v.jsApp(c)
	if err != nil {
		return v.fail(c, "js app logs", err)
	}
	q := store.JSAppInvocationQuery{CallSID: c.Query("call_sid")}
	if cs := c.Query("count"); cs != "" {
		n, err := strconv.Atoi(cs)
		if err != nil || n < 1 || n > store.KeepJSAppInvocations {
			return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("count must be 1 to %d", store.KeepJSAppInvocations))
		}
		q.Count = n
	}
	invs, err := v.prov.ListJSAppInvocations(c.UserContext(), s, a.JSAppSID, q)
	if err != nil {
		return v.fail(c, "js app logs", err)
	}
	out := make([]jsInvocationView, len(invs))
	for i, inv := range invs {
		out[i] = jsInvocationView{JSAppInvocationSID: inv.JSAppInvocationSID, JSAppVersionSID: inv.JSAppVersionSID,
			CallSID: inv.CallSID, Hook: inv.Hook, Outcome: inv.Outcome, Error: inv.Error,
			DurationMS: float64(inv.Duration.Microseconds()) / 1000, Logs: inv.Logs, CreatedAt: inv.CreatedAt}
	}
	return c.JSON(out)
}
