package store

import "time"

// The records below follow the column names of jambonz's provisioning schema
// (jambonz-api-server's db/jambones-sql.sql), so that the REST layer returns
// jambonz-shaped objects. Struct tags:
//
//	db:"column[,null][,secret][,hook]"
//
// null: the column is nullable and the zero value ("" or 0) is stored as NULL;
// secret: the value is encrypted at rest with a [Sealer] and decrypted on read;
// hook: the field is a *[Webhook] kept as a row of the webhooks table and the
// column holds its webhook_sid.
// json: the wire name the REST API uses (the same snake_case name).
//
// A field tagged db:"-" is not stored.

// Webhook is an HTTP callback: the URL voxrun calls, with its method and
// optional basic-auth credentials.
type Webhook struct {
	WebhookSID string `db:"webhook_sid" json:"webhook_sid,omitempty"`
	URL        string `db:"url" json:"url"`
	Method     string `db:"method" json:"method,omitempty"`
	Username   string `db:"username,null" json:"username,omitempty"`
	Password   string `db:"password,null,secret" json:"password,omitempty"`
}

// ServiceProvider is a partition of the platform run by one provider for its accounts.
type ServiceProvider struct {
	ServiceProviderSID string   `db:"service_provider_sid" json:"service_provider_sid"`
	Name               string   `db:"name" json:"name"`
	Description        string   `db:"description,null" json:"description,omitempty"`
	RootDomain         string   `db:"root_domain,null" json:"root_domain,omitempty"`
	RegistrationHook   *Webhook `db:"registration_hook_sid,hook" json:"registration_hook,omitempty"`
	MSTeamsFQDN        string   `db:"ms_teams_fqdn,null" json:"ms_teams_fqdn,omitempty"`
	LCRSID             string   `db:"lcr_sid,null" json:"lcr_sid,omitempty"`
}

// Account is one enterprise using the platform: its SIP realm, hooks and limits.
type Account struct {
	AccountSID                  string    `db:"account_sid" json:"account_sid"`
	Name                        string    `db:"name" json:"name"`
	SIPRealm                    string    `db:"sip_realm,null" json:"sip_realm,omitempty"`
	ServiceProviderSID          string    `db:"service_provider_sid" json:"service_provider_sid"`
	RegistrationHook            *Webhook  `db:"registration_hook_sid,hook" json:"registration_hook,omitempty"`
	QueueEventHook              *Webhook  `db:"queue_event_hook_sid,hook" json:"queue_event_hook,omitempty"`
	DeviceCallingApplicationSID string    `db:"device_calling_application_sid,null" json:"device_calling_application_sid,omitempty"`
	IsActive                    bool      `db:"is_active" json:"is_active"`
	WebhookSecret               string    `db:"webhook_secret,secret" json:"webhook_secret,omitempty"`
	DisableCDRs                 bool      `db:"disable_cdrs" json:"disable_cdrs"`
	RecordAllCalls              bool      `db:"record_all_calls" json:"record_all_calls"`
	LCRSID                      string    `db:"lcr_sid,null" json:"lcr_sid,omitempty"`
	CreatedAt                   time.Time `db:"created_at" json:"created_at"`
}

// Limit categories of an account or a service provider (jambonz's account_limits).
const (
	LimitVoiceCallSession = "voice_call_session"
	LimitDevice           = "device"
	LimitAPIRate          = "api_rate"
	LimitCallsPerMinute   = "calls_per_minute"
)

// AccountLimit caps one resource of an account (concurrent calls, registered devices, ...).
type AccountLimit struct {
	AccountLimitsSID string `db:"account_limits_sid" json:"account_limits_sid"`
	AccountSID       string `db:"account_sid" json:"account_sid"`
	Category         string `db:"category" json:"category"`
	Quantity         int    `db:"quantity" json:"quantity"`
}

