package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/store"
)

// liveAccount resolves the account in the path for a live-state read: 404
// when the key cannot see it, 503 when no live store is configured.
func (v *v1) liveAccount(c *fiber.Ctx) (store.Account, error) {
	a, err := v.account(c)
	if err != nil {
		return a, err
	}
	if v.live == nil {
		return a, fiber.NewError(fiber.StatusServiceUnavailable, "live state is not available")
	}
	return a, nil
}

// registeredSipUsers is GET /Accounts/:sid/RegisteredSipUsers: the account's
// registered devices as "name@realm" strings, as jambonz lists them.
func (v *v1) registeredSipUsers(c *fiber.Ctx) error {
	a, err := v.liveAccount(c)
	if err != nil {
		return v.fail(c, "registered sip users", err)
	}
	if a.SIPRealm == "" {
		return fiber.NewError(fiber.StatusBadRequest, "account does not have sip_realm configuration")
	}
	regs, err := v.live.ListRegistrations(c.UserContext(), a.SIPRealm)
	if err != nil {
		return v.fail(c, "registered sip users", err)
	}
	out := make([]string, 0, len(regs))
	for _, r := range regs {
		out = append(out, r.Name+"@"+a.SIPRealm)
	}
	return c.JSON(out)
}

// registeredSipUsersDetail is POST /Accounts/:sid/RegisteredSipUsers with a
// JSON array of user names: each one's registration in jambonz's
// RegisteredClient shape ({name, contact, expiryTime, protocol,
// registered_status}); an empty array or body means every registered user.
func (v *v1) registeredSipUsersDetail(c *fiber.Ctx) error {
	a, err := v.liveAccount(c)
	if err != nil {
		return v.fail(c, "registered sip users", err)
	}
	if a.SIPRealm == "" {
		return fiber.NewError(fiber.StatusBadRequest, "account does not have sip_realm configuration")
	}
	var names []string
	if b := bytes.TrimSpace(c.Body()); len(b) > 0 {
		if err := json.Unmarshal(b, &names); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "request body must be a JSON array of user names")
		}
	}
	entry := func(name string, r *store.Registration) fiber.Map {
		if r == nil {
			return fiber.Map{"name": name, "contact": nil, "expiryTime": 0, "protocol": nil, "registered_status": "inactive"}
		}
		return fiber.Map{"name": name, "contact": r.Contact, "expiryTime": r.ExpiresAt.UnixMilli(),
			"protocol": r.Transport, "registered_status": "active"}
	}
	out := []fiber.Map{}
	if len(names) == 0 {
		regs, err := v.live.ListRegistrations(c.UserContext(), a.SIPRealm)
		if err != nil {
			return v.fail(c, "registered sip users", err)
		}
		for i := range regs {
			out = append(out, entry(regs[i].Name, &regs[i]))
		}
		return c.JSON(out)
	}
	if len(names) > maxPageSize {
		return fiber.NewError(fiber.StatusBadRequest, "at most 500 user names per request")
	}
	for _, n := range names {
		r, err := v.live.Registration(c.UserContext(), n, a.SIPRealm)
		switch {
		case err == nil:
			out = append(out, entry(n, &r))
		case errors.Is(err, store.ErrNotFound):
			out = append(out, entry(n, nil))
		default:
			return v.fail(c, "registered sip users", err)
		}
	}
	return c.JSON(out)
}

// registeredSipUser is GET /Accounts/:sid/RegisteredSipUsers/:client: one
// device's registration in jambonz's RegisteredClient shape; a device that is
// not registered is "inactive", not a 404.
func (v *v1) registeredSipUser(c *fiber.Ctx) error {
	a, err := v.liveAccount(c)
	if err != nil {
		return v.fail(c, "registered sip user", err)
	}
	name := c.Params("client")
	out := fiber.Map{"name": name, "contact": nil, "expiryTime": 0, "protocol": nil,
		"allow_direct_app_calling": 0, "allow_direct_queue_calling": 0, "allow_direct_user_calling": 0,
		"registered_status": "inactive", "proxy": nil}
	if a.SIPRealm != "" {
		r, err := v.live.Registration(c.UserContext(), name, a.SIPRealm)
		switch {
		case err == nil:
			out["contact"], out["expiryTime"], out["protocol"] = r.Contact, r.ExpiresAt.UnixMilli(), r.Transport
			out["registered_status"] = "active"
		case !errors.Is(err, store.ErrNotFound):
			return v.fail(c, "registered sip user", err)
		}
	}
	acctScope := store.ForAccount(a.ServiceProviderSID, a.AccountSID)
	cls, err := v.prov.Clients(acctScope).List(c.UserContext(), store.Filter{"username": name})
	if err != nil {
		return v.fail(c, "registered sip user", err)
	}
	if len(cls) > 0 {
		b := func(x bool) int {
			if x {
				return 1
			}
			return 0
		}
		out["allow_direct_app_calling"] = b(cls[0].AllowDirectAppCalling)
		out["allow_direct_queue_calling"] = b(cls[0].AllowDirectQueueCalling)
		out["allow_direct_user_calling"] = b(cls[0].AllowDirectUserCalling)
	}
	return c.JSON(out)
}

// queues is GET /Accounts/:sid/Queues[?search=...]: [{name, length}].
func (v *v1) queues(c *fiber.Ctx) error {
	a, err := v.liveAccount(c)
	if err != nil {
		return v.fail(c, "queues", err)
	}
	qs, err := v.live.ListQueues(c.UserContext(), a.AccountSID)
	if err != nil {
		return v.fail(c, "queues", err)
	}
	search := c.Query("search", c.Query("name"))
	out := make([]store.QueueInfo, 0, len(qs))
	for _, q := range qs {
		if search == "" || strings.Contains(q.Name, search) {
			out = append(out, q)
		}
	}
	return c.JSON(out)
}

// conferences is GET /Accounts/:sid/Conferences: the names of the account's
// conferences.
func (v *v1) conferences(c *fiber.Ctx) error {
	a, err := v.liveAccount(c)
	if err != nil {
		return v.fail(c, "conferences", err)
	}
	names, err := v.live.ListConferences(c.UserContext(), a.AccountSID)
	if err != nil {
		return v.fail(c, "conferences", err)
	}
	if names == nil {
		names = []string{}
	}
	return c.JSON(names)
}

// callCount is GET /Accounts/:sid/CallCount: {inbound, outbound} calls in progress.
func (v *v1) callCount(c *fiber.Ctx) error {
	a, err := v.liveAccount(c)
	if err != nil {
		return v.fail(c, "call count", err)
	}
	calls, err := v.live.ListCalls(c.UserContext(), a.AccountSID)
	if err != nil {
		return v.fail(c, "call count", err)
	}
	in, out := 0, 0
	for _, call := range calls {
		if runtime.IsFinal(call["call_status"]) {
			continue // ended, still in the store for an hour
		}
		if strings.HasPrefix(call["direction"], "outbound") {
			out++
		} else {
			in++
		}
	}
	return c.JSON(fiber.Map{"inbound": in, "outbound": out})
}
