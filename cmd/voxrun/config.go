package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/voxrun/voxrun/api"
	"github.com/voxrun/voxrun/media/sdp"
)

// Config is everything voxrun serve reads at start-up. Each field is one setting,
// reachable three ways: a key in the TOML file, an environment variable
// VOXRUN_<KEY>, and a flag --<key-with-dashes>. A flag beats the environment,
// which beats the file, which beats the default below.
//
// The zero-configuration defaults serve a developer's laptop: SQLite in the data
// directory, in-memory live state, SIP on 5060 and HTTP on 3000.
type Config struct {
	DataDir           string        `key:"data_dir" help:"directory for the SQLite database, the encryption key, caches and spools"`
	MySQLDSN          string        `key:"mysql_dsn" help:"MySQL/MariaDB DSN (user:pass@tcp(host:3306)/voxrun); empty uses SQLite in the data directory"`
	RedisURL          string        `key:"redis_url" help:"Redis URL for live state: redis://, rediss://, redis-sentinel://h1:p1,h2:p2/master, redis-cluster://h1:p1,h2:p2; empty keeps live state in memory"`
	HTTPAddr          string        `key:"http_addr" help:"address of the REST API, console, /healthz, /readyz and /metrics"`
	SIPAddr           string        `key:"sip_addr" help:"address for SIP over UDP and TCP"`
	PublicIP          string        `key:"public_ip" help:"IP address to advertise in SIP and SDP (empty: the address SIP listens on)"`
	RTPPortMin        int           `key:"rtp_port_min" help:"lowest RTP port"`
	RTPPortMax        int           `key:"rtp_port_max" help:"highest RTP port"`
	RTPCodecs         string        `key:"rtp_codecs" help:"audio codecs accepted and offered, in voxrun's order of preference for its offers: PCMU, PCMA, G722 (answers follow the caller's order)"`
	LogLevel          string        `key:"log_level" help:"debug, info, warn or error"`
	EncryptionKey     string        `key:"encryption_key" help:"64 hex digits: the AES-256 key for secrets at rest; empty generates <data_dir>/secret.key"`
	NodeName          string        `key:"node_name" help:"this node's name in live state (empty: the host name)"`
	DrainTimeout      time.Duration `key:"drain_timeout" help:"how long SIGTERM waits for calls to end before closing"`
	AutoMigrate       bool          `key:"auto_migrate" help:"apply database migrations when serve starts"`
	HookAllow         string        `key:"hook_allow" help:"comma-separated CIDRs and host names that webhooks, audio URLs and JS fetch may reach although private or loopback; empty: loopback on embedded defaults, nothing otherwise"`
	HookTimeout       time.Duration `key:"hook_timeout" help:"how long one webhook attempt may take, from connecting to the last byte"`
	DebugAddr         string        `key:"debug_addr" help:"address of Go's pprof profiles (/debug/pprof/); empty: off. Never expose it publicly"`
	SIPDigest         string        `key:"sip_digest" help:"digest algorithms offered in SIP challenges, in order: MD5, SHA-256 (many devices fail when SHA-256 is offered at all, so the default is MD5 alone)"`
	SIPTrusted        string        `key:"sip_trusted" help:"comma-separated CIDRs exempt from the per-source SIP rate limit (carriers, a SIP dispatcher); loopback is always exempt"`
	SIPTLSAddr        string        `key:"sip_tls_addr" help:"address for SIP over TLS (like :5061); empty: no TLS. Needs sip_tls_cert and sip_tls_key"`
	SIPTLSCert        string        `key:"sip_tls_cert" help:"PEM certificate chain file for SIP over TLS and WSS"`
	SIPTLSKey         string        `key:"sip_tls_key" help:"PEM private key file for SIP over TLS and WSS"`
	SIPWSAddr         string        `key:"sip_ws_addr" help:"address for SIP over WebSocket (RFC 7118, browsers behind a TLS proxy); empty: off"`
	SIPWSSAddr        string        `key:"sip_wss_addr" help:"address for SIP over secure WebSocket; empty: off. Needs sip_tls_cert and sip_tls_key"`
	SIPMaxCalls       int           `key:"sip_max_calls" help:"inbound calls in progress on this node before new INVITEs get 503 with Retry-After; 0: 90% of the RTP port pairs, so calls are shed before ports run out"`
	SIPCallsPerSecond int           `key:"sip_calls_per_second" help:"new inbound calls per second on this node before INVITEs get 503 with Retry-After; 0: no limit"`
	JSWorkers         int           `key:"js_workers" help:"JS app worker processes kept warm (each runs one handler at a time, with its own memory and CPU limits)"`
	APIRateKey        int           `key:"api_rate_per_key" help:"REST requests per second per API key (bursts of twice that); 0: no limit"`
	APIRateAddr       int           `key:"api_rate_per_address" help:"REST requests per second per source address, before authentication (bursts of twice that); 0: no limit"`
}

