package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/dashboard"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/metrics"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/storage"
)

var now = time.Now().UTC().Truncate(time.Second)

func ptr[T any](v T) *T { return &v }

// fixedSLA stands in for the SLA engine: it answers what it was asked.
type fixedSLA struct{}

func (fixedSLA) SLAFigures(_ context.Context, since, until time.Time, org *string) (json.RawMessage, error) {
	return json.Marshal(map[string]any{"hours": until.Sub(since).Hours(), "all": org != nil})
}

type org struct {
	org                    *ent.Organization
	author, analyst, admin context.Context
	readOnly               context.Context
	authorID               uuid.UUID
}

type fixture struct {
	db   *storage.DB
	svc  *dashboard.Service
	q    *query.Service
	a, b org
}

func newOrg(t *testing.T, db *storage.DB, name string) org {
	o := org{org: testenv.Org(t, db, testenv.Name(name))}
	o.author, o.authorID = testenv.UserContext(t, db, o.org, enum.RoleAnalyst)
	o.analyst, _ = testenv.UserContext(t, db, o.org, enum.RoleAnalyst)
	o.admin, _ = testenv.UserContext(t, db, o.org, enum.RoleAdmin)
	o.readOnly, _ = testenv.UserContext(t, db, o.org, enum.RoleReadOnly)
	return o
}

func setup(t *testing.T, db *storage.DB, sla dashboard.SLAFigures) *fixture {
	q := query.New(db.Client, db.Dialect)
	f := &fixture{db: db, q: q, svc: dashboard.New(db.Client, metrics.New(db.Client, db.Dialect), q, sla).WithClock(func() time.Time { return now })}
	f.a, f.b = newOrg(t, db, "Alpha"), newOrg(t, db, "Beta")
	return f
}

// alerts inserts the same alerts in o: two critical (one open and
// unassigned), one high resolved, one low a month ago (outside a 7d period).
func (f *fixture) alerts(t *testing.T, o org) {
	t.Helper()
	for i, a := range []struct {
		sev    enum.Severity
		status enum.AlertStatus
		ago    time.Duration
	}{
		{enum.SeverityCritical, enum.AlertStatusNew, time.Hour},
		{enum.SeverityCritical, enum.AlertStatusInProgress, 2 * time.Hour},
		{enum.SeverityHigh, enum.AlertStatusResolved, 26 * time.Hour},
		{enum.SeverityLow, enum.AlertStatusNew, 30 * 24 * time.Hour},
	} {
		created := now.Add(-a.ago)
		c := f.db.Client.Alert.Create().SetTitle(fmt.Sprint("alert ", i)).SetSource("test").SetSeverity(a.sev).SetStatus(a.status).
			SetCreatedAt(created).SetLastSeenAt(created).SetFirstSeenAt(created)
		if a.status == enum.AlertStatusResolved {
			c.SetResolvedAt(created.Add(time.Hour))
		}
		if err := c.Exec(o.admin); err != nil {
			t.Fatal(err)
		}
	}
}

func metricWidget(id, metric string, x, y int) *schematype.Widget {
	return &schematype.Widget{ID: id, Title: metric, Kind: enum.WidgetKindMetric, Metric: metric, Visualization: enum.WidgetVisualizationNumber, X: x, Y: y, W: 4, H: 2}
}

func inlineWidget(id, text string, x, y int) *schematype.Widget {
	return &schematype.Widget{ID: id, Title: "query", Kind: enum.WidgetKindQuery, Visualization: enum.WidgetVisualizationPie,
		Query: &schematype.WidgetQuery{Source: "alerts", Query: text, GroupBy: []string{"severity"}}, X: x, Y: y, W: 4, H: 2}
}

func wantField(t *testing.T, err error, code apperr.Code, field string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != code || e.Field != field {
		t.Fatalf("error = %v (%#v), want %s on %q", err, e, code, field)
	}
}

