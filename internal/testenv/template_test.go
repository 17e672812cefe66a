package testenv

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/seliq/seliq/storage"
)

// A copy of the template has the schema Migrate makes on an empty
// database, and migrating it again changes nothing.
func TestTemplateCopyIsMigrated(t *testing.T) {
	fresh := open(t, postgresDatabase(t, false), true)
	copied := Open(t, Postgres)
	want, got := schemaDump(t, fresh), schemaDump(t, copied)
	if len(want) < 100 {
		t.Fatalf("schema dump of %d lines: %v", len(want), want)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the copy differs from a migrated database:\n%s", lineDiff(want, got))
	}
	if err := copied.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again := schemaDump(t, copied); !slices.Equal(again, want) {
		t.Fatalf("migrating the copy changed it:\n%s", lineDiff(want, again))
	}
}

// schemaDump lists what Migrate creates: columns, constraints, indexes,
// triggers, functions, views and the job queue's migration versions.
func schemaDump(t *testing.T, db *storage.DB) []string {
	t.Helper()
	queries := []string{
		`SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
			FROM information_schema.columns WHERE table_schema = 'public'`,
		`SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
			FROM pg_constraint WHERE connamespace = 'public'::regnamespace`,
		`SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'`,
		`SELECT 'trigger ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal`,
		`SELECT 'function ' || p.proname || ' ' || md5(p.prosrc) FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace`,
		`SELECT 'view ' || viewname || ' ' || md5(definition) FROM pg_views WHERE schemaname = 'public'`,
		`SELECT 'extension ' || extname FROM pg_extension`,
		`SELECT 'river ' || version FROM river_migration`,
	}
	var out []string
	for _, q := range queries {
		rows, err := db.SQL.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out)
	return out
}

func lineDiff(want, got []string) string {
	var b strings.Builder
	for _, l := range want {
		if !slices.Contains(got, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}
