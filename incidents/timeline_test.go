package incidents

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestTimeline(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newOrg(t, db, "acme")
		inc := o.incident(t, "story", o.alert(t, "beacon", enum.SeverityHigh))
		automatic := o.events(t, inc.ID)

		t.Run("automatic events cannot be edited or deleted", func(t *testing.T) {
			for _, e := range automatic {
				_, err := o.svc.UpdateTimelineEvent(o.ctx, inc.ID, e.ID, UpdateTimelineEventInput{Title: ptr("rewritten")})
				wantCode(t, err, "CONFLICT")
				wantCode(t, o.svc.DeleteTimelineEvent(o.ctx, inc.ID, e.ID), "CONFLICT")
			}
			after := o.events(t, inc.ID)
			if len(after) != len(automatic) || after[0].Title != automatic[0].Title {
				t.Fatalf("automatic events changed")
			}
		})

		var manual uuid.UUID
		t.Run("manual events are ordered by when they occurred", func(t *testing.T) {
			earlier := inc.CreatedAt.Add(-2 * time.Hour)
			e, err := o.svc.AddTimelineEvent(o.ctx, inc.ID, TimelineEventInput{
				Title: " First phishing email delivered ", Description: ptr("to finance"), OccurredAt: &earlier})
			if err != nil {
				t.Fatal(err)
			}
			manual = e.ID
			if e.Automatic || e.Kind != enum.TimelineKindManual || e.Title != "First phishing email delivered" || e.ActorName != o.admin.Name {
				t.Fatalf("event = %+v", e)
			}
			page, err := o.svc.Timeline(o.ctx, inc.ID, paging.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if page.TotalCount != len(automatic)+1 || page.Edges[0].Node.ID != manual {
				t.Fatalf("timeline has %d events, first %s; want the manual event first", page.TotalCount, page.Edges[0].Node.ID)
			}
		})
		t.Run("manual events can be edited", func(t *testing.T) {
			later := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
			e, err := o.svc.UpdateTimelineEvent(o.ctx, inc.ID, manual, UpdateTimelineEventInput{Title: ptr("Phishing email delivered"), OccurredAt: &later})
			if err != nil {
				t.Fatal(err)
			}
			if e.Title != "Phishing email delivered" || !e.OccurredAt.Equal(later) {
				t.Fatalf("event = %q at %v", e.Title, e.OccurredAt)
			}
		})
		t.Run("bad input", func(t *testing.T) {
			future := time.Now().Add(48 * time.Hour)
			_, err := o.svc.AddTimelineEvent(o.ctx, inc.ID, TimelineEventInput{Title: "x", OccurredAt: &future})
			wantInvalid(t, err, "occurred_at")
			_, err = o.svc.AddTimelineEvent(o.ctx, inc.ID, TimelineEventInput{Title: " "})
			wantInvalid(t, err, "title")
			_, err = o.svc.UpdateTimelineEvent(o.ctx, inc.ID, manual, UpdateTimelineEventInput{Title: ptr("")})
			wantInvalid(t, err, "title")
		})
		t.Run("another incident's event is not found", func(t *testing.T) {
			second := o.incident(t, "second")
			wantCode(t, o.svc.DeleteTimelineEvent(o.ctx, second.ID, manual), "NOT_FOUND")
		})
		t.Run("another organisation cannot read or touch the timeline", func(t *testing.T) {
			other := newOrg(t, db, "globex")
			_, err := other.svc.Timeline(other.ctx, inc.ID, paging.Page{})
			wantCode(t, err, "NOT_FOUND")
			_, err = other.svc.AddTimelineEvent(other.ctx, inc.ID, TimelineEventInput{Title: "x"})
			wantCode(t, err, "NOT_FOUND")
			_, err = other.svc.UpdateTimelineEvent(other.ctx, inc.ID, manual, UpdateTimelineEventInput{Title: ptr("x")})
			wantCode(t, err, "NOT_FOUND")
			wantCode(t, other.svc.DeleteTimelineEvent(other.ctx, inc.ID, manual), "NOT_FOUND")
		})
		t.Run("manual events can be deleted", func(t *testing.T) {
			if err := o.svc.DeleteTimelineEvent(o.ctx, inc.ID, manual); err != nil {
				t.Fatal(err)
			}
			if n := len(o.events(t, inc.ID)); n != len(automatic) {
				t.Fatalf("%d events, want %d", n, len(automatic))
			}
			var deleted bool
			for _, a := range o.activities(t, "incident", inc.ID) {
				deleted = deleted || a.Action == "timeline_delete"
			}
			if !deleted {
				t.Fatalf("the deletion is not in the activity")
			}
		})
	})
}