func data(t *testing.T, ctx context.Context, svc *dashboard.Service, b *ent.Board) ([]string, []error) {
	t.Helper()
	ws, err := svc.Widgets(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	out, errs := make([]string, len(ws)), make([]error, len(ws))
	for i, w := range ws {
		raw, err := svc.Data(ctx, w)
		out[i], errs[i] = string(raw), err
	}
	return out, errs
}

func TestDashboardRights(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := setup(t, db, nil)
		a := f.a
		shared, err := f.svc.Create(a.author, dashboard.CreateInput{Name: "Shared", Visibility: ptr(enum.VisibilityShared),
			Widgets: []*schematype.Widget{metricWidget("n", "alerts/unassigned-count", 0, 0)}})
		if err != nil {
			t.Fatal(err)
		}
		private, err := f.svc.Create(a.author, dashboard.CreateInput{Name: "Mine"})
		if err != nil {
			t.Fatal(err)
		}
		if private.Visibility != enum.VisibilityPrivate || *private.AuthorID != a.authorID {
			t.Fatalf("private = %+v", private)
		}
		rename := dashboard.UpdateInput{Name: ptr("Renamed")}
		cases := []struct {
			name string
			ctx  context.Context
			id   uuid.UUID
			read apperr.Code // "" when readable
			edit apperr.Code // "" when editable
		}{
			{"author, shared", a.author, shared.ID, "", ""},
			{"author, private", a.author, private.ID, "", ""},
			{"other analyst, shared", a.analyst, shared.ID, "", apperr.Forbidden},
			{"other analyst, private", a.analyst, private.ID, apperr.NotFound, apperr.NotFound},
			{"admin, shared", a.admin, shared.ID, "", ""},
			{"admin, private", a.admin, private.ID, apperr.NotFound, apperr.NotFound},
			{"read-only, shared", a.readOnly, shared.ID, "", apperr.Forbidden},
			{"other organisation's admin", f.b.admin, shared.ID, apperr.NotFound, apperr.NotFound},
		}
		for _, c := range cases {
			_, err := f.svc.Dashboard(c.ctx, c.id)
			if code(err) != c.read {
				t.Errorf("%s: read: %v, want %q", c.name, err, c.read)
			}
			_, err = f.svc.Export(c.ctx, c.id)
			if code(err) != c.read {
				t.Errorf("%s: export: %v, want %q", c.name, err, c.read)
			}
			_, err = f.svc.Update(c.ctx, c.id, rename)
			if code(err) != c.edit {
				t.Errorf("%s: update: %v, want %q", c.name, err, c.edit)
			}
		}
		list, err := f.svc.Dashboards(a.analyst, pageOf())
		if err != nil || list.TotalCount != 1 {
			t.Fatalf("other analyst lists %v (%v), want the shared one", list, err)
		}
		if list, _ := f.svc.Dashboards(f.b.admin, pageOf()); list.TotalCount != 0 {
			t.Fatalf("another organisation lists %d dashboards", list.TotalCount)
		}
		if _, err := f.svc.Create(a.readOnly, dashboard.CreateInput{Name: "x"}); code(err) != apperr.Forbidden {
			t.Fatalf("read-only create: %v", err)
		}
		for _, ctx := range []context.Context{a.analyst, a.readOnly, f.b.admin} {
			if err := f.svc.Delete(ctx, shared.ID); err == nil {
				t.Fatal("deleted by someone who may not")
			}
		}
		if err := f.svc.Delete(a.admin, shared.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Dashboard(a.author, shared.ID); code(err) != apperr.NotFound {
			t.Fatalf("after delete: %v", err)
		}
		// Every change is in the activity log.
		// (the admin's rename of the already renamed dashboard changes nothing
		// and records nothing).
		n, err := db.Client.Activity.Query().Where(activity.EntityType(dashboard.Entity)).Count(a.admin)
		if err != nil || n != 5 {
			t.Fatalf("dashboard activity rows = %d (%v), want 5: create ×2, rename ×2, delete", n, err)
		}
	})
}

func code(err error) apperr.Code {
	if err == nil {
		return ""
	}
	if e, ok := apperr.As(err); ok {
		return e.Code
	}
	return "other: " + apperr.Code(err.Error())
}

