package loaders_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/loaders"
	"github.com/seliq/seliq/storage"
)

// orgData is one organisation's objects the loaders serve.
type orgData struct {
	user      *ent.User
	connector *ent.Connector
	group     *ent.Group
	incident  *ent.Incident
	ctx       context.Context // its user's viewer
}

func seedOrg(t *testing.T, db *storage.DB, slug string) orgData {
	t.Helper()
	sys := auth.System(context.Background())
	org := testenv.Org(t, db, testenv.Slug(slug))
	var d orgData
	d.user = testenv.User(t, db, org, enum.RoleAnalyst)
	d.ctx = testenv.As(d.user, org)
	d.connector, _ = testenv.Connector(t, db, org, "generic")
	var err error
	if d.group, err = db.Client.Group.Create().SetOrganizationID(org.ID).SetName("soc").Save(sys); err != nil {
		t.Fatal(err)
	}
	if d.incident, err = db.Client.Incident.Create().SetOrganizationID(org.ID).SetNumber(1).SetTitle("i").
		SetAssigneeID(d.user.ID).SetGroupID(d.group.ID).Save(sys); err != nil {
		t.Fatal(err)
	}
	if err := db.Client.Alert.Create().SetOrganizationID(org.ID).SetSource("s").SetTitle("a").SetSeverity(enum.SeverityHigh).
		SetFingerprint(slug).SetDedupKey(slug).SetIncidentID(d.incident.ID).Exec(sys); err != nil {
		t.Fatal(err)
	}
	return d
}

// pointingAt is an alert and an incident (never stored) whose foreign keys
// name d's objects: what a loader is asked for when a row refers to them.
func pointingAt(d orgData) (*ent.Alert, *ent.Incident) {
	return &ent.Alert{ConnectorID: &d.connector.ID, AssigneeID: &d.user.ID, IncidentID: &d.incident.ID},
		&ent.Incident{ID: d.incident.ID, AssigneeID: &d.user.ID, GroupID: &d.group.ID}
}

// A loader reads as the viewer: another organisation's connector, user,
// incident, group and severity counts come back empty, whether primed by a
// list or batched; the viewer's own come back.
func TestLoadersRespectTenancy(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a, b := seedOrg(t, db, "org-a"), seedOrg(t, db, "org-b")
		src := loaders.Sources{Client: db.Client, Alerts: alerts.New(db.Client, db.Dialect)}
		all := loaders.AlertRelations{Connector: true, Assignee: true, Incident: &loaders.IncidentRelations{Assignee: true, Group: true, Severities: true}}
		type got struct {
			connector, assignee, incident, incAssignee, group bool
			severities                                        int
		}
		load := func(t *testing.T, ctx context.Context, d orgData) got {
			t.Helper()
			al, inc := pointingAt(d)
			c, err1 := loaders.AlertConnector(ctx, al)
			u, err2 := loaders.AlertAssignee(ctx, al)
			i, err3 := loaders.AlertIncident(ctx, al)
			iu, err4 := loaders.IncidentAssignee(ctx, inc)
			g, err5 := loaders.IncidentGroup(ctx, inc)
			sev, err6 := loaders.IncidentSeverities(ctx, inc, src.Alerts.Severities)
			for _, err := range []error{err1, err2, err3, err4, err5, err6} {
				if err != nil {
					t.Fatal(err)
				}
			}
			return got{c != nil, u != nil, i != nil, iu != nil, g != nil, len(sev)}
		}
		ways := []struct {
			name string
			ctx  func(ctx context.Context, d orgData) context.Context
		}{
			{"batched", func(ctx context.Context, _ orgData) context.Context { return loaders.With(ctx, loaders.New(src)) }},
			{"primed", func(ctx context.Context, d orgData) context.Context {
				ctx = loaders.With(ctx, loaders.New(src))
				al, inc := pointingAt(d)
				if err := loaders.PrimeAlerts(ctx, []*ent.Alert{al}, all); err != nil {
					t.Fatal(err)
				}
				if err := loaders.PrimeIncidents(ctx, []*ent.Incident{inc}, *all.Incident); err != nil {
					t.Fatal(err)
				}
				return ctx
			}},
		}
		for _, w := range ways {
			t.Run(w.name, func(t *testing.T) {
				if g := load(t, w.ctx(a.ctx, b), b); g != (got{}) {
					t.Errorf("org A's viewer loaded org B's objects: %+v", g)
				}
				if g := load(t, w.ctx(a.ctx, a), a); g != (got{true, true, true, true, true, 1}) {
					t.Errorf("org A's viewer could not load its own objects: %+v", g)
				}
			})
		}
		// One loader, asked for both organisations' keys in one batch,
		// still returns only the viewer's.
		ctx := loaders.With(a.ctx, loaders.New(src))
		mixed := []*ent.Alert{{ConnectorID: &a.connector.ID}, {ConnectorID: &b.connector.ID}, {ConnectorID: ptr(uuid.New())}}
		if err := loaders.PrimeAlerts(ctx, mixed, all); err != nil {
			t.Fatal(err)
		}
		for i, want := range []bool{true, false, false} {
			c, err := loaders.AlertConnector(ctx, mixed[i])
			if err != nil || (c != nil) != want || (c != nil && c.ID != a.connector.ID) {
				t.Errorf("row %d: connector %v, %v", i, c, err)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }
