package alerts

import (
	"context"

	"entgo.io/contrib/entgql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/notes"
	"github.com/seliq/seliq/storage"
)

// AddNote adds the calling user's note to an alert of the acting
// organisation, records it in the alert's activity and notifies the users
// it mentions.
func AddNote(ctx context.Context, client *ent.Client, alertID uuid.UUID, in AddNoteInput) (*ent.Note, error) {
	if _, err := notes.Body(in.Body); err != nil {
		return nil, err
	}
	var out *ent.Note
	err := storage.InTx(ctx, client, func(tx *ent.Tx) error {
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
func Notes(ctx context.Context, client *ent.Client, alertID uuid.UUID, after *entgql.Cursor[uuid.UUID], first *int, before *entgql.Cursor[uuid.UUID], last *int) (*ent.NoteConnection, error) {
	if err := alertVisible(ctx, client, alertID); err != nil {
		return nil, err
	}
	return notes.List(ctx, client, notes.Alert(alertID, ""), after, first, before, last)
}

// Activity pages through an alert's activity, newest first. An alert the
// viewer cannot see is not found.
func Activity(ctx context.Context, client *ent.Client, alertID uuid.UUID, after *entgql.Cursor[uuid.UUID], first *int, before *entgql.Cursor[uuid.UUID], last *int) (*ent.ActivityConnection, error) {
	if err := alertVisible(ctx, client, alertID); err != nil {
		return nil, err
	}
	return audit.ForEntity(ctx, client, entityAlert, alertID, after, first, before, last)
}

// alertVisible reports a missing alert, or one of another organisation, as
// not found.
func alertVisible(ctx context.Context, client *ent.Client, id uuid.UUID) error {
	ok, err := client.Alert.Query().Where(alert.ID(id)).Exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFoundf("alert %s not found", id)
	}
	return nil
}
