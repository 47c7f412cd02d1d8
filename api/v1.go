package api

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"reflect"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/voxrun/voxrun/store"
)

// v1 is the REST API under /v1: provisioning as jambonz-api-server serves it,
// and the live-state reads. Live call control (/Calls) is not here yet.
type v1 struct {
	prov     store.Provisioning
	live     store.Live
	calls    CallControl
	creator  CallCreator
	log      *slog.Logger
	now      func() time.Time
	byAddr   *limiter
	byKey    *limiter
	maxDepth int
	doc      *apiDoc
	sims     Simulations
	// compileJS checks JS app uploads (Config.CompileJS).
	compileJS func(source string) error
}

// mountV1 registers /v1 on app. cfg has its defaults applied by New.
func mountV1(app *fiber.App, cfg Config) {
	v := &v1{prov: cfg.Provisioning, live: cfg.Live, calls: cfg.Calls, creator: cfg.Creator, log: cfg.Logger, now: cfg.Now, maxDepth: cfg.MaxJSONDepth,
		doc: newAPIDoc(), sims: cfg.Simulations, compileJS: cfg.CompileJS}
	if rl := cfg.RateLimit.withDefaults(); !rl.Disabled {
		v.byAddr = newLimiter(rl.PerAddress, cfg.Now)
		v.byKey = newLimiter(rl.PerKey, cfg.Now)
	}
	// The description is public, like jambonz's swagger: registered before
	// the group, it answers without a key.
	var openapi []byte
	app.Get(openAPIRoute, v.limitByAddress, func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(openapi)
	})
	v.simulationSocket(app) // authenticated by its first message, not a header
	g := app.Group("/v1", v.limitByAddress, v.checkDepth, v.authenticate)
	v.routes(g)
	v.simulationRoutes(g)
	v.jsAppRoutes(g)
	doc, err := v.doc.document()
	if err != nil {
		// The document is built from this package's own tables: a failure
		// is a programming error, caught by the tests.
		panic(fmt.Sprintf("api: openapi document: %v", err))
	}
	openapi = doc
}

// openAPIRoute serves the OpenAPI 3 description of /v1.
const openAPIRoute = "/v1/openapi.json"

