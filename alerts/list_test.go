package alerts_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/internal/paging"

	"github.com/google/uuid"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// queueOrg is one organisation with the people, connectors and incident its
// alerts can point at, and a viewer context acting in it.
type queueOrg struct {
	ctx        context.Context
	org        *ent.Organization
	users      []*ent.User
	connectors []*ent.Connector
	incident   *ent.Incident
}

func newQueueOrg(t testing.TB, db *storage.DB, slug string) *queueOrg {
	t.Helper()
	o := &queueOrg{org: testenv.Org(t, db, testenv.Slug(slug))}
	for i := range 3 {
		o.users = append(o.users, testenv.User(t, db, o.org, enum.RoleAdmin, testenv.Handle(fmt.Sprintf("u%d", i))))
		c, _ := testenv.Connector(t, db, o.org, "generic", func(c *ent.ConnectorCreate) { c.SetName(fmt.Sprintf("c%d", i)) })
		o.connectors = append(o.connectors, c)
	}
	o.ctx = testenv.As(o.users[0], o.org)
	var err error
	if o.incident, err = db.Client.Incident.Create().SetNumber(1).SetTitle("incident").Save(o.ctx); err != nil {
		t.Fatalf("create incident: %v", err)
	}
	return o
}

// alertSpec is what a test says about an alert; unset fields get defaults.
type alertSpec struct {
	title, description, source string
	status                     enum.AlertStatus
	severity                   enum.Severity
	connector, assignee        *uuid.UUID
	incident                   *uuid.UUID
	tags                       []string
	nullTags                   bool // store tags as JSON null rather than SQL NULL
	entities                   []schematype.Entity
	lastSeen, firstSeen        time.Time
	created, updated           time.Time
	occurrences                int
}

var queueBase = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func (o *queueOrg) builder(db *storage.DB, s alertSpec) *ent.AlertCreate {
	orDefault := func(v, d string) string { return cmp.Or(v, d) }
	orTime := func(v time.Time) time.Time {
		if v.IsZero() {
			return queueBase
		}
		return v.UTC()
	}
	b := db.Client.Alert.Create().
		SetTitle(orDefault(s.title, "alert")).SetDescription(s.description).
		SetSource(orDefault(s.source, "generic")).
		SetStatus(enum.AlertStatus(orDefault(string(s.status), string(enum.AlertStatusNew)))).
		SetSeverity(enum.Severity(orDefault(string(s.severity), string(enum.SeverityMedium)))).
		SetNillableConnectorID(s.connector).SetNillableAssigneeID(s.assignee).SetNillableIncidentID(s.incident).
		SetLastSeenAt(orTime(s.lastSeen)).SetFirstSeenAt(orTime(s.firstSeen)).
		SetCreatedAt(orTime(s.created)).SetUpdatedAt(orTime(s.updated)).
		SetOccurrences(max(s.occurrences, 1))
	if s.tags != nil || s.nullTags {
		b.SetTags(s.tags)
	}
	if s.entities != nil {
		b.SetEntities(s.entities)
	}
	return b
}

// seed creates the alerts and returns them as stored, re-read so that
// values carry the database's precision.
func (o *queueOrg) seed(t testing.TB, db *storage.DB, specs []alertSpec) []*ent.Alert {
	t.Helper()
	o.insert(t, db, specs)
	all, err := db.Client.Alert.Query().All(o.ctx)
	if err != nil {
		t.Fatalf("read back alerts: %v", err)
	}
	return all
}

// insert creates the alerts with bulk inserts in chunks small enough for
// either database's limit on bound parameters.
func (o *queueOrg) insert(t testing.TB, db *storage.DB, specs []alertSpec) {
	t.Helper()
	const chunk = 500
	for start := 0; start < len(specs); start += chunk {
		end := min(start+chunk, len(specs))
		builders := make([]*ent.AlertCreate, 0, end-start)
		for _, s := range specs[start:end] {
			builders = append(builders, o.builder(db, s))
		}
		if err := db.Client.Alert.CreateBulk(builders...).Exec(o.ctx); err != nil {
			t.Fatalf("seed alerts: %v", err)
		}
	}
}

func pointer[T any](v T) *T { return &v }

// roundTrip passes a cursor through its GraphQL encoding, as a client would.
func roundTrip(t *testing.T, c *ent.Cursor) *ent.Cursor {
	t.Helper()
	if c == nil {
		return nil
	}
	var buf bytes.Buffer
	c.MarshalGQL(&buf)
	var out ent.Cursor
	if err := out.UnmarshalGQL(strings.Trim(buf.String(), `"`)); err != nil {
		t.Fatalf("decode cursor: %v", err)
	}
	return &out
}

