package incidents

import (
	"testing"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/opt"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestTransitionAllowed(t *testing.T) {
	const (
		n  = enum.IncidentStatusNew
		ip = enum.IncidentStatusInProgress
		p  = enum.IncidentStatusPending
		e  = enum.IncidentStatusEscalated
		c  = enum.IncidentStatusClosed
	)
	allowed := map[[2]enum.IncidentStatus]bool{
		{n, ip}: true, {n, p}: true, {n, e}: true, {n, c}: true,
		{ip, p}: true, {ip, e}: true, {ip, c}: true,
		{p, ip}: true, {p, e}: true, {p, c}: true,
		{e, ip}: true, {e, p}: true, {e, c}: true,
		{c, ip}: true,
	}
	all := []enum.IncidentStatus{n, ip, p, e, c}
	for _, from := range all {
		for _, to := range all {
			if got, want := TransitionAllowed(from, to), allowed[[2]enum.IncidentStatus{from, to}]; got != want {
				t.Errorf("%s → %s allowed = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestUpdateStatusMachine(t *testing.T) {
	fp := enum.DispositionFalsePositive
	set := func(d enum.Disposition) opt.Value[*enum.Disposition] { return opt.Of(&d) }
	cases := []struct {
		name string
		// path drives the incident from new before the patch under test.
		path      []UpdateIncidentInput
		patch     UpdateIncidentInput
		wantField string
		want      enum.IncidentStatus
		wantAck   bool
		wantClose bool
		wantDisp  *enum.Disposition
	}{
		{name: "new to in_progress stamps acknowledged_at",
			patch: UpdateIncidentInput{Status: ptr(enum.IncidentStatusInProgress)}, want: enum.IncidentStatusInProgress, wantAck: true},
		{name: "closing without a disposition is refused",
			patch: UpdateIncidentInput{Status: ptr(enum.IncidentStatusClosed)}, wantField: "disposition"},
		{name: "closing with a disposition stamps closed_at",
			patch: UpdateIncidentInput{Status: ptr(enum.IncidentStatusClosed), Disposition: set(fp)},
			want:  enum.IncidentStatusClosed, wantAck: true, wantClose: true, wantDisp: &fp},
		{name: "never back to new",
			path:  []UpdateIncidentInput{{Status: ptr(enum.IncidentStatusInProgress)}},
			patch: UpdateIncidentInput{Status: ptr(enum.IncidentStatusNew)}, wantField: "status"},
		{name: "escalated to pending",
			path:  []UpdateIncidentInput{{Status: ptr(enum.IncidentStatusEscalated)}},
			patch: UpdateIncidentInput{Status: ptr(enum.IncidentStatusPending)}, want: enum.IncidentStatusPending, wantAck: true},
		{name: "closed cannot go to pending",
			path:  []UpdateIncidentInput{{Status: ptr(enum.IncidentStatusClosed), Disposition: set(fp)}},
			patch: UpdateIncidentInput{Status: ptr(enum.IncidentStatusPending)}, wantField: "status"},
		{name: "reopening clears closed_at and the disposition",
			path:  []UpdateIncidentInput{{Status: ptr(enum.IncidentStatusClosed), Disposition: set(fp)}},
			patch: UpdateIncidentInput{Status: ptr(enum.IncidentStatusInProgress)}, want: enum.IncidentStatusInProgress, wantAck: true},
		{name: "a disposition on an open incident is refused",
			patch: UpdateIncidentInput{Disposition: set(fp)}, wantField: "disposition"},
		{name: "an unknown status is refused",
			patch: UpdateIncidentInput{Status: ptr(enum.IncidentStatus("done"))}, wantField: "status"},
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newOrg(t, db, "acme")
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				inc := o.incident(t, tc.name)
				for _, step := range tc.path {
					if _, err := o.svc.Update(o.ctx, inc.ID, step); err != nil {
						t.Fatalf("path: %v", err)
					}
				}
				before := o.reload(t, inc.ID)
				nActivity, nEvents := len(o.activities(t, "incident", inc.ID)), len(o.events(t, inc.ID))
				got, err := o.svc.Update(o.ctx, inc.ID, tc.patch)
				if tc.wantField != "" {
					wantInvalid(t, err, tc.wantField)
					after := o.reload(t, inc.ID)
					if after.Status != before.Status || !after.UpdatedAt.Equal(before.UpdatedAt) {
						t.Fatalf("a refused patch changed the incident")
					}
					if len(o.activities(t, "incident", inc.ID)) != nActivity || len(o.events(t, inc.ID)) != nEvents {
						t.Fatalf("a refused patch wrote activity or timeline")
					}
					return
				}
				if err != nil {
					t.Fatalf("update: %v", err)
				}
				stored := o.reload(t, inc.ID)
				switch {
				case got.Status != tc.want || stored.Status != tc.want:
					t.Errorf("status = %s (stored %s), want %s", got.Status, stored.Status, tc.want)
				case (stored.AcknowledgedAt != nil) != tc.wantAck:
					t.Errorf("acknowledged_at = %v, want set %v", stored.AcknowledgedAt, tc.wantAck)
				case (stored.ClosedAt != nil) != tc.wantClose:
					t.Errorf("closed_at = %v, want set %v", stored.ClosedAt, tc.wantClose)
				case !samePtr(stored.Disposition, tc.wantDisp):
					t.Errorf("disposition = %v, want %v", stored.Disposition, tc.wantDisp)
				}
				if before.AcknowledgedAt != nil && !stored.AcknowledgedAt.Equal(*before.AcknowledgedAt) {
					t.Errorf("acknowledged_at moved from %v to %v; it records the first response", before.AcknowledgedAt, stored.AcknowledgedAt)
				}
				es := o.events(t, inc.ID)
				if last := es[len(es)-1]; last.Kind != enum.TimelineKindStatusChanged || !last.Automatic {
					t.Errorf("last timeline event = %s (automatic %v), want an automatic status_changed", last.Kind, last.Automatic)
				}
				var statusEntry bool
				for _, a := range o.activities(t, "incident", inc.ID)[nActivity:] {
					statusEntry = statusEntry || a.Field == "status"
				}
				if !statusEntry {
					t.Errorf("no status entry in the activity")
				}
			})
		}

		t.Run("a patch that changes nothing writes nothing", func(t *testing.T) {
			inc := o.incident(t, "same")
			n := len(o.activities(t, "incident", inc.ID))
			if _, err := o.svc.Update(o.ctx, inc.ID, UpdateIncidentInput{Title: ptr(" same "), Status: ptr(enum.IncidentStatusNew)}); err != nil {
				t.Fatal(err)
			}
			if got := len(o.activities(t, "incident", inc.ID)); got != n {
				t.Fatalf("%d activity entries, want %d", got, n)
			}
		})

		t.Run("severity and assignee go on the timeline; the assignee is notified", func(t *testing.T) {
			inc := o.incident(t, "people")
			_, err := o.svc.Update(o.ctx, inc.ID, UpdateIncidentInput{
				Severity: ptr(enum.SeverityCritical), AssigneeID: opt.Of(&o.bob.ID)})
			if err != nil {
				t.Fatal(err)
			}
			got := kinds(o.events(t, inc.ID))
			want := []enum.TimelineKind{enum.TimelineKindAnalystAction, enum.TimelineKindSeverityChanged, enum.TimelineKindAssigneeChanged}
			if len(got) != len(want) || got[1] != want[1] || got[2] != want[2] {
				t.Fatalf("timeline kinds = %v, want %v", got, want)
			}
			n, err := db.Client.Notification.Query().All(testenv.As(o.bob, o.org))
			if err != nil {
				t.Fatal(err)
			}
			var assigned int
			for _, x := range n {
				if x.UserID == o.bob.ID && x.Kind == enum.NotificationKindAssigned && *x.EntityID == inc.ID {
					assigned++
				}
			}
			if assigned != 1 {
				t.Fatalf("%d assignment notifications for bob, want 1", assigned)
			}
		})

		t.Run("another organisation's incident is not found", func(t *testing.T) {
			other := newOrg(t, db, "globex")
			theirs := other.incident(t, "theirs")
			_, err := o.svc.Update(o.ctx, theirs.ID, UpdateIncidentInput{Title: ptr("mine now")})
			wantCode(t, err, "NOT_FOUND")
			if got := other.reload(t, theirs.ID); got.Title != "theirs" {
				t.Fatalf("title = %q", got.Title)
			}
		})
	})
}