// DefaultConfig is the configuration of a fresh laptop.
func DefaultConfig() Config {
	return Config{
		DataDir:      "./data",
		HTTPAddr:     ":3000",
		SIPAddr:      ":5060",
		RTPPortMin:   40000,
		RTPPortMax:   60000,
		RTPCodecs:    "PCMU,PCMA",
		LogLevel:     "info",
		DrainTimeout: 30 * time.Second,
		AutoMigrate:  true,
		HookTimeout:  10 * time.Second,
		SIPDigest:    "MD5",
		JSWorkers:    4,
		APIRateKey:   20,
		APIRateAddr:  50,
	}
}

// envPrefix starts every environment variable voxrun reads.
const envPrefix = "VOXRUN_"

// setting describes one Config field.
type setting struct {
	key   string // TOML key, e.g. http_addr
	help  string
	index int
}

func (s setting) env() string  { return envPrefix + strings.ToUpper(s.key) }
func (s setting) flag() string { return strings.ReplaceAll(s.key, "_", "-") }

func settings() []setting {
	t := reflect.TypeOf(Config{})
	out := make([]setting, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		out = append(out, setting{key: f.Tag.Get("key"), help: f.Tag.Get("help"), index: i})
	}
	return out
}

// setField parses s into the field of c that st names.
func setField(c *Config, st setting, s string) error {
	v := reflect.ValueOf(c).Elem().Field(st.index)
	switch v.Interface().(type) {
	case string:
		v.SetString(s)
	case int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%s: %q is not a whole number", st.key, s)
		}
		v.SetInt(int64(n))
	case bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%s: %q is not true or false", st.key, s)
		}
		v.SetBool(b)
	case time.Duration:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%s: %q is not a duration (like 30s)", st.key, s)
		}
		v.SetInt(int64(d))
	default:
		return fmt.Errorf("%s: unsupported type %s", st.key, v.Type())
	}
	return nil
}

func fieldString(c *Config, st setting) string {
	v := reflect.ValueOf(c).Elem().Field(st.index).Interface()
	return fmt.Sprint(v)
}

// registerFlags adds one flag per setting to fs; the values are applied by
// loadConfig after the file and the environment.
func registerFlags(fs *flag.FlagSet) *string {
	def := DefaultConfig()
	for _, st := range settings() {
		fs.String(st.flag(), "", fmt.Sprintf("%s (env %s, default %q)", st.help, st.env(), fieldString(&def, st)))
	}
	return fs.String("config", "", "configuration file (TOML; env VOXRUN_CONFIG; default ./voxrun.toml when it exists)")
}

// loadConfig builds the configuration from defaults, then the file, then the
// environment, then the flags that were set on fs.
func loadConfig(fs *flag.FlagSet, configPath string, getenv func(string) string) (Config, error) {
	c := DefaultConfig()

	path := configPath
	if path == "" {
		path = getenv("VOXRUN_CONFIG")
	}
	explicit := path != ""
	if path == "" {
		path = "voxrun.toml"
	}
	if b, err := os.ReadFile(path); err == nil {
		if err := applyFile(&c, b); err != nil {
			return c, fmt.Errorf("config file %s: %w", path, err)
		}
	} else if explicit || !errors.Is(err, os.ErrNotExist) {
		return c, fmt.Errorf("config file: %w", err)
	}

	for _, st := range settings() {
		if v, ok := lookupEnv(getenv, st.env()); ok {
			if err := setField(&c, st, v); err != nil {
				return c, fmt.Errorf("environment %s: %w", st.env(), err)
			}
		}
	}
	var flagErr error
	fs.Visit(func(f *flag.Flag) {
		for _, st := range settings() {
			if st.flag() == f.Name && flagErr == nil {
				if err := setField(&c, st, f.Value.String()); err != nil {
					flagErr = fmt.Errorf("flag --%s: %w", f.Name, err)
				}
			}
		}
	})
	if flagErr != nil {
		return c, flagErr
	}
	return c, c.validate()
}