// orderCase is one order field with the value it sorts by in Go.
type orderCase struct {
	name  string
	field *ent.AlertOrderField
	less  func(a, b *ent.Alert) int
}

var orderCases = []orderCase{
	{"CREATED_AT", ent.AlertOrderFieldCreatedAt, func(a, b *ent.Alert) int { return a.CreatedAt.Compare(b.CreatedAt) }},
	{"UPDATED_AT", ent.AlertOrderFieldUpdatedAt, func(a, b *ent.Alert) int { return a.UpdatedAt.Compare(b.UpdatedAt) }},
	{"TITLE", ent.AlertOrderFieldTitle, func(a, b *ent.Alert) int { return strings.Compare(a.Title, b.Title) }},
	{"SEVERITY", ent.AlertOrderFieldSeverityRank, func(a, b *ent.Alert) int { return cmp.Compare(a.Severity.Rank(), b.Severity.Rank()) }},
	{"OCCURRENCES", ent.AlertOrderFieldOccurrences, func(a, b *ent.Alert) int { return cmp.Compare(a.Occurrences, b.Occurrences) }},
	{"FIRST_SEEN_AT", ent.AlertOrderFieldFirstSeenAt, func(a, b *ent.Alert) int { return a.FirstSeenAt.Compare(b.FirstSeenAt) }},
	{"LAST_SEEN_AT", ent.AlertOrderFieldLastSeenAt, func(a, b *ent.Alert) int { return a.LastSeenAt.Compare(b.LastSeenAt) }},
}

// sortedIDs orders alerts as the database must: by the field, ties by id,
// both in the same direction.
func sortedIDs(as []*ent.Alert, less func(a, b *ent.Alert) int, dir ent.OrderDirection) []uuid.UUID {
	sorted := slices.Clone(as)
	slices.SortFunc(sorted, func(a, b *ent.Alert) int {
		c := cmp.Or(less(a, b), bytes.Compare(a.ID[:], b.ID[:]))
		if dir == paging.Desc {
			return -c
		}
		return c
	})
	ids := make([]uuid.UUID, len(sorted))
	for i, a := range sorted {
		ids[i] = a.ID
	}
	return ids
}

// pageForward walks all pages with first/after and returns the ids seen.
func pageForward(t *testing.T, svc *alerts.Service, ctx context.Context, f *schematype.AlertFilter, order *ent.AlertOrder, size int) ([]uuid.UUID, int) {
	t.Helper()
	var (
		ids   []uuid.UUID
		after *ent.Cursor
		total = -1
	)
	for range 1000 {
		conn, err := svc.List(ctx, f, paging.Page{After: after, First: &size}, order, nil)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		if total >= 0 && conn.TotalCount != total {
			t.Fatalf("totalCount changed between pages: %d then %d", total, conn.TotalCount)
		}
		total = conn.TotalCount
		for _, e := range conn.Edges {
			ids = append(ids, e.Node.ID)
		}
		if !conn.PageInfo.HasNextPage {
			return ids, total
		}
		after = roundTrip(t, conn.PageInfo.EndCursor)
	}
	t.Fatal("paging did not terminate")
	return nil, 0
}

// pageBackward walks all pages with last/before from the end and returns
// the ids in list order.
func pageBackward(t *testing.T, svc *alerts.Service, ctx context.Context, order *ent.AlertOrder, size int) []uuid.UUID {
	t.Helper()
	var (
		ids    []uuid.UUID
		before *ent.Cursor
	)
	for range 1000 {
		conn, err := svc.List(ctx, nil, paging.Page{Before: before, Last: &size}, order, nil)
		if err != nil {
			t.Fatalf("list backwards: %v", err)
		}
		page := make([]uuid.UUID, len(conn.Edges))
		for i, e := range conn.Edges {
			page[i] = e.Node.ID
		}
		ids = append(page, ids...)
		if !conn.PageInfo.HasPreviousPage {
			return ids
		}
		before = roundTrip(t, conn.PageInfo.StartCursor)
	}
	t.Fatal("paging did not terminate")
	return nil
}