// Application is a defined set of behaviours applied to calls: where its verbs
// come from (a webhook, a JS app or app_json) and its speech defaults.
//
// JSAppSID names the JS app that answers the application's hooks instead of
// CallHook; FallbackJSAppSID a JS app that answers when the webhook fails.
// Both belong to the application's own account (the store refuses others).
// HookTimeoutSecs bounds each attempt of the application's hooks, in
// seconds; 0 keeps the node's hook_timeout (10 s by default).
type Application struct {
	ApplicationSID           string    `db:"application_sid" json:"application_sid"`
	Name                     string    `db:"name" json:"name"`
	ServiceProviderSID       string    `db:"service_provider_sid,null" json:"service_provider_sid,omitempty"`
	AccountSID               string    `db:"account_sid,null" json:"account_sid,omitempty"`
	CallHook                 *Webhook  `db:"call_hook_sid,hook" json:"call_hook,omitempty"`
	CallStatusHook           *Webhook  `db:"call_status_hook_sid,hook" json:"call_status_hook,omitempty"`
	MessagingHook            *Webhook  `db:"messaging_hook_sid,hook" json:"messaging_hook,omitempty"`
	FallbackHook             *Webhook  `db:"fallback_hook_sid,hook" json:"fallback_hook,omitempty"`
	JSAppSID                 string    `db:"js_app_sid,null" json:"js_app_sid,omitempty"`
	FallbackJSAppSID         string    `db:"fallback_js_app_sid,null" json:"fallback_js_app_sid,omitempty"`
	AppJSON                  string    `db:"app_json,null" json:"app_json,omitempty"`
	SpeechSynthesisVendor    string    `db:"speech_synthesis_vendor" json:"speech_synthesis_vendor"`
	SpeechSynthesisLanguage  string    `db:"speech_synthesis_language" json:"speech_synthesis_language"`
	SpeechSynthesisVoice     string    `db:"speech_synthesis_voice,null" json:"speech_synthesis_voice,omitempty"`
	SpeechRecognizerVendor   string    `db:"speech_recognizer_vendor" json:"speech_recognizer_vendor"`
	SpeechRecognizerLanguage string    `db:"speech_recognizer_language" json:"speech_recognizer_language"`
	RecordAllCalls           bool      `db:"record_all_calls" json:"record_all_calls"`
	StrictVerbs              bool      `db:"strict_verbs" json:"strict_verbs"`
	HookTimeoutSecs          int       `db:"hook_timeout_secs" json:"hook_timeout_secs"`
	EnvVars                  string    `db:"env_vars,null,secret" json:"env_vars,omitempty"`
	CreatedAt                time.Time `db:"created_at" json:"created_at"`
}

// PhoneNumber is a number assigned to an account and, through it, to an application.
type PhoneNumber struct {
	PhoneNumberSID     string `db:"phone_number_sid" json:"phone_number_sid"`
	Number             string `db:"number" json:"number"`
	VoipCarrierSID     string `db:"voip_carrier_sid,null" json:"voip_carrier_sid,omitempty"`
	AccountSID         string `db:"account_sid,null" json:"account_sid,omitempty"`
	ApplicationSID     string `db:"application_sid,null" json:"application_sid,omitempty"`
	ServiceProviderSID string `db:"service_provider_sid,null" json:"service_provider_sid,omitempty"`
}

