// Package notes holds analysts' comments on alerts and incidents: their
// validation, their @mentions (which notify the users they name) and their
// listing. Callers check that the alert or incident is visible and own the
// transaction, so a note commits with whatever else the caller records.
package notes

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/note"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/notify"
)

// MaxLength bounds a note's body, in characters.
const MaxLength = 20000

// Target is what a note is attached to. Subject names it in the
// notifications mentions cause.
type Target struct {
	Subject notify.Subject
}

// Alert is the target of a note on an alert.
func Alert(id uuid.UUID, title string) Target {
	return Target{notify.Subject{EntityType: "alert", EntityID: id, Title: "alert " + quote(title)}}
}

// Incident is the target of a note on an incident.
func Incident(id uuid.UUID, number int, title string) Target {
	return Target{notify.Subject{EntityType: "incident", EntityID: id, Title: incidentTitle(number, title)}}
}

func incidentTitle(number int, title string) string {
	return fmt.Sprintf("incident #%d %s", number, quote(title))
}

// quoteLength bounds a title quoted in a notification, in runes.
const quoteLength = 120

func quote(title string) string { return "“" + textfield.Truncate(title, quoteLength) + "”" }

// Write adds the calling user's note to t with the client of the caller's
// transaction, records it in t's activity and notifies the users it
// mentions (@handle, or @ and an email's local part).
func Write(ctx context.Context, client *ent.Client, t Target, rawBody string) (*ent.Note, error) {
	body, err := Body(rawBody)
	if err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, apperr.New(apperr.Forbidden, "only users write notes")
	}
	authorID, name, err := audit.Actor(ctx, client)
	if err != nil {
		return nil, err
	}
	names := Mentions(body)
	create := client.Note.Create().SetNillableAuthorID(authorID).SetAuthorName(name).SetBody(body).SetMentions(names)
	switch t.Subject.EntityType {
	case "alert":
		create.SetAlertID(t.Subject.EntityID)
	case "incident":
		create.SetIncidentID(t.Subject.EntityID)
	}
	n, err := create.Save(ctx)
	if err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, client, audit.Entry{
		EntityType: t.Subject.EntityType, EntityID: t.Subject.EntityID, Action: "note",
		After: map[string]string{"note_id": n.ID.String()},
	}); err != nil {
		return nil, err
	}
	if err := notify.Mentioned(ctx, client, names, t.Subject, body); err != nil {
		return nil, err
	}
	return n, nil
}

// Body trims a body and checks it holds 1 to MaxLength characters of
// storable text.
func Body(raw string) (string, error) { return textfield.Required("body", raw, MaxLength) }

// mentionRe finds "@name" where the @ starts a word, so that the @ inside
// an email address is not taken for a mention. Names use the characters of
// a user handle (letters, digits, dots, hyphens, underscores).
var mentionRe = regexp.MustCompile(`(?:^|[^\pL\pN._@-])@([\pL\pN._-]+)`)

// maxHandleLength is a user handle's maximum length; a longer token names
// nobody.
const maxHandleLength = 64

// Mentions returns the distinct names mentioned in body, in order of first
// appearance, compared case-insensitively. A trailing dot or hyphen is
// punctuation ("thanks @ana."), not part of the name.
func Mentions(body string) []string {
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

// List pages through t's notes, oldest first. The caller has checked that t
// is visible.
func List(ctx context.Context, client *ent.Client, t Target, page paging.Page) (*ent.NoteConnection, error) {
	page, err := page.ByTime()
	if err != nil {
		return nil, err
	}
	q := client.Note.Query()
	switch t.Subject.EntityType {
	case "alert":
		q.Where(note.AlertID(t.Subject.EntityID))
	case "incident":
		q.Where(note.IncidentID(t.Subject.EntityID))
	}
	order := &ent.NoteOrder{Field: ent.NoteOrderFieldCreatedAt, Direction: paging.Asc}
	return paging.Paginate(ctx, page, q.Paginate, ent.WithNoteOrder(order))
}
