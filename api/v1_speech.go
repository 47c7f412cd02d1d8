package api

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/voxrun/voxrun/store"
)

// A speech credential's body is jambonz's: vendor, label, use_for_tts,
// use_for_stt, and the vendor's own properties (api_key, service_key,
// access_key_id, secret_access_key, region, ...). voxrun keeps the vendor
// properties together as one JSON object in the credential column, which
// the store encrypts; they are only ever shown masked.

// speechMeta reports the properties that are not part of the vendor credential.
func speechMeta(k string) bool {
	switch k {
	case "speech_credential_sid", "account_sid", "service_provider_sid", "vendor", "label",
		"use_for_tts", "use_for_stt", "last_used", "last_tested", "created_at",
		"tts_tested_ok", "stt_tested_ok":
		return true
	}
	return false
}

// speechPlain reports vendor properties that are settings, not secrets: shown as they are.
func speechPlain(k string) bool {
	switch k {
	case "region", "aws_region", "model_id", "api_uri", "instance_id",
		"custom_stt_endpoint", "custom_tts_endpoint", "custom_stt_endpoint_url",
		"custom_tts_endpoint_url", "riva_server_uri", "engine_version", "language":
		return true
	}
	return false
}

type speechView struct {
	SpeechCredentialSID string     `json:"speech_credential_sid"`
	ServiceProviderSID  string     `json:"service_provider_sid,omitempty"`
	AccountSID          string     `json:"account_sid,omitempty"`
	Vendor              string     `json:"vendor"`
	Label               string     `json:"label,omitempty"`
	UseForTTS           bool       `json:"use_for_tts"`
	UseForSTT           bool       `json:"use_for_stt"`
	LastUsed            *time.Time `json:"last_used,omitempty"`
	LastTested          *time.Time `json:"last_tested,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
}

// viewSpeech flattens the masked vendor properties beside the record's own.
func viewSpeech(r store.SpeechCredential) any {
	base, _ := json.Marshal(speechView{
		SpeechCredentialSID: r.SpeechCredentialSID, ServiceProviderSID: r.ServiceProviderSID,
		AccountSID: r.AccountSID, Vendor: r.Vendor, Label: r.Label, UseForTTS: r.UseForTTS,
		UseForSTT: r.UseForSTT, LastUsed: r.LastUsed, LastTested: r.LastTested, CreatedAt: r.CreatedAt,
	})
	out := map[string]any{}
	_ = json.Unmarshal(base, &out)
	var cred map[string]any
	if err := json.Unmarshal([]byte(r.Credential), &cred); err != nil {
		if r.Credential != "" {
			out["credential"] = obscure(r.Credential)
		}
		return out
	}
	for k, val := range cred {
		if speechMeta(k) {
			continue
		}
		s, isString := val.(string)
		switch {
		case isString && speechPlain(k):
			out[k] = s
		case isString:
			out[k] = obscure(s)
		default:
			// Structured values (a service account's JSON) are secrets too.
			b, _ := json.Marshal(val)
			out[k] = obscure(string(b))
		}
	}
	return out
}

// speechCredentials mounts the collection under an account or a provider.
func (v *v1) speechCredentials(g fiber.Router, path string, tgt target) {
	item := path + "/:rsid"
	view := v.doc.speechSchema()
	tag := strings.Split(strings.TrimPrefix(path, "/"), "/")[0]
	v.handle(g, opDoc{method: "GET", path: path, summary: "list speech credentials", tag: tag, result: arrayOf(view)},
		func(c *fiber.Ctx) error {
			s, f, err := tgt(c)
			if err != nil {
				return v.fail(c, "list speech credentials", err)
			}
			recs, err := v.prov.SpeechCredentials(s).List(c.UserContext(), f)
			if err != nil {
				return v.fail(c, "list speech credentials", err)
			}
			out := make([]any, 0, len(recs))
			for _, r := range recs {
				out = append(out, viewSpeech(r))
			}
			return c.JSON(out)
		})
	v.handle(g, opDoc{method: "GET", path: item, summary: "retrieve speech credential", tag: tag, result: view},
		func(c *fiber.Ctx) error {
			s, _, err := tgt(c)
			if err != nil {
				return v.fail(c, "get speech credential", err)
			}
			r, err := v.prov.SpeechCredentials(s).Get(c.UserContext(), c.Params("rsid"))
			if err != nil {
				return v.fail(c, "get speech credential", err)
			}
			return c.JSON(viewSpeech(r))
		})
	v.handle(g, opDoc{method: "POST", path: path, summary: "create speech credential", tag: tag, body: view,
		status: fiber.StatusCreated, result: ref("Created")}, func(c *fiber.Ctx) error { return v.createSpeech(c, tgt) })
	v.handle(g, opDoc{method: "PUT", path: item, summary: "update speech credential", tag: tag, body: view,
		status: fiber.StatusNoContent}, func(c *fiber.Ctx) error { return v.updateSpeech(c, tgt) })
	v.handle(g, opDoc{method: "DELETE", path: item, summary: "delete speech credential", tag: tag,
		status: fiber.StatusNoContent}, func(c *fiber.Ctx) error {
		s, _, err := tgt(c)
		if err != nil {
			return v.fail(c, "delete speech credential", err)
		}
		if err := v.prov.SpeechCredentials(s).Delete(c.UserContext(), c.Params("rsid")); err != nil {
			return v.fail(c, "delete speech credential", err)
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// speechFlags reads label, use_for_tts and use_for_stt.
func speechFlags(body map[string]any) (map[string]any, error) {
	fields := map[string]wireField{
		"label":       {name: "label", kind: kindString},
		"use_for_tts": {name: "use_for_tts", kind: kindBool},
		"use_for_stt": {name: "use_for_stt", kind: kindBool},
	}
	return wireValues(fields, body, nil)
}

func (v *v1) createSpeech(c *fiber.Ctx, tgt target) error {
	s, _, err := tgt(c)
	if err != nil {
		return v.fail(c, "create speech credential", err)
	}
	body, err := readObject(c)
	if err != nil {
		return err
	}
	vendor, _ := body["vendor"].(string)
	if vendor == "" {
		return badValue("vendor")
	}
	flags, err := speechFlags(body)
	if err != nil {
		return err
	}
	cred := map[string]any{}
	for k, val := range body {
		if !speechMeta(k) {
			cred[k] = val
		}
	}
	b, err := json.Marshal(cred)
	if err != nil {
		return badValue("credential")
	}
	rec := store.SpeechCredential{Vendor: vendor, Credential: string(b), UseForTTS: true, UseForSTT: true}
	if l, ok := flags["label"].(string); ok {
		rec.Label = l
	}
	if t, ok := flags["use_for_tts"].(bool); ok {
		rec.UseForTTS = t
	}
	if t, ok := flags["use_for_stt"].(bool); ok {
		rec.UseForSTT = t
	}
	sid, err := v.prov.SpeechCredentials(s).Create(c.UserContext(), &rec)
	if err != nil {
		return v.fail(c, "create speech credential", err)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"sid": sid})
}

// updateSpeech changes the flags and label, and merges vendor properties
// into the stored credential; masked values sent back are ignored.
func (v *v1) updateSpeech(c *fiber.Ctx, tgt target) error {
	s, _, err := tgt(c)
	if err != nil {
		return v.fail(c, "update speech credential", err)
	}
	body, err := readObject(c)
	if err != nil {
		return err
	}
	flags, err := speechFlags(body)
	if err != nil {
		return err
	}
	repo := v.prov.SpeechCredentials(s)
	cur, err := repo.Get(c.UserContext(), c.Params("rsid"))
	if err != nil {
		return v.fail(c, "update speech credential", err)
	}
	p := store.Patch{}
	for k, val := range flags {
		if val != nil {
			p[k] = val
		}
	}
	cred := map[string]any{}
	_ = json.Unmarshal([]byte(cur.Credential), &cred)
	changed := false
	for k, val := range body {
		if speechMeta(k) {
			continue
		}
		if str, ok := val.(string); ok && isObscured(str) {
			continue
		}
		cred[k], changed = val, true
	}
	if changed {
		b, err := json.Marshal(cred)
		if err != nil {
			return badValue("credential")
		}
		p["credential"] = string(b)
	}
	if len(p) > 0 {
		if err := repo.Update(c.UserContext(), cur.SpeechCredentialSID, p); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return v.fail(c, "update speech credential", store.ErrNotFound)
			}
			return v.fail(c, "update speech credential", err)
		}
	}
	return c.SendStatus(fiber.StatusNoContent)
}