// pagingSpecs makes n alerts whose order values collide often, so that the
// id tie-break decides many positions.
func pagingSpecs(r *mrand.Rand, n int) []alertSpec {
	severities := enum.Severity("").Values()
	at := func() time.Time { return queueBase.Add(time.Duration(r.IntN(40)) * time.Minute) }
	specs := make([]alertSpec, n)
	for i := range specs {
		specs[i] = alertSpec{
			title:       fmt.Sprintf("t%02d", r.IntN(30)),
			severity:    enum.Severity(severities[r.IntN(len(severities))]),
			occurrences: 1 + r.IntN(10),
			lastSeen:    at(), firstSeen: at(), created: at(), updated: at(),
		}
	}
	return specs
}

func TestListPagesInEveryOrder(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newQueueOrg(t, db, "paging")
		all := o.seed(t, db, pagingSpecs(mrand.New(mrand.NewPCG(1, 2)), 120))
		svc := alerts.New(db.Client, db.Dialect)
		for _, oc := range orderCases {
			for _, dir := range []ent.OrderDirection{paging.Asc, paging.Desc} {
				t.Run(oc.name+"_"+string(dir), func(t *testing.T) {
					order := &ent.AlertOrder{Direction: dir, Field: oc.field}
					want := sortedIDs(all, oc.less, dir)
					got, total := pageForward(t, svc, o.ctx, nil, order, 13)
					if total != len(all) {
						t.Errorf("totalCount = %d, want %d", total, len(all))
					}
					if !slices.Equal(got, want) {
						t.Errorf("forward paging order differs from %s %s", oc.name, dir)
					}
					if back := pageBackward(t, svc, o.ctx, order, 13); !slices.Equal(back, want) {
						t.Errorf("backward paging order differs from %s %s", oc.name, dir)
					}
				})
			}
		}
		t.Run("default is LAST_SEEN_AT DESC", func(t *testing.T) {
			want := sortedIDs(all, orderCases[len(orderCases)-1].less, paging.Desc)
			got, _ := pageForward(t, svc, o.ctx, nil, nil, 50)
			if !slices.Equal(got, want) {
				t.Error("nil order does not list by last_seen_at descending")
			}
			got, _ = pageForward(t, svc, o.ctx, nil, &ent.AlertOrder{Direction: paging.Desc}, 50)
			if !slices.Equal(got, want) {
				t.Error("an order without a field does not list by last_seen_at")
			}
		})
	})
}

func TestListTotalCountUnderFilters(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newQueueOrg(t, db, "totals")
		all := o.seed(t, db, randomSpecs(mrand.New(mrand.NewPCG(3, 4)), o, 150))
		svc := alerts.New(db.Client, db.Dialect)
		r := mrand.New(mrand.NewPCG(5, 6))
		for i := range 10 {
			f := randomFilter(r, o)
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				var want []*ent.Alert
				for _, a := range all {
					if matchesFilter(a, f) {
						want = append(want, a)
					}
				}
				wantIDs := sortedIDs(want, orderCases[len(orderCases)-1].less, paging.Desc)
				got, total := pageForward(t, svc, o.ctx, f, nil, 9)
				if total != len(want) {
					t.Errorf("filter %s: totalCount = %d, want %d", describeFilter(f), total, len(want))
				}
				if !slices.Equal(got, wantIDs) {
					t.Errorf("filter %s: listed %d alerts, want %d in last_seen_at order", describeFilter(f), len(got), len(wantIDs))
				}
			})
		}
	})
}

func TestListRefusesBadInput(t *testing.T) {
	db := testenv.Open(t, testenv.SQLite)
	o := newQueueOrg(t, db, "bad")
	o.seed(t, db, pagingSpecs(mrand.New(mrand.NewPCG(7, 8)), 5))
	svc := alerts.New(db.Client, db.Dialect)
	first, err := svc.List(o.ctx, nil, paging.Page{First: pointer(2)}, &ent.AlertOrder{Direction: paging.Asc, Field: ent.AlertOrderFieldTitle}, nil)
	if err != nil {
		t.Fatal(err)
	}
	titleCursor := first.PageInfo.EndCursor
	severity := &ent.AlertOrder{Direction: paging.Asc, Field: ent.AlertOrderFieldSeverityRank}
	for _, tc := range []struct {
		name        string
		f           *schematype.AlertFilter
		after       *ent.Cursor
		first, last *int
		order       *ent.AlertOrder
		field       string
	}{
		{name: "first and last", first: pointer(1), last: pointer(1), field: "last"},
		{name: "negative first", first: pointer(-1), field: "first"},
		{name: "negative last", last: pointer(-1), field: "last"},
		{name: "cursor of another order", after: titleCursor, first: pointer(2), order: severity, field: "after"},
		{name: "bad direction", order: &ent.AlertOrder{Direction: "SIDEWAYS"}, field: "order_by.direction"},
		{name: "bad filter", f: &schematype.AlertFilter{Status: []enum.AlertStatus{"open"}}, field: "filter.status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.List(o.ctx, tc.f, paging.Page{After: tc.after, First: tc.first, Last: tc.last}, tc.order, nil)
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.BadInput || e.Field != tc.field {
				t.Fatalf("err = %v, want BAD_USER_INPUT on %s", err, tc.field)
			}
		})
	}
}

