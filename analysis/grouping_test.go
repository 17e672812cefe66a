package analysis

import (
	"context"
	"testing"
	"time"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestGroupingProposalAndAccept(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db, testenv.Slug("acme"), testenv.Name("Acme"))
		ctx, _ := testenv.UserContext(t, db, org, enum.RoleAnalyst, testenv.Handle("ada"))
		reader, _ := testenv.UserContext(t, db, org, enum.RoleReadOnly, testenv.Handle("rob"))
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		mk := func(title, source string, at time.Time, mitre []string, ents ...schematype.Entity) *ent.Alert {
			a, err := db.Client.Alert.Create().SetTitle(title).SetSource(source).SetSeverity(enum.SeverityHigh).
				SetFirstSeenAt(at).SetLastSeenAt(at).SetMitre(mitre).SetEntities(ents).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		ip := schematype.Entity{Type: "ipv4", Value: "198.51.100.23"}
		host := schematype.Entity{Type: "hostname", Value: "web-01"}
		target := mk("Reverse shell", "crowdstrike", t0, []string{"T1059.004"}, host, ip)
		sharesIP := mk("C2 beacon", "suricata", t0.Add(10*time.Minute), nil, ip)
		sameSource := mk("Suspicious curl", "crowdstrike", t0.Add(-20*time.Minute), nil, host)
		samePattern := mk("Shell in container", "falco", t0.Add(5*time.Minute), []string{"T1059.004"})
		mk("C2 beacon, an hour later", "suricata", t0.Add(time.Hour), nil, ip)
		mk("Unrelated", "wazuh", t0.Add(time.Minute), nil, schematype.Entity{Type: "hostname", Value: "db-02"})

		q := &recorder{}
		s := New(db.Client, q, nil, nil)
		run := func(a *ent.Alert) *ent.Analysis {
			t.Helper()
			q.args = nil
			if _, err := s.AnalyseAlert(ctx, a.ID, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.run(context.Background(), q.args[0]); err != nil {
				t.Fatal(err)
			}
			an, err := s.LatestForAlert(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return an
		}
		an := run(target)
		g, err := groupingOf(an)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{sharesIP.ID.String(): true, sameSource.ID.String(): true, samePattern.ID.String(): true}
		if len(g.AlertIDs) != len(want) || g.IncidentID != "" || len(g.Reasons) != len(want) {
			t.Fatalf("proposal %+v, want the three related alerts of the window", g)
		}
		for _, id := range g.AlertIDs {
			if !want[id] {
				t.Errorf("proposed %s", id)
			}
		}

		if _, err := s.AcceptGrouping(reader, an.ID); !isCode(err, apperr.Forbidden) {
			t.Errorf("reader: %v, want forbidden", err)
		}
		other := testenv.Org(t, db, testenv.Slug("globex"), testenv.Name("Globex"))
		theirs, _ := testenv.UserContext(t, db, other, enum.RoleAdmin, testenv.Handle("boss"))
		if _, err := s.AcceptGrouping(theirs, an.ID); !isCode(err, apperr.NotFound) {
			t.Errorf("another organisation: %v, want not found", err)
		}

		inc, err := s.AcceptGrouping(ctx, an.ID)
		if err != nil {
			t.Fatal(err)
		}
		n, err := db.Client.Alert.Query().Where(alert.IncidentID(inc.ID)).Count(ctx)
		if err != nil || n != 4 {
			t.Fatalf("incident holds %d alerts, %v; want 4", n, err)
		}
		again, err := s.AcceptGrouping(ctx, an.ID)
		if err != nil || again.ID != inc.ID {
			t.Fatalf("accepting again: %v, %v", again, err)
		}

		// The next related alert's proposal extends that incident.
		late := mk("Data staged", "crowdstrike", t0.Add(25*time.Minute), nil, host)
		g2, err := groupingOf(run(late))
		if err != nil || g2.IncidentID != inc.ID.String() {
			t.Fatalf("second proposal %+v, %v; want to extend %s", g2, err, inc.ID)
		}
		lone := mk("Lonely", "wazuh", t0.Add(-3*time.Hour), nil)
		if _, err := groupingOf(run(lone)); !isCode(err, apperr.Conflict) {
			t.Errorf("an alert with nothing related: %v, want no proposal", err)
		}
	})
}