// VoipCarrier is a carrier or customer PBX that sends and receives calls.
type VoipCarrier struct {
	VoipCarrierSID            string    `db:"voip_carrier_sid" json:"voip_carrier_sid"`
	Name                      string    `db:"name" json:"name"`
	Description               string    `db:"description,null" json:"description,omitempty"`
	AccountSID                string    `db:"account_sid,null" json:"account_sid,omitempty"`
	ServiceProviderSID        string    `db:"service_provider_sid,null" json:"service_provider_sid,omitempty"`
	ApplicationSID            string    `db:"application_sid,null" json:"application_sid,omitempty"`
	E164LeadingPlus           bool      `db:"e164_leading_plus" json:"e164_leading_plus"`
	RequiresRegister          bool      `db:"requires_register" json:"requires_register"`
	RegisterUsername          string    `db:"register_username,null" json:"register_username,omitempty"`
	RegisterSIPRealm          string    `db:"register_sip_realm,null" json:"register_sip_realm,omitempty"`
	RegisterPassword          string    `db:"register_password,null,secret" json:"register_password,omitempty"`
	TechPrefix                string    `db:"tech_prefix,null" json:"tech_prefix,omitempty"`
	InboundAuthUsername       string    `db:"inbound_auth_username,null" json:"inbound_auth_username,omitempty"`
	InboundAuthPassword       string    `db:"inbound_auth_password,null,secret" json:"inbound_auth_password,omitempty"`
	Diversion                 string    `db:"diversion,null" json:"diversion,omitempty"`
	IsActive                  bool      `db:"is_active" json:"is_active"`
	RegisterFromUser          string    `db:"register_from_user,null" json:"register_from_user,omitempty"`
	RegisterFromDomain        string    `db:"register_from_domain,null" json:"register_from_domain,omitempty"`
	RegisterPublicIPInContact bool      `db:"register_public_ip_in_contact" json:"register_public_ip_in_contact"`
	RegisterStatus            string    `db:"register_status,null" json:"register_status,omitempty"`
	CreatedAt                 time.Time `db:"created_at" json:"created_at"`
}

// SipGateway is one signaling address of a carrier, for inbound calls (allow-listed
// by address and netmask) and/or outbound calls.
type SipGateway struct {
	SipGatewaySID  string `db:"sip_gateway_sid" json:"sip_gateway_sid"`
	IPv4           string `db:"ipv4" json:"ipv4"`
	Netmask        int    `db:"netmask" json:"netmask"`
	Port           int    `db:"port,null" json:"port,omitempty"`
	Protocol       string `db:"protocol,null" json:"protocol,omitempty"`
	Inbound        bool   `db:"inbound" json:"inbound"`
	Outbound       bool   `db:"outbound" json:"outbound"`
	VoipCarrierSID string `db:"voip_carrier_sid" json:"voip_carrier_sid"`
	IsActive       bool   `db:"is_active" json:"is_active"`
}

// LCR is a least-cost-routing table of a service provider or an account.
type LCR struct {
	LCRSID                    string `db:"lcr_sid" json:"lcr_sid"`
	Name                      string `db:"name,null" json:"name,omitempty"`
	IsActive                  bool   `db:"is_active" json:"is_active"`
	DefaultCarrierSetEntrySID string `db:"default_carrier_set_entry_sid,null" json:"default_carrier_set_entry_sid,omitempty"`
	ServiceProviderSID        string `db:"service_provider_sid,null" json:"service_provider_sid,omitempty"`
	AccountSID                string `db:"account_sid,null" json:"account_sid,omitempty"`
}

// LCRRoute is one digit pattern of an LCR table; lower priorities are tried first.
type LCRRoute struct {
	LCRRouteSID string `db:"lcr_route_sid" json:"lcr_route_sid"`
	LCRSID      string `db:"lcr_sid" json:"lcr_sid"`
	Regex       string `db:"regex" json:"regex"`
	Description string `db:"description,null" json:"description,omitempty"`
	Priority    int    `db:"priority" json:"priority"`
}

// LCRCarrierSetEntry is a carrier to try for a route, with its priority and share of traffic.
type LCRCarrierSetEntry struct {
	LCRCarrierSetEntrySID string `db:"lcr_carrier_set_entry_sid" json:"lcr_carrier_set_entry_sid"`
	Workload              int    `db:"workload" json:"workload"`
	LCRRouteSID           string `db:"lcr_route_sid" json:"lcr_route_sid"`
	VoipCarrierSID        string `db:"voip_carrier_sid" json:"voip_carrier_sid"`
	Priority              int    `db:"priority" json:"priority"`
}

