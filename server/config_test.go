package server

import (
	"net/netip"
	"slices"
	"testing"
	"time"
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

// TestLoadConfigInboundEmail: the inbound email settings are read from
// the environment, and a public URL that cannot prefix a path is refused.
func TestLoadConfigInboundEmail(t *testing.T) {
	t.Setenv("SELIQ_PUBLIC_URL", "https://seliq.example.com/base")
	t.Setenv("SELIQ_INBOUND_EMAIL_MAX_BYTES", "1048576")
	t.Setenv("SELIQ_SMTP_FROM", "Seliq <seliq@example.com>")
	cfg, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PublicURL != "https://seliq.example.com/base" || cfg.InboundEmailMaxBytes != 1<<20 || cfg.SMTPFrom != "Seliq <seliq@example.com>" {
		t.Fatalf("from the environment: %+v", cfg)
	}
	if own := ownAddresses(cfg.SMTPFrom)(t.Context(), [16]byte{}); !slices.Equal(own, []string{"seliq@example.com"}) {
		t.Errorf("own addresses %v", own)
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
