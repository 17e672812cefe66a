package alerts

import (
	"context"
	"github.com/seliq/seliq/paging"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/contrib/entgql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/apperr"
	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/note"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/viewer"
)

// maxNoteLength bounds a note's body, in characters.
const maxNoteLength = 20000

// AddNote adds the calling user's note to an alert of the acting
// organisation and records it in the alert's activity. Mentions (@handle,
// or @ and an email's local part) are stored with the note for the
// notifier to resolve.
func AddNote(ctx context.Context, client *ent.Client, alertID uuid.UUID, in AddNoteInput) (*ent.Note, error) {
	body, err := noteBody(in.Body)
	if err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, apperr.New(apperr.Forbidden, "only users write notes")
	}
	var out *ent.Note
	err = storage.InTx(ctx, client, func(tx *ent.Tx) error {
		if err := alertVisible(ctx, tx.Client(), alertID); err != nil {
			return err
		}
		// The author's record lives in their home organisation, which is
		// not the acting one when a provider works in a client's.
		author, err := tx.User.Get(viewer.Home(ctx), v.UserID)
		if err != nil {
			return err
		}
		name := author.Name
		if name == "" {
			name = author.Email
		}
		n, err := tx.Note.Create().SetAlertID(alertID).
			SetAuthorID(author.ID).SetAuthorName(name).
			SetBody(body).SetMentions(mentions(body)).
			Save(ctx)
		if err != nil {
			return err
		}
		out = n
		return audit.Record(ctx, tx.Client(), audit.Entry{
			EntityType: entityAlert, EntityID: alertID, Action: "note",
			After: map[string]string{"note_id": n.ID.String()},
		})
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// noteBody trims a body and checks it holds 1 to maxNoteLength characters
// of storable text.
func noteBody(raw string) (string, error) {
	body := strings.TrimSpace(raw)
	switch {
	case body == "":
		return "", apperr.Invalid("body", "must not be empty")
	case !utf8.ValidString(body) || strings.ContainsRune(body, 0):
		return "", apperr.Invalid("body", "is not valid text")
	case utf8.RuneCountInString(body) > maxNoteLength:
		return "", apperr.Invalid("body", "must be at most %d characters", maxNoteLength)
	}
	return body, nil
}

// mentionRe finds "@name" where the @ starts a word, so that the @ inside
// an email address is not taken for a mention. Names use the characters of
// a user handle (letters, digits, dots, hyphens, underscores).
var mentionRe = regexp.MustCompile(`(?:^|[^\pL\pN._@-])@([\pL\pN._-]+)`)

// maxHandleLength is a user handle's maximum length; a longer token names
// nobody.
const maxHandleLength = 64

// mentions returns the distinct names mentioned in body, in order of first
// appearance, compared case-insensitively. A trailing dot or hyphen is
// punctuation ("thanks @ana."), not part of the name.
func mentions(body string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, m := range mentionRe.FindAllStringSubmatch(body, -1) {
		name := strings.TrimRight(m[1], ".-")
		key := strings.ToLower(name)
		if name == "" || utf8.RuneCountInString(name) > maxHandleLength || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, name)
	}
	return out
}

// Notes pages through an alert's notes, oldest first. An alert the viewer
// cannot see is not found.
func Notes(ctx context.Context, client *ent.Client, alertID uuid.UUID, after *entgql.Cursor[uuid.UUID], first *int, before *entgql.Cursor[uuid.UUID], last *int) (*ent.NoteConnection, error) {
	first, last, err := paging.Normalize(first, last)
	if err != nil {
		return nil, err
	}
	if err := alertVisible(ctx, client, alertID); err != nil {
		return nil, err
	}
	after, before, err = createdAtCursors(after, before)
	if err != nil {
		return nil, err
	}
	order := &ent.NoteOrder{Field: ent.NoteOrderFieldCreatedAt, Direction: entgql.OrderDirectionAsc}
	return client.Note.Query().Where(note.AlertID(alertID)).
		Paginate(ctx, after, first, before, last, ent.WithNoteOrder(order))
}

// Activity pages through an alert's activity, newest first. An alert the
// viewer cannot see is not found.
func Activity(ctx context.Context, client *ent.Client, alertID uuid.UUID, after *entgql.Cursor[uuid.UUID], first *int, before *entgql.Cursor[uuid.UUID], last *int) (*ent.ActivityConnection, error) {
	first, last, err := paging.Normalize(first, last)
	if err != nil {
		return nil, err
	}
	if err := alertVisible(ctx, client, alertID); err != nil {
		return nil, err
	}
	after, before, err = createdAtCursors(after, before)
	if err != nil {
		return nil, err
	}
	order := &ent.ActivityOrder{Field: ent.ActivityOrderFieldCreatedAt, Direction: entgql.OrderDirectionDesc}
	return client.Activity.Query().
		Where(activity.EntityType(entityAlert), activity.EntityID(alertID)).
		Paginate(ctx, after, first, before, last, ent.WithActivityOrder(order))
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

// createdAtCursors checks that the cursors come from a listing ordered by
// creation time and puts their time in UTC: SQLite compares times as text,
// which orders correctly only within one offset.
func createdAtCursors(after, before *entgql.Cursor[uuid.UUID]) (*entgql.Cursor[uuid.UUID], *entgql.Cursor[uuid.UUID], error) {
	a, err := createdAtCursor(after, "after")
	if err != nil {
		return nil, nil, err
	}
	b, err := createdAtCursor(before, "before")
	return a, b, err
}

func createdAtCursor(c *entgql.Cursor[uuid.UUID], param string) (*entgql.Cursor[uuid.UUID], error) {
	if c == nil {
		return nil, nil
	}
	t, ok := c.Value.(time.Time)
	if !ok {
		return nil, apperr.Invalid(param, "is not a cursor of this listing")
	}
	return &entgql.Cursor[uuid.UUID]{ID: c.ID, Value: t.UTC()}, nil
}
