package metrics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/rule"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/metrics"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/tenancy"
)

// The fixed dataset: a provider organisation (Asia/Kolkata, +05:30) with
// one client, and an unrelated organisation; every figure below is worked
// out by hand from these rows.
var (
	now   = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	since = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	until = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
)

func at(day, hour, minute int) time.Time {
	return time.Date(2026, 11, day, hour, minute, 0, 0, time.UTC)
}
func ptr[T any](v T) *T { return &v }

type alertRow struct {
	sev         enum.Severity
	created     time.Time
	event       *time.Time
	status      enum.AlertStatus
	resolved    *time.Time
	disposition *enum.Disposition
	assigned    bool
	connector   int // 0 none, 1 or 2
}

type incidentRow struct {
	sev          enum.Severity
	created      time.Time
	acknowledged *time.Time
	status       enum.IncidentStatus
	closed       *time.Time
	disposition  *enum.Disposition
	assigned     bool
}

type fixture struct {
	db                  *storage.DB
	provider, client, x *ent.Organization
	// providerUser acts in the provider with its real tree; clientUser in
	// the client; xUser in the unrelated organisation.
	providerUser, clientUser, xUser context.Context
	c1, c2                          *ent.Connector
	u1                              *ent.User
	svc                             *metrics.Service
}

// userCtx is a user's context as the server builds it: tenancy works out
// the acting organisation and the visible tree (target: X-Seliq-Org).
func userCtx(t *testing.T, db *storage.DB, u *ent.User, home *ent.Organization, target string) context.Context {
	t.Helper()
	v := &viewer.Viewer{Kind: viewer.KindUser, UserID: u.ID, Role: u.Role, HomeOrgID: home.ID, TopLevel: home.ParentID == nil}
	if err := tenancy.Apply(context.Background(), db.Client, v, target); err != nil {
		t.Fatal(err)
	}
	return viewer.NewContext(context.Background(), v)
}