func TestWidgetValidation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := setup(t, db, nil)
		other, err := f.q.CreateSavedQuery(f.b.admin, query.CreateSavedQueryInput{Name: "theirs", Source: "alerts", Query: "", Visibility: ptr(enum.VisibilityShared)})
		if err != nil {
			t.Fatal(err)
		}
		private, err := f.q.CreateSavedQuery(f.a.author, query.CreateSavedQueryInput{Name: "mine", Source: "alerts", Query: ""})
		if err != nil {
			t.Fatal(err)
		}
		ok := func() *schematype.Widget { return metricWidget("ok", "summary", 0, 0) }
		many := make([]*schematype.Widget, dashboard.MaxWidgets+1)
		for i := range many {
			many[i] = metricWidget(fmt.Sprint("w", i), "summary", 0, i)
			many[i].W, many[i].H = 1, 1
		}
		cases := []struct {
			name    string
			vis     enum.Visibility
			widgets []*schematype.Widget
			code    apperr.Code
			field   string
		}{
			{"unknown metric", "", []*schematype.Widget{ok(), metricWidget("m", "alerts/nope", 4, 0)}, apperr.BadInput, "widgets[1].metric"},
			{"bad period", "", []*schematype.Widget{func() *schematype.Widget {
				w := ok()
				w.Params = &schematype.WidgetParams{Period: "3w"}
				return w
			}()}, apperr.BadInput, "widgets[0].params.period"},
			{"interval on a count", "", []*schematype.Widget{func() *schematype.Widget {
				w := metricWidget("c", "alerts/unassigned-count", 0, 0)
				w.Params = &schematype.WidgetParams{Interval: "1h"}
				return w
			}()}, apperr.BadInput, "widgets[0].params.interval"},
			{"bad severity", "", []*schematype.Widget{func() *schematype.Widget {
				w := ok()
				w.Params = &schematype.WidgetParams{Severity: []enum.Severity{"urgent"}}
				return w
			}()}, apperr.BadInput, "widgets[0].params.severity"},
			{"metric query does not compile", "", []*schematype.Widget{func() *schematype.Widget {
				w := ok()
				w.Params = &schematype.WidgetParams{Query: `severity == `}
				return w
			}()}, apperr.BadInput, "widgets[0].params.query"},
			{"overlap", "", []*schematype.Widget{ok(), metricWidget("b", "summary", 3, 1)}, apperr.BadInput, "widgets[1]"},
			{"out of the 12 columns", "", []*schematype.Widget{metricWidget("b", "summary", 9, 0)}, apperr.BadInput, "widgets[0].x"},
			{"zero width", "", []*schematype.Widget{func() *schematype.Widget { w := ok(); w.W = 0; return w }()}, apperr.BadInput, "widgets[0].w"},
			{"duplicate id", "", []*schematype.Widget{ok(), metricWidget("ok", "summary", 4, 0)}, apperr.BadInput, "widgets[1].id"},
			{"bad id", "", []*schematype.Widget{metricWidget("a b", "summary", 0, 0)}, apperr.BadInput, "widgets[0].id"},
			{"too many", "", many, apperr.BadInput, "widgets"},
			{"inline query does not compile", "", []*schematype.Widget{ok(), inlineWidget("q", `severity = "high"`, 4, 0)}, apperr.BadInput, "widgets[1].query.query"},
			{"inline query bad grouping", "", []*schematype.Widget{func() *schematype.Widget {
				w := inlineWidget("q", "", 0, 0)
				w.Query.GroupBy = []string{"title"}
				return w
			}()}, apperr.BadInput, "widgets[0].query.group_by.0"},
			{"both saved and inline", "", []*schematype.Widget{func() *schematype.Widget {
				w := inlineWidget("q", "", 0, 0)
				w.SavedQueryID = &private.ID
				return w
			}()}, apperr.BadInput, "widgets[0].saved_query_id"},
			{"another organisation's saved query", "", []*schematype.Widget{savedWidget("s", other.ID)}, apperr.BadInput, "widgets[0].saved_query_id"},
			{"a private query on a shared dashboard", enum.VisibilityShared, []*schematype.Widget{savedWidget("s", private.ID)}, apperr.BadInput, "widgets[0].saved_query_id"},
			{"sla without the SLA engine", "", []*schematype.Widget{{ID: "s", Kind: enum.WidgetKindSla, Visualization: enum.WidgetVisualizationTable, W: 12, H: 3}}, apperr.BadInput, "widgets[0].kind"},
			{"bad kind", "", []*schematype.Widget{{ID: "s", Kind: "chart", Visualization: enum.WidgetVisualizationTable, W: 1, H: 1}}, apperr.BadInput, "widgets[0].kind"},
			{"bad visualization", "", []*schematype.Widget{{ID: "s", Kind: enum.WidgetKindMetric, Metric: "summary", Visualization: "radar", W: 1, H: 1}}, apperr.BadInput, "widgets[0].visualization"},
		}
		for _, c := range cases {
			in := dashboard.CreateInput{Name: c.name, Widgets: c.widgets}
			if c.vis != "" {
				in.Visibility = &c.vis
			}
			_, err := f.svc.Create(f.a.author, in)
			wantField(t, err, c.code, c.field)
		}
		if n := db.Client.Board.Query().CountX(f.a.admin); n != 0 {
			t.Fatalf("%d dashboards written by refused creates", n)
		}
		// A query that does not compile says where.
		_, err = f.svc.Create(f.a.author, dashboard.CreateInput{Name: "x", Widgets: []*schematype.Widget{inlineWidget("q", "severity == \n  nope", 0, 0)}})
		if e, _ := apperr.As(err); e == nil || e.Details["line"] != 2 {
			t.Fatalf("compile error = %#v, want line 2", e)
		}
	})
}

