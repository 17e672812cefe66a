package alerts_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/ent/rule"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/ingest"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/opt"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// countedFilters are filters the counters answer, over every kind of key
// field: none, one, two together, an assignee, unassigned, both.
func countedFilters(o *queueOrg) []*schematype.AlertFilter {
	return []*schematype.AlertFilter{
		nil,
		{Status: []enum.AlertStatus{enum.AlertStatusNew}},
		{Severity: []enum.Severity{enum.SeverityHigh, enum.SeverityCritical}, Source: []string{"edr", "mail"}},
		{AssigneeID: []uuid.UUID{o.users[0].ID}},
		{Unassigned: pointer(true)},
		{AssigneeID: []uuid.UUID{o.users[1].ID}, Unassigned: pointer(true), Status: []enum.AlertStatus{enum.AlertStatusNew, enum.AlertStatusAcknowledged}},
		{ConnectorID: []uuid.UUID{o.connectors[0].ID}, Unassigned: pointer(false)},
	}
}

// checkCountersMatch compares the counters' facets with the exact path's
// for every counted filter.
func checkCountersMatch(t *testing.T, svc *alerts.Service, o *queueOrg, when string) {
	t.Helper()
	for _, f := range countedFilters(o) {
		got, err := svc.FacetsFromCounters(o.ctx, f)
		if err != nil {
			t.Fatalf("%s: counters %s: %v", when, describeFilter(f), err)
		}
		want, err := svc.FacetsExact(o.ctx, f)
		if err != nil {
			t.Fatalf("%s: exact %s: %v", when, describeFilter(f), err)
		}
		for _, ref := range facetRefs {
			if g, w := flattenFacet(ref.got(got)), flattenFacet(ref.got(want)); !slices.Equal(g, w) {
				t.Fatalf("%s: filter %s, facet %s:\n counters %v\n exact    %v", when, describeFilter(f), ref.name, g, w)
			}
		}
	}
}

// counterWorld is one organisation's alerts being written by every path
// that changes a counted field.
type counterWorld struct {
	db        *storage.DB
	o         *queueOrg
	ingest    *ingest.Service
	incidents *incidents.Service
}

var (
	counterTitles  = []string{"beacon", "phish", "exfil", "scan", "ransom", "lateral"}
	counterSources = []string{"edr", "mail", "proxy", "cloud"}
	counterTags    = []string{"prod", "pci", "vip", "network", "identity"}
)

// payload is a generic-connector batch of n alerts drawn from few titles,
// so that many are repeats of open alerts and merge.
func (w *counterWorld) payload(r *mrand.Rand, n int) []byte {
	items := make([]map[string]any, n)
	for i := range items {
		var tags []string
		for _, tag := range counterTags {
			if r.IntN(3) == 0 {
				tags = append(tags, tag)
			}
		}
		items[i] = map[string]any{
			"title":    counterTitles[r.IntN(len(counterTitles))],
			"source":   counterSources[r.IntN(len(counterSources))],
			"severity": enum.Severity("").Values()[r.IntN(5)],
			"tags":     tags,
		}
	}
	b, err := json.Marshal(items)
	if err != nil {
		panic(err)
	}
	return b
}

func (w *counterWorld) ids(t *testing.T) []uuid.UUID {
	t.Helper()
	ids, err := w.db.Client.Alert.Query().Order(alert.ByID()).IDs(w.o.ctx)
	if err != nil {
		t.Fatalf("alert ids: %v", err)
	}
	return ids
}

// some picks up to n of the organisation's alerts.
func (w *counterWorld) some(t *testing.T, r *mrand.Rand, n int) []uuid.UUID {
	ids := w.ids(t)
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids[:min(n, len(ids))]
}

// allowRefusal passes the refusals of the triage rules (a forbidden
// transition, closing without a disposition), which random steps make, and
// reports whether the write went through.
func allowRefusal(t *testing.T, what string, err error) bool {
	t.Helper()
	if _, ok := apperr.As(err); err != nil && !ok {
		t.Fatalf("%s: %v", what, err)
	}
	return err == nil
}

func (w *counterWorld) randomStatus(r *mrand.Rand) (*enum.AlertStatus, opt.Value[*enum.Disposition]) {
	s := enum.AlertStatus(enum.AlertStatus("").Values()[r.IntN(5)])
	var d opt.Value[*enum.Disposition]
	if s == enum.AlertStatusClosed {
		d = opt.Of(pointer(enum.DispositionBenign))
	}
	return &s, d
}

func (w *counterWorld) randomAssignee(r *mrand.Rand) opt.Value[*uuid.UUID] {
	if r.IntN(3) == 0 {
		return opt.Of[*uuid.UUID](nil)
	}
	return opt.Of(&w.o.users[r.IntN(len(w.o.users))].ID)
}

