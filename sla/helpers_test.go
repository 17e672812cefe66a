package sla_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/notification"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/sla"
	"github.com/seliq/seliq/storage"
)

// clock is a movable time source: real time plus an offset, so that
// River's wall-clock scheduling and the SLA clock agree until a test moves
// the SLA clock forward.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// tenant is an organisation with an admin, an analyst and a read-only
// user, its SLA service and an incidents service wired to it.
type tenant struct {
	db        *storage.DB
	org       *ent.Organization
	admin     *ent.User
	analyst   *ent.User
	reader    *ent.User
	ctx       context.Context // the admin's
	sla       *sla.Service
	incidents *incidents.Service
}

func newTenant(t testing.TB, db *storage.DB, slug string, c *clock, q sla.Queue, opts ...testenv.OrgOption) *tenant {
	t.Helper()
	o := testenv.Org(t, db, append([]testenv.OrgOption{testenv.Slug(slug)}, opts...)...)
	tn := &tenant{db: db, org: o,
		admin:   testenv.User(t, db, o, enum.RoleAdmin, testenv.Handle("ada")),
		analyst: testenv.User(t, db, o, enum.RoleAnalyst, testenv.Handle("ana")),
		reader:  testenv.User(t, db, o, enum.RoleReadOnly, testenv.Handle("rob")),
	}
	tn.ctx = testenv.As(tn.admin, o)
	tn.sla = sla.New(db.Client, q, c.now)
	tn.incidents = incidents.New(db.Client).WithSLA(tn.sla)
	return tn
}

func (tn *tenant) open(t testing.TB, title string, sev enum.Severity, assignee *uuid.UUID) *ent.Incident {
	t.Helper()
	inc, err := tn.incidents.Create(tn.ctx, incidents.CreateIncidentInput{Title: title, Severity: &sev, AssigneeID: assignee})
	if err != nil {
		t.Fatalf("create incident: %v", err)
	}
	return inc
}

func (tn *tenant) reload(t testing.TB, id uuid.UUID) *ent.Incident {
	t.Helper()
	inc, err := tn.db.Client.Incident.Get(tn.ctx, id)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	return inc
}

func (tn *tenant) update(t testing.TB, in sla.UpdateSettingsInput) *sla.Settings {
	t.Helper()
	s, err := tn.sla.UpdateSettings(tn.ctx, in)
	if err != nil {
		t.Fatalf("update settings: %v", err)
	}
	return s
}

// notifications counts the notifications of a kind about an incident, per
// user, across organisations.
func notifications(t testing.TB, db *storage.DB, kind enum.NotificationKind, incident uuid.UUID) map[uuid.UUID]int {
	t.Helper()
	ns, err := db.Client.Notification.Query().Where(notification.KindEQ(kind), notification.EntityID(incident)).
		All(privacy.DecisionContext(context.Background(), privacy.Allow))
	if err != nil {
		t.Fatalf("notifications: %v", err)
	}
	out := map[uuid.UUID]int{}
	for _, n := range ns {
		out[n.UserID]++
	}
	return out
}

func wantInvalid(t testing.TB, err error, field string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.BadInput || e.Field != field {
		t.Fatalf("error = %v, want BAD_USER_INPUT on %q", err, field)
	}
}

func wantCode(t testing.TB, err error, code apperr.Code) {
	t.Helper()
	if e, ok := apperr.As(err); !ok || e.Code != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

func str(s string) *string { return &s }

func ptr[T any](v T) *T { return &v }

// at is created_at truncated as the timers count it.
func start(inc *ent.Incident) time.Time { return inc.CreatedAt.UTC().Truncate(time.Second) }