func setup(t *testing.T, db *storage.DB) *fixture {
	f := &fixture{db: db, svc: metrics.New(db.Client, db.Dialect).WithClock(func() time.Time { return now })}
	f.provider = testenv.Org(t, db, testenv.Name("Provider"))
	f.client = testenv.Org(t, db, testenv.Name("Client"), testenv.Parent(f.provider.ID))
	f.x = testenv.Org(t, db, testenv.Name("Elsewhere"))
	pAdmin, _ := testenv.UserContext(t, db, f.provider, enum.RoleAdmin)
	if err := db.Client.Organization.UpdateOneID(f.provider.ID).SetTimezone("Asia/Kolkata").Exec(pAdmin); err != nil {
		t.Fatal(err)
	}
	f.provider.ParentID = nil
	f.u1 = testenv.User(t, db, f.provider, enum.RoleAnalyst, testenv.FullName("Una Analyst"))
	f.providerUser = userCtx(t, db, testenv.User(t, db, f.provider, enum.RoleReadOnly), f.provider, "")
	f.clientUser = userCtx(t, db, testenv.User(t, db, f.client, enum.RoleAdmin), f.client, "")
	f.xUser = userCtx(t, db, testenv.User(t, db, f.x, enum.RoleAdmin), f.x, "")
	f.c1, _ = testenv.Connector(t, db, f.provider, "generic", func(c *ent.ConnectorCreate) { c.SetName("Relay one") })
	f.c2, _ = testenv.Connector(t, db, f.provider, "generic", func(c *ent.ConnectorCreate) { c.SetName("Relay two") })

	dup, fp, tp := enum.DispositionDuplicate, enum.DispositionFalsePositive, enum.DispositionTruePositive
	f.alerts(t, pAdmin, []alertRow{
		// a1: detect 120 s, open, unassigned.
		{sev: enum.SeverityCritical, created: at(24, 10, 0), event: ptr(at(24, 9, 58)), status: enum.AlertStatusNew, connector: 1},
		// a2: detect 600 s, resolved after 3600 s.
		{sev: enum.SeverityHigh, created: at(24, 10, 30), event: ptr(at(24, 10, 20)), status: enum.AlertStatusResolved, resolved: ptr(at(24, 11, 30)), assigned: true, connector: 1},
		// a3: closed as a duplicate: no time to resolve; no event time.
		{sev: enum.SeverityHigh, created: at(25, 0, 0), status: enum.AlertStatusClosed, resolved: ptr(at(25, 0, 1)), disposition: &dup, assigned: true},
		// a4: detect 3600 s, closed after 7200 s.
		{sev: enum.SeverityMedium, created: at(26, 5, 0), event: ptr(at(26, 4, 0)), status: enum.AlertStatusClosed, resolved: ptr(at(26, 7, 0)), disposition: &fp, connector: 2},
		// a5: created before the range, resolved in it after 4 days.
		{sev: enum.SeverityLow, created: at(20, 0, 0), status: enum.AlertStatusResolved, resolved: ptr(at(24, 0, 0))},
		// a6: event time after creation: no time to detect.
		{sev: enum.SeverityHigh, created: at(27, 12, 0), event: ptr(at(27, 12, 5)), status: enum.AlertStatusInProgress},
		// a7: after the range; open and unassigned now.
		{sev: enum.SeverityInfo, created: at(30, 1, 0), status: enum.AlertStatusNew},
		// a8 00:15 local on the 26th (18:45 UTC on the 25th); a9 23:45 local on the 25th.
		{sev: enum.SeverityMedium, created: at(25, 18, 45), status: enum.AlertStatusNew},
		{sev: enum.SeverityMedium, created: at(25, 18, 15), status: enum.AlertStatusNew},
	})
	f.incidents(t, pAdmin, []incidentRow{
		{sev: enum.SeverityHigh, created: at(24, 10, 0), acknowledged: ptr(at(24, 10, 15)), status: enum.IncidentStatusClosed, closed: ptr(at(24, 14, 0)), disposition: &tp, assigned: true},
		{sev: enum.SeverityCritical, created: at(25, 0, 0), acknowledged: ptr(at(25, 0, 5)), status: enum.IncidentStatusInProgress},
		{sev: enum.SeverityMedium, created: at(26, 0, 0), status: enum.IncidentStatusClosed, closed: ptr(at(26, 1, 0)), disposition: &dup},
	})
	cAdmin, _ := testenv.UserContext(t, db, f.client, enum.RoleAdmin)
	f.alerts(t, cAdmin, []alertRow{
		{sev: enum.SeverityCritical, created: at(24, 12, 0), event: ptr(at(24, 11, 0)), status: enum.AlertStatusResolved, resolved: ptr(at(24, 13, 0))},
		{sev: enum.SeverityLow, created: at(28, 0, 0), status: enum.AlertStatusNew},
	})
	f.incidents(t, cAdmin, []incidentRow{{sev: enum.SeverityLow, created: at(26, 0, 0), status: enum.IncidentStatusNew}})
	xAdmin, _ := testenv.UserContext(t, db, f.x, enum.RoleAdmin)
	f.alerts(t, xAdmin, []alertRow{
		{sev: enum.SeverityCritical, created: at(24, 1, 0), event: ptr(at(24, 0, 0)), status: enum.AlertStatusResolved, resolved: ptr(at(24, 2, 0))},
		{sev: enum.SeverityCritical, created: at(24, 3, 0), status: enum.AlertStatusNew},
	})
	f.incidents(t, xAdmin, []incidentRow{{sev: enum.SeverityCritical, created: at(24, 0, 0), status: enum.IncidentStatusNew}})
	return f
}

