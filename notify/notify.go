// Package notify creates in-app notifications. They are rows first, written
// in the transaction of the change that causes them, so that none is lost
// and none announces a change that rolled back; live delivery reads them.
package notify

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/features"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/realtime/hub"
)

// Subject is what a notification is about.
type Subject struct {
	EntityType string // "alert", "incident"
	EntityID   uuid.UUID
	// Title names the subject in the notification ("Incident #12: Ransomware on FS01").
	Title string
}

// Mentioned notifies the users of the acting organisation that names
// designate: a user handle, or the local part of a user's email, compared
// case-insensitively. The author is not notified of their own mention, and a
// user named twice is notified once. Names that designate nobody are ignored.
func Mentioned(ctx context.Context, client *ent.Client, names []string, s Subject, excerpt string) error {
	if len(names) == 0 {
		return nil
	}
	users, err := client.User.Query().Where(user.Or(namePredicates(names)...)).All(ctx)
	if err != nil {
		return err
	}
	author := uuid.Nil
	if v := viewer.FromContext(ctx); v != nil {
		author = v.UserID
	}
	var ids []uuid.UUID
	for _, u := range users {
		if u.ID != author && designated(u, names) {
			ids = append(ids, u.ID)
		}
	}
	return create(ctx, client, ids, enum.NotificationKindMentioned, "You were mentioned on "+s.Title, excerpt, s)
}

// Assigned notifies a user that the viewer assigned them something; assigning
// oneself notifies nobody.
func Assigned(ctx context.Context, client *ent.Client, assignee uuid.UUID, s Subject) error {
	if v := viewer.FromContext(ctx); v != nil && v.UserID == assignee {
		return nil
	}
	return create(ctx, client, []uuid.UUID{assignee}, enum.NotificationKindAssigned, "Assigned to you: "+s.Title, "", s)
}

// ConnectorFailing tells the acting organisation's active administrators
// that a connector has been failing; reason is the last error, in words.
func ConnectorFailing(ctx context.Context, client *ent.Client, s Subject, reason string) error {
	ids, err := Admins(ctx, client)
	if err != nil {
		return err
	}
	return create(ctx, client, ids, enum.NotificationKindConnectorFailing, "Connector failing for an hour: "+s.Title, reason, s)
}

// AutomationFailed tells the acting organisation's active administrators
// that a trigger was disabled after failing again and again; reason is its
// last error.
func AutomationFailed(ctx context.Context, client *ent.Client, s Subject, reason string) error {
	ids, err := Admins(ctx, client)
	if err != nil {
		return err
	}
	return create(ctx, client, ids, enum.NotificationKindAutomationFailed, "Trigger disabled after repeated failures: "+s.Title, reason, s)
}

// namePredicates narrows the query to candidates; designated makes the
// exact, case-insensitive decision, since email local parts cannot be
// matched portably in SQL.
func namePredicates(names []string) []predicate.User {
	ps := make([]predicate.User, 0, 2*len(names))
	for _, n := range names {
		ps = append(ps, user.HandleEqualFold(n), user.EmailHasPrefix(strings.ToLower(n)+"@"), user.EmailHasPrefix(n+"@"))
	}
	return ps
}

func designated(u *ent.User, names []string) bool {
	local, _, _ := strings.Cut(u.Email, "@")
	for _, n := range names {
		if strings.EqualFold(u.Handle, n) || strings.EqualFold(local, n) {
			return true
		}
	}
	return false
}

// excerptLength bounds the body copied into a notification, in runes.
const excerptLength = 280

func create(ctx context.Context, client *ent.Client, users []uuid.UUID, kind enum.NotificationKind, title, body string, s Subject) error {
	return createOn(ctx, client, users, kind, title, body, s, true, true)
}

// Automation notifies users for an automation action (a trigger's or a
// macro's notify) on the channels it names, each user's preferences for
// the automation kind narrowing them further; a user listed twice is
// notified once. It writes in the change's transaction (client).
func Automation(ctx context.Context, client *ent.Client, users []uuid.UUID, inApp, email bool, title, body string, s Subject) error {
	seen := map[uuid.UUID]bool{}
	var ids []uuid.UUID
	for _, id := range users {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return createOn(ctx, client, ids, enum.NotificationKindAutomation, title, body, s, inApp, email)
}

// createOn is create limited to the channels allowed.
func createOn(ctx context.Context, client *ent.Client, users []uuid.UUID, kind enum.NotificationKind, title, body string, s Subject, inApp, email bool) error {
	rs, err := recipients(ctx, client, users, kind)
	if err != nil || len(rs) == 0 {
		return err
	}
	if !email {
		for i := range rs {
			rs[i].mail = false
		}
	}
	body = excerpt(body)
	var bulk []*ent.NotificationCreate
	for _, r := range rs {
		if r.prefs.InApp && inApp {
			bulk = append(bulk, client.Notification.Create().SetUserID(r.id).SetKind(kind).
				SetTitle(textfield.Truncate(title, 500)).SetBody(body).
				SetEntityType(s.EntityType).SetEntityID(s.EntityID))
		}
	}
	notified := make(map[uuid.UUID]uuid.UUID, len(bulk))
	if len(bulk) > 0 {
		created, err := client.Notification.CreateBulk(bulk...).Save(ctx)
		if err != nil {
			return err
		}
		events := make([]hub.Event, len(created))
		for i, n := range created {
			notified[n.UserID] = n.ID
			events[i] = hub.Event{OrganizationID: n.OrganizationID, Topic: hub.TopicNotification, Kind: hub.KindCreated, EntityID: n.ID, UserID: &n.UserID}
		}
		if err := hub.Record(ctx, client, events...); err != nil {
			return err
		}
	}
	return emailUsers(ctx, client, rs, notified, kind, body, s)
}

// recipient is a user to notify and where they take this kind.
type recipient struct {
	id    uuid.UUID
	email string
	// mail is whether an email goes to them: their preference for the
	// kind, their email_notifications flag, and an active account.
	mail  bool
	prefs ChannelPrefs
}

// recipients reads the users' preferences for kind and keeps those who
// take it on at least one channel.
func recipients(ctx context.Context, client *ent.Client, ids []uuid.UUID, kind enum.NotificationKind) ([]recipient, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	users, err := client.User.Query().Where(user.IDIn(ids...)).
		Select(user.FieldID, user.FieldEmail, user.FieldActive, user.FieldNotificationPrefs, user.FieldFeatures).All(ctx)
	if err != nil {
		return nil, err
	}
	var out []recipient
	for _, u := range users {
		p := prefsOf(u)[kind]
		r := recipient{id: u.ID, email: u.Email, prefs: p,
			mail: p.Email && u.Active && u.Email != "" && features.On(u, features.EmailNotifications)}
		if p.InApp || r.mail {
			out = append(out, r)
		}
	}
	return out, nil
}

func excerpt(s string) string { return textfield.Truncate(s, excerptLength) }

// SLA notifies users that an incident's SLA timer is at risk or breached
// (kind sla_at_risk or sla_breach), per their preferences; a user listed
// twice is notified once.
func SLA(ctx context.Context, client *ent.Client, kind enum.NotificationKind, users []uuid.UUID, title, body string, s Subject) error {
	seen := map[uuid.UUID]bool{}
	var ids []uuid.UUID
	for _, id := range users {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return create(ctx, client, ids, kind, title, body, s)
}

// Admins returns the acting organisation's active administrators.
func Admins(ctx context.Context, client *ent.Client) ([]uuid.UUID, error) {
	return client.User.Query().Where(user.RoleEQ(enum.RoleAdmin), user.Active(true)).IDs(ctx)
}
