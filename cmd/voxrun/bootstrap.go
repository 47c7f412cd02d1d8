package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/voxrun/voxrun/store"
)

// Names of what the first start creates.
const (
	defaultSPName      = "default service provider"
	defaultAccountName = "default account"
	// defaultSIPRealm is the default account's SIP realm: devices on the same
	// machine register as user@localhost.
	defaultSIPRealm = "localhost"
)

// firstTenant is what bootstrap created, for the credentials file.
type firstTenant struct {
	ServiceProviderSID string
	AccountSID         string
	SIPRealm           string
	WebhookSecret      string
	AdminKey           string
	AccountKey         string
}

// bootstrap creates a default service provider, account and two API keys when
// the database holds no service provider at all, prints the keys once and
// writes them to <data_dir>/initial-credentials (mode 0600). On every later
// start it does nothing. A lock in live state keeps two nodes starting on the
// same empty database from both creating tenants.
func bootstrap(ctx context.Context, st *stores, cfg Config, stdout io.Writer, log *slog.Logger) error {
	unlock, ok, err := st.live.TryLock(ctx, "bootstrap", time.Minute)
	if err != nil {
		return fmt.Errorf("bootstrap lock: %w", err)
	}
	if !ok {
		log.Info("another node is creating the first tenant; skipping")
		return nil
	}
	defer func() { _ = unlock(context.WithoutCancel(ctx)) }()

	sps, err := st.prov.ServiceProviders(store.Admin()).List(ctx, nil)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if len(sps) > 0 {
		return nil
	}
	t, err := createFirstTenant(ctx, st.prov)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	path := credentialsFile(cfg)
	if err := writeCredentials(path, t); err != nil {
		return err
	}
	fmt.Fprint(stdout, credentialsBanner(t, path))
	log.Info("created the first service provider, account and API keys",
		"service_provider_sid", t.ServiceProviderSID, "account_sid", t.AccountSID,
		"sip_realm", t.SIPRealm, "credentials_file", path)
	return nil
}

func createFirstTenant(ctx context.Context, prov store.Provisioning) (firstTenant, error) {
	admin := store.Admin()
	t := firstTenant{SIPRealm: defaultSIPRealm, WebhookSecret: newWebhookSecret()}
	var err error
	if t.ServiceProviderSID, err = prov.ServiceProviders(admin).Create(ctx, &store.ServiceProvider{Name: defaultSPName}); err != nil {
		return t, err
	}
	acct := &store.Account{
		Name:               defaultAccountName,
		ServiceProviderSID: t.ServiceProviderSID,
		SIPRealm:           t.SIPRealm,
		IsActive:           true,
		WebhookSecret:      t.WebhookSecret,
	}
	if t.AccountSID, err = prov.Accounts(admin).Create(ctx, acct); err != nil {
		return t, err
	}
	adminKey := &store.APIKey{}
	if _, err = prov.APIKeys(admin).Create(ctx, adminKey); err != nil {
		return t, err
	}
	acctKey := &store.APIKey{AccountSID: t.AccountSID, ServiceProviderSID: t.ServiceProviderSID}
	if _, err = prov.APIKeys(store.ForAccount(t.ServiceProviderSID, t.AccountSID)).Create(ctx, acctKey); err != nil {
		return t, err
	}
	t.AdminKey, t.AccountKey = adminKey.Token, acctKey.Token
	if t.AdminKey == "" || t.AccountKey == "" {
		return t, errors.New("api key creation returned no token")
	}
	return t, nil
}

// newWebhookSecret makes a secret in jambonz's shape: wh_secret_ and 22 characters.
func newWebhookSecret() string {
	return "wh_secret_" + rand.Text()[:22]
}

func credentialsText(t firstTenant) string {
	var b strings.Builder
	b.WriteString("# voxrun: the credentials created at the first start. Shown once; keep this file safe.\n")
	fmt.Fprintf(&b, "admin_api_key=%s\n", t.AdminKey)
	fmt.Fprintf(&b, "account_api_key=%s\n", t.AccountKey)
	fmt.Fprintf(&b, "service_provider_sid=%s\n", t.ServiceProviderSID)
	fmt.Fprintf(&b, "account_sid=%s\n", t.AccountSID)
	fmt.Fprintf(&b, "sip_realm=%s\n", t.SIPRealm)
	fmt.Fprintf(&b, "webhook_secret=%s\n", t.WebhookSecret)
	return b.String()
}

func credentialsBanner(t firstTenant, path string) string {
	return "\n=== voxrun first start: these API keys are shown once ===\n" +
		credentialsText(t) +
		"=== also written to " + path + " (mode 0600) ===\n\n"
}

func writeCredentials(path string, t firstTenant) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.WriteString(credentialsText(t)); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
