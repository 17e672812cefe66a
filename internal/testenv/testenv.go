// Package testenv gives tests a fresh database on every supported dialect:
// SQLite always, PostgreSQL when SELIQ_TEST_POSTGRES_URL is set or a server
// answers on 127.0.0.1:5432. With the variable set, an unreachable server
// fails the test instead of skipping it (CI sets it).
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/storage"
)

// EnvPostgresURL names the PostgreSQL server for tests (any database on it;
// each test creates and drops its own).
const EnvPostgresURL = "SELIQ_TEST_POSTGRES_URL"

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Dialect is a database kind tests run on.
type Dialect string

// The dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ForEachDB runs fn as a subtest per dialect, each on a fresh, migrated
// database that is removed afterwards.
func ForEachDB(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	ForEachDialect(t, func(t *testing.T, d Dialect) { fn(t, Open(t, d)) })
}

// ForEachDialect runs fn as a subtest per dialect, for tests that open
// several databases of it.
func ForEachDialect(t *testing.T, fn func(t *testing.T, d Dialect)) {
	t.Helper()
	for _, d := range []Dialect{SQLite, Postgres} {
		t.Run(string(d), func(t *testing.T) { fn(t, d) })
	}
}

// Open returns a fresh, migrated database of dialect d.
func Open(t testing.TB, d Dialect) *storage.DB {
	t.Helper()
	ctx := context.Background()
	var rawURL string
	switch d {
	case SQLite:
		rawURL = "sqlite://" + filepath.Join(t.TempDir(), "seliq.db")
	case Postgres:
		rawURL = postgresDatabase(t)
	}
	db, err := storage.Open(ctx, rawURL)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// PostgresURL returns the server URL and whether PostgreSQL tests must run.
func PostgresURL() (string, bool) {
	if u := os.Getenv(EnvPostgresURL); u != "" {
		return u, true
	}
	return defaultPostgresURL, false
}

// postgresDatabase creates a database for one test and drops it on cleanup.
func postgresDatabase(t testing.TB) string {
	t.Helper()
	base, required := PostgresURL()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		if required {
			t.Fatalf("PostgreSQL at %s is required (%s is set) but unreachable: %v", redact(base), EnvPostgresURL, err)
		}
		t.Skipf("PostgreSQL not reachable at %s (set %s to require it): %v", redact(base), EnvPostgresURL, err)
	}
	defer admin.Close(context.Background())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "seliq_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgresURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable>"
	}
	return u.Redacted()
}

// Replica opens a second storage.DB on db's PostgreSQL database, as another
// server replica would; it is closed on cleanup.
func Replica(t testing.TB, db *storage.DB) *storage.DB {
	t.Helper()
	if db.Pool == nil {
		t.Fatal("replicas share a PostgreSQL database")
	}
	other, err := storage.Open(context.Background(), db.Pool.Config().ConnString())
	if err != nil {
		t.Fatalf("open replica: %v", err)
	}
	t.Cleanup(func() { _ = other.Close() })
	return other
}

// Box returns a secrets box with a random key, for tests that seal
// settings (AI API keys).
func Box(t testing.TB) *secrets.Box {
	t.Helper()
	key := make([]byte, secrets.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}