func (f *fixture) alerts(t *testing.T, ctx context.Context, rows []alertRow) {
	t.Helper()
	for i, r := range rows {
		c := f.db.Client.Alert.Create().SetTitle(fmt.Sprint("alert ", i)).SetSource("test").SetSeverity(r.sev).
			SetStatus(r.status).SetCreatedAt(r.created).SetLastSeenAt(r.created).SetFirstSeenAt(r.created).
			SetNillableEventTime(r.event).SetNillableResolvedAt(r.resolved).SetNillableDisposition(r.disposition)
		if r.assigned {
			c.SetAssigneeID(f.u1.ID)
		}
		switch r.connector {
		case 1:
			c.SetConnectorID(f.c1.ID)
		case 2:
			c.SetConnectorID(f.c2.ID)
		}
		if err := c.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) incidents(t *testing.T, ctx context.Context, rows []incidentRow) {
	t.Helper()
	for i, r := range rows {
		c := f.db.Client.Incident.Create().SetTitle(fmt.Sprint("incident ", i)).SetNumber(i + 1).SetSeverity(r.sev).
			SetStatus(r.status).SetCreatedAt(r.created).SetNillableAcknowledgedAt(r.acknowledged).
			SetNillableClosedAt(r.closed).SetNillableDisposition(r.disposition)
		if r.assigned {
			c.SetAssigneeID(f.u1.ID)
		}
		if err := c.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func rng(mod ...func(*metrics.Range)) *metrics.Range {
	r := &metrics.Range{Since: ptr(since), Until: ptr(until)}
	for _, m := range mod {
		m(r)
	}
	return r
}

// values renders a breakdown as "key:count" (names for ids).
func values(b *metrics.Breakdown) string {
	var out []string
	for _, v := range b.Values {
		out = append(out, fmt.Sprintf("%s:%d", v.Name, v.Count))
	}
	return strings.Join(out, " ")
}

func stats(s *metrics.Stats) string {
	f := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprint(*v)
	}
	return fmt.Sprintf("n=%d mean=%s median=%s p90=%s", s.Count, f(s.Mean), f(s.Median), f(s.P90))
}

func sevStats(d *metrics.Durations) string {
	var out []string
	for _, s := range d.BySeverity {
		if s.Stats.Count > 0 {
			out = append(out, string(s.Severity)+"{"+stats(s.Stats)+"}")
		}
	}
	return strings.Join(out, " ")
}

func TestMetricsOnAFixedDataset(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := setup(t, db)
		ctx, svc := f.providerUser, f.svc
		check := func(what, got, want string) {
			t.Helper()
			if got != want {
				t.Errorf("%s:\n got %s\nwant %s", what, got, want)
			}
		}
		breakdowns := []struct {
			name, field string
			r           *metrics.Range
			want        string
		}{
			{"by severity", "severity", rng(), "critical:1 high:3 medium:3"},
			{"by status", "status", rng(), "new:3 closed:2 in_progress:1 resolved:1"},
			{"by connector", "connector", rng(), ":4 Relay one:2 Relay two:1"},
			{"by assignee", "assignee", rng(), ":5 Una Analyst:2"},
			{"connector narrowing", "severity", rng(func(r *metrics.Range) { r.Connector = &f.c1.ID }), "critical:1 high:1"},
			{"severity narrowing", "status", rng(func(r *metrics.Range) { r.Severity = []enum.Severity{enum.SeverityMedium} }), "new:2 closed:1"},
			{"query narrowing", "severity", rng(func(r *metrics.Range) { r.Query = ptr(`status == "new"`) }), "critical:1 medium:2"},
		}
		for _, b := range breakdowns {
			got, err := svc.AlertsBy(ctx, b.field, b.r, nil)
			if err != nil {
				t.Fatalf("%s: %v", b.name, err)
			}
			check(b.name, values(got), b.want)
			if got.Organizations != nil {
				t.Errorf("%s: organisation rows without organization=all", b.name)
			}
		}

		vol, err := svc.AlertVolume(ctx, rng(), ptr("1d"), nil)
		if err != nil {
			t.Fatal(err)
		}
		kolkata, _ := time.LoadLocation("Asia/Kolkata")
		var counts []string
		for _, b := range vol.Buckets {
			counts = append(counts, fmt.Sprint(b.Count))
		}
		check("daily volume", strings.Join(counts, ","), "0,2,2,2,1,0,0,0")
		if vol.TimeZone != "Asia/Kolkata" || vol.Total != 7 || !vol.Buckets[0].Start.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, kolkata)) {
			t.Errorf("volume: zone %s total %d first %s", vol.TimeZone, vol.Total, vol.Buckets[0].Start)
		}
		if b := vol.Buckets[1].BySeverity; len(b) != 5 || b[0].Severity != enum.SeverityCritical || b[0].Count != 1 || b[1].Count != 1 || b[4].Count != 0 {
			t.Errorf("split by severity of the 24th: %+v %+v", b[0], b[1])
		}
		// Hourly: a8 at 00:15 local falls in the 00:00 bucket of the 26th, a
		// half-hour bucket boundary UTC slots alone would miss.
		vol, err = svc.AlertVolume(ctx, rng(), ptr("1h"), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range vol.Buckets {
			lt := b.Start.In(kolkata)
			if lt.Day() == 26 && lt.Hour() == 0 && b.Count != 1 {
				t.Errorf("00:00 local on the 26th: %d", b.Count)
			}
			if lt.Day() == 25 && lt.Hour() == 23 && b.Count != 1 {
				t.Errorf("23:00 local on the 25th: %d", b.Count)
			}
		}
		if vol.Total != 7 || len(vol.Buckets) != 7*24+1 {
			t.Errorf("hourly: total %d, %d buckets", vol.Total, len(vol.Buckets))
		}
		vol, err = svc.AlertVolume(ctx, rng(), nil, nil)
		if err != nil || vol.Interval != "1h" {
			t.Errorf("auto interval over 7 days: %v %v", vol.Interval, err)
		}

		// The slot counters and the scan agree, whole quarter hours or not:
		// a query narrowing takes the scan; ranges cut quarter hours.
		for _, r := range []*metrics.Range{rng(), {Since: ptr(at(24, 10, 7)), Until: ptr(at(25, 18, 50))}, {Since: ptr(at(24, 10, 0)), Until: ptr(at(24, 10, 10))}} {
			for _, iv := range []string{"15m", "1h", "1d"} {
				counted, err := svc.AlertVolume(ctx, r, &iv, nil)
				if err != nil {
					t.Fatal(err)
				}
				sr := *r
				sr.Query = ptr(`title != ""`)
				scanned, err := svc.AlertVolume(ctx, &sr, &iv, nil)
				if err != nil {
					t.Fatal(err)
				}
				if a, b := volumeString(counted), volumeString(scanned); a != b {
					t.Errorf("%s from %s: counters %s, scan %s", iv, r.Since, a, b)
				}
			}
		}

		mttd, err := svc.AlertMTTD(ctx, rng(), nil)
		if err != nil {
			t.Fatal(err)
		}
		check("mttd", stats(mttd.Overall), "n=3 mean=1440 median=600 p90=3000")
		check("mttd by severity", sevStats(mttd), "critical{n=1 mean=120 median=120 p90=120} high{n=1 mean=600 median=600 p90=600} medium{n=1 mean=3600 median=3600 p90=3600}")
		mttr, err := svc.AlertMTTR(ctx, rng(), nil)
		if err != nil {
			t.Fatal(err)
		}
		check("mttr", stats(mttr.Overall), "n=3 mean=118800 median=7200 p90=277920")
		check("mttr by severity", sevStats(mttr), "high{n=1 mean=3600 median=3600 p90=3600} medium{n=1 mean=7200 median=7200 p90=7200} low{n=1 mean=345600 median=345600 p90=345600}")

		n, err := svc.UnassignedAlertCount(ctx, rng(), nil)
		if err != nil || n.Count != 5 {
			t.Errorf("unassigned now: %+v %v", n, err)
		}
		ib, err := svc.IncidentsBy(ctx, "status", rng(), nil)
		if err != nil {
			t.Fatal(err)
		}
		check("incidents by status", values(ib), "closed:2 in_progress:1")
		ib, err = svc.IncidentsBy(ctx, "assignee", rng(), nil)
		if err != nil {
			t.Fatal(err)
		}
		check("incidents by assignee", values(ib), ":2 Una Analyst:1")
		n, err = svc.OpenIncidentCount(ctx, rng(), nil)
		if err != nil || n.Count != 1 {
			t.Errorf("open incidents: %+v %v", n, err)
		}
		tta, err := svc.IncidentTimeToAcknowledge(ctx, rng(), nil)
		if err != nil {
			t.Fatal(err)
		}
		check("time to acknowledge", stats(tta.Overall), "n=2 mean=600 median=600 p90=840")
		ttr, err := svc.IncidentTimeToResolve(ctx, rng(), nil)
		if err != nil {
			t.Fatal(err)
		}
		check("time to resolve incidents", stats(ttr.Overall), "n=1 mean=14400 median=14400 p90=14400")

		sum, err := svc.Summary(ctx, rng(), nil)
		if err != nil {
			t.Fatal(err)
		}
		check("summary", summaryString(sum),
			"created 7/1 resolved 3/0 incidents 3/0 closed 1/0 mttd 600/- mttr 7200/- ack 600/- resolve 14400/- open 5 unassigned 5 incidents 1")
		if !sum.PreviousSince.Equal(since.Add(-7 * 24 * time.Hour)) {
			t.Errorf("previous period from %s", sum.PreviousSince)
		}
	})
}

