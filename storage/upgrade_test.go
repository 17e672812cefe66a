package storage_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// retiredTables were defined (Dashboard, SavedQuery, Macro, Trigger) but
// never used; databases created before their removal still have them.
var retiredTables = []string{"dashboards", "saved_queries", "macros", "triggers"}

// A database created while the retired tables were in the schema upgrades
// cleanly: Migrate keeps its data and leaves the retired tables and their
// rows alone. ent's migration never drops a table it no longer knows, and
// dropping them here would destroy whatever a user put there; empty or not,
// they are harmless, as nothing reads or writes them.
func TestMigrateKeepsRetiredTables(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		// The database as the old migration left it: today's schema plus
		// the retired tables (testdata has their DDL; the rest of the
		// schema is unchanged).
		name := map[string]string{dialect.SQLite: "sqlite", dialect.Postgres: "postgres"}[db.Dialect]
		ddl, err := os.ReadFile("testdata/retired_tables." + name + ".sql")
		if err != nil {
			t.Fatal(err)
		}
		for stmt := range strings.SplitSeq(string(ddl), ";\n") {
			if stmt = stripComments(stmt); stmt != "" {
				if _, err := db.SQL.ExecContext(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
		}

		sys := auth.System(ctx)
		org, err := db.Client.Organization.Create().SetName("Acme").SetSlug("acme").Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		as, userID := testenv.UserContext(t, db, org, enum.RoleAdmin)
		a, err := db.Client.Alert.Create().SetTitle("Beacon").SetSource("edr").SetSeverity(enum.SeverityHigh).
			SetEntities(nil).Save(as)
		if err != nil {
			t.Fatal(err)
		}
		inc, err := db.Client.Incident.Create().SetNumber(1).SetTitle("Intrusion").AddAlertIDs(a.ID).Save(as)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		for _, insert := range []string{
			`INSERT INTO dashboards (id, created_at, updated_at, name, organization_id, owner_id) VALUES ($1, $2, $2, 'SOC', $3, $4)`,
			`INSERT INTO saved_queries (id, created_at, updated_at, name, source, query, organization_id, owner_id) VALUES ($1, $2, $2, 'Crit', 'alerts', 'severity:critical', $3, $4)`,
			`INSERT INTO macros (id, created_at, updated_at, name, target, actions, organization_id) VALUES ($1, $2, $2, 'Close', 'alert', '[]', $3)`,
			`INSERT INTO triggers (id, created_at, updated_at, name, event, actions, organization_id) VALUES ($1, $2, $2, 'On new', 'alert.created', '[]', $3)`,
		} {
			args := []any{uuid.New(), now, org.ID}
			if strings.Contains(insert, "owner_id") {
				args = append(args, userID)
			}
			if _, err := db.SQL.ExecContext(ctx, insert, args...); err != nil {
				t.Fatalf("%s: %v", insert, err)
			}
		}

		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("migrate over the retired tables: %v", err)
		}

		got, err := db.Client.Alert.Get(as, a.ID)
		if err != nil || got.Title != "Beacon" || got.Severity != enum.SeverityHigh {
			t.Fatalf("alert after migrate: %+v, %v", got, err)
		}
		linked, err := db.Client.Incident.Get(as, inc.ID)
		if err != nil || linked.Title != "Intrusion" {
			t.Fatalf("incident after migrate: %+v, %v", linked, err)
		}
		if ids, err := linked.QueryAlerts().IDs(as); err != nil || len(ids) != 1 || ids[0] != a.ID {
			t.Errorf("incident's alerts after migrate: %v, %v", ids, err)
		}
		if u, err := db.Client.User.Get(sys, userID); err != nil || u.OrganizationID != org.ID {
			t.Errorf("user after migrate: %+v, %v", u, err)
		}
		// The server keeps writing: a new alert, counted by the live counts.
		if _, err := db.Client.Alert.Create().SetTitle("Second").SetSource("edr").SetSeverity(enum.SeverityLow).
			SetEntities(nil).Save(as); err != nil {
			t.Fatalf("create alert after migrate: %v", err)
		}
		var n int
		if err := db.SQL.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM `+storage.AlertCountsView+` WHERE organization_id = $1`, org.ID).Scan(&n); err != nil || n != 2 {
			t.Errorf("live alert count %d, %v; want 2", n, err)
		}
		for _, table := range retiredTables {
			var rows int
			if err := db.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&rows); err != nil || rows != 1 {
				t.Errorf("%s after migrate: %d rows, %v; want its row kept", table, rows, err)
			}
		}
	})
}

// stripComments drops the "--" comment lines of a statement.
func stripComments(stmt string) string {
	var b strings.Builder
	for line := range strings.Lines(stmt) {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	return strings.TrimSpace(b.String())
}
