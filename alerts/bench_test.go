package alerts_test

import (
	"context"
	"database/sql"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/testenv"
)

// benchAlerts is the queue size of BenchmarkQueue: SELIQ_BENCH_ALERTS,
// default 100,000 (BENCHMARKS.md's figures are taken at 1,000,000).
func benchAlerts(b *testing.B) int {
	n := 100_000
	if s := os.Getenv("SELIQ_BENCH_ALERTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("SELIQ_BENCH_ALERTS=%q is not a positive integer", s)
		}
		n = v
	}
	return n
}

// explainDriver records the SQL of every query so the benchmark can show
// PostgreSQL's plan for it (SELIQ_BENCH_EXPLAIN=1).
type explainDriver struct {
	dialect.Driver
	mu      sync.Mutex
	queries []capturedQuery
}

type capturedQuery struct {
	sql  string
	args []any
}

func (d *explainDriver) Query(ctx context.Context, query string, args, v any) error {
	d.mu.Lock()
	a, _ := args.([]any)
	d.queries = append(d.queries, capturedQuery{query, a})
	d.mu.Unlock()
	return d.Driver.Query(ctx, query, args, v)
}

func (d *explainDriver) take() []capturedQuery {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queries
	d.queries = nil
	return q
}

// BenchmarkQueue times the queue's read side over SELIQ_BENCH_ALERTS alerts
// of one organisation on each database (run with -bench Queue -benchtime 20x).
func BenchmarkQueue(b *testing.B) {
	n := benchAlerts(b)
	for _, d := range []testenv.Dialect{testenv.SQLite, testenv.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			db := testenv.Open(b, d)
			o := newQueueOrg(b, db, "bench")
			start := time.Now()
			r := mrand.New(mrand.NewPCG(13, 14))
			for done := 0; done < n; done += 50_000 {
				o.insert(b, db, randomSpecs(r, o, min(50_000, n-done)))
			}
			b.Logf("%s: inserted %d alerts in %v", d, n, time.Since(start).Round(time.Millisecond))
			// A settled database: autovacuum (PostgreSQL) or PRAGMA optimize
			// (SQLite) has gathered statistics and, on PostgreSQL, set the
			// visibility map that index-only counts rely on.
			settle := map[testenv.Dialect]string{testenv.Postgres: "VACUUM ANALYZE alerts", testenv.SQLite: "ANALYZE"}[d]
			if _, err := db.SQL.ExecContext(context.Background(), settle); err != nil {
				b.Fatal(err)
			}
			explain := d == testenv.Postgres && os.Getenv("SELIQ_BENCH_EXPLAIN") != ""
			client := db.Client
			var spy *explainDriver
			if explain {
				spy = &explainDriver{Driver: entsql.OpenDB(db.Dialect, db.SQL)}
				client = ent.NewClient(ent.Driver(spy))
			}
			svc := alerts.New(client, db.Dialect)
			filtered := &schematype.AlertFilter{
				Status:   []enum.AlertStatus{enum.AlertStatusNew, enum.AlertStatusAcknowledged},
				Severity: []enum.Severity{enum.SeverityCritical, enum.SeverityHigh},
			}
			statusNew := &schematype.AlertFilter{Status: []enum.AlertStatus{enum.AlertStatusNew}}
			page, err := svc.List(o.ctx, nil, paging.Page{First: pointer(50)}, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			list := func(f *schematype.AlertFilter, after *ent.Cursor, order *ent.AlertOrder) func() error {
				return func() error {
					_, err := svc.List(o.ctx, f, paging.Page{After: after, First: pointer(50)}, order, nil)
					return err
				}
			}
			for _, bc := range []struct {
				name string
				run  func() error
			}{
				{"list/first_page", list(nil, nil, nil)},
				{"list/second_page", list(nil, page.PageInfo.EndCursor, nil)},
				{"list/by_severity", list(nil, nil, &ent.AlertOrder{Direction: paging.Desc, Field: ent.AlertOrderFieldSeverityRank})},
				{"list/status_severity", list(filtered, nil, nil)},
				{"list/three_filters_sorted", list(&schematype.AlertFilter{
					Status: filtered.Status, Severity: filtered.Severity, Source: []string{"src00", "src01", "src02"},
				}, nil, &ent.AlertOrder{Direction: paging.Desc, Field: ent.AlertOrderFieldSeverityRank})},
				{"list/tag", list(&schematype.AlertFilter{Tag: []string{"tag03", "tag40"}}, nil, nil)},
				{"list/entity", list(&schematype.AlertFilter{Entity: pointer("evil.example")}, nil, nil)},
				{"list/q", list(&schematype.AlertFilter{Q: pointer("ransom")}, nil, nil)},
				{"facets/none", func() error {
					_, err := svc.Facets(o.ctx, nil)
					return err
				}},
				{"facets/status_severity", func() error {
					_, err := svc.Facets(o.ctx, filtered)
					return err
				}},
				// The two facet paths side by side (PostgreSQL answers
				// Facets with the first; SQLite only has the second).
				{"facets/none/one_pass", facetsPath(d, svc.FacetsOnePass, o.ctx, nil)},
				{"facets/none/per_field", facetsPath(d, svc.FacetsPerField, o.ctx, nil)},
				{"facets/status_new/one_pass", facetsPath(d, svc.FacetsOnePass, o.ctx, statusNew)},
				{"facets/status_new/per_field", facetsPath(d, svc.FacetsPerField, o.ctx, statusNew)},
			} {
				b.Run(bc.name, func(b *testing.B) {
					for b.Loop() {
						if err := bc.run(); err != nil {
							b.Fatal(err)
						}
					}
				})
				if explain {
					logPlans(b, db.SQL, bc.name, spy.take())
				}
			}
		})
	}
}

