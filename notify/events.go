package notify

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/contact"
	"github.com/seliq/seliq/ent/group"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/opt"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/mail"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/storage/settingstore"
)

// IncidentStatus tells an incident's assignee and the members of its
// group that its status changed; whoever changed it is not told.
func IncidentStatus(ctx context.Context, client *ent.Client, inc *ent.Incident, s Subject, from, to enum.IncidentStatus) error {
	var ids []uuid.UUID
	if inc.AssigneeID != nil {
		ids = append(ids, *inc.AssigneeID)
	}
	if inc.GroupID != nil {
		members, err := client.Group.Query().Where(group.ID(*inc.GroupID)).QueryMembers().IDs(ctx)
		if err != nil {
			return err
		}
		ids = append(ids, members...)
	}
	ids = others(ctx, ids)
	return create(ctx, client, ids, enum.NotificationKindIncidentStatus,
		fmt.Sprintf("Status of %s changed from %s to %s", s.Title, from, to), fmt.Sprintf("Status changed from %s to %s.", from, to), s)
}

// others drops the acting user and repeats from ids.
func others(ctx context.Context, ids []uuid.UUID) []uuid.UUID {
	actor := uuid.Nil
	if v := viewer.FromContext(ctx); v != nil {
		actor = v.UserID
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	ids = slices.Compact(ids)
	return slices.DeleteFunc(ids, func(id uuid.UUID) bool { return id == actor })
}

// maxCriticalEach is how many critical alerts of one payload are notified
// one by one; beyond it the on-duty group gets one notification for the
// payload, so a flood of critical alerts is not a flood of mail.
const maxCriticalEach = 5

// CriticalAlerts notifies the organisation's on-duty group of new
// critical alerts. It is an ingest AfterCreate hook: it runs in the ingest
// transaction, so the notifications and their emails commit with the
// alerts.
type CriticalAlerts struct{}

// OnCreated notifies the on-duty group of the critical alerts among those
// created (as triggers left them).
func (CriticalAlerts) OnCreated(ctx context.Context, tx *ent.Tx, created []*ent.Alert) (func(context.Context), error) {
	if len(created) == 0 {
		return nil, nil
	}
	c := tx.Client()
	st, err := settings(ctx, c)
	if err != nil || st.OnDutyGroupID == nil {
		return nil, err
	}
	// Alerts the triggers suppressed (closed at birth) notify nobody.
	critical, err := c.Alert.Query().Where(alert.IDIn(storage.AlertIDs(created)...), alert.SeverityEQ(enum.SeverityCritical), alert.StatusNEQ(enum.AlertStatusClosed)).
		Select(alert.FieldID, alert.FieldTitle).All(ctx)
	if err != nil || len(critical) == 0 {
		return nil, err
	}
	members, err := c.Group.Query().Where(group.ID(*st.OnDutyGroupID)).QueryMembers().IDs(ctx)
	if err != nil || len(members) == 0 {
		return nil, err
	}
	if len(critical) > maxCriticalEach {
		s := Subject{EntityType: "alert", EntityID: critical[0].ID, Title: critical[0].Title}
		return nil, create(ctx, c, members, enum.NotificationKindCriticalAlert,
			fmt.Sprintf("%d critical alerts arrived, the first: %s", len(critical), critical[0].Title),
			fmt.Sprintf("%d critical alerts arrived at once.", len(critical)), s)
	}
	for _, a := range critical {
		s := Subject{EntityType: "alert", EntityID: a.ID, Title: a.Title}
		if err := create(ctx, c, members, enum.NotificationKindCriticalAlert, "Critical alert: "+a.Title, "", s); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// Contact events about an incident.
const (
	IncidentOpened   = "opened"
	IncidentClosed   = "closed"
	IncidentReopened = "reopened"
)

// ContactsOfIncident emails the contacts of the incident's organisation
// who asked to hear about incidents (notify_incidents) that it opened or
// closed, in the change's transaction.
func ContactsOfIncident(ctx context.Context, client *ent.Client, inc *ent.Incident, event string) error {
	cs, err := client.Contact.Query().Where(contact.NotifyIncidents(true), contact.EmailNEQ("")).All(ctx)
	if err != nil || len(cs) == 0 {
		return err
	}
	heading := fmt.Sprintf("Incident #%d was %s", inc.Number, event)
	for _, ct := range cs {
		j := mail.Job{OrganizationID: inc.OrganizationID, MessageID: "incident-" + event + "." + uuid.NewString(), To: ct.Email,
			Content: mail.Content{Heading: heading, Intro: fmt.Sprintf("Your security team %s incident #%d (severity %s).", event, inc.Number, inc.Severity),
				Quoted: inc.Title, QuotedFrom: quotedFrom("incident")}}
		if err := mail.Enqueue(ctx, client, j); err != nil {
			return err
		}
	}
	return nil
}

// Contacts emails the given contacts of the acting organisation about s
// for an automation action, in the change's transaction. Contacts without
// an email address are skipped; ids of another organisation are not found.
func Contacts(ctx context.Context, client *ent.Client, ids []uuid.UUID, body string, s Subject) error {
	if len(ids) == 0 {
		return nil
	}
	cs, err := client.Contact.Query().Where(contact.IDIn(ids...), contact.EmailNEQ("")).All(ctx)
	if err != nil {
		return err
	}
	quoted := s.Title
	if body != "" {
		quoted += "\n\n" + excerpt(body)
	}
	for _, ct := range cs {
		j := mail.Job{OrganizationID: ct.OrganizationID, MessageID: "automation." + uuid.NewString(), To: ct.Email,
			Content: mail.Content{Heading: "A notice from your security team", Intro: "About this " + entityWord(s.EntityType) + ":",
				Quoted: quoted, QuotedFrom: quotedFrom(s.EntityType)}}
		if err := mail.Enqueue(ctx, client, j); err != nil {
			return err
		}
	}
	return nil
}

// ContactsReport emails a ready client report to the contacts of its
// organisation who receive reports (notify_reports), attached when small
// enough (see mail.MaxAttachment), in the transaction that marks it ready.
func ContactsReport(ctx context.Context, client *ent.Client, r *ent.Report, fileName string) error {
	cs, err := client.Contact.Query().Where(contact.NotifyReports(true), contact.EmailNEQ("")).All(ctx)
	if err != nil || len(cs) == 0 {
		return err
	}
	for _, ct := range cs {
		j := mail.Job{OrganizationID: r.OrganizationID, MessageID: "report." + r.ID.String() + "." + ct.ID.String(), To: ct.Email,
			ReportID: &r.ID,
			Content: mail.Content{Heading: "A security report is ready", Intro: "Your security team published a report on an incident; it is attached.",
				Quoted: fileName, QuotedFrom: "the report's file name"}}
		if err := mail.Enqueue(ctx, client, j); err != nil {
			return err
		}
	}
	return nil
}

// settingKey names the organisation's notification settings document.
const settingKey = "notifications"

// Settings are an organisation's notification settings.
type Settings struct {
	// OnDutyGroupID is the group told of new critical alerts; none: nobody.
	OnDutyGroupID *uuid.UUID `json:"onDutyGroupId"`
}

func settings(ctx context.Context, c *ent.Client) (*Settings, error) {
	var st Settings
	_, err := settingstore.Load(ctx, c, settingKey, &st)
	return &st, err
}

// Settings returns the acting organisation's notification settings.
func (s *Service) Settings(ctx context.Context) (*Settings, error) {
	if v := viewer.FromContext(ctx); v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	return settings(ctx, s.client)
}

// SetOnDutyGroup marks the group told of new critical alerts; nil clears
// it (admins only; recorded in the activity log).
func (s *Service) SetOnDutyGroup(ctx context.Context, groupID *uuid.UUID) (*Settings, error) {
	return s.UpdateSettings(ctx, UpdateSettingsInput{OnDutyGroupID: opt.Of(groupID)})
}

// UpdateSettingsInput changes an organisation's notification settings;
// fields left out keep their value.
type UpdateSettingsInput struct {
	// OnDutyGroupID: a group of the organisation, or null for nobody.
	OnDutyGroupID opt.Value[*uuid.UUID] `json:"onDutyGroupId"`
}

// UpdateSettings changes the acting organisation's notification settings
// (admins only), recording each changed value in the activity log in the
// same transaction.
func (s *Service) UpdateSettings(ctx context.Context, in UpdateSettingsInput) (*Settings, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser || !v.IsAdmin() {
		return nil, apperr.New(apperr.Forbidden, "only administrators change the notification settings")
	}
	var out *Settings
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		cur, err := settings(ctx, c)
		if err != nil {
			return err
		}
		next := *cur
		if in.OnDutyGroupID.IsSet() {
			id := in.OnDutyGroupID.Value()
			if id != nil {
				ok, err := c.Group.Query().Where(group.ID(*id)).Exist(ctx)
				if err != nil {
					return err
				}
				if !ok {
					return apperr.Invalid("on_duty_group_id", "%s is not a group of this organisation", id)
				}
			}
			next.OnDutyGroupID = id
		}
		out = &next
		if samePtr(cur.OnDutyGroupID, next.OnDutyGroupID) {
			return nil
		}
		if err := settingstore.Save(ctx, c, settingKey, out); err != nil {
			return err
		}
		return audit.Record(ctx, c, audit.Entry{EntityType: "organization", EntityID: v.OrgID, Action: "update",
			Field: "on_duty_group_id", Before: cur.OnDutyGroupID, After: next.OnDutyGroupID})
	})
	return out, err
}

func samePtr(a, b *uuid.UUID) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