func cmp(c *metrics.Comparison) string {
	f := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprint(*v)
	}
	return f(c.Current) + "/" + f(c.Previous)
}

func summaryString(s *metrics.Summary) string {
	return fmt.Sprintf("created %s resolved %s incidents %s closed %s mttd %s mttr %s ack %s resolve %s open %d unassigned %d incidents %d",
		cmp(s.AlertsCreated), cmp(s.AlertsResolved), cmp(s.IncidentsCreated), cmp(s.IncidentsClosed), cmp(s.MttdMedian),
		cmp(s.MttrMedian), cmp(s.IncidentAckMedian), cmp(s.IncidentResolveMedian), s.OpenAlerts, s.UnassignedAlerts, s.OpenIncidents)
}

// TestProviderRollUp: organization=all gives the provider's user a total
// over its tree and a row per organisation, never the other tree's rows;
// a client's user is refused; X-Seliq-Org wins over all.
func TestProviderRollUp(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := setup(t, db)
		all := ptr(metrics.AllOrganizations)
		by, err := f.svc.AlertsBy(f.providerUser, "severity", rng(), all)
		if err != nil {
			t.Fatal(err)
		}
		if got := values(by); got != "critical:2 high:3 medium:3 low:1" || by.Total != 9 {
			t.Errorf("tree total: %s (%d)", got, by.Total)
		}
		if len(by.Organizations) != 2 || by.Organizations[0].Organization.ID != f.provider.ID || by.Organizations[0].Total != 7 ||
			by.Organizations[1].Organization.ID != f.client.ID || values(by.Organizations[1]) != "critical:1 low:1" {
			t.Fatalf("rows: %+v", by.Organizations)
		}
		mttd, err := f.svc.AlertMTTD(f.providerUser, rng(), all)
		if err != nil {
			t.Fatal(err)
		}
		if got := stats(mttd.Overall); got != "n=4 mean=1980 median=2100 p90=3600" {
			t.Errorf("tree mttd: %s", got)
		}
		if got := stats(mttd.Organizations[1].Overall); got != "n=1 mean=3600 median=3600 p90=3600" {
			t.Errorf("client mttd: %s", got)
		}
		vol, err := f.svc.AlertVolume(f.providerUser, rng(), ptr("1d"), all)
		if err != nil {
			t.Fatal(err)
		}
		var counts []string
		for _, b := range vol.Buckets {
			counts = append(counts, fmt.Sprint(b.Count))
		}
		// The client's rows in the provider's buckets (Asia/Kolkata).
		if got := strings.Join(counts, ","); got != "0,3,2,2,1,1,0,0" || vol.Organizations[1].Total != 2 {
			t.Errorf("tree volume: %s, client %d", got, vol.Organizations[1].Total)
		}
		n, err := f.svc.UnassignedAlertCount(f.providerUser, rng(), all)
		if err != nil || n.Count != 6 || n.Organizations[0].Count != 5 || n.Organizations[1].Count != 1 {
			t.Errorf("tree unassigned: %+v %v", n, err)
		}
		sum, err := f.svc.Summary(f.providerUser, rng(), all)
		if err != nil || *sum.AlertsCreated.Current != 9 || len(sum.Organizations) != 2 || *sum.Organizations[1].AlertsCreated.Current != 2 {
			t.Errorf("tree summary: %v", err)
		}

		// A client organisation's user never gets the tree.
		_, err = f.svc.AlertsBy(f.clientUser, "severity", rng(), all)
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Forbidden {
			t.Errorf("client user asking for all: %v", err)
		}
		// X-Seliq-Org names the client: it wins over all.
		pu := testenv.User(t, db, f.provider, enum.RoleAnalyst)
		picked := userCtx(t, db, pu, f.provider, f.client.ID.String())
		by, err = f.svc.AlertsBy(picked, "severity", rng(), all)
		if err != nil || values(by) != "critical:1 low:1" || by.Organizations != nil {
			t.Errorf("X-Seliq-Org and all: %s %v", values(by), err)
		}
		// Naming the provider itself is still a named scope: its own rows.
		picked = userCtx(t, db, pu, f.provider, f.provider.ID.String())
		by, err = f.svc.AlertsBy(picked, "severity", rng(), all)
		if err != nil || by.Total != 7 || by.Organizations != nil {
			t.Errorf("X-Seliq-Org naming the provider and all: %d %v", by.Total, err)
		}
		// The other tree sees its own rows only, and cannot roll up.
		by, err = f.svc.AlertsBy(f.xUser, "severity", rng(), nil)
		if err != nil || values(by) != "critical:2" {
			t.Errorf("other tree: %s %v", values(by), err)
		}
		by, err = f.svc.AlertsBy(f.xUser, "severity", rng(), all)
		if err != nil || values(by) != "critical:2" || len(by.Organizations) != 1 {
			t.Errorf("other tree's own roll-up: %s %v", values(by), err)
		}
	})
}

