// Package server assembles the HTTP server: configuration, middleware,
// GraphQL, REST, the playground and docs, health and metrics.
package server

import (
	"flag"
	"fmt"
	"github.com/seliq/seliq/automation/trigger"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/seliq/seliq/analysis"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/gqlserver"
	"github.com/seliq/seliq/gqlserver/stream"
	"github.com/seliq/seliq/internal/cidr"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/mail"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/pull"
)

// Config is read from SELIQ_* environment variables; flags may override.
type Config struct {
	Addr           string
	DatabaseURL    string
	AdminEmail     string
	AdminPassword  string
	LogLevel       slog.Level
	SessionTTL     time.Duration
	LoginLimit     int
	AllowedOrigins []string
	// BulkLimit is how many bulk alert actions a user may start a minute.
	BulkLimit int
	// IngestMaxBytes bounds one ingest payload.
	IngestMaxBytes int64
	// SecretKey seals the credentials kept for outbound services (an AI
	// provider's API key): SELIQ_SECRET_KEY, or the key in SecretKeyFile,
	// created on first start (see LoadSecretKey).
	SecretKey     []byte
	SecretKeyFile string
	// GraphQLTimeout bounds the execution of one GraphQL query or mutation
	// (REST included) and of one subscription event (SELIQ_GRAPHQL_TIMEOUT).
	GraphQLTimeout time.Duration
	// WSMaxConnectionsPerUser caps one user's WebSockets and SSE streams
	// on one replica (SELIQ_WS_MAX_CONNECTIONS_PER_USER, default 20).
	WSMaxConnectionsPerUser int
	// PprofAddr, when set, serves /debug/pprof on this loopback address
	// (SELIQ_PPROF_ADDR); off by default.
	PprofAddr string
	// OutboundAllow are the loopback and private ranges every
	// organisation's outbound calls may reach (SELIQ_OUTBOUND_ALLOW,
	// comma-separated CIDRs); empty by default.
	OutboundAllow []netip.Prefix
	// Pull tunes the pull connectors' polling; the zero value takes the
	// defaults (24 h first look-back, 20 pages a run, 5 min a run).
	Pull pull.Config
	// MetricsAddr, when set, serves /metrics on its own listener and no
	// longer on Addr (SELIQ_METRICS_ADDR); MetricsToken, when set, requires
	// "Authorization: Bearer <token>" to read it (SELIQ_METRICS_TOKEN).
	MetricsAddr  string
	MetricsToken string
	// TrustedProxies are the peers whose X-Forwarded-For / X-Real-IP name
	// the client (SELIQ_TRUSTED_PROXIES, CIDRs); none by default.
	TrustedProxies []netip.Prefix
	// LoginIPLimit is login attempts per minute per client IP across
	// emails (SELIQ_LOGIN_IP_LIMIT).
	LoginIPLimit int
	// Automation bounds an organisation's triggers and each one's actions
	// (SELIQ_AUTOMATION_MAX_TRIGGERS, default 200;
	// SELIQ_AUTOMATION_MAX_ACTIONS, default 20).
	Automation trigger.Limits
	// AutomationActions replaces the action vocabulary triggers run (tests).
	AutomationActions trigger.Actions
	// HashConcurrency bounds concurrent password hashes (0: GOMAXPROCS) and
	// HashWait is how long one waits for a slot before 429
	// (SELIQ_PASSWORD_HASH_CONCURRENCY, SELIQ_PASSWORD_HASH_WAIT).
	HashConcurrency int
	HashWait        time.Duration
	// Timeouts of the HTTP server (see timeouts.go).
	Timeouts Timeouts
	// InboundEmailMaxBytes bounds one inbound email delivery, attachments
	// included (SELIQ_INBOUND_EMAIL_MAX_BYTES, default 25 MiB).
	InboundEmailMaxBytes int
	// Mail is the SMTP server every organisation without its own uses
	// (SELIQ_SMTP_HOST, _PORT, _TLS, _USERNAME, _PASSWORD, _FROM) and the
	// public URL links in messages point to (SELIQ_PUBLIC_URL; default
	// http:// and the listen address).
	Mail mail.Server
	// AnalysisPolicy is what auto-analysis defers when it falls behind
	// (SELIQ_ANALYSIS_BACKLOG_POLICY: defer_low_value or analyse_all;
	// SELIQ_ANALYSIS_DEFER_ABOVE: the backlog from which it defers,
	// default 5000, 0 always).
	AnalysisPolicy analysis.Policy
	// AnalysisIngestYield is the longest a batch of automatic analyses
	// waits for a pause in this replica's ingest
	// (SELIQ_ANALYSIS_INGEST_YIELD, default 10s, 0 no waiting).
	AnalysisIngestYield time.Duration
}

