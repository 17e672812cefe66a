package incidents

import (
	"context"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/notes"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/storage"
)

// AddNote adds the calling user's note to an incident, puts it on the
// timeline and notifies the users it mentions. A note is a first response:
// it stamps acknowledged_at when nothing has yet.
func (s *Service) AddNote(ctx context.Context, id uuid.UUID, body string) (*ent.Note, error) {
	if _, err := notes.Body(body); err != nil {
		return nil, err
	}
	var out *ent.Note
	schedule := func(context.Context) {}
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		inc, err := visible(ctx, c, id)
		if err != nil {
			return err
		}
		if out, err = notes.Write(ctx, c, notes.Incident(inc.ID, inc.Number, inc.Title), body); err != nil {
			return err
		}
		if err := addEvent(ctx, c, id, enum.TimelineKindNoteAdded, "Note added by "+out.AuthorName, excerpt(out.Body),
			map[string]any{"note_id": out.ID}); err != nil {
			return err
		}
		if err := announce(ctx, c, hub.KindUpdated, id); err != nil {
			return err
		}
		upd := c.Incident.UpdateOne(inc)
		e := acknowledge(ctx, inc, upd)
		if e == nil {
			return nil
		}
		if inc, err = upd.Save(ctx); err != nil {
			return err
		}
		if err := audit.Record(ctx, c, *e); err != nil {
			return err
		}
		_, schedule, err = s.applySLA(ctx, c, inc)
		return err
	})
	if err != nil {
		return nil, err
	}
	schedule(ctx)
	return out.Unwrap(), nil
}

// excerptLength bounds the part of a note the timeline repeats, in runes.
const excerptLength = 500

func excerpt(body string) string { return textfield.Truncate(body, excerptLength) }

// Notes pages through an incident's notes, oldest first.
func (s *Service) Notes(ctx context.Context, id uuid.UUID, page paging.Page) (*ent.NoteConnection, error) {
	inc, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return notes.List(ctx, s.client, notes.Incident(inc.ID, inc.Number, inc.Title), page)
}

// Activity pages through an incident's activity, newest first.
func (s *Service) Activity(ctx context.Context, id uuid.UUID, page paging.Page) (*ent.ActivityConnection, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	return audit.ForEntity(ctx, s.client, entityIncident, id, page)
}