func TestMetricsValidation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := setup(t, db)
		ctx := f.providerUser
		cases := []struct {
			name  string
			call  func() error
			field string
			code  apperr.Code
		}{
			{"bad interval", func() error { _, err := f.svc.AlertVolume(ctx, rng(), ptr("7m"), nil); return err }, "interval", apperr.BadInput},
			{"since after until", func() error {
				_, err := f.svc.AlertsBy(ctx, "status", &metrics.Range{Since: ptr(until), Until: ptr(since)}, nil)
				return err
			}, "until", apperr.BadInput},
			{"range too long", func() error {
				_, err := f.svc.AlertsBy(ctx, "status", &metrics.Range{Since: ptr(since.AddDate(-2, 0, 0)), Until: ptr(until)}, nil)
				return err
			}, "since", apperr.BadInput},
			{"too many buckets", func() error {
				_, err := f.svc.AlertVolume(ctx, &metrics.Range{Since: ptr(since.AddDate(0, -6, 0)), Until: ptr(until)}, ptr("5m"), nil)
				return err
			}, "interval", apperr.QueryTooExpensive},
			{"bad query", func() error {
				_, err := f.svc.AlertMTTR(ctx, rng(func(r *metrics.Range) { r.Query = ptr("nope ==") }), nil)
				return err
			}, "query", apperr.BadInput},
			{"alert-only query for incidents", func() error {
				_, err := f.svc.IncidentsBy(ctx, "status", rng(func(r *metrics.Range) { r.Query = ptr(`source == "x"`) }), nil)
				return err
			}, "query", apperr.BadInput},
			{"connector for incidents", func() error {
				_, err := f.svc.OpenIncidentCount(ctx, rng(func(r *metrics.Range) { r.Connector = &f.c1.ID }), nil)
				return err
			}, "connector", apperr.BadInput},
			{"bad severity", func() error {
				_, err := f.svc.AlertsBy(ctx, "status", rng(func(r *metrics.Range) { r.Severity = []enum.Severity{"urgent"} }), nil)
				return err
			}, "severity", apperr.BadInput},
			{"bad organization", func() error { _, err := f.svc.AlertsBy(ctx, "status", rng(), ptr("everyone")); return err }, "organization", apperr.BadInput},
			{"no viewer", func() error { _, err := f.svc.Summary(context.Background(), rng(), nil); return err }, "", apperr.Unauthenticated},
		}
		for _, c := range cases {
			err := c.call()
			e, ok := apperr.As(err)
			if !ok || e.Code != c.code || e.Field != c.field {
				t.Errorf("%s: %v, want %s on %q", c.name, err, c.code, c.field)
			}
		}
	})
}

