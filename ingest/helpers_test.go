package ingest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// env is one organisation on a fresh database with the ingest service.
type env struct {
	db    *storage.DB
	svc   *Service
	authn *auth.Service
	org   *ent.Organization
}

func newEnv(t testing.TB, db *storage.DB, opts Options) *env {
	t.Helper()
	return &env{db: db, svc: New(db, opts), authn: auth.New(db.Client, auth.Config{}), org: testenv.Org(t, db)}
}

// as returns the context the handler would ingest with: the connector's viewer.
func (e *env) as(t testing.TB, key string) context.Context {
	t.Helper()
	v, err := e.authn.AuthenticateConnector(context.Background(), key)
	if err != nil {
		t.Fatalf("authenticate connector: %v", err)
	}
	return viewer.NewContext(context.Background(), v)
}

// orgCtx is a context acting in org (an admin-like user viewer).
func orgCtx(org *ent.Organization) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.KindUser, UserID: uuid.New(), Role: enum.RoleAdmin, HomeOrgID: org.ID, OrgID: org.ID,
		VisibleOrgIDs: []uuid.UUID{org.ID}, TopLevel: true,
	})
}

// ingest posts body as connector c (whose key is key) and fails on error.
func (e *env) ingest(t testing.TB, c *ent.Connector, key string, body []byte) *Result {
	t.Helper()
	res, err := e.svc.Ingest(e.as(t, key), c, body)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return res
}

// alerts lists org's alerts, oldest first.
func alertsOf(t testing.TB, db *storage.DB, org *ent.Organization) []*ent.Alert {
	t.Helper()
	all, err := db.Client.Alert.Query().Order(ent.Asc(alert.FieldCreatedAt), ent.Asc(alert.FieldID)).All(orgCtx(org))
	if err != nil {
		t.Fatalf("list alerts: %v", err)
	}
	return all
}

func getAlert(t testing.TB, db *storage.DB, org *ent.Organization, id uuid.UUID) *ent.Alert {
	t.Helper()
	a, err := db.Client.Alert.Get(orgCtx(org), id)
	if err != nil {
		t.Fatalf("get alert %s: %v", id, err)
	}
	return a
}

// actions counts org's alert activity entries by action.
func actions(t testing.TB, db *storage.DB, org *ent.Organization) map[string]int {
	t.Helper()
	all, err := db.Client.Activity.Query().Where(activity.EntityType("alert")).All(orgCtx(org))
	if err != nil {
		t.Fatalf("list activity: %v", err)
	}
	out := map[string]int{}
	for _, a := range all {
		out[a.Action]++
	}
	return out
}

// clock is a pinned, settable time source.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}

func (c *clock) set(t time.Time)     { c.t.Store(&t) }
func (c *clock) now() time.Time      { return *c.t.Load() }
func (c *clock) add(d time.Duration) { c.set(c.now().Add(d)) }