// logPlans prints EXPLAIN (ANALYZE, BUFFERS) of each distinct query a case
// ran, so the indexes each one uses can be read off the benchmark log.
// facetsPath runs one facet path; the grouped one exists on PostgreSQL only.
func facetsPath(d testenv.Dialect, path func(context.Context, *schematype.AlertFilter) (*alerts.AlertFacets, error),
	ctx context.Context, f *schematype.AlertFilter,
) func() error {
	return func() error {
		if d != testenv.Postgres {
			return nil
		}
		_, err := path(ctx, f)
		return err
	}
}

func logPlans(b *testing.B, db *sql.DB, name string, qs []capturedQuery) {
	seen := map[string]bool{}
	for _, q := range qs {
		if seen[q.sql] {
			continue
		}
		seen[q.sql] = true
		rows, err := db.QueryContext(context.Background(), "EXPLAIN (ANALYZE, BUFFERS) "+q.sql, q.args...)
		if err != nil {
			b.Fatalf("explain %s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				b.Fatal(err)
			}
			plan = append(plan, line)
		}
		_ = rows.Close()
		b.Logf("%s\n%s\n%s", name, q.sql, strings.Join(plan, "\n"))
	}
}

// BenchmarkFacetsCounters times the facets from the alert counters against
// the exact facets over SELIQ_BENCH_ALERTS alerts of one organisation on
// PostgreSQL (run with -bench FacetsCounters -benchtime 20x). The alerts
// are written by one INSERT … SELECT, through the counters' triggers.
func BenchmarkFacetsCounters(b *testing.B) {
	n := benchAlerts(b)
	db := testenv.Open(b, testenv.Postgres)
	o := newQueueOrg(b, db, "counters")
	ctx := context.Background()
	start := time.Now()
	if _, err := db.SQL.ExecContext(ctx, generatedAlerts(o), n); err != nil {
		b.Fatal(err)
	}
	b.Logf("inserted %d alerts in %v", n, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if err := db.CompactAlertCounts(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("compacted in %v", time.Since(start).Round(time.Millisecond))
	for _, q := range []string{"VACUUM ANALYZE alerts", "VACUUM ANALYZE alert_counts", "VACUUM ANALYZE alert_tag_counts"} {
		if _, err := db.SQL.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	svc := alerts.New(db.Client, db.Dialect)
	filters := []struct {
		name   string
		filter *schematype.AlertFilter
	}{
		{"none", nil},
		{"status_new", &schematype.AlertFilter{Status: []enum.AlertStatus{enum.AlertStatusNew}}},
		{"status_severity", &schematype.AlertFilter{
			Status:   []enum.AlertStatus{enum.AlertStatusNew, enum.AlertStatusAcknowledged},
			Severity: []enum.Severity{enum.SeverityCritical, enum.SeverityHigh},
		}},
	}
	paths := []struct {
		name string
		run  func(context.Context, *schematype.AlertFilter) (*alerts.AlertFacets, error)
	}{{"counters", svc.FacetsFromCounters}, {"exact", svc.FacetsExact}}
	for _, f := range filters {
		for _, p := range paths {
			b.Run(f.name+"/"+p.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := p.run(o.ctx, f.filter); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// generatedAlerts is an INSERT of $1 alerts of o spread like a queue's:
// 40% new, five severities, eight sources, o's connectors and users or
// none, up to ten tags each.
func generatedAlerts(o *queueOrg) string {
	ids := func(n int, id func(i int) uuid.UUID) string {
		var quoted []string
		for i := range n {
			quoted = append(quoted, "'"+id(i).String()+"'")
		}
		return "ARRAY[" + strings.Join(quoted, ", ") + "]::uuid[]"
	}
	connectors := ids(len(o.connectors), func(i int) uuid.UUID { return o.connectors[i].ID })
	users := ids(len(o.users), func(i int) uuid.UUID { return o.users[i].ID })
	return `INSERT INTO alerts (id, created_at, updated_at, source, external_id, title, description, severity,
		severity_rank, status, tags, fingerprint, occurrences, first_seen_at, last_seen_at, ingested_at,
		organization_id, connector_id, assignee_id)
	SELECT gen_random_uuid(), now(), now(), 'src' || r.src, '', 'alert ' || i, '',
		(ARRAY['info', 'low', 'medium', 'high', 'critical'])[r.sev], r.sev,
		CASE WHEN r.st < 0.4 THEN 'new' WHEN r.st < 0.5 THEN 'acknowledged' WHEN r.st < 0.58 THEN 'in_progress'
			WHEN r.st < 0.75 THEN 'resolved' ELSE 'closed' END,
		(SELECT coalesce(jsonb_agg(t), '[]') FROM unnest(ARRAY['prod', 'pci', 'vip', 'network', 'identity',
			'cloud', 'malware', 'phishing', 'lateral-movement', 'exfiltration']) AS t WHERE random() < 0.2 + 0 * i),
		'', 1, now(), now(), now(), '` + o.org.ID.String() + `',
		(` + connectors + `)[r.con], (` + users + `)[r.usr]
	FROM generate_series(1, $1) AS i, LATERAL (SELECT 1 + floor(random() * 5)::int AS sev, random() AS st,
		floor(random() * 8)::int AS src, 1 + floor(random() * 4)::int AS con, 1 + floor(random() * 4)::int AS usr
		WHERE i > 0) AS r`
}