func (v *v1) routes(g fiber.Router) {
	p := v.prov

	sps := newResource(resource[store.ServiceProvider]{name: "service provider", repo: p.ServiceProviders, required: []string{"name"}})
	accounts := newResource(resource[store.Account]{name: "account", repo: p.Accounts, required: []string{"name"},
		defaults: map[string]any{"is_active": true},
		beforeCreate: func(a *store.Account) error {
			secret, err := newWebhookSecret()
			a.WebhookSecret = secret
			return err
		}})
	apps := newResource(resource[store.Application]{name: "application", repo: p.Applications, required: []string{"name"},
		prepare: stringifyJSON("app_json", "env_vars")})
	numbers := newResource(resource[store.PhoneNumber]{name: "phone number", repo: p.PhoneNumbers, required: []string{"number"},
		frozen: []string{"number", "voip_carrier_sid"}})
	carriers := newResource(resource[store.VoipCarrier]{name: "voip carrier", repo: p.VoipCarriers, required: []string{"name"},
		defaults: map[string]any{"is_active": true}})
	gateways := newResource(resource[store.SipGateway]{name: "sip gateway", repo: p.SipGateways, required: []string{"voip_carrier_sid", "ipv4"},
		// netmask 32, never 0: a missing netmask must not allow-list the whole internet.
		defaults: map[string]any{"is_active": true, "netmask": 32},
		fixed:    []string{"voip_carrier_sid"}, filters: []string{"voip_carrier_sid"}})
	lcrs := newResource(resource[store.LCR]{name: "lcr", repo: p.LCRs, defaults: map[string]any{"is_active": true}})
	routes := newResource(resource[store.LCRRoute]{name: "lcr route", repo: p.LCRRoutes, required: []string{"lcr_sid", "regex"},
		fixed: []string{"lcr_sid"}, filters: []string{"lcr_sid"}})
	entries := newResource(resource[store.LCRCarrierSetEntry]{name: "lcr carrier set entry", repo: p.LCRCarrierSetEntries, required: []string{"lcr_route_sid", "voip_carrier_sid"},
		defaults: map[string]any{"workload": 1},
		fixed:    []string{"lcr_route_sid"}, filters: []string{"lcr_route_sid"}})
	clients := newResource(resource[store.Client]{name: "client", repo: p.Clients, required: []string{"username"},
		defaults: map[string]any{"is_active": true, "allow_direct_app_calling": true,
			"allow_direct_queue_calling": true, "allow_direct_user_calling": true},
		prepare: dropObscured("password"),
		view: func(c store.Client) any {
			c.Password = obscure(c.Password)
			return c
		}})
	apiKeys := newResource(resource[store.APIKey]{name: "api key", repo: p.APIKeys})

	sps.mount(v, g, "/ServiceProviders", keyScope, allOps())
	accounts.mount(v, g, "/Accounts", keyScope, allOps())
	apps.mount(v, g, "/Applications", keyScope, allOps())
	numbers.mount(v, g, "/PhoneNumbers", keyScope, allOps())
	carriers.mount(v, g, "/VoipCarriers", keyScope, allOps())
	gateways.mount(v, g, "/SipGateways", keyScope, allOps())
	lcrs.mount(v, g, "/Lcrs", keyScope, allOps())
	routes.mount(v, g, "/LcrRoutes", keyScope, allOps())
	entries.mount(v, g, "/LcrCarrierSetEntries", keyScope, allOps())
	clients.mount(v, g, "/Clients", keyScope, allOps())
	v.handle(g, opDoc{method: "POST", path: "/ApiKeys", summary: "create an api key; the token is shown once", tag: "ApiKeys",
		body:   object(map[string]any{"account_sid": typ("string"), "service_provider_sid": typ("string"), "expiry_secs": typ("integer")}),
		status: fiber.StatusCreated, result: ref("Created")}, v.createAPIKey)
	apiKeys.mount(v, g, "/ApiKeys", keyScope, ops{del: true})

	// Collections nested under an account: the account comes from the path,
	// checked against the key's scope, and the repository is bound to it.
	acct := v.accountTarget
	apps.mount(v, g, "/Accounts/:sid/Applications", acct, allOps())
	carriers.mount(v, g, "/Accounts/:sid/VoipCarriers", acct, listCreate())
	apiKeys.mount(v, g, "/Accounts/:sid/ApiKeys", acct, ops{list: true})
	v.speechCredentials(g, "/Accounts/:sid/SpeechCredentials", acct)
	v.handle(g, opDoc{method: "GET", path: "/Accounts/:sid/WebhookSecret", summary: "the account's webhook secret, regenerated first when asked", tag: "Accounts",
		query: []string{"regenerate"}, result: object(map[string]any{"webhook_secret": typ("string")})}, v.webhookSecret)
	limit := v.doc.schemaFor(reflect.TypeFor[store.AccountLimit]())
	v.handle(g, opDoc{method: "GET", path: "/Accounts/:sid/Limits", summary: "list the account's limits", tag: "Accounts",
		query: []string{"category"}, result: arrayOf(limit)}, v.listLimits)
	v.handle(g, opDoc{method: "POST", path: "/Accounts/:sid/Limits", summary: "set a limit of the account", tag: "Accounts",
		body:   object(map[string]any{"category": typ("string"), "quantity": typ("integer")}, "category", "quantity"),
		status: fiber.StatusCreated, result: ref("Created")}, v.setLimit)
	v.handle(g, opDoc{method: "DELETE", path: "/Accounts/:sid/Limits", summary: "remove the account's limits", tag: "Accounts",
		query: []string{"category"}, status: fiber.StatusNoContent}, v.deleteLimits)
	v.records(g, "/Accounts/:sid", "Accounts", acct)
	v.handle(g, opDoc{method: "GET", path: "/Accounts/:sid/RegisteredSipUsers", summary: "the account's registered devices (name@realm)", tag: "Accounts",
		result: arrayOf(typ("string"))}, v.registeredSipUsers)
	v.handle(g, opDoc{method: "POST", path: "/Accounts/:sid/RegisteredSipUsers", summary: "registrations of the named users (all when none)", tag: "Accounts",
		body: arrayOf(typ("string")), result: arrayOf(registrationSchema())}, v.registeredSipUsersDetail)
	v.handle(g, opDoc{method: "GET", path: "/Accounts/:sid/RegisteredSipUsers/:client", summary: "one device's registration", tag: "Accounts",
		result: registrationSchema()}, v.registeredSipUser)
	v.handle(g, opDoc{method: "GET", path: "/Accounts/:sid/Queues", summary: "the account's queues", tag: "Accounts",
		query: []string{"search"}, result: arrayOf(v.doc.queueSchema())}, v.queues)
	v.handle(g, opDoc{method: "GET", path: "/Accounts/:sid/Conferences", summary: "the account's conferences", tag: "Accounts",
		result: arrayOf(typ("string"))}, v.conferences)
	v.handle(g, opDoc{method: "GET", path: "/Accounts/:sid/CallCount", summary: "the account's calls in progress", tag: "Accounts",
		result: object(map[string]any{"inbound": typ("integer"), "outbound": typ("integer")})}, v.callCount)
	v.liveCalls(g)

	// Collections nested under a service provider: its own rows, not its accounts'.
	sp, spOwn := v.spTarget(false), v.spTarget(true)
	accounts.mount(v, g, "/ServiceProviders/:sid/Accounts", sp, ops{list: true})
	carriers.mount(v, g, "/ServiceProviders/:sid/VoipCarriers", spOwn, listCreate())
	lcrs.mount(v, g, "/ServiceProviders/:sid/Lcrs", spOwn, listCreate())
	apiKeys.mount(v, g, "/ServiceProviders/:sid/ApiKeys", spOwn, ops{list: true})
	v.speechCredentials(g, "/ServiceProviders/:sid/SpeechCredentials", spOwn)
	v.records(g, "/ServiceProviders/:sid", "ServiceProviders", sp)

	routes.mount(v, g, "/Lcrs/:sid/Routes", v.lcrTarget, ops{list: true})
}

