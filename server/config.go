// Package server assembles the HTTP server: configuration, middleware,
// GraphQL, REST, the playground and docs, health and metrics.
package server

import (
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/seliq/seliq/gql"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/realtime"
	"github.com/seliq/seliq/secrets"
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
}

// DefaultDatabaseURL is the embedded SQLite database.
const DefaultDatabaseURL = "sqlite://./data/seliq.db"

// LoadConfig reads the environment, then the flags in args.
func LoadConfig(args []string) (Config, error) {
	cfg := Config{
		Addr:          env("SELIQ_ADDR", "127.0.0.1:8080"),
		DatabaseURL:   env("SELIQ_DATABASE_URL", DefaultDatabaseURL),
		AdminEmail:    os.Getenv("SELIQ_ADMIN_EMAIL"),
		AdminPassword: os.Getenv("SELIQ_ADMIN_PASSWORD"),
		LoginLimit:    10,
		SessionTTL:    12 * time.Hour,
		BulkLimit:     100,
		SecretKeyFile: env("SELIQ_SECRET_KEY_FILE", "./data/secret.key"),
		PprofAddr:     os.Getenv("SELIQ_PPROF_ADDR"),
	}
	level := env("SELIQ_LOG_LEVEL", "info")
	ttl := env("SELIQ_SESSION_TTL", cfg.SessionTTL.String())
	origins := os.Getenv("SELIQ_ALLOWED_ORIGINS")
	ingestMax := env("SELIQ_INGEST_MAX_BYTES", "5242880")
	gqlTimeout := env("SELIQ_GRAPHQL_TIMEOUT", gql.DefaultTimeout.String())
	wsMax := env("SELIQ_WS_MAX_CONNECTIONS_PER_USER", strconv.Itoa(realtime.DefaultMaxConnectionsPerUser))
	outboundAllow := os.Getenv("SELIQ_OUTBOUND_ALLOW")

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
	if err := fs.Parse(args); err != nil {
		return cfg, err
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
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, o)
		}
	}
	return cfg, nil
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

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}
