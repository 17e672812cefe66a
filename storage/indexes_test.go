package storage_test

import (
	"context"
	"regexp"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

var indexStatement = regexp.MustCompile(`^(CREATE|DROP) INDEX IF (?:NOT )?EXISTS (\w+)`)

// After migration each dialect has every index its statements create and
// none they drop (SQLite once ran none of them). A database migrated
// before the fingerprint's hash index (its B-tree on (organization_id,
// fingerprint), as ent's schema declared it) is migrated to the hash index
// on PostgreSQL and keeps the B-tree on SQLite.
func TestDialectIndexesAfterMigration(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		const oldFingerprint = `CREATE INDEX IF NOT EXISTS alert_organization_id_fingerprint ON alerts (organization_id, fingerprint)`
		if db.Dialect == dialect.Postgres {
			if _, err := db.SQL.ExecContext(ctx, `DROP INDEX alerts_fingerprint_hash`); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.SQL.ExecContext(ctx, oldFingerprint); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		exists := `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = $1`
		if db.Dialect == dialect.Postgres {
			exists = `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1`
		}
		has := func(name string) bool {
			var n int
			if err := db.SQL.QueryRowContext(ctx, exists, name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 1
		}
		statements := storage.IndexStatements(db.Dialect)
		if len(statements) == 0 {
			t.Fatalf("no index statements for %s", db.Dialect)
		}
		for _, q := range statements {
			m := indexStatement.FindStringSubmatch(q)
			if m == nil {
				t.Fatalf("not an index statement: %s", q)
			}
			if want := m[1] == "CREATE"; has(m[2]) != want {
				t.Errorf("%s: index %s exists = %v, want %v", db.Dialect, m[2], !want, want)
			}
		}
		hash, btree := has("alerts_fingerprint_hash"), has("alert_organization_id_fingerprint")
		if db.Dialect == dialect.Postgres && (!hash || btree) || db.Dialect != dialect.Postgres && (hash || !btree) {
			t.Errorf("%s: fingerprint hash index %v, B-tree %v", db.Dialect, hash, btree)
		}
	})
}
