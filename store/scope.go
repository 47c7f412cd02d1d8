package store

import "fmt"

// ScopeKind is the level of access a caller has.
type ScopeKind int

const (
	// ScopeAdmin sees and changes everything on the platform.
	ScopeAdmin ScopeKind = iota
	// ScopeServiceProvider sees one service provider and all of its accounts.
	ScopeServiceProvider
	// ScopeAccount sees one account.
	ScopeAccount
)

func (k ScopeKind) String() string {
	switch k {
	case ScopeAdmin:
		return "admin"
	case ScopeServiceProvider:
		return "service_provider"
	case ScopeAccount:
		return "account"
	}
	return fmt.Sprintf("scope(%d)", int(k))
}

// Scope says on whose behalf a query runs. The provisioning layer applies it to
// every statement; it always comes from the caller's credentials, never from a
// request body.
type Scope struct {
	Kind               ScopeKind
	ServiceProviderSID string
	AccountSID         string
}

// Admin is the platform-wide scope, for the platform owner and for the system itself
// (SIP routing looks up numbers and gateways across all tenants).
func Admin() Scope { return Scope{Kind: ScopeAdmin} }

// ForServiceProvider is the scope of one service provider.
func ForServiceProvider(spSID string) Scope {
	return Scope{Kind: ScopeServiceProvider, ServiceProviderSID: spSID}
}

// ForAccount is the scope of one account of a service provider.
func ForAccount(spSID, accountSID string) Scope {
	return Scope{Kind: ScopeAccount, ServiceProviderSID: spSID, AccountSID: accountSID}
}

func (s Scope) String() string {
	switch s.Kind {
	case ScopeServiceProvider:
		return "service_provider:" + s.ServiceProviderSID
	case ScopeAccount:
		return "account:" + s.AccountSID
	}
	return s.Kind.String()
}
