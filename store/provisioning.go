package store

import (
	"context"
	"time"
)

// Filter selects records by equality on columns (the db tag names). A nil value
// matches NULL. Unknown columns are an [ErrInvalid] error.
type Filter map[string]any

// Patch changes some columns of one record, keyed by column name (the db tag
// name, which is also the REST name). A hook column takes a *Webhook (or nil to
// clear it); its key is the JSON name ("call_hook"). Unknown or read-only
// columns (the sid, created_at) are an [ErrInvalid] error naming the key.
type Patch map[string]any

// Repo is the data access to one kind of record, bound to a [Scope] when it is
// obtained. Every method applies the scope: a record outside it is
// [ErrNotFound], exactly as a record that does not exist.
type Repo[T any] interface {
	// Create stores rec and fills in its sid and created_at. The scope decides
	// ownership: an account-scoped caller always creates for its own account, and
	// a parent record outside the scope (a carrier for a gateway, an account for
	// an application) is ErrNotFound.
	Create(ctx context.Context, rec *T) (sid string, err error)
	Get(ctx context.Context, sid string) (T, error)
	List(ctx context.Context, f Filter) ([]T, error)
	Update(ctx context.Context, sid string, p Patch) error
	// Delete removes the record, or returns ErrInUse when another refers to it.
	Delete(ctx context.Context, sid string) error
}

// CDRQuery pages and filters call records (REST RecentCalls).
type CDRQuery struct {
	Page      int // 1-based
	Count     int // per page, at most 500
	Direction string
	Answered  *bool
	From, To  string
	Start     time.Time
	End       time.Time
}

// AlertQuery pages and filters alerts.
type AlertQuery struct {
	Page      int
	Count     int
	AlertType string
	Start     time.Time
	End       time.Time
}

// CDRs stores call detail records. Writes are batched and idempotent on call_sid.
type CDRs interface {
	WriteCDRs(ctx context.Context, cdrs []CDR) error
	ListCDRs(ctx context.Context, s Scope, q CDRQuery) (page []CDR, total int, err error)
}

// Alerts stores the problems reported to tenants.
type Alerts interface {
	WriteAlerts(ctx context.Context, alerts []Alert) error
	ListAlerts(ctx context.Context, s Scope, q AlertQuery) (page []Alert, total int, err error)
}

// Provisioning is what tenants configure, kept in SQL (SQLite or MySQL).
type Provisioning interface {
	ServiceProviders(Scope) Repo[ServiceProvider]
	Accounts(Scope) Repo[Account]
	AccountLimits(Scope) Repo[AccountLimit]
	Applications(Scope) Repo[Application]
	PhoneNumbers(Scope) Repo[PhoneNumber]
	VoipCarriers(Scope) Repo[VoipCarrier]
	SipGateways(Scope) Repo[SipGateway]
	LCRs(Scope) Repo[LCR]
	LCRRoutes(Scope) Repo[LCRRoute]
	LCRCarrierSetEntries(Scope) Repo[LCRCarrierSetEntry]
	Clients(Scope) Repo[Client]
	APIKeys(Scope) Repo[APIKey]
	SpeechCredentials(Scope) Repo[SpeechCredential]
	JSApps(Scope) Repo[JSApp]
	JSAppVersions(Scope) Repo[JSAppVersion]

	// AuthenticateAPIKey finds the key whose token this is, comparing hashes in
	// constant time. Unknown, expired and revoked keys are all ErrNotFound.
	AuthenticateAPIKey(ctx context.Context, token string) (APIKey, error)

	CDRs
	Alerts
	JSAppInvocations

	// TableVersions reports the schema version of every table.
	TableVersions(ctx context.Context) ([]TableVersion, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error
}