func TestTenantIsolation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a := newQueueOrg(t, db, "org-a")
		b := newQueueOrg(t, db, "org-b")
		r := mrand.New(mrand.NewPCG(9, 10))
		inA := a.seed(t, db, randomSpecs(r, a, 40))
		onlyB := randomSpecs(r, b, 30)
		for i := range onlyB {
			onlyB[i].source, onlyB[i].tags = "only-b", []string{"only-b"}
		}
		inB := b.seed(t, db, onlyB)
		svc := alerts.New(db.Client, db.Dialect)

		conn, err := svc.List(a.ctx, nil, paging.Page{First: pointer(paging.Max)}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if conn.TotalCount != len(inA) || len(conn.Edges) != len(inA) {
			t.Fatalf("org A lists %d (total %d), want its %d alerts", len(conn.Edges), conn.TotalCount, len(inA))
		}
		for _, e := range conn.Edges {
			if e.Node.OrganizationID != a.org.ID {
				t.Fatalf("org A's list holds alert %s of another organisation", e.Node.ID)
			}
		}
		sameSource, err := svc.List(a.ctx, &schematype.AlertFilter{Source: []string{"only-b"}, Tag: []string{"only-b"}}, paging.Page{First: pointer(10)}, nil, nil)
		if err != nil || sameSource.TotalCount != 0 {
			t.Fatalf("filtering org A by org B's values: total %v, err %v", sameSource.TotalCount, err)
		}

		facets, err := svc.Facets(a.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n := sumCounts(facets.Status); n != len(inA) {
			t.Errorf("org A's status facet counts %d alerts, want %d", n, len(inA))
		}
		for _, list := range [][]*alerts.FacetValue{facets.Source, facets.Tags} {
			for _, v := range list {
				if v.Value != nil && *v.Value == "only-b" {
					t.Errorf("org A's facets show org B's value %q", *v.Value)
				}
			}
		}

		_, err = svc.Get(a.ctx, inB[0].ID)
		if !ent.IsNotFound(err) {
			t.Errorf("Get of org B's alert from org A: err = %v, want ent NotFound", err)
		}
		got, err := svc.Get(b.ctx, inB[0].ID)
		if err != nil || got.ID != inB[0].ID {
			t.Errorf("Get in its own organisation: %v", err)
		}
		if _, err := svc.Get(context.Background(), inA[0].ID); err == nil {
			t.Error("Get without a viewer must be refused")
		}
	})
}

func sumCounts(vs []*alerts.FacetValue) int {
	n := 0
	for _, v := range vs {
		n += v.Count
	}
	return n
}

// describe prints a filter for failure messages.
func describeFilter(f *schematype.AlertFilter) string {
	if f == nil {
		return "<nil>"
	}
	var parts []string
	add := func(name string, v any) { parts = append(parts, fmt.Sprintf("%s=%v", name, v)) }
	if f.Status != nil {
		add("status", f.Status)
	}
	if f.Severity != nil {
		add("severity", f.Severity)
	}
	if f.Source != nil {
		add("source", f.Source)
	}
	if f.ConnectorID != nil {
		add("connector", len(f.ConnectorID))
	}
	if f.AssigneeID != nil {
		add("assignee", len(f.AssigneeID))
	}
	if f.Unassigned != nil {
		add("unassigned", *f.Unassigned)
	}
	if f.Tag != nil {
		add("tag", f.Tag)
	}
	if f.Entity != nil {
		add("entity", *f.Entity)
	}
	if f.Since != nil {
		add("since", f.Since.Format(time.RFC3339))
	}
	if f.Until != nil {
		add("until", f.Until.Format(time.RFC3339))
	}
	if f.Q != nil {
		add("q", *f.Q)
	}
	if f.IncidentID != nil {
		add("incident", "set")
	}
	return "{" + strings.Join(parts, " ") + "}"
}
