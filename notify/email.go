package notify

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/mail"
)

// headings are Seliq's own words for each kind, the subject of its email:
// never the subject's title, which may come from an alert's source.
var headings = map[enum.NotificationKind]string{
	enum.NotificationKindAssigned:         "Something was assigned to you",
	enum.NotificationKindMentioned:        "You were mentioned in a note",
	enum.NotificationKindIncidentStatus:   "An incident's status changed",
	enum.NotificationKindSlaAtRisk:        "An incident is close to its SLA deadline",
	enum.NotificationKindSlaBreach:        "An incident missed its SLA deadline",
	enum.NotificationKindCriticalAlert:    "A critical alert arrived",
	enum.NotificationKindConnectorFailing: "A connector has been failing for an hour",
	enum.NotificationKindAutomationFailed: "A trigger failed repeatedly and was disabled",
	enum.NotificationKindAutomation:       "An automation rule notified you",
}

// emailUsers queues, in the change's transaction, one message for each
// recipient who takes kind by email. A notification's message carries the
// notification's id as its Message-ID, so retries are the same message.
func emailUsers(ctx context.Context, client *ent.Client, rs []recipient, notified map[uuid.UUID]uuid.UUID, kind enum.NotificationKind, body string, s Subject) error {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil
	}
	for _, r := range rs {
		if !r.mail {
			continue
		}
		id, ok := notified[r.id]
		if !ok {
			id = uuid.New()
		}
		j := mail.Job{OrganizationID: v.OrgID, MessageID: "notification." + id.String(), To: r.email, Content: content(kind, body, s)}
		if err := mail.Enqueue(ctx, client, j); err != nil {
			return err
		}
	}
	return nil
}

// content is a notification's email: the kind's heading, the subject's
// title and the excerpt quoted as untrusted text, and a link to it.
func content(kind enum.NotificationKind, body string, s Subject) mail.Content {
	quoted := s.Title
	if body != "" {
		quoted += "\n\n" + body
	}
	return mail.Content{Heading: headings[kind], Intro: "About this " + entityWord(s.EntityType) + ":",
		Quoted: quoted, QuotedFrom: quotedFrom(s.EntityType), Link: Link(s.EntityType, s.EntityID)}
}

func entityWord(t string) string {
	if t == "" {
		return "item"
	}
	return strings.ReplaceAll(t, "_", " ")
}

// quotedFrom names where the quoted text came from: an alert's is written
// by whatever sent the alert, so possibly by an attacker.
func quotedFrom(entityType string) string {
	if entityType == "alert" {
		return "the alert's source (may be written by an attacker)"
	}
	return "the " + entityWord(entityType) + " (titles and notes may quote alerts)"
}

// Link is the API path of a notified object, for messages' links.
func Link(entityType string, id uuid.UUID) string {
	if entityType == "" || id == uuid.Nil {
		return ""
	}
	return "/api/v1/" + strings.ReplaceAll(entityType, "_", "-") + "s/" + id.String()
}
