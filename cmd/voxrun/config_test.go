package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "voxrun.toml")
	require.NoError(t, os.WriteFile(file, []byte(`
http_addr = ":4000"
sip_addr = ":5070"
log_level = "warn"
rtp_port_min = 30000
drain_timeout = "5s"
`), 0o600))

	cases := []struct {
		name  string
		env   map[string]string
		flags []string
		check func(t *testing.T, c Config)
	}{
		{
			name: "defaults without file",
			check: func(t *testing.T, c Config) {
				require.Equal(t, DefaultConfig(), c)
			},
		},
		{
			name:  "file beats default",
			flags: []string{"--config", file},
			check: func(t *testing.T, c Config) {
				require.Equal(t, ":4000", c.HTTPAddr)
				require.Equal(t, 30000, c.RTPPortMin)
				require.Equal(t, 5*time.Second, c.DrainTimeout)
				require.Equal(t, "./data", c.DataDir, "unset keys keep the default")
			},
		},
		{
			name: "environment beats file",
			env:  map[string]string{"VOXRUN_HTTP_ADDR": ":4100", "VOXRUN_CONFIG": file},
			check: func(t *testing.T, c Config) {
				require.Equal(t, ":4100", c.HTTPAddr)
				require.Equal(t, ":5070", c.SIPAddr)
			},
		},
		{
			name:  "flag beats environment",
			env:   map[string]string{"VOXRUN_HTTP_ADDR": ":4100", "VOXRUN_LOG_LEVEL": "debug"},
			flags: []string{"--config", file, "--http-addr", ":4200"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, ":4200", c.HTTPAddr)
				require.Equal(t, "debug", c.LogLevel)
			},
		},
		{
			name:  "production settings",
			flags: []string{"--mysql-dsn", "u:p@tcp(db:3306)/voxrun", "--redis-url", "redis://r:6379/0", "--public-ip", "203.0.113.7"},
			check: func(t *testing.T, c Config) {
				require.False(t, c.Embedded())
				require.Equal(t, "203.0.113.7", c.PublicIP)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir()) // no ./voxrun.toml
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			path := registerFlags(fs)
			require.NoError(t, fs.Parse(tc.flags))
			c, err := loadConfig(fs, *path, func(k string) string { return tc.env[k] })
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.toml")
	require.NoError(t, os.WriteFile(typo, []byte(`htp_addr = ":1"`), 0o600))

	cases := []struct {
		name  string
		env   map[string]string
		flags []string
		want  string
	}{
		{"unknown file key", nil, []string{"--config", typo}, `unknown setting "htp_addr"`},
		{"missing explicit file", nil, []string{"--config", filepath.Join(dir, "nope.toml")}, "config file"},
		{"bad int in env", map[string]string{"VOXRUN_RTP_PORT_MIN": "lots"}, nil, "VOXRUN_RTP_PORT_MIN"},
		{"bad level", nil, []string{"--log-level", "loud"}, "log_level"},
		{"bad range", nil, []string{"--rtp-port-min", "50000", "--rtp-port-max", "40000"}, "rtp_port"},
		{"bad duration", nil, []string{"--drain-timeout", "soon"}, "drain_timeout"},
		{"unknown codec", nil, []string{"--rtp-codecs", "PCMU,opus"}, `rtp_codecs: "opus"`},
		{"no codec", map[string]string{"VOXRUN_RTP_CODECS": " , "}, nil, "rtp_codecs: name at least one"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			path := registerFlags(fs)
			require.NoError(t, fs.Parse(tc.flags))
			_, err := loadConfig(fs, *path, func(k string) string { return tc.env[k] })
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// The SSRF guard's allow-list defaults to loopback on embedded defaults (one
// developer's laptop: a webhook app on localhost works out of the box) and to
// nothing once MySQL or Redis is configured (a shared production site);
// hook_allow overrides both.
func TestHookAllowListDefaults(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		flags []string
		want  []string
	}{
		{"embedded defaults", nil, nil, []string{"127.0.0.0/8", "::1/128"}},
		{"mysql configured", nil, []string{"--mysql-dsn", "u:p@tcp(db:3306)/voxrun"}, nil},
		{"redis configured", map[string]string{"VOXRUN_REDIS_URL": "redis://r:6379/0"}, nil, nil},
		{"both configured", nil, []string{"--mysql-dsn", "u:p@tcp(db:3306)/voxrun", "--redis-url", "redis://r:6379/0"}, nil},
		{"explicit list on embedded", map[string]string{"VOXRUN_HOOK_ALLOW": " 10.0.0.0/8 , hooks.internal ,"}, nil, []string{"10.0.0.0/8", "hooks.internal"}},
		{"explicit list in production", map[string]string{"VOXRUN_HOOK_ALLOW": "192.168.1.0/24"}, []string{"--redis-url", "redis://r:6379/0"}, []string{"192.168.1.0/24"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			path := registerFlags(fs)
			require.NoError(t, fs.Parse(tc.flags))
			c, err := loadConfig(fs, *path, func(k string) string { return tc.env[k] })
			require.NoError(t, err)
			require.Equal(t, tc.want, c.HookAllowList())
		})
	}
}
