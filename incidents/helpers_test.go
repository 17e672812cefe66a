package incidents

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/timelineevent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// org is an organisation with an admin acting in it and a second user.
type org struct {
	ctx   context.Context
	svc   *Service
	db    *storage.DB
	org   *ent.Organization
	admin *ent.User
	bob   *ent.User
}

func newOrg(t testing.TB, db *storage.DB, slug string) *org {
	t.Helper()
	o := testenv.Org(t, db, testenv.Slug(slug))
	out := &org{svc: New(db.Client), db: db, org: o,
		admin: testenv.User(t, db, o, enum.RoleAdmin, testenv.Handle("ada"), testenv.FullName("Ada "+slug)),
		bob:   testenv.User(t, db, o, enum.RoleAdmin, testenv.Handle("bob"))}
	out.ctx = testenv.As(out.admin, o)
	return out
}

func (o *org) alert(t testing.TB, title string, sev enum.Severity) *ent.Alert {
	t.Helper()
	a, err := o.db.Client.Alert.Create().SetTitle(title).SetSource("generic").SetSeverity(sev).Save(o.ctx)
	if err != nil {
		t.Fatalf("create alert: %v", err)
	}
	return a
}

func (o *org) incident(t testing.TB, title string, alerts ...*ent.Alert) *ent.Incident {
	t.Helper()
	in := CreateIncidentInput{Title: title}
	for _, a := range alerts {
		in.AlertIDs = append(in.AlertIDs, a.ID)
	}
	inc, err := o.svc.Create(o.ctx, in)
	if err != nil {
		t.Fatalf("create incident: %v", err)
	}
	return inc
}

func (o *org) reload(t testing.TB, id uuid.UUID) *ent.Incident {
	t.Helper()
	inc, err := o.db.Client.Incident.Get(o.ctx, id)
	if err != nil {
		t.Fatalf("reload incident: %v", err)
	}
	return inc
}

// activities returns an entity's activity, oldest first.
func (o *org) activities(t testing.TB, entityType string, id uuid.UUID) []*ent.Activity {
	t.Helper()
	es, err := o.db.Client.Activity.Query().Where(activity.EntityType(entityType), activity.EntityID(id)).
		Order(ent.Asc(activity.FieldCreatedAt), ent.Asc(activity.FieldID)).All(o.ctx)
	if err != nil {
		t.Fatalf("read activity: %v", err)
	}
	return es
}

// events returns an incident's timeline, in order.
func (o *org) events(t testing.TB, id uuid.UUID) []*ent.TimelineEvent {
	t.Helper()
	es, err := o.db.Client.TimelineEvent.Query().Where(timelineevent.IncidentID(id)).
		Order(ent.Asc(timelineevent.FieldOccurredAt), ent.Asc(timelineevent.FieldID)).All(o.ctx)
	if err != nil {
		t.Fatalf("read timeline: %v", err)
	}
	return es
}

func kinds(es []*ent.TimelineEvent) []enum.TimelineKind {
	out := make([]enum.TimelineKind, len(es))
	for i, e := range es {
		out[i] = e.Kind
	}
	return out
}

func wantCode(t testing.TB, err error, code apperr.Code) {
	t.Helper()
	if e, ok := apperr.As(err); !ok || e.Code != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

func wantInvalid(t testing.TB, err error, field string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.BadInput || e.Field != field {
		t.Fatalf("error = %v, want BAD_USER_INPUT on %q", err, field)
	}
}

func ptr[T any](v T) *T { return &v }