// counterSteps are the writes of the property test, each through the
// service that performs it in production.
var counterSteps = []struct {
	name string
	// run reports whether the step wrote (rather than being refused).
	run func(t *testing.T, w *counterWorld, r *mrand.Rand) bool
}{
	{"ingest", func(t *testing.T, w *counterWorld, r *mrand.Rand) bool {
		c := w.o.connectors[r.IntN(len(w.o.connectors))]
		if _, err := w.ingest.Ingest(w.o.ctx, c, w.payload(r, 1+r.IntN(8))); err != nil {
			t.Fatalf("ingest: %v", err)
		}
		return true
	}},
	{"update", func(t *testing.T, w *counterWorld, r *mrand.Rand) bool {
		wrote := false
		for _, id := range w.some(t, r, 3) {
			var in alerts.UpdateAlertInput
			switch r.IntN(4) {
			case 0:
				in.Status, in.Disposition = w.randomStatus(r)
			case 1:
				in.Severity = pointer(enum.Severity(enum.Severity("").Values()[r.IntN(5)]))
			case 2:
				in.AssigneeID = w.randomAssignee(r)
			default:
				in.Tags = []string{counterTags[r.IntN(len(counterTags))]}
			}
			_, err := alerts.New(w.db.Client, w.db.Dialect).Update(w.o.ctx, id, in)
			wrote = allowRefusal(t, "update", err) || wrote
		}
		return wrote
	}},
	{"bulk", func(t *testing.T, w *counterWorld, r *mrand.Rand) bool {
		in := alerts.BulkAlertsInput{AlertIDs: w.some(t, r, 1+r.IntN(10)), Changes: &alerts.BulkAlertChanges{}}
		if r.IntN(3) == 0 {
			in.AlertIDs, in.Filter = nil, &schematype.AlertFilter{Source: []string{counterSources[r.IntN(len(counterSources))]}}
		}
		switch r.IntN(4) {
		case 0:
			in.Action = enum.BulkAlertActionClose
			in.Changes.Disposition = pointer(enum.DispositionFalsePositive)
		case 1:
			in.Action = enum.BulkAlertActionAssign
			in.Changes.AssigneeID = w.randomAssignee(r)
		case 2:
			in.Action = enum.BulkAlertActionUpdate
			in.Changes.Severity = pointer(enum.SeverityLow)
			in.Changes.AddTags, in.Changes.RemoveTags = []string{"bulk"}, []string{counterTags[r.IntN(len(counterTags))]}
		default:
			in.Action = enum.BulkAlertActionUpdate
			in.Changes.Status, _ = w.randomStatus(r)
		}
		if len(in.AlertIDs) == 0 && in.Filter == nil {
			return false
		}
		_, err := alerts.New(w.db.Client, w.db.Dialect).Bulk(w.o.ctx, in)
		return allowRefusal(t, "bulk", err)
	}},
	{"link incident", func(t *testing.T, w *counterWorld, r *mrand.Rand) bool {
		if ids := w.some(t, r, 4); len(ids) > 0 {
			_, err := w.incidents.LinkAlerts(w.o.ctx, w.o.incident.ID, incidents.LinkAlertsInput{AlertIDs: ids})
			return allowRefusal(t, "link", err)
		}
		return false
	}},
	{"delete", func(t *testing.T, w *counterWorld, r *mrand.Rand) bool {
		n, err := w.db.Client.Alert.Delete().Where(alert.IDIn(w.some(t, r, 2)...)).Exec(w.o.ctx)
		if err != nil {
			t.Fatalf("delete: %v", err)
		}
		return n > 0
	}},
	{"retention", func(t *testing.T, w *counterWorld, r *mrand.Rand) bool {
		source := counterSources[r.IntN(len(counterSources))]
		n, err := w.db.Client.Alert.Delete().Where(alert.StatusEQ(enum.AlertStatusClosed), alert.Source(source)).Exec(w.o.ctx)
		if err != nil {
			t.Fatalf("delete closed: %v", err)
		}
		return n > 0
	}},
}