func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// applyFile reads a TOML document whose keys are the settings' keys. Unknown
// keys are an error, so that a typo does not silently fall back to a default.
func applyFile(c *Config, b []byte) error {
	var raw map[string]any
	dec := toml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	byKey := map[string]setting{}
	for _, st := range settings() {
		byKey[st.key] = st
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		st, ok := byKey[k]
		if !ok {
			return fmt.Errorf("unknown setting %q", k)
		}
		if err := setField(c, st, fmt.Sprint(raw[k])); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) validate() error {
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.RTPPortMin < 1024 || c.RTPPortMax > 65535 || c.RTPPortMin >= c.RTPPortMax {
		return fmt.Errorf("rtp_port_min/rtp_port_max: %d-%d is not a usable range", c.RTPPortMin, c.RTPPortMax)
	}
	if _, err := c.RTPCodecList(); err != nil {
		return err
	}
	if c.DataDir == "" {
		return errors.New("data_dir: must not be empty")
	}
	for _, a := range c.SIPDigestAlgorithms() {
		if a != "SHA-256" && a != "MD5" {
			return fmt.Errorf("sip_digest: %q is not SHA-256 or MD5", a)
		}
	}
	if _, err := c.SIPTrustedPrefixes(); err != nil {
		return err
	}
	if c.SIPMaxCalls < 0 || c.SIPCallsPerSecond < 0 {
		return errors.New("sip_max_calls/sip_calls_per_second: must not be negative")
	}
	if (c.SIPTLSAddr != "" || c.SIPWSSAddr != "") && (c.SIPTLSCert == "" || c.SIPTLSKey == "") {
		return errors.New("sip_tls_addr/sip_wss_addr: need sip_tls_cert and sip_tls_key")
	}
	if c.HookTimeout <= 0 {
		return errors.New("hook_timeout: must be positive")
	}
	if c.DrainTimeout < 0 {
		return errors.New("drain_timeout: must not be negative")
	}
	if c.JSWorkers < 1 || c.JSWorkers > 256 {
		return errors.New("js_workers: must be between 1 and 256")
	}
	if c.APIRateKey < 0 || c.APIRateAddr < 0 {
		return errors.New("api_rate_per_key/api_rate_per_address: must not be negative")
	}
	return nil
}

// HookAllowList is the SSRF guard's allow-list: hook_allow when set, else
// loopback on embedded defaults (one developer's laptop, where a webhook app
// on localhost must work out of the box) and nothing on a shared site.
func (c Config) HookAllowList() []string {
	if c.HookAllow != "" {
		var out []string
		for _, a := range strings.Split(c.HookAllow, ",") {
			if a = strings.TrimSpace(a); a != "" {
				out = append(out, a)
			}
		}
		return out
	}
	if c.Embedded() {
		return []string{"127.0.0.0/8", "::1/128"}
	}
	return nil
}

// SIPBudget is the node's call budget: sip_max_calls (default 90% of the
// RTP port pairs: every call holds an RTP and an RTCP port) and
// sip_calls_per_second.
func (c Config) SIPBudget() (maxCalls int, perSecond float64) {
	maxCalls = c.SIPMaxCalls
	if maxCalls == 0 {
		maxCalls = max(1, (c.RTPPortMax-c.RTPPortMin+1)/2*9/10)
	}
	return maxCalls, float64(c.SIPCallsPerSecond)
}

// RTPCodecList is rtp_codecs as SDP codecs, in order.
func (c Config) RTPCodecList() ([]sdp.Codec, error) {
	var out []sdp.Codec
	for _, name := range strings.Split(c.RTPCodecs, ",") {
		switch strings.ToUpper(strings.TrimSpace(name)) {
		case "PCMU":
			out = append(out, sdp.PCMU)
		case "PCMA":
			out = append(out, sdp.PCMA)
		case "G722":
			out = append(out, sdp.G722)
		case "":
		default:
			return nil, fmt.Errorf("rtp_codecs: %q is not PCMU, PCMA or G722", strings.TrimSpace(name))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("rtp_codecs: name at least one codec")
	}
	return out, nil
}

// SIPDigestAlgorithms are the digest algorithms of SIP challenges, in order.
func (c Config) SIPDigestAlgorithms() []string {
	var out []string
	for _, a := range strings.Split(c.SIPDigest, ",") {
		if a = strings.ToUpper(strings.TrimSpace(a)); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// SIPTrustedPrefixes are the sources never rate-limited per source: loopback
// and sip_trusted.
func (c Config) SIPTrustedPrefixes() ([]netip.Prefix, error) {
	out := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, a := range strings.Split(c.SIPTrusted, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		p, err := netip.ParsePrefix(a)
		if err != nil {
			ip, ierr := netip.ParseAddr(a)
			if ierr != nil {
				return nil, fmt.Errorf("sip_trusted: %q is not a CIDR or an address", a)
			}
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Embedded reports whether this node runs on the embedded defaults (SQLite and
// in-memory live state): one developer's laptop rather than a shared site.
func (c Config) Embedded() bool { return c.MySQLDSN == "" && c.RedisURL == "" }

// APIRateLimit is the REST API's rate limit: 0 turns a limit off (a
// limit that is off on one side only is set far above any real load).
func (c Config) APIRateLimit() api.RateLimit {
	if c.APIRateKey == 0 && c.APIRateAddr == 0 {
		return api.RateLimit{Disabled: true}
	}
	rate := func(n int) api.Rate {
		if n == 0 {
			return api.Rate{PerSecond: 1e9, Burst: 1e9}
		}
		return api.Rate{PerSecond: float64(n), Burst: 2 * n}
	}
	return api.RateLimit{PerKey: rate(c.APIRateKey), PerAddress: rate(c.APIRateAddr)}
}
