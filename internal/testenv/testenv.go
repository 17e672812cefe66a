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

// Open returns a fresh, migrated database of dialect d. A PostgreSQL one
// is a copy of a template database migrated once (template.go).
func Open(t testing.TB, d Dialect) *storage.DB {
	t.Helper()
	switch d {
	case SQLite:
		return open(t, "sqlite://"+filepath.Join(t.TempDir(), "seliq.db"), true)
	case Postgres:
		return open(t, postgresDatabase(t, true), false)
	}
	t.Fatalf("unknown dialect %q", d)
	return nil
}

// open opens rawURL, closes it on cleanup and migrates it if asked to.
func open(t testing.TB, rawURL string, migrate bool) *storage.DB {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, rawURL)
	if err != nil {
		t.Fatalf("open %s: %v", redact(rawURL), err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if migrate {
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("migrate %s: %v", redact(rawURL), err)
		}
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

// postgresDatabase creates a database for one test, a copy of the migrated
// template or else empty, and drops it on cleanup.
func postgresDatabase(t testing.TB, migrated bool) string {
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
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "seliq_test_" + hex.EncodeToString(b)
	create := "CREATE DATABASE " + name
	if migrated {
		tpl, err := migratedTemplate(admin, base)
		if err != nil {
			t.Fatalf("template database: %v", err)
		}
		create += " TEMPLATE " + tpl
	}
	if err := createDatabase(ctx, admin, create); err != nil {
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
	u, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgresURL, err)
	}
	return u
}

// withDatabase returns the server URL base naming database name.
func withDatabase(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable>"
	}
	return u.Redacted()
}

// Replica opens a second storage.DB on db's database, as another server
// replica would: the same PostgreSQL database, or the same SQLite file
// (another process's view of it: no in-process wake-ups are shared). It is
// closed on cleanup.
func Replica(t testing.TB, db *storage.DB) *storage.DB {
	t.Helper()
	var url string
	if db.Pool != nil {
		url = db.Pool.Config().ConnString()
	} else {
		var (
			seq        int
			name, file string
		)
		if err := db.SQL.QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &file); err != nil || file == "" {
			t.Fatalf("replica: the SQLite file: %q, %v", file, err)
		}
		url = "sqlite://" + file
	}
	other, err := storage.Open(context.Background(), url)
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