// Client is a SIP user of an account that registers and places calls with digest credentials.
type Client struct {
	ClientSID               string `db:"client_sid" json:"client_sid"`
	AccountSID              string `db:"account_sid" json:"account_sid"`
	IsActive                bool   `db:"is_active" json:"is_active"`
	Username                string `db:"username" json:"username"`
	Password                string `db:"password,null,secret" json:"password,omitempty"`
	AllowDirectAppCalling   bool   `db:"allow_direct_app_calling" json:"allow_direct_app_calling"`
	AllowDirectQueueCalling bool   `db:"allow_direct_queue_calling" json:"allow_direct_queue_calling"`
	AllowDirectUserCalling  bool   `db:"allow_direct_user_calling" json:"allow_direct_user_calling"`
}

// APIKey authorises REST calls. Its scope follows from which owner is set: neither
// (admin), a service provider, or an account. Only the SHA-256 of the token is
// stored; Token is filled in once, by Create, so that it can be shown to the user.
type APIKey struct {
	APIKeySID          string     `db:"api_key_sid" json:"api_key_sid"`
	Token              string     `db:"-" json:"token,omitempty"`
	TokenHash          string     `db:"token_hash" json:"-"`
	AccountSID         string     `db:"account_sid,null" json:"account_sid,omitempty"`
	ServiceProviderSID string     `db:"service_provider_sid,null" json:"service_provider_sid,omitempty"`
	ExpiresAt          *time.Time `db:"expires_at,null" json:"expires_at,omitempty"`
	LastUsed           *time.Time `db:"last_used,null" json:"last_used,omitempty"`
	CreatedAt          time.Time  `db:"created_at" json:"created_at"`
}

// Scope is the access the key grants.
func (k APIKey) Scope() Scope {
	switch {
	case k.AccountSID != "":
		return ForAccount(k.ServiceProviderSID, k.AccountSID)
	case k.ServiceProviderSID != "":
		return ForServiceProvider(k.ServiceProviderSID)
	}
	return Admin()
}

// SpeechCredential holds a speech vendor's credentials (encrypted at rest) for an
// account or a service provider.
type SpeechCredential struct {
	SpeechCredentialSID string     `db:"speech_credential_sid" json:"speech_credential_sid"`
	ServiceProviderSID  string     `db:"service_provider_sid,null" json:"service_provider_sid,omitempty"`
	AccountSID          string     `db:"account_sid,null" json:"account_sid,omitempty"`
	Vendor              string     `db:"vendor" json:"vendor"`
	Label               string     `db:"label,null" json:"label,omitempty"`
	Credential          string     `db:"credential,secret" json:"-"`
	UseForTTS           bool       `db:"use_for_tts" json:"use_for_tts"`
	UseForSTT           bool       `db:"use_for_stt" json:"use_for_stt"`
	LastUsed            *time.Time `db:"last_used,null" json:"last_used,omitempty"`
	LastTested          *time.Time `db:"last_tested,null" json:"last_tested,omitempty"`
	CreatedAt           time.Time  `db:"created_at" json:"created_at"`
}

// JSApp is a JavaScript application uploaded by a developer; its code lives
// in versions (see jsapps.go for its variables and invocation logs).
type JSApp struct {
	JSAppSID    string `db:"js_app_sid" json:"js_app_sid"`
	AccountSID  string `db:"account_sid" json:"account_sid"`
	Name        string `db:"name" json:"name"`
	Description string `db:"description,null" json:"description,omitempty"`
	// ActiveVersionSID is the version that runs; empty until one is chosen.
	// It always names a version of this app.
	ActiveVersionSID string `db:"active_version_sid,null" json:"active_version_sid,omitempty"`
	// EnvVars holds the plain variables: a JSON object of names to string
	// values (see [EncodeJSAppVars]).
	EnvVars string `db:"env_vars,null" json:"env_vars,omitempty"`
	// SecretEnvVars holds the secret variables, in the same form, encrypted at rest.
	SecretEnvVars string    `db:"secret_env_vars,null,secret" json:"secret_env_vars,omitempty"`
	CreatedAt     time.Time `db:"created_at" json:"created_at"`
	UpdatedAt     time.Time `db:"updated_at" json:"updated_at"`
}