// records mounts RecentCalls and Alerts under prefix.
func (v *v1) records(g fiber.Router, prefix, tag string, tgt target) {
	paging := []string{"page", "count", "days", "start", "end"}
	v.handle(g, opDoc{method: "GET", path: prefix + "/RecentCalls", summary: "call records, newest first", tag: tag,
		query: append(paging, "direction", "answered", "from", "to"), result: page(v.doc.schemaFor(reflect.TypeFor[cdrView]()))},
		func(c *fiber.Ctx) error { return v.recentCalls(c, tgt) })
	v.handle(g, opDoc{method: "GET", path: prefix + "/Alerts", summary: "alerts, newest first", tag: tag,
		query: append(paging, "alert_type"), result: page(v.doc.schemaFor(reflect.TypeFor[store.Alert]()))},
		func(c *fiber.Ctx) error { return v.alerts(c, tgt) })
}

// accountTarget resolves /Accounts/:sid against the key's scope (404 when it
// is not visible) and narrows the scope to that account.
func (v *v1) accountTarget(c *fiber.Ctx) (store.Scope, store.Filter, error) {
	a, err := v.account(c)
	if err != nil {
		return store.Scope{}, nil, err
	}
	return store.ForAccount(a.ServiceProviderSID, a.AccountSID), nil, nil
}

// account is the account named by the path, as the key's scope sees it.
func (v *v1) account(c *fiber.Ctx) (store.Account, error) {
	return v.prov.Accounts(scopeOf(c)).Get(c.UserContext(), c.Params("sid"))
}

// spTarget resolves /ServiceProviders/:sid: only the platform admin and that
// provider's own keys may act there (an account key may read its provider,
// but never act as it). own restricts lists to the provider's own rows.
func (v *v1) spTarget(own bool) target {
	return func(c *fiber.Ctx) (store.Scope, store.Filter, error) {
		s, sid := scopeOf(c), c.Params("sid")
		switch s.Kind {
		case store.ScopeAccount:
			return store.Scope{}, nil, store.ErrForbidden
		case store.ScopeServiceProvider:
			if s.ServiceProviderSID != sid {
				return store.Scope{}, nil, store.ErrNotFound
			}
		}
		if _, err := v.prov.ServiceProviders(s).Get(c.UserContext(), sid); err != nil {
			return store.Scope{}, nil, err
		}
		var f store.Filter
		if own {
			f = store.Filter{"account_sid": nil}
		}
		return store.ForServiceProvider(sid), f, nil
	}
}

// lcrTarget resolves /Lcrs/:sid and lists its routes.
func (v *v1) lcrTarget(c *fiber.Ctx) (store.Scope, store.Filter, error) {
	s := scopeOf(c)
	l, err := v.prov.LCRs(s).Get(c.UserContext(), c.Params("sid"))
	if err != nil {
		return store.Scope{}, nil, err
	}
	return s, store.Filter{"lcr_sid": l.LCRSID}, nil
}

// stringifyJSON lets a body carry these properties as JSON values; they are
// stored as JSON text, as jambonz stores them.
func stringifyJSON(keys ...string) func(map[string]any) error {
	return func(body map[string]any) error {
		for _, k := range keys {
			switch val := body[k].(type) {
			case nil, string:
			default:
				b, err := json.Marshal(val)
				if err != nil {
					return badValue(k)
				}
				body[k] = string(b)
			}
		}
		return nil
	}
}

// dropObscured ignores secrets sent back as we showed them (a GET then PUT
// round trip must not overwrite a password with its mask).
func dropObscured(keys ...string) func(map[string]any) error {
	return func(body map[string]any) error {
		for _, k := range keys {
			if s, ok := body[k].(string); ok && isObscured(s) {
				delete(body, k)
			}
		}
		return nil
	}
}

// obscure masks a secret as jambonz does: X's, then at most its last four
// characters (none for short secrets).
func obscure(s string) string {
	if s == "" {
		return ""
	}
	keep := 0
	if len(s) > 8 {
		keep = 4
	}
	return strings.Repeat("X", len(s)-keep) + s[len(s)-keep:]
}

func isObscured(s string) bool { return strings.HasPrefix(s, "XXXX") }

const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// newWebhookSecret makes a secret in jambonz's format: wh_secret_ and 22
// base58 characters (128 bits).
func newWebhookSecret() (string, error) {
	var b strings.Builder
	b.WriteString("wh_secret_")
	n := big.NewInt(int64(len(base58)))
	for range 22 {
		i, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", err
		}
		b.WriteByte(base58[i.Int64()])
	}
	return b.String(), nil
}
