package loaders_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/loaders"
	"github.com/seliq/seliq/storage"
)

// The reference cache of detached pages: a reference read once is reused
// without a statement; an organisation is never given another's cached
// reference; a write through the client is seen by the next page; a
// reference older than RefTTL is read again; and a page that is not
// detached does not use the cache.
func TestRefCache(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a, b := seedOrg(t, db, "refs-a"), seedOrg(t, db, "refs-b")
		now := time.Now()
		refs := loaders.NewRefCacheAt(func() time.Time { return now })
		refs.Track(db.Client)
		src := loaders.Sources{Client: db.Client, Alerts: alerts.New(db.Client, db.Dialect), Refs: refs}
		want := loaders.AlertRelations{Connector: true, Assignee: true, Incident: &loaders.IncidentRelations{}}

		var statements atomic.Int64
		stop := db.Observe(func(s storage.Statement) {
			if strings.Contains(s.Query, "connectors") || strings.Contains(s.Query, "users") || strings.Contains(s.Query, "incidents") {
				statements.Add(1)
			}
		})
		defer stop()
		// page primes the references of an alert pointing at d's objects
		// as ctx's viewer, and returns what the connector reference holds
		// and how many statements the page ran.
		page := func(t *testing.T, ctx context.Context, d orgData) (*ent.Connector, int64) {
			t.Helper()
			ctx = loaders.With(ctx, loaders.New(src))
			al, _ := pointingAt(d)
			before := statements.Load()
			if err := loaders.PrimeAlerts(ctx, []*ent.Alert{al}, want); err != nil {
				t.Fatal(err)
			}
			c, err := loaders.AlertConnector(ctx, al)
			if err != nil {
				t.Fatal(err)
			}
			for _, load := range []func() (any, error){
				func() (any, error) { return loaders.AlertAssignee(ctx, al) },
				func() (any, error) { return loaders.AlertIncident(ctx, al) },
			} {
				if v, err := load(); err != nil || v == nil {
					t.Fatalf("reference: %v, %v", v, err)
				}
			}
			return c, statements.Load() - before
		}
		detachedA := alerts.DetachedRows(a.ctx)

		if c, n := page(t, detachedA, a); c == nil || n != 3 {
			t.Fatalf("first page: connector %v, %d statements; want it read with 3", c, n)
		}
		if c, n := page(t, detachedA, a); c == nil || c.ID != a.connector.ID || n != 0 {
			t.Fatalf("second page: connector %v, %d statements; want it from the cache with none", c, n)
		}
		if _, n := page(t, a.ctx, a); n != 3 {
			t.Errorf("a page that is not detached ran %d statements, want 3: it must not use the cache", n)
		}
		// Organisation b asks for a's objects, which a's pages cached.
		if c, n := page(t, alerts.DetachedRows(b.ctx), a); c != nil || n == 0 {
			t.Fatalf("organisation b was given a's connector %v (%d statements)", c, n)
		}

		sys := auth.System(context.Background())
		if err := db.Client.Connector.UpdateOneID(a.connector.ID).SetName("renamed").Exec(sys); err != nil {
			t.Fatal(err)
		}
		if c, n := page(t, detachedA, a); c == nil || c.Name != "renamed" || n != 3 {
			t.Fatalf("after a rename: connector %v, %d statements; want the new name, read again", c, n)
		}
		if _, n := page(t, detachedA, a); n != 0 {
			t.Fatalf("the re-read references were not kept: %d statements", n)
		}
		now = now.Add(loaders.RefTTL + time.Millisecond)
		if _, n := page(t, detachedA, a); n != 3 {
			t.Fatalf("after RefTTL: %d statements, want the references read again", n)
		}
	})
}