// JSAppVersion is one uploaded revision of a JS app's source. Versions are
// immutable: the store numbers them (1, 2, ... per app) and fingerprints the
// source when one is created; only the label can change.
type JSAppVersion struct {
	JSAppVersionSID string `db:"js_app_version_sid" json:"js_app_version_sid"`
	JSAppSID        string `db:"js_app_sid" json:"js_app_sid"`
	// Version is 1 + the highest version of the app, set by Create.
	Version int `db:"version" json:"version"`
	// Label is a free note: a file name, a commit.
	Label string `db:"label,null" json:"label,omitempty"`
	// SHA256 is the hex SHA-256 of Source, set by Create.
	SHA256 string `db:"sha256" json:"sha256"`
	// Source is the module, at most [MaxJSAppSourceSize] bytes.
	Source    string    `db:"source" json:"source,omitempty"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// CDR is the record of one finished call leg. CallSID is its idempotency key:
// writing the same CDR twice stores it once.
type CDR struct {
	CallSID            string     `db:"call_sid" json:"call_sid"`
	AccountSID         string     `db:"account_sid" json:"account_sid"`
	ServiceProviderSID string     `db:"service_provider_sid,null" json:"service_provider_sid,omitempty"`
	ApplicationSID     string     `db:"application_sid,null" json:"application_sid,omitempty"`
	ParentCallSID      string     `db:"parent_call_sid,null" json:"parent_call_sid,omitempty"`
	Direction          string     `db:"direction" json:"direction"`
	From               string     `db:"from" json:"from"`
	To                 string     `db:"to" json:"to"`
	CallID             string     `db:"sip_callid" json:"sip_callid"`
	SIPStatus          int        `db:"sip_status" json:"sip_status"`
	Duration           int        `db:"duration" json:"duration"`
	AttemptedAt        time.Time  `db:"attempted_at" json:"attempted_at"`
	AnsweredAt         *time.Time `db:"answered_at,null" json:"answered_at,omitempty"`
	TerminatedAt       time.Time  `db:"terminated_at" json:"terminated_at"`
	Answered           bool       `db:"answered" json:"answered"`
	TerminationReason  string     `db:"termination_reason,null" json:"termination_reason,omitempty"`
	Trunk              string     `db:"trunk,null" json:"trunk,omitempty"`
	Host               string     `db:"host,null" json:"host,omitempty"`
	RemoteHost         string     `db:"remote_host,null" json:"remote_host,omitempty"`
	TraceID            string     `db:"trace_id,null" json:"trace_id,omitempty"`
}

// Alert is a problem reported to a tenant (jambonz's alert types: webhook-failure,
// invalid-app-payload, no-tts, play-url-notfound, account-call-limit, ...).
type Alert struct {
	AlertSID   string    `db:"alert_sid" json:"alert_sid"`
	AccountSID string    `db:"account_sid" json:"account_sid"`
	AlertType  string    `db:"alert_type" json:"alert_type"`
	Message    string    `db:"message" json:"message"`
	Detail     string    `db:"detail,null" json:"detail,omitempty"`
	TargetSID  string    `db:"target_sid,null" json:"target_sid,omitempty"`
	Vendor     string    `db:"vendor,null" json:"vendor,omitempty"`
	CreatedAt  time.Time `db:"created_at" json:"time"`
}

// TableVersion is the schema version of one table (seed 001's tableversions).
type TableVersion struct {
	Table   string `db:"table_name" json:"table_name"`
	Version int    `db:"table_version" json:"table_version"`
}
