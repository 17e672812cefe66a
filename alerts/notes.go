package alerts

import (
	"context"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/notes"
	"github.com/seliq/seliq/storage"
)

// AddNote adds the calling user's note to an alert of the acting
// organisation, records it in the alert's activity and notifies the users
// it mentions.
func (s *Service) AddNote(ctx context.Context, alertID uuid.UUID, in AddNoteInput) (*ent.Note, error) {
	if _, err := notes.Body(in.Body); err != nil {
		return nil, err
	}
	var out *ent.Note
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		a, err := tx.Alert.Query().Where(alert.ID(alertID)).Only(ctx)
		if ent.IsNotFound(err) {
			return apperr.NotFoundf("alert %s not found", alertID)
		}
		if err != nil {
			return err
		}
		out, err = notes.Write(ctx, tx.Client(), notes.Alert(a.ID, a.Title), in.Body)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// Notes pages through an alert's notes, oldest first. An alert the viewer
// cannot see is not found.
func (s *Service) Notes(ctx context.Context, alertID uuid.UUID, page paging.Page) (*ent.NoteConnection, error) {
	if err := s.alertVisible(ctx, alertID); err != nil {
		return nil, err
	}
	return notes.List(ctx, s.client, notes.Alert(alertID, ""), page)
}

// Activity pages through an alert's activity, newest first. An alert the
// viewer cannot see is not found.
func (s *Service) Activity(ctx context.Context, alertID uuid.UUID, page paging.Page) (*ent.ActivityConnection, error) {
	if err := s.alertVisible(ctx, alertID); err != nil {
		return nil, err
	}
	return audit.ForEntity(ctx, s.client, entityAlert, alertID, page)
}

// alertVisible reports a missing alert, or one of another organisation, as
// not found.
func (s *Service) alertVisible(ctx context.Context, id uuid.UUID) error {
	ok, err := s.client.Alert.Query().Where(alert.ID(id)).Exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFoundf("alert %s not found", id)
	}
	return nil
}