// DefaultDatabaseURL is the embedded SQLite database.
const DefaultDatabaseURL = "sqlite://./data/seliq.db"

// LoadConfig reads the environment, then the flags in args.
func LoadConfig(args []string) (Config, error) {
	cfg := Config{
		Addr:                env("SELIQ_ADDR", "127.0.0.1:8080"),
		DatabaseURL:         env("SELIQ_DATABASE_URL", DefaultDatabaseURL),
		AdminEmail:          os.Getenv("SELIQ_ADMIN_EMAIL"),
		AdminPassword:       os.Getenv("SELIQ_ADMIN_PASSWORD"),
		LoginLimit:          10,
		SessionTTL:          12 * time.Hour,
		BulkLimit:           100,
		SecretKeyFile:       env("SELIQ_SECRET_KEY_FILE", "./data/secret.key"),
		PprofAddr:           os.Getenv("SELIQ_PPROF_ADDR"),
		MetricsAddr:         os.Getenv("SELIQ_METRICS_ADDR"),
		MetricsToken:        os.Getenv("SELIQ_METRICS_TOKEN"),
		Timeouts:            DefaultTimeouts,
		AnalysisIngestYield: analysis.DefaultIngestYield,
	}
	proxies := os.Getenv("SELIQ_TRUSTED_PROXIES")
	nums := map[string]*int{
		"SELIQ_LOGIN_IP_LIMIT":            &cfg.LoginIPLimit,
		"SELIQ_PASSWORD_HASH_CONCURRENCY": &cfg.HashConcurrency,
		"SELIQ_INBOUND_EMAIL_MAX_BYTES":   &cfg.InboundEmailMaxBytes,
		"SELIQ_AUTOMATION_MAX_TRIGGERS":   &cfg.Automation.MaxTriggers,
		"SELIQ_AUTOMATION_MAX_ACTIONS":    &cfg.Automation.MaxActions,
	}
	durations := map[string]*time.Duration{
		"SELIQ_PASSWORD_HASH_WAIT":       &cfg.HashWait,
		"SELIQ_HTTP_READ_HEADER_TIMEOUT": &cfg.Timeouts.ReadHeader,
		"SELIQ_HTTP_READ_TIMEOUT":        &cfg.Timeouts.Read,
		"SELIQ_HTTP_WRITE_TIMEOUT":       &cfg.Timeouts.Write,
		"SELIQ_HTTP_IDLE_TIMEOUT":        &cfg.Timeouts.Idle,
		"SELIQ_HTTP_DOWNLOAD_TIMEOUT":    &cfg.Timeouts.Download,
		"SELIQ_PULL_LOOKBACK":            &cfg.Pull.LookBack,
	}
	level := env("SELIQ_LOG_LEVEL", "info")
	ttl := env("SELIQ_SESSION_TTL", cfg.SessionTTL.String())
	origins := os.Getenv("SELIQ_ALLOWED_ORIGINS")
	ingestMax := env("SELIQ_INGEST_MAX_BYTES", "5242880")
	gqlTimeout := env("SELIQ_GRAPHQL_TIMEOUT", gqlserver.DefaultTimeout.String())
	wsMax := env("SELIQ_WS_MAX_CONNECTIONS_PER_USER", strconv.Itoa(stream.DefaultMaxConnectionsPerUser))
	outboundAllow := os.Getenv("SELIQ_OUTBOUND_ALLOW")
	smtpPort := os.Getenv("SELIQ_SMTP_PORT")
	cfg.Mail = mail.Server{SMTP: mail.SMTP{Host: strings.ToLower(strings.TrimSpace(os.Getenv("SELIQ_SMTP_HOST"))), TLS: enum.SMTPSecurity(env("SELIQ_SMTP_TLS", "starttls")),
		Username: os.Getenv("SELIQ_SMTP_USERNAME"), Password: os.Getenv("SELIQ_SMTP_PASSWORD"), From: os.Getenv("SELIQ_SMTP_FROM")},
		PublicURL: os.Getenv("SELIQ_PUBLIC_URL")}

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (SELIQ_ADDR)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "sqlite://PATH or postgres://... (SELIQ_DATABASE_URL)")
	fs.StringVar(&level, "log-level", level, "debug, info, warn or error (SELIQ_LOG_LEVEL)")
	fs.StringVar(&ttl, "session-ttl", ttl, "session lifetime (SELIQ_SESSION_TTL)")
	fs.StringVar(&origins, "allowed-origins", origins, "comma-separated browser origins allowed to open WebSockets (SELIQ_ALLOWED_ORIGINS)")
	fs.StringVar(&cfg.PprofAddr, "pprof-addr", cfg.PprofAddr, "loopback address serving /debug/pprof; empty: off (SELIQ_PPROF_ADDR)")
	fs.StringVar(&wsMax, "ws-max-connections-per-user", wsMax, "WebSockets and SSE streams one user may hold open on this replica (SELIQ_WS_MAX_CONNECTIONS_PER_USER)")
	fs.StringVar(&ingestMax, "ingest-max-bytes", ingestMax, "largest alert ingest payload in bytes (SELIQ_INGEST_MAX_BYTES)")
	fs.StringVar(&gqlTimeout, "graphql-timeout", gqlTimeout, "longest execution of one GraphQL operation or subscription event (SELIQ_GRAPHQL_TIMEOUT)")
	fs.StringVar(&outboundAllow, "outbound-allow", outboundAllow, "comma-separated loopback/private CIDRs outbound calls may reach (SELIQ_OUTBOUND_ALLOW)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", cfg.MetricsAddr, "serve /metrics on this address instead of the API listener (SELIQ_METRICS_ADDR)")
	fs.StringVar(&proxies, "trusted-proxies", proxies, "comma-separated CIDRs of proxies whose X-Forwarded-For is believed (SELIQ_TRUSTED_PROXIES)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if err := readEnvNumbers(nums, durations); err != nil {
		return cfg, err
	}
	var err error
	if cfg.TrustedProxies, err = cidr.ParseAll(cidr.Fields(proxies)); err != nil {
		return cfg, fmt.Errorf("SELIQ_TRUSTED_PROXIES: %w", err)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return cfg, fmt.Errorf("SELIQ_LOG_LEVEL: %w", err)
	}
	d, err := time.ParseDuration(ttl)
	if err != nil || d <= 0 {
		return cfg, fmt.Errorf("SELIQ_SESSION_TTL: %q is not a positive duration", ttl)
	}
	cfg.SessionTTL = d
	if cfg.GraphQLTimeout, err = time.ParseDuration(gqlTimeout); err != nil || cfg.GraphQLTimeout <= 0 {
		return cfg, fmt.Errorf("SELIQ_GRAPHQL_TIMEOUT: %q is not a positive duration", gqlTimeout)
	}
	if cfg.IngestMaxBytes, err = strconv.ParseInt(ingestMax, 10, 64); err != nil || cfg.IngestMaxBytes <= 0 {
		return cfg, fmt.Errorf("SELIQ_INGEST_MAX_BYTES: %q is not a positive number of bytes", ingestMax)
	}
	if cfg.WSMaxConnectionsPerUser, err = strconv.Atoi(wsMax); err != nil || cfg.WSMaxConnectionsPerUser <= 0 {
		return cfg, fmt.Errorf("SELIQ_WS_MAX_CONNECTIONS_PER_USER: %q is not a positive number", wsMax)
	}
	if cfg.OutboundAllow, err = outbound.ParseRangeList(outboundAllow); err != nil {
		return cfg, fmt.Errorf("SELIQ_OUTBOUND_ALLOW: %w", err)
	}
	if k := os.Getenv("SELIQ_SECRET_KEY"); k != "" {
		if cfg.SecretKey, err = secrets.ParseKey(k); err != nil {
			return cfg, fmt.Errorf("SELIQ_SECRET_KEY: %w", err)
		}
	}
	if cfg.PprofAddr != "" {
		if err := checkPprofAddr(cfg.PprofAddr); err != nil {
			return cfg, err
		}
	}
	if cfg.AnalysisPolicy, err = analysis.ParsePolicy(os.Getenv("SELIQ_ANALYSIS_BACKLOG_POLICY"), os.Getenv("SELIQ_ANALYSIS_DEFER_ABOVE")); err != nil {
		return cfg, err
	}
	if cfg.AnalysisIngestYield, err = analysis.ParseIngestYield(os.Getenv("SELIQ_ANALYSIS_INGEST_YIELD")); err != nil {
		return cfg, err
	}
	if err := checkMail(&cfg, smtpPort); err != nil {
		return cfg, err
	}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, o)
		}
	}
	return cfg, nil
}