// TestTreeViewerIsReadOnlyAndNarrow: the roll-up's viewer writes nothing
// and reads no entity but alerts and incidents beyond its organisation.
func TestTreeViewerIsReadOnlyAndNarrow(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := setup(t, db)
		tree, orgs, ok := viewer.ForTree(f.providerUser)
		if !ok || len(orgs) != 2 {
			t.Fatalf("provider user's tree: %v %v", ok, orgs)
		}
		if n := db.Client.Alert.Query().CountX(tree); n != 13-2 {
			t.Errorf("alerts read across the tree: %d", n)
		}
		users, err := db.Client.User.Query().All(tree)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if u.OrganizationID != f.provider.ID {
				t.Errorf("tree viewer read a user of %s", u.OrganizationID)
			}
		}
		if _, err := db.Client.Alert.Update().SetTitle("x").Save(tree); err == nil {
			t.Error("tree viewer updated alerts")
		}
		if err := db.Client.Alert.Create().SetTitle("x").SetSource("s").Exec(tree); err == nil {
			t.Error("tree viewer created an alert")
		}
		in := viewer.InTree(tree, f.client.ID)
		if n := db.Client.Alert.Query().CountX(in); n != 2 {
			t.Errorf("one organisation of the tree: %d alerts", n)
		}
		if viewer.InTree(tree, f.x.ID) != nil {
			t.Error("InTree reached outside the tree")
		}
		// A viewer forged with a tree beyond its subtree reads nothing.
		v := *viewer.FromContext(tree)
		v.Tree = append(v.Tree, f.x.ID)
		forged := viewer.NewContext(context.Background(), &v)
		if _, err := db.Client.Alert.Query().Count(forged); err == nil {
			t.Error("a tree reaching another organisation was let through")
		}
		// The hand-written counter reads refuse it the same way.
		if _, err := rule.ReadableOrgs(forged); err == nil {
			t.Error("ReadableOrgs let a forged tree through")
		}
		if orgs, err := rule.ReadableOrgs(tree); err != nil || len(orgs) != 2 {
			t.Errorf("ReadableOrgs of the tree: %v %v", orgs, err)
		}
		if orgs, err := rule.ReadableOrgs(f.xUser); err != nil || len(orgs) != 1 || orgs[0] != f.x.ID {
			t.Errorf("ReadableOrgs of one organisation: %v %v", orgs, err)
		}
		if _, _, ok := viewer.ForTree(f.clientUser); ok {
			t.Error("a client's user got a tree")
		}
	})
}

