package incidents

import (
	"testing"

	"github.com/seliq/seliq/ent/notification"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestNotesMentionNotify(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newOrg(t, db, "acme")
		other := newOrg(t, db, "globex") // has its own @bob and @ada
		inc := o.incident(t, "ransomware on fs01")
		if inc.AcknowledgedAt != nil {
			t.Fatalf("a new incident is acknowledged")
		}
		// @bob by handle, @ada.mail is the author's own email local part,
		// @ADA the author's handle in capitals, @nobody nobody.
		n, err := o.svc.AddNote(o.ctx, inc.ID, "  @bob please image FS01; cc @ada.mail @ADA @nobody  ")
		if err != nil {
			t.Fatal(err)
		}
		if n.Body != "@bob please image FS01; cc @ada.mail @ADA @nobody" || n.IncidentID == nil || *n.IncidentID != inc.ID {
			t.Fatalf("note = %q on %v", n.Body, n.IncidentID)
		}
		got, err := db.Client.Notification.Query().Where(notification.KindEQ(enum.NotificationKindMentioned)).All(o.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].UserID != o.bob.ID || got[0].EntityType != "incident" || *got[0].EntityID != inc.ID {
			t.Fatalf("notifications = %+v, want one for acme's bob about the incident", got)
		}
		if theirs := db.Client.Notification.Query().CountX(other.ctx); theirs != 0 {
			t.Fatalf("globex has %d notifications", theirs)
		}
		stored := o.reload(t, inc.ID)
		if stored.AcknowledgedAt == nil {
			t.Fatalf("the first note did not stamp acknowledged_at")
		}
		ev := o.events(t, inc.ID)
		if last := ev[len(ev)-1]; last.Kind != enum.TimelineKindNoteAdded || !last.Automatic {
			t.Fatalf("last event = %s", last.Kind)
		}
		page, err := o.svc.Notes(o.ctx, inc.ID, paging.Page{})
		if err != nil || page.TotalCount != 1 {
			t.Fatalf("notes: %v, %v", page, err)
		}

		t.Run("refusals", func(t *testing.T) {
			_, err := o.svc.AddNote(o.ctx, inc.ID, "   ")
			wantInvalid(t, err, "body")
			_, err = other.svc.AddNote(other.ctx, inc.ID, "hello @bob")
			wantCode(t, err, "NOT_FOUND")
			_, err = other.svc.Notes(other.ctx, inc.ID, paging.Page{})
			wantCode(t, err, "NOT_FOUND")
			_, err = other.svc.Activity(other.ctx, inc.ID, paging.Page{})
			wantCode(t, err, "NOT_FOUND")
			if c := db.Client.Note.Query().CountX(o.ctx); c != 1 {
				t.Fatalf("%d notes, want 1", c)
			}
		})
	})
}
