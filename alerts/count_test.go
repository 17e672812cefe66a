package alerts_test

import (
	"context"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// A dear count is skipped on PostgreSQL when the planner expects far more
// than CountCap matches in the acting organisation, and run otherwise: the
// estimate is of the tenant's rows (another organisation's many matches do
// not make a small tenant's count a guess), and SQLite always counts.
func TestFilteredTotalTrustsOnlyTheTenantsEstimate(t *testing.T) {
	const many = 3*alerts.CountCap + 5_000
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		small := newQueueOrg(t, db, "small")
		big := newQueueOrg(t, db, "big")
		tagged := func(n int) []alertSpec {
			specs := make([]alertSpec, n)
			for i := range specs {
				specs[i] = alertSpec{tags: []string{"bulk"}}
			}
			return specs
		}
		small.insert(t, db, tagged(40))
		big.insert(t, db, tagged(many))
		if db.Dialect == dialect.Postgres {
			if _, err := db.SQL.Exec(`ANALYZE alerts`); err != nil {
				t.Fatal(err)
			}
		}
		var queries atomic.Int64
		counted := ent.NewClient(ent.Driver(dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL),
			func(context.Context, ...any) { queries.Add(1) })))
		svc := alerts.New(counted, db.Dialect)
		filter := &schematype.AlertFilter{Tag: []string{"bulk"}}

		cases := []struct {
			name  string
			ctx   context.Context
			total int
			// on PostgreSQL: the EXPLAIN (its statement is built without
			// running one), then the count unless it was skipped; warm,
			// the estimate is reused and only the count runs.
			pgCold, pgWarm int64
		}{
			{"small tenant counts", small.ctx, 40, 2, 1},
			{"big tenant skips the count", big.ctx, alerts.CountCap, 1, 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				for run, want := range []int64{tc.pgCold, tc.pgWarm} {
					queries.Store(0)
					n, err := svc.FilteredTotal(tc.ctx, filter)
					if err != nil {
						t.Fatal(err)
					}
					if n != tc.total {
						t.Errorf("run %d: total %d, want %d", run, n, tc.total)
					}
					if db.Dialect != dialect.Postgres {
						want = 1 // the bounded count alone
					}
					if got := queries.Load(); got != want {
						t.Errorf("run %d: %d queries, want %d", run, got, want)
					}
				}
			})
		}
	})
}

func TestPlannedRows(t *testing.T) {
	cases := []struct {
		name, plan string
		rows       float64
		ok         bool
	}{
		{"count plan", `[{"Plan": {"Node Type": "Aggregate", "Plan Rows": 41571, "Plans": [{"Plan Rows": 9}]}}]`, 41571, true},
		{"fractional", `[{"Plan": {"Plan Rows": 0.5}}]`, 0.5, true},
		{"no estimate", `[{"Plan": {"Node Type": "Result"}}]`, 0, false},
		{"two plans", `[{"Plan": {"Plan Rows": 1}}, {"Plan": {"Plan Rows": 2}}]`, 0, false},
		{"not JSON", `Seq Scan on alerts`, 0, false},
		{"empty", `[]`, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := alerts.PlannedRows([]byte(tc.plan))
			if (err == nil) != tc.ok || rows != tc.rows {
				t.Errorf("rows %v, err %v; want %v, ok %v", rows, err, tc.rows, tc.ok)
			}
		})
	}
}
