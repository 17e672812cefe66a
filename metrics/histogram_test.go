package metrics_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/metrics"
	"github.com/seliq/seliq/storage"
)

// The times to detect and resolve read from the duration histograms (the
// service told to use them whatever the count) agree with the same figures
// computed from the alerts (a query narrowing forces that): the counts
// exactly, the means to the millisecond, the median and 90th percentile
// within the histograms' bound; after resolutions, a disposition changed to
// duplicate, suppression, deletes and compaction, with another
// organisation's alerts in the same hours never counted.
func TestHistogramDurationsAgreeWithTheRows(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org, other := testenv.Org(t, db), testenv.Org(t, db)
		ctx, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
		otherCtx, _ := testenv.UserContext(t, db, other, enum.RoleAdmin)
		c1, _ := testenv.Connector(t, db, org, "generic", func(c *ent.ConnectorCreate) { c.SetName("one") })
		cx, _ := testenv.Connector(t, db, other, "generic")
		base := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
		r := rand.New(rand.NewPCG(21, 16))
		sevs := enum.Severity("").Values()
		for i := range 400 {
			at := base.Add(time.Duration(r.Int64N(int64(80 * time.Hour)))).Truncate(time.Microsecond)
			sev := enum.Severity(sevs[r.IntN(len(sevs))])
			// Durations over five orders of magnitude, some under a millisecond.
			detect := time.Duration(math.Pow(10, r.Float64()*7)) * time.Microsecond * 100
			c := db.Client.Alert.Create().SetOrganizationID(org.ID).SetTitle(fmt.Sprint("a", i)).SetSource("s").
				SetSeverity(sev).SetCreatedAt(at).SetLastSeenAt(at).SetFirstSeenAt(at)
			if r.IntN(6) > 0 {
				c.SetEventTime(at.Add(-detect))
			}
			if r.IntN(3) == 0 {
				c.SetConnectorID(c1.ID)
			}
			if r.IntN(2) == 0 {
				resolved := at.Add(time.Duration(r.Int64N(int64(30 * time.Hour))))
				c.SetStatus(enum.AlertStatusResolved).SetResolvedAt(resolved)
			}
			c.SaveX(ctx)
			db.Client.Alert.Create().SetOrganizationID(other.ID).SetTitle(fmt.Sprint("b", i)).SetSource("s").
				SetSeverity(sev).SetStatus(enum.AlertStatusClosed).SetConnectorID(cx.ID).SetCreatedAt(at).SetLastSeenAt(at).
				SetFirstSeenAt(at).SetEventTime(at.Add(-time.Hour)).SetResolvedAt(at.Add(time.Minute)).SaveX(otherCtx)
		}
		histograms := metrics.New(db.Client, db.Dialect).WithClock(func() time.Time { return base.Add(120 * time.Hour) }).WithExactUpTo(0)
		ranges := countedRanges(base, 120*time.Hour)
		check := func(t *testing.T, step string) {
			t.Helper()
			for ri, rg := range ranges {
				for _, narrow := range narrowings(c1.ID) {
					rng := func(q *string) *metrics.Range {
						return &metrics.Range{Since: &rg[0], Until: &rg[1], Connector: narrow.connector, Severity: narrow.severity, Query: q}
					}
					for _, m := range []struct {
						name string
						fn   func(context.Context, *metrics.Range, *string) (*metrics.Durations, error)
					}{{"detect", histograms.AlertMTTD}, {"resolve", histograms.AlertMTTR}} {
						got, err := m.fn(ctx, rng(nil), nil)
						if err != nil {
							t.Fatal(err)
						}
						want, err := m.fn(ctx, rng(ptr(`title != ""`)), nil)
						if err != nil {
							t.Fatal(err)
						}
						where := fmt.Sprintf("%s, range %d, %s, time to %s", step, ri, narrow.name, m.name)
						closeStats(t, where+", overall", got.Overall, want.Overall)
						for i, ss := range got.BySeverity {
							closeStats(t, where+", "+string(ss.Severity), ss.Stats, want.BySeverity[i].Stats)
						}
					}
				}
			}
		}
		check(t, "inserted")
		ids := db.Client.Alert.Query().Where(alert.OrganizationID(org.ID)).Order(ent.Asc(alert.FieldTitle)).IDsX(ctx)
		for i, id := range ids[:30] {
			db.Client.Alert.UpdateOneID(id).SetStatus(enum.AlertStatusClosed).SetResolvedAt(base.Add(100*time.Hour + time.Duration(i)*time.Minute)).ExecX(ctx)
		}
		check(t, "closed")
		if err := db.CompactAlertCounts(ctx); err != nil {
			t.Fatal(err)
		}
		db.Client.Alert.Update().Where(alert.IDIn(ids[:10]...)).SetDisposition(enum.DispositionDuplicate).ExecX(ctx)
		db.Client.Alert.Update().Where(alert.IDIn(ids[10:20]...)).SetSuppressed(true).ExecX(ctx)
		db.Client.Alert.Update().Where(alert.OrganizationID(org.ID), alert.SeverityEQ(enum.SeverityMedium)).
			SetStatus(enum.AlertStatusAcknowledged).ExecX(ctx)
		check(t, "duplicates, suppressed, reopened")
		db.Client.Alert.Delete().Where(alert.IDIn(ids[30:80]...)).ExecX(ctx)
		db.Client.Alert.Delete().Where(alert.OrganizationID(other.ID), alert.SeverityEQ(enum.SeverityLow)).ExecX(otherCtx)
		check(t, "deleted")
		if err := db.CompactAlertCounts(context.Background()); err != nil {
			t.Fatal(err)
		}
		check(t, "compacted")
	})
}