// TestCountersFollowEveryWrite runs random writes through the real services
// and, after each, compares the counters' facets with the exact ones. On
// PostgreSQL the deltas are folded at random points, so reads see counters
// with and without pending deltas.
func TestCountersFollowEveryWrite(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newQueueOrg(t, db, "counted")
		w := &counterWorld{db: db, o: o, ingest: ingest.New(db, ingest.Options{}), incidents: incidents.New(db.Client)}
		svc := alerts.New(db.Client, db.Dialect)
		r := mrand.New(mrand.NewPCG(31, 32))
		wrote := map[string]int{}
		for i := range 120 {
			step := counterSteps[r.IntN(len(counterSteps))]
			if i < 10 || r.IntN(3) == 0 {
				step = counterSteps[0] // alerts first, and enough of them
			}
			if step.run(t, w, r) {
				wrote[step.name]++
			}
			if r.IntN(3) == 0 {
				if err := db.CompactAlertCounts(context.Background()); err != nil {
					t.Fatalf("compact: %v", err)
				}
			}
			checkCountersMatch(t, svc, o, fmt.Sprintf("step %d (%s)", i, step.name))
		}
		for _, step := range counterSteps {
			if wrote[step.name] == 0 {
				t.Errorf("step %s never wrote; the sequence does not exercise it", step.name)
			}
		}
		if n := len(w.ids(t)); n < 20 {
			t.Errorf("%d alerts left; the comparison is too easy", n)
		}
		// A connector's deletion sets its alerts' connector to NULL by
		// foreign key, a write no Go code performs.
		sys := auth.System(context.Background())
		if err := db.Client.Connector.DeleteOneID(o.connectors[0].ID).Exec(sys); err != nil {
			t.Fatalf("delete connector: %v", err)
		}
		checkCountersMatch(t, svc, o, "connector deleted")
		if err := db.CompactAlertCounts(context.Background()); err != nil {
			t.Fatalf("compact: %v", err)
		}
		checkCountersMatch(t, svc, o, "compacted")
	})
}

// TestCountersUnderConcurrentWriters ingests and triages from several
// goroutines while two compactors (two replicas) fold deltas, then
// compares.
func TestCountersUnderConcurrentWriters(t *testing.T) {
	db := testenv.Open(t, testenv.Postgres)
	replica := testenv.Replica(t, db)
	o := newQueueOrg(t, db, "concurrent")
	w := &counterWorld{db: db, o: o, ingest: ingest.New(db, ingest.Options{}), incidents: incidents.New(db.Client)}
	svc := alerts.New(db.Client, db.Dialect)
	ctx, stop := context.WithCancel(context.Background())
	var compactors sync.WaitGroup
	for _, d := range []*storage.DB{db, replica} {
		compactors.Go(func() {
			for ctx.Err() == nil {
				if err := d.CompactAlertCounts(ctx); err != nil && ctx.Err() == nil {
					t.Errorf("compact: %v", err)
				}
			}
		})
	}
	var writers sync.WaitGroup
	for g := range 6 {
		writers.Go(func() {
			r := mrand.New(mrand.NewPCG(41, uint64(g)))
			for range 25 {
				c := o.connectors[r.IntN(len(o.connectors))]
				if _, err := w.ingest.Ingest(o.ctx, c, w.payload(r, 1+r.IntN(20))); err != nil {
					t.Errorf("ingest: %v", err)
					return
				}
				if g%2 == 0 {
					ids, err := db.Client.Alert.Query().Limit(5).IDs(o.ctx)
					if err != nil {
						t.Errorf("ids: %v", err)
						return
					}
					for _, id := range ids {
						_, err := alerts.New(db.Client, db.Dialect).Update(o.ctx, id, alerts.UpdateAlertInput{AssigneeID: w.randomAssignee(r)})
						if err != nil {
							t.Errorf("update: %v", err)
							return
						}
					}
				}
			}
		})
	}
	writers.Wait()
	checkCountersMatch(t, svc, o, "writers done")
	stop()
	compactors.Wait()
	if err := db.CompactAlertCounts(context.Background()); err != nil {
		t.Fatalf("compact: %v", err)
	}
	checkCountersMatch(t, svc, o, "all compacted")
}