func savedWidget(id string, sq uuid.UUID) *schematype.Widget {
	return &schematype.Widget{ID: id, Title: "saved", Kind: enum.WidgetKindQuery, Visualization: enum.WidgetVisualizationTable, SavedQueryID: &sq, X: 0, Y: 10, W: 12, H: 4}
}

func TestWidgetData(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := setup(t, db, fixedSLA{})
		f.alerts(t, f.a)
		f.alerts(t, f.b) // another organisation's alerts never count
		sq, err := f.q.CreateSavedQuery(f.a.author, query.CreateSavedQueryInput{Name: "critical", Source: "alerts", Query: `severity == "critical"`,
			GroupBy: []string{"status"}, Visibility: ptr(enum.VisibilityShared)})
		if err != nil {
			t.Fatal(err)
		}
		gone, err := f.q.CreateSavedQuery(f.a.author, query.CreateSavedQueryInput{Name: "gone", Source: "alerts", Query: "", Visibility: ptr(enum.VisibilityShared)})
		if err != nil {
			t.Fatal(err)
		}
		day := metricWidget("sev", "alerts/by-severity", 4, 0)
		day.Params = &schematype.WidgetParams{Period: "24h"}
		b, err := f.svc.Create(f.a.author, dashboard.CreateInput{Name: "SOC", Visibility: ptr(enum.VisibilityShared), Widgets: []*schematype.Widget{
			metricWidget("open", "alerts/unassigned-count", 0, 0),
			day,
			inlineWidget("pie", `severity >= "high"`, 8, 0),
			savedWidget("saved", sq.ID),
			func() *schematype.Widget { w := savedWidget("gone", gone.ID); w.Y = 20; return w }(),
			{ID: "sla", Kind: enum.WidgetKindSla, Visualization: enum.WidgetVisualizationTable, Params: &schematype.WidgetParams{Period: "30d"}, X: 0, Y: 30, W: 12, H: 2},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.q.DeleteSavedQuery(f.a.author, gone.ID); err != nil {
			t.Fatal(err)
		}
		got, errs := data(t, f.a.analyst, f.svc, b)
		want := []string{
			`{"count":3}`,
			`{"total":2,"values":[{"count":2,"key":"critical","name":"critical"}]}`,
			`"groups":[{"count":2,"key":["critical"],"other":false},{"count":1,"key":["high"],"other":false}]`,
			`"groups":[{"count":1,"key":["in_progress"],"other":false},{"count":1,"key":["new"],"other":false}]`,
			"",
			`{"all":false,"hours":720}`,
		}
		for i := range want {
			switch {
			case i == 4:
				if code(errs[i]) != apperr.NotFound || got[i] != "" {
					t.Errorf("deleted saved query widget: %s, %v; want its own not-found error", got[i], errs[i])
				}
			case errs[i] != nil:
				t.Errorf("widget %d: %v", i, errs[i])
			case !strings.Contains(got[i], want[i]):
				t.Errorf("widget %d = %s\nwant it to hold %s", i, got[i], want[i])
			}
		}
	})
}

func pageOf() paging.Page { return paging.Page{} }
