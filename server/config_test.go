package server

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/mail"
)

// TestLoadConfigHardening: the limits and timeouts have their defaults
// unless set, are read from the environment, and a bad value is refused at
// start rather than ignored.
func TestLoadConfigHardening(t *testing.T) {
	cfg, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timeouts != DefaultTimeouts || cfg.TrustedProxies != nil || cfg.MetricsAddr != "" || cfg.MetricsToken != "" {
		t.Fatalf("defaults: %+v", cfg)
	}

	t.Setenv("SELIQ_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7")
	t.Setenv("SELIQ_LOGIN_IP_LIMIT", "12")
	t.Setenv("SELIQ_PASSWORD_HASH_CONCURRENCY", "3")
	t.Setenv("SELIQ_PASSWORD_HASH_WAIT", "750ms")
	t.Setenv("SELIQ_HTTP_READ_TIMEOUT", "5s")
	t.Setenv("SELIQ_HTTP_WRITE_TIMEOUT", "90s")
	t.Setenv("SELIQ_METRICS_ADDR", "10.1.1.1:9100")
	t.Setenv("SELIQ_METRICS_TOKEN", "scrape")
	t.Setenv("SELIQ_PULL_LOOKBACK", "72h")
	cfg, err = LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	wantProxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")}
	if !slices.Equal(cfg.TrustedProxies, wantProxies) || cfg.LoginIPLimit != 12 || cfg.HashConcurrency != 3 ||
		cfg.HashWait != 750*time.Millisecond || cfg.Timeouts.Read != 5*time.Second || cfg.Timeouts.Write != 90*time.Second ||
		cfg.Timeouts.Idle != DefaultTimeouts.Idle || cfg.MetricsAddr != "10.1.1.1:9100" || cfg.MetricsToken != "scrape" ||
		cfg.Pull.LookBack != 72*time.Hour {
		t.Fatalf("from the environment: %+v", cfg)
	}

	for key, bad := range map[string]string{
		"SELIQ_TRUSTED_PROXIES":    "10.0.0.0/8,proxy.internal",
		"SELIQ_LOGIN_IP_LIMIT":     "0",
		"SELIQ_HTTP_READ_TIMEOUT":  "soon",
		"SELIQ_PASSWORD_HASH_WAIT": "-1s",
		"SELIQ_PULL_LOOKBACK":      "yesterday",
	} {
		t.Run(key, func(t *testing.T) {
			t.Setenv(key, bad)
			if _, err := LoadConfig(nil); err == nil {
				t.Errorf("%s=%q accepted", key, bad)
			}
		})
	}
}

// TestLoadConfigInboundEmail: the inbound size limit is read from the
// environment, and a public URL that cannot prefix a path is refused.
func TestLoadConfigInboundEmail(t *testing.T) {
	t.Setenv("SELIQ_PUBLIC_URL", "https://seliq.example.com/base")
	t.Setenv("SELIQ_INBOUND_EMAIL_MAX_BYTES", "1048576")
	cfg, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mail.PublicURL != "https://seliq.example.com/base" || cfg.InboundEmailMaxBytes != 1<<20 {
		t.Fatalf("from the environment: %+v", cfg)
	}
	for _, tt := range []struct{ key, bad string }{
		{"SELIQ_PUBLIC_URL", "seliq.example.com"},
		{"SELIQ_PUBLIC_URL", "ftp://seliq.example.com"},
		{"SELIQ_PUBLIC_URL", "https://seliq.example.com/?a=b"},
		{"SELIQ_INBOUND_EMAIL_MAX_BYTES", "0"},
	} {
		t.Run(tt.key+"="+tt.bad, func(t *testing.T) {
			t.Setenv(tt.key, tt.bad)
			if _, err := LoadConfig(nil); err == nil {
				t.Errorf("%s=%q accepted", tt.key, tt.bad)
			}
		})
	}
}

// The server's SMTP default and public URL: read, defaulted, and refused
// when they could not work.
func TestLoadConfigMail(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		err  string
		want mail.Server
	}{
		{"nothing set", nil, "", mail.Server{SMTP: mail.SMTP{TLS: enum.SMTPSecurityStarttls}, PublicURL: "http://127.0.0.1:8080"}},
		{"a relay", map[string]string{"SELIQ_SMTP_HOST": "SMTP.Example.com", "SELIQ_SMTP_PORT": "2525", "SELIQ_SMTP_TLS": "tls",
			"SELIQ_SMTP_USERNAME": "soc", "SELIQ_SMTP_PASSWORD": "pw", "SELIQ_SMTP_FROM": "soc@example.com", "SELIQ_PUBLIC_URL": "https://seliq.example.com/"}, "",
			mail.Server{SMTP: mail.SMTP{Host: "smtp.example.com", Port: 2525, TLS: enum.SMTPSecurityTls, Username: "soc", Password: "pw", From: "soc@example.com"}, PublicURL: "https://seliq.example.com"}},
		{"unknown mode", map[string]string{"SELIQ_SMTP_TLS": "ssl"}, "SELIQ_SMTP_TLS", mail.Server{}},
		{"bad port", map[string]string{"SELIQ_SMTP_PORT": "0"}, "SELIQ_SMTP_PORT", mail.Server{}},
		{"no sender", map[string]string{"SELIQ_SMTP_HOST": "smtp.example.com"}, "SELIQ_SMTP_FROM", mail.Server{}},
		{"unencrypted to a remote host", map[string]string{"SELIQ_SMTP_HOST": "smtp.example.com", "SELIQ_SMTP_TLS": "none", "SELIQ_SMTP_FROM": "a@example.com"}, "SELIQ_SMTP_TLS", mail.Server{}},
		{"public URL without scheme", map[string]string{"SELIQ_PUBLIC_URL": "seliq.example.com"}, "SELIQ_PUBLIC_URL", mail.Server{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{"SELIQ_SMTP_HOST", "SELIQ_SMTP_PORT", "SELIQ_SMTP_TLS", "SELIQ_SMTP_USERNAME", "SELIQ_SMTP_PASSWORD", "SELIQ_SMTP_FROM", "SELIQ_PUBLIC_URL", "SELIQ_ADDR"} {
				t.Setenv(k, c.env[k])
			}
			cfg, err := LoadConfig(nil)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one naming %s", err, c.err)
				}
				return
			}
			if err != nil || cfg.Mail != c.want {
				t.Fatalf("mail config %+v, %v; want %+v", cfg.Mail, err, c.want)
			}
		})
	}
}