// closeStats fails unless got (from the histograms) has want's count, its
// mean to the millisecond, and its median and 90th percentile within the
// histograms' relative bound (and the millisecond of rounding).
func closeStats(t *testing.T, where string, got, want *metrics.Stats) {
	t.Helper()
	if got.Count != want.Count {
		t.Fatalf("%s: count %d, from the rows %d", where, got.Count, want.Count)
	}
	for _, f := range []struct {
		name      string
		got, want *float64
		rel       float64
	}{{"mean", got.Mean, want.Mean, 0}, {"median", got.Median, want.Median, storage.DurationError}, {"p90", got.P90, want.P90, storage.DurationError}} {
		if (f.got == nil) != (f.want == nil) {
			t.Fatalf("%s: %s %v, from the rows %v", where, f.name, f.got, f.want)
		}
		if f.got == nil {
			continue
		}
		if diff := math.Abs(*f.got - *f.want); diff > f.rel*math.Abs(*f.want)+0.0011 {
			t.Fatalf("%s: %s %.4f, from the rows %.4f (off by %.4f)", where, f.name, *f.got, *f.want, diff)
		}
	}
}

// The slots bound the error of every duration they hold, from a
// millisecond to ten years.
func TestDurationSlots(t *testing.T) {
	if got := storage.DurationSlot(0.0004); got != 0 || storage.SlotValue(0) != 0 {
		t.Fatalf("a duration under a millisecond: slot %d, value %v", got, storage.SlotValue(0))
	}
	for d := 0.001; d < 3.2e8; d *= 1.0137 {
		v := storage.SlotValue(storage.DurationSlot(d))
		if math.Abs(v-d) > storage.DurationError*d*(1+1e-9) {
			t.Fatalf("%v s: slot value %v, off by %.5f of it (bound %.5f)", d, v, math.Abs(v-d)/d, storage.DurationError)
		}
	}
}

// On the histograms, a provider's roll-up of the times to detect and
// resolve agrees with the exact one, in total and per organisation, and
// the tenancy rules hold as on the exact path: a client's user never gets
// the tree, X-Seliq-Org wins over organization=all, another tree sees its
// own rows only.
func TestRollUpFromHistograms(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := setup(t, db)
		hist := metrics.New(db.Client, db.Dialect).WithClock(func() time.Time { return now }).WithExactUpTo(0)
		all := ptr(metrics.AllOrganizations)
		for _, m := range []struct {
			name         string
			exact, histo func(context.Context, *metrics.Range, *string) (*metrics.Durations, error)
		}{{"detect", f.svc.AlertMTTD, hist.AlertMTTD}, {"resolve", f.svc.AlertMTTR, hist.AlertMTTR}} {
			for _, who := range []struct {
				name string
				ctx  context.Context
				org  *string
			}{{"provider, tree", f.providerUser, all}, {"provider", f.providerUser, nil}, {"client", f.clientUser, nil}, {"other tree", f.xUser, all}} {
				want, err := m.exact(who.ctx, rng(), who.org)
				if err != nil {
					t.Fatal(err)
				}
				got, err := m.histo(who.ctx, rng(), who.org)
				if err != nil {
					t.Fatal(err)
				}
				where := "time to " + m.name + ", " + who.name
				closeStats(t, where, got.Overall, want.Overall)
				if len(got.Organizations) != len(want.Organizations) {
					t.Fatalf("%s: %d organisation rows, exact %d", where, len(got.Organizations), len(want.Organizations))
				}
				for i, row := range got.Organizations {
					if row.Organization.ID != want.Organizations[i].Organization.ID {
						t.Fatalf("%s: row %d is %s, exact %s", where, i, row.Organization.Name, want.Organizations[i].Organization.Name)
					}
					closeStats(t, where+", "+row.Organization.Name, row.Overall, want.Organizations[i].Overall)
				}
			}
		}
		if d, err := hist.AlertMTTD(f.providerUser, rng(), all); err != nil || d.Overall.Count != 4 || len(d.Organizations) != 2 {
			t.Fatalf("the tree's time to detect counts its 4 alerts in 2 rows: %+v %v", d, err)
		}
		_, err := hist.AlertMTTD(f.clientUser, rng(), all)
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Forbidden {
			t.Errorf("client user asking for all: %v", err)
		}
		pu := testenv.User(t, db, f.provider, enum.RoleAnalyst)
		picked := userCtx(t, db, pu, f.provider, f.client.ID.String())
		d, err := hist.AlertMTTD(picked, rng(), all)
		if err != nil || d.Organizations != nil || d.Overall.Count != 1 {
			t.Errorf("X-Seliq-Org naming the client, and all: %+v %v", d, err)
		}
	})
}
