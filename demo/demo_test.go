package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/dashboard"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	entanalysis "github.com/seliq/seliq/ent/analysis"
	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/metrics"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/sla"
	"github.com/seliq/seliq/storage"
)

var (
	testNow  = time.Date(2024, 5, 15, 12, 0, 0, 0, time.UTC)
	testSpan = 14 * 24 * time.Hour
)

// severityShares counts the severities of alerts as fractions.
func severityShares(as []catalogue.Alert) map[enum.Severity]float64 {
	out := map[enum.Severity]float64{}
	for _, a := range as {
		out[a.Severity] += 1 / float64(len(as))
	}
	return out
}

// Every generated body of every vendor maps with its catalogue type into
// exactly the alerts generated, with the vendor as source, event times in
// the window and a severity spread in which most alerts are not urgent.
func TestPayloadsMap(t *testing.T) {
	tests := []struct {
		vendor     string
		severities int // distinct severities expected at least
		attribute  string
	}{
		{"crowdstrike", 5, catalogue.AttrHost},
		{"sentinelone", 2, catalogue.AttrHost},
		{"defender", 4, catalogue.AttrRule},
		{"wazuh", 5, catalogue.AttrHost},
		{"suricata", 3, catalogue.AttrSrcIP},
		{"alertmanager", 3, catalogue.AttrRule},
		{"elastic", 4, catalogue.AttrRule},
		{"splunk", 5, catalogue.AttrRule},
		{"email", 5, catalogue.AttrEmailFrom},
	}
	if got, want := len(tests), len(Vendors()); got != want {
		t.Fatalf("table covers %d vendors, demo has %d", got, want)
	}
	const n = 600
	for i, tt := range tests {
		t.Run(tt.vendor, func(t *testing.T) {
			body, err := Payloads(tt.vendor, rand.New(rand.NewPCG(uint64(i), 7)), n, testNow, testSpan)
			if err != nil {
				t.Fatal(err)
			}
			as, err := catalogue.Map(tt.vendor, body)
			if err != nil {
				t.Fatalf("catalogue.Map: %v", err)
			}
			if len(as) != n {
				t.Fatalf("mapped %d alerts, generated %d", len(as), n)
			}
			for _, a := range as {
				if a.Source != tt.vendor || a.Title == "" || a.ExternalID == "" {
					t.Fatalf("alert source %q title %q external id %q", a.Source, a.Title, a.ExternalID)
				}
				if a.EventTime == nil || a.EventTime.After(testNow) || !a.EventTime.After(testNow.Add(-testSpan)) {
					t.Fatalf("event time %v outside (%v, %v]", a.EventTime, testNow.Add(-testSpan), testNow)
				}
				if a.Attributes[tt.attribute] == "" {
					t.Fatalf("%q has no %s attribute: %v", a.Title, tt.attribute, a.Attributes)
				}
			}
			sh := severityShares(as)
			if len(sh) < tt.severities {
				t.Errorf("severities %v: want at least %d distinct", sh, tt.severities)
			}
			if sh[enum.SeverityCritical] > 0.10 {
				t.Errorf("critical share %.2f > 0.10", sh[enum.SeverityCritical])
			}
			if urgent := sh[enum.SeverityCritical] + sh[enum.SeverityHigh]; urgent >= 0.4 {
				t.Errorf("critical+high share %.2f; want most alerts medium or below (%v)", urgent, sh)
			}
		})
	}
}

func TestUnknownVendor(t *testing.T) {
	if _, err := Payloads("nope", rand.New(rand.NewPCG(1, 1)), 1, testNow, testSpan); err == nil {
		t.Fatal("want an error for an unknown vendor")
	}
	if _, ok := ConnectorName("nope"); ok {
		t.Fatal("ConnectorName of an unknown vendor")
	}
	if name, ok := ConnectorName("crowdstrike"); !ok || name != "Demo CrowdStrike" {
		t.Fatalf("ConnectorName(crowdstrike) = %q, %v", name, ok)
	}
}

// drain returns every batch of a plan.
func drain(t *testing.T, p *Plan) []Batch {
	t.Helper()
	var out []Batch
	for {
		b, ok, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, b)
	}
}

