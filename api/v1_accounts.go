package api

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/voxrun/voxrun/store"
)

// createAPIKey is POST /ApiKeys. As in jambonz the answer is
// 201 {"sid", "token"}: the only time the token is ever shown.
//
// An account key makes keys for its own account; a service provider key for
// itself or (account_sid) one of its accounts; the admin for anyone, or an
// admin key when the body names no owner.
func (v *v1) createAPIKey(c *fiber.Ctx) error {
	body, err := readObject(c)
	if err != nil {
		return err
	}
	s := scopeOf(c)
	str := func(k string) (string, error) {
		switch x := body[k].(type) {
		case nil:
			return "", nil
		case string:
			return x, nil
		}
		return "", badValue(k)
	}
	var rec store.APIKey
	switch s.Kind {
	case store.ScopeAccount:
		rec.AccountSID, rec.ServiceProviderSID = s.AccountSID, s.ServiceProviderSID
	case store.ScopeServiceProvider:
		if rec.AccountSID, err = str("account_sid"); err != nil {
			return err
		}
		if rec.AccountSID == "" {
			rec.ServiceProviderSID = s.ServiceProviderSID
		}
	default:
		if rec.AccountSID, err = str("account_sid"); err != nil {
			return err
		}
		if rec.ServiceProviderSID, err = str("service_provider_sid"); err != nil {
			return err
		}
	}
	if raw, ok := body["expiry_secs"]; ok && raw != nil {
		n, err := wireValue(wireField{name: "expiry_secs", kind: kindInt}, raw)
		if err != nil {
			return err
		}
		if secs := n.(int); secs > 0 {
			at := v.now().Add(time.Duration(secs) * time.Second).UTC()
			rec.ExpiresAt = &at
		} else if secs < 0 {
			return badValue("expiry_secs")
		}
	}
	sid, err := v.prov.APIKeys(s).Create(c.UserContext(), &rec)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fiber.NewError(fiber.StatusUnprocessableEntity, "a referenced record does not exist")
	case err != nil:
		return v.fail(c, "create api key", err)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"sid": sid, "token": rec.Token})
}

// webhookSecret is GET /Accounts/:sid/WebhookSecret[?regenerate=true]:
// {"webhook_secret": ...}, after replacing it when asked to.
func (v *v1) webhookSecret(c *fiber.Ctx) error {
	a, err := v.account(c)
	if err != nil {
		return v.fail(c, "webhook secret", err)
	}
	secret := a.WebhookSecret
	if q := c.Query("regenerate"); q != "" && q != "false" && q != "0" {
		if secret, err = newWebhookSecret(); err != nil {
			return v.fail(c, "webhook secret", err)
		}
		if err := v.prov.Accounts(scopeOf(c)).Update(c.UserContext(), a.AccountSID,
			store.Patch{"webhook_secret": secret}); err != nil {
			return v.fail(c, "regenerate webhook secret", err)
		}
	}
	return c.JSON(fiber.Map{"webhook_secret": secret})
}

// limitCategory reports whether c is one of jambonz's limit categories.
func limitCategory(c string) bool {
	switch c {
	case store.LimitVoiceCallSession, store.LimitDevice, store.LimitAPIRate, store.LimitCallsPerMinute:
		return true
	}
	return false
}

// accountLimits lists the limits of the account in the path, optionally of
// one category.
func (v *v1) accountLimits(c *fiber.Ctx, category string) (store.Account, []store.AccountLimit, error) {
	a, err := v.account(c)
	if err != nil {
		return a, nil, err
	}
	f := store.Filter{"account_sid": a.AccountSID}
	if category != "" {
		f["category"] = category
	}
	ls, err := v.prov.AccountLimits(scopeOf(c)).List(c.UserContext(), f)
	return a, ls, err
}

// listLimits is GET /Accounts/:sid/Limits[?category=...].
func (v *v1) listLimits(c *fiber.Ctx) error {
	_, ls, err := v.accountLimits(c, c.Query("category"))
	if err != nil {
		return v.fail(c, "list limits", err)
	}
	if ls == nil {
		ls = []store.AccountLimit{}
	}
	return c.JSON(ls)
}

// setLimit is POST /Accounts/:sid/Limits {category, quantity}: it creates the
// category's limit or replaces its quantity, and answers 201 {"sid"}.
func (v *v1) setLimit(c *fiber.Ctx) error {
	if scopeOf(c).Kind == store.ScopeAccount {
		return v.fail(c, "set limit", store.ErrForbidden)
	}
	body, err := readObject(c)
	if err != nil {
		return err
	}
	category, _ := body["category"].(string)
	if !limitCategory(category) {
		return badValue("category")
	}
	q, err := wireValue(wireField{name: "quantity", kind: kindInt}, body["quantity"])
	if err != nil || q == nil || q.(int) < 0 {
		return badValue("quantity")
	}
	a, ls, err := v.accountLimits(c, category)
	if err != nil {
		return v.fail(c, "set limit", err)
	}
	repo := v.prov.AccountLimits(scopeOf(c))
	if len(ls) > 0 {
		if err := repo.Update(c.UserContext(), ls[0].AccountLimitsSID, store.Patch{"quantity": q}); err != nil {
			return v.fail(c, "set limit", err)
		}
		return c.Status(fiber.StatusCreated).JSON(fiber.Map{"sid": ls[0].AccountLimitsSID})
	}
	sid, err := repo.Create(c.UserContext(), &store.AccountLimit{AccountSID: a.AccountSID, Category: category, Quantity: q.(int)})
	if err != nil {
		return v.fail(c, "set limit", err)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"sid": sid})
}

// deleteLimits is DELETE /Accounts/:sid/Limits[?category=...].
func (v *v1) deleteLimits(c *fiber.Ctx) error {
	if scopeOf(c).Kind == store.ScopeAccount {
		return v.fail(c, "delete limits", store.ErrForbidden)
	}
	_, ls, err := v.accountLimits(c, c.Query("category"))
	if err != nil {
		return v.fail(c, "delete limits", err)
	}
	repo := v.prov.AccountLimits(scopeOf(c))
	for _, l := range ls {
		if err := repo.Delete(c.UserContext(), l.AccountLimitsSID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return v.fail(c, "delete limits", err)
		}
	}
	return c.SendStatus(fiber.StatusNoContent)
}