// checkPublicURL accepts an empty value or an absolute http(s) URL with
// no query or fragment (paths are appended to it).
func checkPublicURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("SELIQ_PUBLIC_URL: %q is not an absolute http(s) URL without query or fragment", v)
	}
	return nil
}

// LoadSecretKey fills SecretKey from SecretKeyFile unless SELIQ_SECRET_KEY
// set it, creating the file with a random key on first start. Replicas
// sharing a database must share the key: set SELIQ_SECRET_KEY on each.
func (c *Config) LoadSecretKey() error {
	if len(c.SecretKey) > 0 {
		return nil
	}
	key, err := secrets.LoadOrCreateKeyFile(c.SecretKeyFile)
	if err != nil {
		return fmt.Errorf("SELIQ_SECRET_KEY_FILE: %w", err)
	}
	c.SecretKey = key
	return nil
}

// readEnvNumbers sets each variable that is present: numbers and durations
// must be positive (leave a variable unset for its default).
func readEnvNumbers(nums map[string]*int, durations map[string]*time.Duration) error {
	for key, dst := range nums {
		if v := os.Getenv(key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return fmt.Errorf("%s: %q is not a positive number", key, v)
			}
			*dst = n
		}
	}
	for key, dst := range durations {
		if v := os.Getenv(key); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("%s: %q is not a positive duration", key, v)
			}
			*dst = d
		}
	}
	return nil
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// checkMail validates the server's SMTP default and public URL.
func checkMail(cfg *Config, port string) error {
	m := &cfg.Mail
	if !m.TLS.Valid() {
		return fmt.Errorf("SELIQ_SMTP_TLS: %q is not starttls, tls or none", m.TLS)
	}
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("SELIQ_SMTP_PORT: %q is not a port", port)
		}
		m.Port = p
	}
	if m.From != "" {
		if _, err := mail.ParseAddress(m.From); err != nil {
			return fmt.Errorf("SELIQ_SMTP_FROM: %q is not an email address", m.From)
		}
	}
	if m.Host != "" && m.TLS == enum.SMTPSecurityNone && !mail.Loopback(m.Host) {
		return fmt.Errorf("SELIQ_SMTP_TLS: none is only allowed for a loopback SELIQ_SMTP_HOST")
	}
	if m.Host != "" && m.From == "" {
		return fmt.Errorf("SELIQ_SMTP_FROM is required with SELIQ_SMTP_HOST")
	}
	if m.PublicURL == "" {
		m.PublicURL = "http://" + cfg.Addr
	}
	if err := checkPublicURL(m.PublicURL); err != nil {
		return err
	}
	m.PublicURL = strings.TrimRight(m.PublicURL, "/")
	return nil
}