// A plan sends every alert once, in batches of at most the batch size with
// about RepeatPercent % repeats, from every vendor, each body mapping; the
// whole mix keeps critical and high alerts few.
func TestPlan(t *testing.T) {
	tests := []struct {
		name         string
		alerts, size int
	}{
		{"default batches", 3000, 200},
		{"small batches", 500, 20},
		{"fewer alerts than vendors", 5, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batches := drain(t, NewPlan(rand.New(rand.NewPCG(1, 1)), testNow, tt.alerts, testSpan, tt.size))
			fresh, repeats := 0, 0
			vendorsSeen := map[string]bool{}
			var all []catalogue.Alert
			for _, b := range batches {
				fresh += b.Fresh
				repeats += b.Repeats
				vendorsSeen[b.Vendor] = true
				if b.Fresh+b.Repeats > tt.size {
					t.Fatalf("batch of %d alerts, size %d", b.Fresh+b.Repeats, tt.size)
				}
				as, err := catalogue.Map(b.Vendor, b.Body)
				if err != nil {
					t.Fatalf("%s batch: %v", b.Vendor, err)
				}
				if len(as) != b.Fresh+b.Repeats {
					t.Fatalf("%s batch maps to %d alerts, planned %d+%d", b.Vendor, len(as), b.Fresh, b.Repeats)
				}
				all = append(all, as...)
			}
			if fresh != tt.alerts {
				t.Errorf("sent %d fresh alerts, want %d", fresh, tt.alerts)
			}
			if tt.alerts < len(vendors) {
				return
			}
			if len(vendorsSeen) != len(vendors) {
				t.Errorf("vendors %v: want all %d", vendorsSeen, len(vendors))
			}
			if share := float64(repeats) / float64(fresh+repeats); share < 0.12 || share > 0.18 {
				t.Errorf("repeats are %.3f of deliveries, want about %d%%", share, RepeatPercent)
			}
			sh := severityShares(all)
			if sh[enum.SeverityCritical] > 0.05 || sh[enum.SeverityHigh] > 0.2 || sh[enum.SeverityMedium]+sh[enum.SeverityLow] < 0.6 || sh[enum.SeverityInfo] == 0 {
				t.Errorf("severity mix %v: want few critical, many medium/low", sh)
			}
		})
	}
}

// The same seed and clock give the same bodies; another seed does not.
func TestPlanDeterministic(t *testing.T) {
	bodies := func(seed uint64) [][]byte {
		var out [][]byte
		for _, b := range drain(t, NewPlan(rand.New(rand.NewPCG(seed, 1)), testNow, 400, testSpan, 100)) {
			out = append(out, b.Body)
		}
		return out
	}
	a, b, c := bodies(1), bodies(1), bodies(2)
	if !slices.EqualFunc(a, b, bytes.Equal) {
		t.Error("same seed gave different bodies")
	}
	if slices.EqualFunc(a, c, bytes.Equal) {
		t.Error("different seeds gave the same bodies")
	}
}

// Only the times depend on the clock: the same seed names the same
// detections, hosts and ids whenever it runs.
func TestPayloadsClockIndependent(t *testing.T) {
	ids := func(now time.Time) []string {
		body, err := Payloads("crowdstrike", rand.New(rand.NewPCG(9, 9)), 200, now, testSpan)
		if err != nil {
			t.Fatal(err)
		}
		as, err := catalogue.Map("crowdstrike", body)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = a.ExternalID + " " + a.Title + " " + a.Attributes[catalogue.AttrHost]
		}
		return out
	}
	if a, b := ids(testNow), ids(testNow.Add(77*time.Hour+13*time.Minute)); !slices.Equal(a, b) {
		t.Error("alerts differ beyond their times when the clock does")
	}
}

func TestOptionsInvalid(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		field string
	}{
		{"negative alerts", Options{Alerts: -1}, "alerts"},
		{"too many alerts", Options{Alerts: maxAlerts + 1}, "alerts"},
		{"negative days", Options{Days: -3}, "days"},
		{"huge batch", Options{BatchSize: maxBatchSize + 1}, "batch_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.opts.withDefaults()
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != apperr.BadInput || ae.Field != tt.field {
				t.Fatalf("err = %#v, want bad input on %s", err, tt.field)
			}
		})
	}
}