func volumeString(v *metrics.Volume) string {
	var out []string
	for _, b := range v.Buckets {
		if b.Count > 0 {
			out = append(out, fmt.Sprintf("%s=%d", b.Start.Format(time.RFC3339), b.Count))
		}
	}
	return fmt.Sprintf("%d buckets, total %d: %s", len(v.Buckets), v.Total, strings.Join(out, " "))
}

// Alerts automation suppressed are closed without work: left out of the
// time to resolve like duplicates.
func TestMTTRLeavesOutSuppressed(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db)
		ctx, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
		now := time.Now().UTC().Truncate(time.Second)
		benign := enum.DispositionBenign
		for _, suppressed := range []bool{false, true} {
			created := now.Add(-2 * time.Hour)
			resolved := created.Add(time.Hour)
			if suppressed {
				resolved = created.Add(time.Second)
			}
			if err := db.Client.Alert.Create().SetTitle("a").SetSource("test").SetStatus(enum.AlertStatusClosed).
				SetDisposition(benign).SetCreatedAt(created).SetResolvedAt(resolved).SetSuppressed(suppressed).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		since := now.Add(-24 * time.Hour)
		mttr, err := metrics.New(db.Client, db.Dialect).AlertMTTR(ctx, &metrics.Range{Since: &since, Until: &now}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if mttr.Overall.Count != 1 || *mttr.Overall.Mean != 3600 {
			t.Fatalf("mttr %+v, want the one alert resolved by work (3600 s)", mttr.Overall)
		}
	})
}
