package report

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/note"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/ent/timelineevent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/report/render"
)

// Bounds on what one report lists; the incident's counts stay exact.
const (
	maxAlerts   = 10000
	maxEvents   = 5000
	maxNotes    = 2000
	maxEntities = 500
)

// document gathers what a report shows, as the organisation's settings say.
// Client reports never carry notes.
func (s *Service) document(ctx context.Context, r *ent.Report) (render.Document, error) {
	c := s.client
	inc, err := c.Incident.Query().Where(incident.ID(r.IncidentID)).WithAssignee().WithGroup().Only(ctx)
	if err != nil {
		return render.Document{}, fmt.Errorf("load incident: %w", err)
	}
	set, err := settings(ctx, c)
	if err != nil {
		return render.Document{}, err
	}
	org, err := c.Organization.Query().Where(organization.ID(inc.OrganizationID)).Only(ctx)
	if err != nil {
		return render.Document{}, fmt.Errorf("load organisation: %w", err)
	}
	doc := render.Document{
		Kind:         render.Kind(r.Kind),
		GeneratedAt:  time.Now().UTC(),
		Organization: org.Name,
		Branding: render.Branding{CompanyName: set.CompanyName, AccentColor: set.AccentColor,
			Footer: set.Footer, Confidentiality: set.Confidentiality},
		Sections: render.Sections(set.Sections),
		Incident: incidentPart(inc),
		Timings:  timings(inc),
	}
	if doc.Sections.Alerts || doc.Sections.Entities {
		alerts, err := c.Alert.Query().Where(alert.IncidentID(inc.ID)).
			Order(ent.Desc(alert.FieldLastSeenAt), ent.Desc(alert.FieldID)).Limit(maxAlerts).
			Select(alert.FieldTitle, alert.FieldSeverity, alert.FieldStatus, alert.FieldSource,
				alert.FieldFirstSeenAt, alert.FieldLastSeenAt, alert.FieldOccurrences, alert.FieldEntities).All(ctx)
		if err != nil {
			return doc, fmt.Errorf("load alerts: %w", err)
		}
		doc.Alerts = alertRows(alerts)
		doc.Entities = entityRows(alerts)
	}
	if doc.Sections.Timeline {
		events, err := c.TimelineEvent.Query().Where(timelineevent.IncidentID(inc.ID)).
			Order(ent.Asc(timelineevent.FieldOccurredAt), ent.Asc(timelineevent.FieldID)).Limit(maxEvents).All(ctx)
		if err != nil {
			return doc, fmt.Errorf("load timeline: %w", err)
		}
		for _, e := range events {
			// A note's event repeats the note: internal, like the note.
			if e.Kind == enum.TimelineKindNoteAdded && r.Kind != enum.ReportKindInternal {
				continue
			}
			doc.Timeline = append(doc.Timeline, render.Event{OccurredAt: e.OccurredAt, Kind: string(e.Kind),
				Title: e.Title, Description: e.Description, Actor: e.ActorName})
		}
	}
	if doc.Sections.Notes && r.Kind == enum.ReportKindInternal {
		notes, err := c.Note.Query().Where(note.IncidentID(inc.ID)).
			Order(ent.Asc(note.FieldCreatedAt), ent.Asc(note.FieldID)).Limit(maxNotes).All(ctx)
		if err != nil {
			return doc, fmt.Errorf("load notes: %w", err)
		}
		for _, n := range notes {
			doc.Notes = append(doc.Notes, render.Note{Author: n.AuthorName, CreatedAt: n.CreatedAt, Body: n.Body})
		}
	}
	return doc, nil
}

// incidentPart is the incident as a report shows it. A manual summary
// overrides the AI one.
func incidentPart(inc *ent.Incident) render.Incident {
	out := render.Incident{
		Number: inc.Number, Title: inc.Title, Description: inc.Description,
		Summary: inc.Summary, Severity: string(inc.Severity), Status: string(inc.Status),
		Tags: inc.Tags, CreatedAt: inc.CreatedAt, AcknowledgedAt: inc.AcknowledgedAt, ClosedAt: inc.ClosedAt,
	}
	if out.Summary == "" {
		out.Summary = inc.AiSummary
	}
	if inc.Disposition != nil {
		out.Disposition = string(*inc.Disposition)
	}
	if u := inc.Edges.Assignee; u != nil {
		out.Assignee = u.Name
		if out.Assignee == "" {
			out.Assignee = u.Email
		}
	}
	if g := inc.Edges.Group; g != nil {
		out.Group = g.Name
	}
	return out
}

func timings(inc *ent.Incident) render.Timings {
	since := func(t *time.Time) *time.Duration {
		if t == nil {
			return nil
		}
		d := t.Sub(inc.CreatedAt)
		return &d
	}
	return render.Timings{TimeToAcknowledge: since(inc.AcknowledgedAt), TimeToClose: since(inc.ClosedAt)}
}

func alertRows(alerts []*ent.Alert) []render.Alert {
	out := make([]render.Alert, len(alerts))
	for i, a := range alerts {
		out[i] = render.Alert{Title: a.Title, Severity: string(a.Severity), Status: string(a.Status), Source: a.Source,
			FirstSeenAt: a.FirstSeenAt, LastSeenAt: a.LastSeenAt, Occurrences: a.Occurrences}
	}
	return out
}

// entityRows counts, for each entity, the alerts that carry it; most
// widespread first.
func entityRows(alerts []*ent.Alert) []render.Entity {
	counts := map[schematype.Entity]int{}
	for _, a := range alerts {
		seen := map[schematype.Entity]bool{}
		for _, e := range a.Entities {
			if !seen[e] {
				seen[e] = true
				counts[e]++
			}
		}
	}
	out := make([]render.Entity, 0, len(counts))
	for e, n := range counts {
		out = append(out, render.Entity{Type: e.Type, Value: e.Value, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Value < out[j].Value
	})
	return out[:min(len(out), maxEntities)]
}