// Run fills a fresh database through the real pipeline: hundreds of alerts
// from every connector, some merged, some triaged; a second run adds
// alerts but no connectors.
func TestRun(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		sys := auth.System(ctx)
		sum, err := Run(ctx, db, Options{Alerts: 300, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		sum.Print(&out)
		t.Log(out.String())
		if !sum.Bootstrap.Created || sum.Bootstrap.Password == "" {
			t.Errorf("first run should create the bootstrap admin: %+v", sum.Bootstrap)
		}
		list, err := db.Client.Alert.Query().All(sys)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) < 250 || len(list) != sum.Created {
			t.Fatalf("%d alerts stored, %d reported created; want ≥ 250 and equal", len(list), sum.Created)
		}
		if sum.Sent != sum.Created+sum.Merged || sum.DeadLetters != 0 || sum.Merged < sum.Repeats {
			t.Errorf("sent %d = created %d + merged %d? repeats %d, dead letters %d", sum.Sent, sum.Created, sum.Merged, sum.Repeats, sum.DeadLetters)
		}
		// Every created alert waits for its analysis, queued for a server.
		pending, err := db.Client.Analysis.Query().Where(entanalysis.StatusEQ(enum.JobStatusPending), entanalysis.AlertIDNotNil()).Count(sys)
		if err != nil {
			t.Fatal(err)
		}
		// One job per analysis, or batches of them.
		var queued int
		args := "args"
		if db.Dialect == dialect.SQLite {
			args = "json(args)" // River's SQLite driver stores JSONB
		}
		rows, err := db.SQL.QueryContext(ctx, "SELECT kind, "+args+" FROM river_job WHERE kind IN ('analysis.run', 'analysis.batch') AND state = 'available'")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var kind string
			var args []byte
			if err := rows.Scan(&kind, &args); err != nil {
				t.Fatal(err)
			}
			var batch struct {
				AnalysisIDs []string `json:"analysis_ids"`
			}
			if err := json.Unmarshal(args, &batch); err != nil {
				t.Fatal(err)
			}
			queued += max(1, len(batch.AnalysisIDs))
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if pending != sum.Created || queued != sum.Created {
			t.Errorf("%d pending analyses and %d queued jobs for %d created alerts; want one each", pending, queued, sum.Created)
		}
		incs, err := db.Client.Incident.Query().WithAlerts().All(sys)
		if err != nil {
			t.Fatal(err)
		}
		if len(incs) == 0 || len(incs) != sum.Incidents {
			t.Fatalf("%d incidents stored, %d reported; want some, and equal", len(incs), sum.Incidents)
		}
		for _, inc := range incs {
			if len(inc.Edges.Alerts) == 0 || inc.AlertCount != len(inc.Edges.Alerts) || inc.Status == enum.IncidentStatusNew || inc.AcknowledgedAt == nil {
				t.Errorf("incident #%d %q: %d alerts (count %d), status %s", inc.Number, inc.Title, len(inc.Edges.Alerts), inc.AlertCount, inc.Status)
			}
		}
		sources := map[string]int{}
		var merged, closed, acked, assigned, badClosed int
		for _, a := range list {
			sources[a.Source]++
			if a.Occurrences > 1 {
				merged++
			}
			switch a.Status {
			case enum.AlertStatusClosed:
				closed++
				if a.Disposition == nil || a.ResolvedAt == nil {
					badClosed++
				}
			case enum.AlertStatusAcknowledged:
				acked++
			}
			if a.AssigneeID != nil {
				assigned++
			}
			if a.OrganizationID != sum.OrganizationID || a.ConnectorID == nil {
				t.Fatalf("alert %s in org %s connector %v", a.ID, a.OrganizationID, a.ConnectorID)
			}
		}
		if len(sources) < 6 {
			t.Errorf("sources %v: want at least 6", sources)
		}
		if merged == 0 {
			t.Error("no alert has more than one occurrence")
		}
		if badClosed > 0 {
			t.Errorf("%d closed alerts lack a disposition or resolved_at", badClosed)
		}
		n := float64(len(list))
		for _, c := range []struct {
			what        string
			got         int
			want, tol   float64
			fromSummary int
		}{
			{"closed", closed, 0.30, 0.08, sum.Triage.ClosedTotal()},
			{"acknowledged", acked, 0.20, 0.07, sum.Triage.Acknowledged},
			{"assigned", assigned, 0.25, 0.08, sum.Triage.Assigned},
		} {
			if share := float64(c.got) / n; share < c.want-c.tol || share > c.want+c.tol || c.got != c.fromSummary {
				t.Errorf("%s: %d (%.2f of %d; summary %d), want about %.2f", c.what, c.got, share, len(list), c.fromSummary, c.want)
			}
		}
		statusActivity, err := db.Client.Activity.Query().Where(activity.EntityType("alert"), activity.Field("status"), activity.ActorID(theAdmin(t, db, sum).ID)).Count(sys)
		if err != nil {
			t.Fatal(err)
		}
		if statusActivity != closed+acked {
			t.Errorf("%d status activity entries by the admin, want %d", statusActivity, closed+acked)
		}

		// The demo dashboards: every widget answers, the MSSP one's sla
		// widgets with a row per organisation of the tree.
		if sum.Dashboards != 2 {
			t.Fatalf("%d dashboards created, want 2", sum.Dashboards)
		}
		org, admin, err := bootstrapAdmin(ctx, db.Client)
		if err != nil {
			t.Fatal(err)
		}
		actx := adminContext(ctx, org, admin)
		dsvc := dashboard.New(db.Client, metrics.New(db.Client, db.Dialect), query.New(db.Client, db.Dialect), sla.New(db.Client, nil, nil))
		boards, err := db.Client.Board.Query().All(actx)
		if err != nil || len(boards) != 2 {
			t.Fatalf("%d dashboards stored (%v)", len(boards), err)
		}
		orgs, err := db.Client.Organization.Query().Count(sys)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range boards {
			ws, _ := dsvc.Widgets(actx, b)
			slaWidgets := 0
			for _, w := range ws {
				d, err := dsvc.Data(actx, w)
				if err != nil || len(d) == 0 {
					t.Errorf("%s: widget %s: %v", b.Name, w.ID, err)
					continue
				}
				if w.Kind == enum.WidgetKindSla {
					slaWidgets++
					var m struct {
						Organizations []struct{ OrganizationName string }
					}
					if err := json.Unmarshal(d, &m); err != nil || len(m.Organizations) != orgs || m.Organizations[0].OrganizationName != org.Name {
						t.Errorf("%s: sla widget %s has %d organisation rows (%v), want one per organisation of the tree (%d), the provider first", b.Name, w.ID, len(m.Organizations), err, orgs)
					}
				}
			}
			if want := map[string]int{"MSSP SLA": 2}[b.Name]; slaWidgets != want {
				t.Errorf("%s: %d sla widgets, want %d", b.Name, slaWidgets, want)
			}
		}

		again, err := Run(ctx, db, Options{Alerts: 300, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		if again.Dashboards != 0 {
			t.Errorf("second run created %d dashboards", again.Dashboards)
		}
		if again.Bootstrap.Created {
			t.Error("second run created the bootstrap again")
		}
		for _, c := range again.Connectors {
			if c.New {
				t.Errorf("second run created connector %q", c.Name)
			}
		}
		conns, err := db.Client.Connector.Query().Order(connector.ByName()).All(sys)
		if err != nil {
			t.Fatal(err)
		}
		if len(conns) != len(vendors) {
			t.Fatalf("%d connectors after two runs, want %d", len(conns), len(vendors))
		}
		for i, c := range conns {
			if i > 0 && conns[i-1].Name == c.Name {
				t.Errorf("connector %q twice", c.Name)
			}
		}
		total, err := db.Client.Alert.Query().Count(sys)
		if err != nil {
			t.Fatal(err)
		}
		if total != sum.Created+again.Created {
			t.Errorf("%d alerts after two runs, want %d + %d", total, sum.Created, again.Created)
		}
	})
}

func theAdmin(t *testing.T, db *storage.DB, sum *Summary) *ent.User {
	t.Helper()
	_, admin, err := bootstrapAdmin(context.Background(), db.Client)
	if err != nil {
		t.Fatal(err)
	}
	if admin.Email != sum.AdminEmail {
		t.Fatalf("admin %s, summary says %s", admin.Email, sum.AdminEmail)
	}
	return admin
}

// An existing connector with a demo name but another type is not reused.
func TestRunConflictingConnector(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if _, err := directory.EnsureBootstrap(ctx, db.Client, "", ""); err != nil {
			t.Fatal(err)
		}
		org, admin, err := bootstrapAdmin(ctx, db.Client)
		if err != nil {
			t.Fatal(err)
		}
		actx := adminContext(ctx, org, admin)
		if err := db.Client.Connector.Create().SetName("Demo Wazuh").SetType("generic").SetKeyHash([]byte("k")).Exec(actx); err != nil {
			t.Fatal(err)
		}
		_, err = Run(ctx, db, Options{Alerts: 20, Seed: 1})
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.Conflict {
			t.Fatalf("err = %v, want a conflict", err)
		}
		// Nothing was written: no alerts, and no demo connector beside the conflicting one.
		if n, err := db.Client.Alert.Query().Count(auth.System(ctx)); err != nil || n != 0 {
			t.Fatalf("%d alerts, %v; want none", n, err)
		}
		if n, err := db.Client.Connector.Query().Count(auth.System(ctx)); err != nil || n != 1 {
			t.Fatalf("%d connectors, %v; want only the conflicting one", n, err)
		}
	})
}
