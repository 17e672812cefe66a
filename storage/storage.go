// Package storage opens the database behind ent: embedded SQLite by default,
// PostgreSQL in production. It is the only place that knows the drivers.
package storage

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/migrate"
	_ "github.com/seliq/seliq/ent/runtime" // registers schema hooks and privacy policies
)

// DB is an open database with its ent client.
type DB struct {
	Client  *ent.Client
	Dialect string
	SQL     *sql.DB
	// Pool is set on PostgreSQL; LISTEN/NOTIFY and COPY use it directly.
	Pool *pgxpool.Pool

	observers *observers // see Observe
}

// Open connects to rawURL: "sqlite://PATH" (":memory:" is not supported, as
// each connection would see its own database) or "postgres://...".
func Open(ctx context.Context, rawURL string) (*DB, error) {
	switch {
	case strings.HasPrefix(rawURL, "sqlite://"):
		return openSQLite(strings.TrimPrefix(rawURL, "sqlite://"))
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL)
	default:
		return nil, fmt.Errorf("database URL %q: want sqlite://PATH or postgres://", redact(rawURL))
	}
}

func openSQLite(path string) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlite URL has no path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	// cache_size (64 MiB) and mmap_size: the queue's facet scans over an
	// organisation's alerts otherwise thrash SQLite's 2 MB default cache.
	// temp_store: the ingest upsert's statement journal stays in memory
	// instead of a temporary file.
	// foreign_keys: ent's migration and cascades need them; _time_format:
	// store times strftime can read; _txlock=immediate: take the write lock at
	// BEGIN so concurrent writers queue on busy_timeout instead of failing.
	dsn := "file:" + uriPath.Replace(path) + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_time_format=sqlite&_txlock=immediate" +
		"&_pragma=cache_size(-65536)&_pragma=mmap_size(268435456)&_pragma=temp_store(MEMORY)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	boundSQLitePool(db)
	drv := entsql.OpenDB(dialect.SQLite, db)
	obs := &observers{}
	return &DB{Client: newClient(drv, obs, nil), Dialect: dialect.SQLite, SQL: db, observers: obs}, nil
}

// uriPath escapes what would end the path of a SQLite URI filename (the
// subtest directories of go test contain "#").
var uriPath = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")

// defaultPoolSize is the PostgreSQL pool's size unless the URL sets one,
// and the SQLite pool's size.
const defaultPoolSize = 16

// boundSQLitePool caps SQLite's connections: database/sql opens one per
// concurrent query without limit, and each keeps its own page cache (up to
// 64 MiB, cache_size above) and file descriptors, so a flood of requests
// would open thousands. The size is PostgreSQL's, so that code holding
// connections behaves alike on both; WAL lets them all read at once while
// writers queue on the write lock (busy_timeout). Idle connections are
// kept, with their warm cache, up to the same number.
func boundSQLitePool(db *sql.DB) {
	db.SetMaxOpenConns(defaultPoolSize)
	db.SetMaxIdleConns(defaultPoolSize)
	db.SetConnMaxIdleTime(5 * time.Minute)
}

func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", redact(rawURL), err)
	}
	// pgx's default pool (max(4, CPUs)) is too small for a server: the job
	// queue's listener holds one connection for good, and a facets request
	// runs three queries at once. The URL's pool_max_conns still wins.
	if !strings.Contains(rawURL, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, defaultPoolSize)
	}
	cfg.AfterConnect = registerUUID
	withoutJIT(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", redact(rawURL), err)
	}
	db := stdlib.OpenDBFromPool(pool)
	drv := entsql.OpenDB(dialect.Postgres, db)
	obs := &observers{}
	return &DB{Client: newClient(drv, obs, pool), Dialect: dialect.Postgres, SQL: db, Pool: pool, observers: obs}, nil
}

