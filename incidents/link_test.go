package incidents

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestCreate(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newOrg(t, db, "acme")
		other := newOrg(t, db, "globex")
		low, crit := o.alert(t, "low one", enum.SeverityLow), o.alert(t, "critical one", enum.SeverityCritical)
		theirs := other.alert(t, "theirs", enum.SeverityHigh)

		first := o.incident(t, "from scratch")
		if first.Number != 1 || first.Severity != enum.SeverityMedium || first.AlertCount != 0 {
			t.Fatalf("first incident #%d %s with %d alerts, want #1 medium with 0", first.Number, first.Severity, first.AlertCount)
		}
		fromAlerts := o.incident(t, "from alerts", low, crit)
		if fromAlerts.Number != 2 || fromAlerts.Severity != enum.SeverityCritical || fromAlerts.AlertCount != 2 {
			t.Fatalf("incident #%d %s with %d alerts, want #2 critical with 2", fromAlerts.Number, fromAlerts.Severity, fromAlerts.AlertCount)
		}
		if got := kinds(o.events(t, fromAlerts.ID)); len(got) != 2 || got[0] != enum.TimelineKindAnalystAction || got[1] != enum.TimelineKindAlertLinked {
			t.Fatalf("timeline = %v, want opened then alert_linked", got)
		}
		explicit, err := o.svc.Create(o.ctx, CreateIncidentInput{Title: "explicit", Severity: ptr(enum.SeverityInfo),
			AlertIDs: []uuid.UUID{crit.ID}, Tags: []string{" ransomware ", "ransomware"}})
		if err != nil {
			t.Fatal(err)
		}
		if explicit.Severity != enum.SeverityInfo || len(explicit.Tags) != 1 || explicit.Tags[0] != "ransomware" {
			t.Fatalf("severity %s tags %q, want info [ransomware]", explicit.Severity, explicit.Tags)
		}
		if got := o.reload(t, fromAlerts.ID).AlertCount; got != 1 {
			t.Fatalf("the incident the critical alert left counts %d alerts, want 1", got)
		}
		if theirFirst := other.incident(t, "numbering is per organisation"); theirFirst.Number != 1 {
			t.Fatalf("globex's first incident is #%d, want #1", theirFirst.Number)
		}

		refused := []struct {
			name  string
			in    CreateIncidentInput
			field string
		}{
			{"blank title", CreateIncidentInput{Title: "  "}, "title"},
			{"NUL in the description", CreateIncidentInput{Title: "x", Description: ptr("a\x00b")}, "description"},
			{"another organisation's alert", CreateIncidentInput{Title: "x", AlertIDs: []uuid.UUID{low.ID, theirs.ID}}, "alert_ids"},
			{"an unknown alert", CreateIncidentInput{Title: "x", AlertIDs: []uuid.UUID{uuid.New()}}, "alert_ids"},
			{"another organisation's user", CreateIncidentInput{Title: "x", AssigneeID: &other.admin.ID}, "assignee_id"},
			{"an unknown severity", CreateIncidentInput{Title: "x", Severity: ptr(enum.Severity("urgent"))}, "severity"},
			{"too many tags", CreateIncidentInput{Title: "x", Tags: manyTags(51)}, "tags"},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				before, _ := db.Client.Incident.Query().Count(o.ctx)
				_, err := o.svc.Create(o.ctx, tc.in)
				wantInvalid(t, err, tc.field)
				if after, _ := db.Client.Incident.Query().Count(o.ctx); after != before {
					t.Fatalf("a refused creation left an incident")
				}
				if a, _ := db.Client.Alert.Get(o.ctx, low.ID); a.IncidentID == nil || *a.IncidentID != fromAlerts.ID {
					t.Fatalf("a refused creation moved an alert")
				}
			})
		}
		if next := o.incident(t, "numbers are not consumed by refusals"); next.Number != 4 {
			t.Fatalf("next number %d, want 4", next.Number)
		}
	})
}

// TestConcurrentNumbers creates incidents from several goroutines: every
// one gets a distinct number, with no gap.
func TestConcurrentNumbers(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newOrg(t, db, "acme")
		const n = 12
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := o.svc.Create(o.ctx, CreateIncidentInput{Title: fmt.Sprint("parallel ", i)})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("create: %v", err)
			}
		}
		all, err := db.Client.Incident.Query().Order(ent.Asc("number")).All(o.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, inc := range all {
			if inc.Number != i+1 {
				t.Fatalf("numbers %v are not 1..%d", numbers(all), n)
			}
		}
	})
}

func numbers(incs []*ent.Incident) []int {
	out := make([]int, len(incs))
	for i, inc := range incs {
		out[i] = inc.Number
	}
	return out
}

