package metrics_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/metrics"
	"github.com/seliq/seliq/storage"
)

// The breakdowns read the period counters (whole days and hours) and
// count only the partial hours at the ends from the alerts: they must
// equal the same breakdown counted from the rows (a query narrowing forces
// that) and the rows counted here, after status and assignee changes, bulk
// updates and deletes, with another organisation's alerts in the same
// hours never counted.
func TestCountedBreakdownsAgreeWithTheRows(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org, other := testenv.Org(t, db), testenv.Org(t, db)
		ctx, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
		otherCtx, _ := testenv.UserContext(t, db, other, enum.RoleAdmin)
		users := []*ent.User{testenv.User(t, db, org, enum.RoleAnalyst), testenv.User(t, db, org, enum.RoleAnalyst)}
		c1, _ := testenv.Connector(t, db, org, "generic", func(c *ent.ConnectorCreate) { c.SetName("one") })
		c2, _ := testenv.Connector(t, db, org, "generic", func(c *ent.ConnectorCreate) { c.SetName("two") })
		cx, _ := testenv.Connector(t, db, other, "generic")
		base := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
		r := rand.New(rand.NewPCG(16, 4))
		sevs, stats := enum.Severity("").Values(), enum.AlertStatus("").Values()
		for i := range 300 {
			at := base.Add(time.Duration(r.Int64N(int64(80 * time.Hour)))).Truncate(time.Second)
			sev, st := enum.Severity(sevs[r.IntN(len(sevs))]), enum.AlertStatus(stats[r.IntN(len(stats))])
			c := db.Client.Alert.Create().SetOrganizationID(org.ID).SetTitle(fmt.Sprint("a", i)).SetSource("s").
				SetSeverity(sev).SetStatus(st).SetCreatedAt(at).SetLastSeenAt(at).SetFirstSeenAt(at)
			switch r.IntN(3) {
			case 0:
				c.SetConnectorID(c1.ID)
			case 1:
				c.SetConnectorID(c2.ID)
			}
			if k := r.IntN(3); k < len(users) {
				c.SetAssigneeID(users[k].ID)
			}
			c.SaveX(ctx)
			db.Client.Alert.Create().SetOrganizationID(other.ID).SetTitle(fmt.Sprint("b", i)).SetSource("s").
				SetSeverity(sev).SetStatus(st).SetConnectorID(cx.ID).SetCreatedAt(at).SetLastSeenAt(at).SetFirstSeenAt(at).SaveX(otherCtx)
		}
		svc := metrics.New(db.Client, db.Dialect).WithClock(func() time.Time { return base.Add(96 * time.Hour) })
		ranges := countedRanges(base, 100*time.Hour)
		check := func(t *testing.T, step string) {
			t.Helper()
			rows := db.Client.Alert.Query().Where(alert.OrganizationID(org.ID)).AllX(ctx)
			for ri, rg := range ranges {
				for _, narrow := range narrowings(c1.ID) {
					want := 0
					for _, a := range rows {
						if a.CreatedAt.Before(rg[0]) || !a.CreatedAt.Before(rg[1]) ||
							(narrow.connector != nil && (a.ConnectorID == nil || *a.ConnectorID != *narrow.connector)) ||
							(narrow.severity != nil && a.Severity != enum.SeverityHigh && a.Severity != enum.SeverityLow) {
							continue
						}
						want++
					}
					for _, field := range []string{"severity", "status", "connector", "assignee"} {
						rng := func(q *string) *metrics.Range {
							return &metrics.Range{Since: &rg[0], Until: &rg[1], Connector: narrow.connector, Severity: narrow.severity, Query: q}
						}
						got, err := svc.AlertsBy(ctx, field, rng(nil), nil)
						if err != nil {
							t.Fatal(err)
						}
						scanned, err := svc.AlertsBy(ctx, field, rng(ptr(`title != ""`)), nil)
						if err != nil {
							t.Fatal(err)
						}
						if values(got) != values(scanned) || got.Total != want {
							t.Fatalf("%s, range %d, %s, by %s: counters %s (total %d), rows %s, %d alerts created",
								step, ri, narrow.name, field, values(got), got.Total, values(scanned), want)
						}
					}
				}
			}
		}
		check(t, "inserted")
		ids := db.Client.Alert.Query().Where(alert.OrganizationID(org.ID)).Order(ent.Asc(alert.FieldTitle)).IDsX(ctx)
		for _, id := range ids[:20] {
			db.Client.Alert.UpdateOneID(id).SetStatus(enum.AlertStatusClosed).SetAssigneeID(users[0].ID).ExecX(ctx)
		}
		check(t, "status and assignee changed")
		if err := db.CompactAlertCounts(ctx); err != nil {
			t.Fatal(err)
		}
		db.Client.Alert.Update().Where(alert.OrganizationID(org.ID), alert.SeverityEQ(enum.SeverityMedium)).
			SetStatus(enum.AlertStatusAcknowledged).ClearAssigneeID().ExecX(ctx)
		db.Client.Alert.Update().Where(alert.OrganizationID(other.ID)).SetStatus(enum.AlertStatusResolved).ExecX(otherCtx)
		check(t, "bulk update")
		db.Client.Alert.Delete().Where(alert.IDIn(ids[20:60]...)).ExecX(ctx)
		db.Client.Alert.Delete().Where(alert.OrganizationID(other.ID), alert.SeverityEQ(enum.SeverityLow)).ExecX(otherCtx)
		check(t, "deleted")
		if err := db.CompactAlertCounts(context.Background()); err != nil {
			t.Fatal(err)
		}
		check(t, "compacted")
	})
}

// countedRanges are ranges around base that a counter reader cuts in all
// its ways: whole days, whole hours and partial hours, up to base+end.
func countedRanges(base time.Time, end time.Duration) [][2]time.Time {
	return [][2]time.Time{
		{base.Add(7*time.Hour + 7*time.Minute + 3*time.Second), base.Add(61*time.Hour + 52*time.Minute)}, // days, hours and partial hours
		{base.Add(-time.Hour), base.Add(end)},                                            // whole hours only
		{base.Add(30 * time.Hour), base.Add(48 * time.Hour)},                             // a whole day and hours before it
		{base.Add(5*time.Hour + time.Minute), base.Add(5*time.Hour + 59*time.Minute)},    // inside one hour
		{base.Add(5*time.Hour + 30*time.Minute), base.Add(7*time.Hour + 10*time.Minute)}, // one whole hour
	}
}

// narrowing is a metric's narrowing by connector or severity.
type narrowing struct {
	name      string
	connector *uuid.UUID
	severity  []enum.Severity
}

// narrowings are none, by the connector c, and by two severities.
func narrowings(c uuid.UUID) []narrowing {
	return []narrowing{{"all", nil, nil}, {"connector", &c, nil}, {"severity", nil, []enum.Severity{enum.SeverityHigh, enum.SeverityLow}}}
}