// withoutJIT turns PostgreSQL's JIT compilation off for the pool's sessions
// unless the URL sets jit: the server's statements are short reads whose
// plans over a million-alert table cross jit_above_cost, and compiling them
// took 100-300 ms where running them takes tens (measured on the analysis
// job's related-alert read and the metrics' week scans).
func withoutJIT(cfg *pgxpool.Config) {
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
}

// newClient is the ent client every process uses: with the activity log's
// tracking of users, organisations, groups, contacts, tokens and AI
// settings, so that no caller can change them unrecorded.
func newClient(drv *entsql.Driver, obs *observers, pool *pgxpool.Pool) *ent.Client {
	client := ent.NewClient(ent.Driver(exposingDriver{Driver: drv, obs: obs, pool: pool}))
	audit.Track(client)
	return client
}

// schemaCreate serialises ent's migration within the process: it writes
// into the package-level table descriptions (migrate.Tables), so two
// migrations at once (tests open several databases in parallel) race.
var schemaCreate sync.Mutex

func (d *DB) createSchema(ctx context.Context) error {
	schemaCreate.Lock()
	defer schemaCreate.Unlock()
	return d.Client.Schema.Create(ctx, migrate.WithForeignKeys(true))
}

// Migrate brings the schema up to date. On PostgreSQL an advisory lock makes
// replicas that start together migrate one after the other.
func (d *DB) Migrate(ctx context.Context) error {
	if d.Dialect != dialect.Postgres {
		if err := d.createSchema(ctx); err != nil {
			return err
		}
		if err := d.createDialectIndexes(ctx, d.SQL); err != nil {
			return err
		}
		if err := d.migrateJobQueue(ctx); err != nil {
			return err
		}
		if err := d.migrateAlertCounts(ctx, d.SQL); err != nil {
			return err
		}
		if err := fixData(ctx, d.SQL); err != nil {
			return err
		}
		// Refresh the planner's statistics, which SQLite does not keep by itself.
		_, err := d.SQL.ExecContext(ctx, "PRAGMA optimize")
		return err
	}
	conn, err := d.SQL.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	const lockKey = 0x5e11c0 // arbitrary, constant per application
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey) //nolint:errcheck // released with the session anyway
	if err := d.createSchema(ctx); err != nil {
		return err
	}
	if err := d.migrateJobQueue(ctx); err != nil {
		return err
	}
	if err := d.createDialectIndexes(ctx, conn); err != nil {
		return err
	}
	if err := fixData(ctx, conn); err != nil {
		return err
	}
	return d.migrateAlertCounts(ctx, conn)
}

// dataFixes bring rows written under an older meaning of a column to the
// current one; each is idempotent and cheap (small tables).
var dataFixes = []string{
	// An organisation's mfa_enabled was once a setting that nothing read;
	// it now mirrors mfa_enforced (directory.checkMfaEnabled).
	`UPDATE organizations SET mfa_enabled = mfa_enforced WHERE mfa_enabled <> mfa_enforced`,
}

// execer runs a statement: a *sql.DB or one of its connections.
type execer interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

func fixData(ctx context.Context, db execer) error {
	for _, q := range dataFixes {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("data fix: %w", err)
		}
	}
	return nil
}

// MaxConns is the most connections the database is used through at once.
func (d *DB) MaxConns() int {
	if d.Pool != nil {
		return int(d.Pool.Config().MaxConns)
	}
	return d.SQL.Stats().MaxOpenConnections
}

// OpenConns is how many connections are open now.
func (d *DB) OpenConns() int {
	if d.Pool != nil {
		return int(d.Pool.Stat().TotalConns())
	}
	return d.SQL.Stats().OpenConnections
}

// Ping checks the database answers (readiness).
func (d *DB) Ping(ctx context.Context) error { return d.SQL.PingContext(ctx) }

// Close releases the client and the pool.
func (d *DB) Close() error {
	err := d.Client.Close()
	if d.Pool != nil {
		d.Pool.Close()
	}
	return err
}

// redact hides a password in a URL before it reaches a log line.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>"
	}
	return u.Redacted()
}