func TestLinkMovesAlertsBetweenIncidents(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newOrg(t, db, "acme")
		other := newOrg(t, db, "globex")
		a1, a2, a3 := o.alert(t, "a1", enum.SeverityLow), o.alert(t, "phish from mallory", enum.SeverityHigh), o.alert(t, "a3", enum.SeverityMedium)
		incA := o.incident(t, "A", a1, a2)
		incB := o.incident(t, "B")

		res, err := o.svc.LinkAlerts(o.ctx, incB.ID, LinkAlertsInput{AlertIDs: []uuid.UUID{a2.ID, a3.ID, a3.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Linked != 2 || res.Moved != 1 || res.Incident.AlertCount != 2 {
			t.Fatalf("linked %d moved %d count %d, want 2, 1, 2", res.Linked, res.Moved, res.Incident.AlertCount)
		}
		if got := o.reload(t, incA.ID).AlertCount; got != 1 {
			t.Fatalf("A counts %d alerts, want 1", got)
		}
		if got := db.Client.Alert.Query().Where(alert.IncidentID(incB.ID)).CountX(o.ctx); got != 2 {
			t.Fatalf("%d alerts on B, want 2", got)
		}

		// Both incidents say it, on the timeline and in the activity.
		evA := o.events(t, incA.ID)
		lastA := evA[len(evA)-1]
		if lastA.Kind != enum.TimelineKindAlertUnlinked || lastA.Title != "Alert moved to incident #2: phish from mallory" {
			t.Fatalf("A's last event = %s %q", lastA.Kind, lastA.Title)
		}
		evB := o.events(t, incB.ID)
		if lastB := evB[len(evB)-1]; lastB.Kind != enum.TimelineKindAlertLinked || lastB.Title != "2 alerts linked" {
			t.Fatalf("B's last event = %s %q", lastB.Kind, lastB.Title)
		}
		var movedOut, movedIn bool
		for _, e := range o.activities(t, "incident", incA.ID) {
			movedOut = movedOut || (e.Action == "unlink_alert" && strings.Contains(string(e.After), incB.ID.String()) && strings.Contains(string(e.After), a2.ID.String()))
		}
		for _, e := range o.activities(t, "incident", incB.ID) {
			var after map[string]string
			_ = json.Unmarshal(e.After, &after)
			movedIn = movedIn || (e.Action == "link_alert" && after["from_incident_id"] == incA.ID.String() && after["alert_id"] == a2.ID.String())
		}
		if !movedOut || !movedIn {
			t.Fatalf("activity: moved out of A recorded %v, moved into B recorded %v", movedOut, movedIn)
		}
		alertLog := o.activities(t, "alert", a2.ID)
		if last := alertLog[len(alertLog)-1]; last.Field != "incident_id" || string(last.Before) != `"`+incA.ID.String()+`"` || string(last.After) != `"`+incB.ID.String()+`"` {
			t.Fatalf("a2's last activity = %s %s → %s", last.Field, last.Before, last.After)
		}

		t.Run("linking again changes nothing", func(t *testing.T) {
			n := len(o.events(t, incB.ID))
			res, err := o.svc.LinkAlerts(o.ctx, incB.ID, LinkAlertsInput{AlertIDs: []uuid.UUID{a2.ID}})
			if err != nil || res.Linked != 0 || res.Moved != 0 {
				t.Fatalf("relink: %+v %v", res, err)
			}
			if len(o.events(t, incB.ID)) != n {
				t.Fatalf("a no-op link wrote a timeline event")
			}
		})
		t.Run("another organisation's alert fails the whole request", func(t *testing.T) {
			theirs := other.alert(t, "theirs", enum.SeverityLow)
			_, err := o.svc.LinkAlerts(o.ctx, incA.ID, LinkAlertsInput{AlertIDs: []uuid.UUID{a3.ID, theirs.ID}})
			wantInvalid(t, err, "alert_ids")
			if got := o.reload(t, incA.ID).AlertCount; got != 1 {
				t.Fatalf("A counts %d alerts after a refused link, want 1", got)
			}
			if a, _ := db.Client.Alert.Get(other.ctx, theirs.ID); a.IncidentID != nil {
				t.Fatalf("globex's alert was linked")
			}
		})
		t.Run("linking to another organisation's incident is not found", func(t *testing.T) {
			theirs := other.incident(t, "theirs")
			_, err := o.svc.LinkAlerts(o.ctx, theirs.ID, LinkAlertsInput{AlertIDs: []uuid.UUID{a1.ID}})
			wantCode(t, err, "NOT_FOUND")
		})
		t.Run("unlink", func(t *testing.T) {
			inc, err := o.svc.UnlinkAlert(o.ctx, incB.ID, a3.ID)
			if err != nil {
				t.Fatal(err)
			}
			if inc.AlertCount != 1 {
				t.Fatalf("B counts %d, want 1", inc.AlertCount)
			}
			if a, _ := db.Client.Alert.Get(o.ctx, a3.ID); a.IncidentID != nil {
				t.Fatalf("a3 still linked")
			}
			ev := o.events(t, incB.ID)
			if last := ev[len(ev)-1]; last.Kind != enum.TimelineKindAlertUnlinked {
				t.Fatalf("last event %s", last.Kind)
			}
			_, err = o.svc.UnlinkAlert(o.ctx, incB.ID, a3.ID)
			wantCode(t, err, "NOT_FOUND")
			_, err = o.svc.UnlinkAlert(o.ctx, incB.ID, a1.ID) // linked to A, not B
			wantCode(t, err, "NOT_FOUND")
		})
		t.Run("limits", func(t *testing.T) {
			_, err := o.svc.LinkAlerts(o.ctx, incB.ID, LinkAlertsInput{})
			wantInvalid(t, err, "alert_ids")
			_, err = o.svc.LinkAlerts(o.ctx, incB.ID, LinkAlertsInput{AlertIDs: make([]uuid.UUID, maxLinkIDs+1)})
			wantInvalid(t, err, "alert_ids")
		})
	})
}

func manyTags(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint("tag", i)
	}
	return out
}
