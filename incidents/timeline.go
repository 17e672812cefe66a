package incidents

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/timelineevent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/storage"
)

// maxEventTitle bounds a timeline event's title, in characters.
const maxEventTitle = 1000

// addEvent writes an automatic timeline event as the viewer of ctx.
func addEvent(ctx context.Context, c *ent.Client, incidentID uuid.UUID, kind enum.TimelineKind, title, description string, data map[string]any) error {
	id, name, err := audit.Actor(ctx, c)
	if err != nil {
		return err
	}
	return c.TimelineEvent.Create().SetIncidentID(incidentID).SetKind(kind).
		SetTitle(textfield.Truncate(title, maxEventTitle)).SetDescription(description).
		SetOccurredAt(now()).SetAutomatic(true).
		SetNillableActorID(id).SetActorName(name).SetData(data).Exec(ctx)
}

// Timeline pages through an incident's events in the order they occurred.
func (s *Service) Timeline(ctx context.Context, id uuid.UUID, page paging.Page) (*ent.TimelineEventConnection, error) {
	page, err := page.ByTime()
	if err != nil {
		return nil, err
	}
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	order := &ent.TimelineEventOrder{Field: ent.TimelineEventOrderFieldOccurredAt, Direction: paging.Asc}
	q := s.client.TimelineEvent.Query().Where(timelineevent.IncidentID(id))
	return paging.Paginate(ctx, page, q.Paginate, ent.WithTimelineEventOrder(order))
}

// AddTimelineEvent records a manual event (an analyst's account of
// something that happened); occurred_at defaults to now.
func (s *Service) AddTimelineEvent(ctx context.Context, id uuid.UUID, in TimelineEventInput) (*ent.TimelineEvent, error) {
	title, err := eventTitle(in.Title)
	if err != nil {
		return nil, err
	}
	description, err := cleanText("description", deref(in.Description))
	if err != nil {
		return nil, err
	}
	at, err := occurredAt(in.OccurredAt)
	if err != nil {
		return nil, err
	}
	var out *ent.TimelineEvent
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		if _, err := visible(ctx, c, id); err != nil {
			return err
		}
		actorID, name, err := audit.Actor(ctx, c)
		if err != nil {
			return err
		}
		out, err = c.TimelineEvent.Create().SetIncidentID(id).SetKind(enum.TimelineKindManual).
			SetTitle(title).SetDescription(description).SetOccurredAt(at).SetAutomatic(false).
			SetNillableActorID(actorID).SetActorName(name).Save(ctx)
		if err != nil {
			return err
		}
		if err := announce(ctx, c, hub.KindUpdated, id); err != nil {
			return err
		}
		return audit.Record(ctx, c, audit.Entry{EntityType: entityIncident, EntityID: id, Action: "timeline_add",
			After: map[string]any{"event_id": out.ID, "title": title, "occurred_at": at}})
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// UpdateTimelineEvent edits a manual event; automatic events are the
// record of what the system saw and cannot be edited (CONFLICT).
func (s *Service) UpdateTimelineEvent(ctx context.Context, id, eventID uuid.UUID, in UpdateTimelineEventInput) (*ent.TimelineEvent, error) {
	var (
		title, description *string
		at                 *time.Time
	)
	if in.Title != nil {
		t, err := eventTitle(*in.Title)
		if err != nil {
			return nil, err
		}
		title = &t
	}
	if in.Description != nil {
		d, err := cleanText("description", *in.Description)
		if err != nil {
			return nil, err
		}
		description = &d
	}
	if in.OccurredAt != nil {
		t, err := occurredAt(in.OccurredAt)
		if err != nil {
			return nil, err
		}
		at = &t
	}
	var out *ent.TimelineEvent
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		e, err := manualEvent(ctx, c, id, eventID, "edited")
		if err != nil {
			return err
		}
		upd := e.Update()
		var entries []audit.Entry
		record := func(field string, before, after any) {
			entries = append(entries, audit.Entry{EntityType: entityIncident, EntityID: id, Action: "timeline_update",
				Field: field, Before: before, After: map[string]any{"event_id": e.ID, "value": after}})
		}
		if title != nil && *title != e.Title {
			upd.SetTitle(*title)
			record("title", e.Title, *title)
		}
		if description != nil && *description != e.Description {
			upd.SetDescription(*description)
			record("description", e.Description, *description)
		}
		if at != nil && !at.Equal(e.OccurredAt) {
			upd.SetOccurredAt(*at)
			record("occurred_at", e.OccurredAt, *at)
		}
		if len(entries) == 0 {
			out = e
			return nil
		}
		if out, err = upd.Save(ctx); err != nil {
			return err
		}
		if err := announce(ctx, c, hub.KindUpdated, id); err != nil {
			return err
		}
		return audit.Record(ctx, c, entries...)
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// DeleteTimelineEvent removes a manual event; automatic ones cannot be
// deleted (CONFLICT).
func (s *Service) DeleteTimelineEvent(ctx context.Context, id, eventID uuid.UUID) error {
	return storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		e, err := manualEvent(ctx, c, id, eventID, "deleted")
		if err != nil {
			return err
		}
		if err := c.TimelineEvent.DeleteOne(e).Exec(ctx); err != nil {
			return err
		}
		if err := announce(ctx, c, hub.KindUpdated, id); err != nil {
			return err
		}
		return audit.Record(ctx, c, audit.Entry{EntityType: entityIncident, EntityID: id, Action: "timeline_delete",
			Before: map[string]any{"event_id": e.ID, "title": e.Title, "occurred_at": e.OccurredAt}})
	})
}

// manualEvent loads an event of a visible incident and refuses automatic
// ones.
func manualEvent(ctx context.Context, c *ent.Client, id, eventID uuid.UUID, verb string) (*ent.TimelineEvent, error) {
	if _, err := visible(ctx, c, id); err != nil {
		return nil, err
	}
	e, err := c.TimelineEvent.Query().Where(timelineevent.ID(eventID), timelineevent.IncidentID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("timeline event %s not found on incident %s", eventID, id)
	}
	if err != nil {
		return nil, err
	}
	if e.Automatic {
		return nil, apperr.New(apperr.Conflict, "timeline event %s was recorded automatically (%s) and cannot be %s", e.ID, e.Kind, verb)
	}
	return e, nil
}

func eventTitle(raw string) (string, error) { return textfield.Required("title", raw, maxEventTitle) }

// maxFuture is how far ahead of now an event may be dated: clocks differ,
// but an event has happened by definition.
const maxFuture = 24 * time.Hour

// occurredAt defaults to now, is kept in UTC (SQLite orders times as text)
// and refuses dates far from plausible.
func occurredAt(at *time.Time) (time.Time, error) {
	if at == nil {
		return now(), nil
	}
	t := at.UTC()
	switch {
	case t.Year() < 1970:
		return t, apperr.Invalid("occurred_at", "must be after 1970")
	case t.After(now().Add(maxFuture)):
		return t, apperr.Invalid("occurred_at", "must not be in the future")
	}
	return t, nil
}

// RecordEvent adds an automatic event to an incident's timeline with the
// client of the caller's transaction (a report's render, for one).
func RecordEvent(ctx context.Context, c *ent.Client, incidentID uuid.UUID, kind enum.TimelineKind, title string, data map[string]any) error {
	return addEvent(ctx, c, incidentID, kind, title, "", data)
}
