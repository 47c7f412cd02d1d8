package sqlstore

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/voxrun/voxrun/store"
)

// The repositories: one generic implementation bound to each table.

func (d *DB) ServiceProviders(s store.Scope) store.Repo[store.ServiceProvider] {
	return newRepo[store.ServiceProvider](d, d.schema.serviceProviders, s)
}
func (d *DB) Accounts(s store.Scope) store.Repo[store.Account] {
	return newRepo[store.Account](d, d.schema.accounts, s)
}
func (d *DB) AccountLimits(s store.Scope) store.Repo[store.AccountLimit] {
	return newRepo[store.AccountLimit](d, d.schema.accountLimits, s)
}
func (d *DB) Applications(s store.Scope) store.Repo[store.Application] {
	return newRepo[store.Application](d, d.schema.applications, s)
}
func (d *DB) PhoneNumbers(s store.Scope) store.Repo[store.PhoneNumber] {
	return newRepo[store.PhoneNumber](d, d.schema.phoneNumbers, s)
}
func (d *DB) VoipCarriers(s store.Scope) store.Repo[store.VoipCarrier] {
	return newRepo[store.VoipCarrier](d, d.schema.voipCarriers, s)
}
func (d *DB) SipGateways(s store.Scope) store.Repo[store.SipGateway] {
	return newRepo[store.SipGateway](d, d.schema.sipGateways, s)
}
func (d *DB) LCRs(s store.Scope) store.Repo[store.LCR] {
	return newRepo[store.LCR](d, d.schema.lcr, s)
}
func (d *DB) LCRRoutes(s store.Scope) store.Repo[store.LCRRoute] {
	return newRepo[store.LCRRoute](d, d.schema.lcrRoutes, s)
}
func (d *DB) LCRCarrierSetEntries(s store.Scope) store.Repo[store.LCRCarrierSetEntry] {
	return newRepo[store.LCRCarrierSetEntry](d, d.schema.lcrCarrierSetEntries, s)
}
func (d *DB) Clients(s store.Scope) store.Repo[store.Client] {
	return newRepo[store.Client](d, d.schema.clients, s)
}
func (d *DB) SpeechCredentials(s store.Scope) store.Repo[store.SpeechCredential] {
	return newRepo[store.SpeechCredential](d, d.schema.speechCredentials, s)
}

// APIKeys is the generic repository with one difference: Create makes the
// token itself (a UUID v4, like jambonz), stores only its SHA-256 and hands
// the token back once in rec.Token.
func (d *DB) APIKeys(s store.Scope) store.Repo[store.APIKey] {
	return apiKeys{newRepo[store.APIKey](d, d.schema.apiKeys, s)}
}

type apiKeys struct{ *repo[store.APIKey] }

func (r apiKeys) Create(ctx context.Context, rec *store.APIKey) (string, error) {
	if rec == nil {
		return "", fmt.Errorf("store/sql: create api_keys: nil record: %w", store.ErrInvalid)
	}
	token := uuid.NewString()
	prev := *rec
	rec.Token, rec.TokenHash = "", store.HashToken(token)
	sid, err := r.repo.Create(ctx, rec)
	if err != nil {
		*rec = prev
		return "", err
	}
	rec.Token = token
	return sid, nil
}

// lastUsedEvery bounds how often authentication writes api_keys.last_used:
// once a minute per key is enough to show activity and keeps a busy REST
// client from turning every request into a write.
const lastUsedEvery = time.Minute

// AuthenticateAPIKey finds the key whose token this is. Unknown and expired
// keys are both store.ErrNotFound.
func (d *DB) AuthenticateAPIKey(ctx context.Context, token string) (store.APIKey, error) {
	notFound := fmt.Errorf("store/sql: authenticate api key: %w", store.ErrNotFound)
	if token == "" {
		return store.APIKey{}, notFound
	}
	hash := store.HashToken(token)
	t := d.schema.apiKeys
	keys, err := selectRows[store.APIKey](ctx, d, d.r, t, "WHERE `token_hash` = ?", []any{hash})
	if err != nil {
		return store.APIKey{}, d.wrap("authenticate api key", opRead, err)
	}
	if len(keys) != 1 || subtle.ConstantTimeCompare([]byte(keys[0].TokenHash), []byte(hash)) != 1 {
		return store.APIKey{}, notFound
	}
	k := keys[0]
	now := time.Now().UTC()
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return store.APIKey{}, notFound
	}
	if k.LastUsed == nil || now.Sub(*k.LastUsed) >= lastUsedEvery {
		if _, err := d.w.ExecContext(ctx, "UPDATE `api_keys` SET `last_used` = ? WHERE `api_key_sid` = ?",
			d.dialect.timeArg(now), k.APIKeySID); err != nil {
			return store.APIKey{}, d.wrap("authenticate api key: last_used", opWrite, err)
		}
		lu := now.Truncate(timePrecision)
		k.LastUsed = &lu
	}
	return k, nil
}

// TableVersions reports the schema version of every table, from the
// tableversions table that each migration maintains (seed 001).
func (d *DB) TableVersions(ctx context.Context) ([]store.TableVersion, error) {
	rows, err := d.r.QueryContext(ctx, "SELECT `table_name`, `table_version` FROM `tableversions` ORDER BY `table_name`")
	if err != nil {
		return nil, d.wrap("table versions", opRead, err)
	}
	defer rows.Close()
	var out []store.TableVersion
	for rows.Next() {
		var tv store.TableVersion
		if err := rows.Scan(&tv.Table, &tv.Version); err != nil {
			return nil, d.wrap("table versions", opRead, err)
		}
		out = append(out, tv)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap("table versions", opRead, err)
	}
	return out, nil
}