// dropCounters returns db to its state before the counters existed.
func dropCounters(t *testing.T, db *storage.DB) {
	t.Helper()
	stmts := []string{
		"DROP VIEW alert_counts_live", "DROP VIEW alert_tag_counts_live",
		"DROP TABLE alert_counts", "DROP TABLE alert_tag_counts",
	}
	for _, tr := range []string{"alert_counts_insert", "alert_counts_update", "alert_counts_delete"} {
		if db.Dialect == "postgres" {
			stmts = append(stmts, "DROP TRIGGER "+tr+" ON alerts", "DROP FUNCTION "+tr)
		} else {
			stmts = append(stmts, "DROP TRIGGER "+tr)
		}
	}
	if db.Dialect == "postgres" {
		stmts = append(stmts, "DROP TABLE alert_count_deltas", "DROP TABLE alert_tag_count_deltas")
	}
	for _, q := range stmts {
		if _, err := db.SQL.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestCountersBackfillOnUpgrade: alerts written before the counters
// existed are counted once the migration creates them, and migrating again
// counts nothing twice.
func TestCountersBackfillOnUpgrade(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newQueueOrg(t, db, "upgrade")
		r := mrand.New(mrand.NewPCG(51, 52))
		o.insert(t, db, randomSpecs(r, o, 150))
		dropCounters(t, db)
		o.insert(t, db, randomSpecs(r, o, 150)) // never seen by a trigger
		svc := alerts.New(db.Client, db.Dialect)
		for i := range 2 {
			if err := db.Migrate(context.Background()); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			checkCountersMatch(t, svc, o, fmt.Sprintf("migration %d", i+1))
		}
		got, err := svc.FacetsFromCounters(o.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n := sumCounts(got.Status); n != 300 {
			t.Errorf("counters hold %d alerts, want 300", n)
		}
	})
}

// addPhantom gives the counters alerts that do not exist, so that which
// path answered shows in the result.
func addPhantom(t *testing.T, db *storage.DB, org uuid.UUID) {
	t.Helper()
	q := "INSERT INTO alert_counts (organization_id, status, severity, source, n) VALUES (?, 'new', 'low', 'phantom', 7)"
	if db.Dialect == "postgres" {
		q = "INSERT INTO alert_counts (organization_id, status, severity, source, n) VALUES ($1, 'new', 'low', 'phantom', 7)"
	}
	if _, err := db.SQL.ExecContext(context.Background(), q, org); err != nil {
		t.Fatalf("add phantom counts: %v", err)
	}
}

// TestFacetsChooseTheirPath: a filter on the counters' keys alone is
// answered from the counters, any other field from the alerts.
func TestFacetsChooseTheirPath(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newQueueOrg(t, db, "paths")
		o.insert(t, db, randomSpecs(mrand.New(mrand.NewPCG(61, 62)), o, 50))
		addPhantom(t, db, o.org.ID)
		svc := alerts.New(db.Client, db.Dialect)
		early := queueBase.Add(-24 * time.Hour)
		tests := []struct {
			filter   *schematype.AlertFilter
			counters bool
		}{
			{nil, true},
			{&schematype.AlertFilter{Status: []enum.AlertStatus{enum.AlertStatusNew}, Severity: []enum.Severity{enum.SeverityLow}}, true},
			{&schematype.AlertFilter{Unassigned: pointer(true)}, true},
			{&schematype.AlertFilter{Since: &early}, false},
			{&schematype.AlertFilter{Tag: []string{"tag00"}}, false},
			{&schematype.AlertFilter{Entity: pointer("alice")}, false},
			{&schematype.AlertFilter{Q: pointer("a")}, false},
			{&schematype.AlertFilter{IncidentID: &o.incident.ID, Status: []enum.AlertStatus{enum.AlertStatusNew}}, false},
			{&schematype.AlertFilter{Tag: []string{}}, false}, // not the zero filter: exact, which is also correct
		}
		for _, tt := range tests {
			got, err := svc.Facets(o.ctx, tt.filter)
			if err != nil {
				t.Fatalf("%s: %v", describeFilter(tt.filter), err)
			}
			phantom := slices.Contains(flattenFacet(got.Source), "phantom=7")
			if phantom != tt.counters {
				t.Errorf("%s: answered from the counters %v, want %v (sources %v)", describeFilter(tt.filter), phantom, tt.counters, flattenFacet(got.Source))
			}
		}
	})
}

// TestCountersTenancy: an organisation's counters never include another's
// alerts, and without a viewer nothing is counted.
func TestCountersTenancy(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		r := mrand.New(mrand.NewPCG(71, 72))
		a, b := newQueueOrg(t, db, "tenant-a"), newQueueOrg(t, db, "tenant-b")
		a.insert(t, db, randomSpecs(r, a, 80))
		specs := randomSpecs(r, b, 120)
		for i := range specs {
			specs[i].source, specs[i].tags = "only-b", []string{"b-tag"}
		}
		b.insert(t, db, specs)
		svc := alerts.New(db.Client, db.Dialect)
		for _, o := range []*queueOrg{a, b} {
			checkCountersMatch(t, svc, o, o.org.Slug)
		}
		got, err := svc.FacetsFromCounters(a.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n := sumCounts(got.Status); n != 80 {
			t.Errorf("organisation a counts %d alerts, want its 80", n)
		}
		for _, v := range slices.Concat(flattenFacet(got.Source), flattenFacet(got.Tags)) {
			if v == "only-b=120" || v == "b-tag=120" {
				t.Errorf("organisation a sees b's %s", v)
			}
		}
		for _, ctx := range []context.Context{context.Background(), privacy.DecisionContext(context.Background(), privacy.Allow)} {
			if _, err := svc.FacetsFromCounters(ctx, nil); !errors.Is(err, rule.ErrNoViewer) {
				t.Errorf("counters without a viewer: %v, want %v", err, rule.ErrNoViewer)
			}
		}
		if _, err := svc.Facets(context.Background(), nil); err == nil {
			t.Error("facets without a viewer must be refused")
		}
	})
}
