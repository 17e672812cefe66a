package incidents

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/storage"
)

const (
	// maxLinkIDs bounds the alerts of one link request, as for bulk actions.
	maxLinkIDs = 10000
	// chunk bounds the ids in one statement's IN list, far below the
	// parameter limits of PostgreSQL (65535) and SQLite (32766).
	chunk = 1000
	// maxEventIDs bounds the alert ids a timeline event lists in its data;
	// its title carries the full count.
	maxEventIDs = 100
)

// LinkAlerts links alerts of the acting organisation to an incident. An
// alert belongs to at most one incident: one linked elsewhere moves, and
// both incidents record it (activity and timeline). Alerts already linked
// here are left as they are. Ids that are not alerts of this organisation
// fail the request and nothing is written.
func (s *Service) LinkAlerts(ctx context.Context, id uuid.UUID, in LinkAlertsInput) (*LinkAlertsPayload, error) {
	switch {
	case len(in.AlertIDs) == 0:
		return nil, apperr.Invalid("alert_ids", "give 1 to %d alert ids", maxLinkIDs)
	case len(in.AlertIDs) > maxLinkIDs:
		return nil, apperr.Invalid("alert_ids", "at most %d alerts at a time", maxLinkIDs)
	}
	out := &LinkAlertsPayload{}
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		inc, err := visible(ctx, c, id)
		if err != nil {
			return err
		}
		alerts, err := lockAlerts(ctx, c, "alert_ids", in.AlertIDs)
		if err != nil {
			return err
		}
		if out.Linked, out.Moved, err = attach(ctx, c, inc, alerts); err != nil {
			return err
		}
		out.Incident, err = c.Incident.Get(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	out.Incident = out.Incident.Unwrap()
	return out, nil
}

// Attach links the alerts with the given ids to incident id, inside the
// caller's transaction (c is its client): the bulk alert action uses it so
// that linking has one implementation. field names the ids in errors.
func Attach(ctx context.Context, c *ent.Client, id uuid.UUID, field string, alertIDs []uuid.UUID) (linked int, err error) {
	inc, err := visible(ctx, c, id)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Code == apperr.NotFound {
			return 0, apperr.Invalid(field, "%s is not an incident of this organisation", id)
		}
		return 0, err
	}
	alerts, err := lockAlerts(ctx, c, "alert_ids", alertIDs)
	if err != nil {
		return 0, err
	}
	linked, _, err = attach(ctx, c, inc, alerts)
	return linked, err
}

// UnlinkAlert detaches one alert from an incident. An alert that is not
// linked to it is not found.
func (s *Service) UnlinkAlert(ctx context.Context, id, alertID uuid.UUID) (*ent.Incident, error) {
	var out *ent.Incident
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		inc, err := visible(ctx, c, id)
		if err != nil {
			return err
		}
		a, err := c.Alert.Query().Where(alert.ID(alertID), alert.IncidentID(id)).Modify(lockOnPostgres).Only(ctx)
		if ent.IsNotFound(err) {
			return apperr.NotFoundf("alert %s is not linked to incident %s", alertID, id)
		}
		if err != nil {
			return err
		}
		if err := c.Alert.UpdateOne(a).ClearIncidentID().Exec(ctx); err != nil {
			return err
		}
		if err := audit.Record(ctx, c,
			audit.Entry{EntityType: "alert", EntityID: a.ID, Action: "update", Field: "incident_id", Before: id.String()},
			audit.Entry{EntityType: entityIncident, EntityID: id, Action: "unlink_alert", After: map[string]any{"alert_id": a.ID}},
		); err != nil {
			return err
		}
		if err := addEvent(ctx, c, id, enum.TimelineKindAlertUnlinked, "Alert unlinked: "+a.Title, "",
			map[string]any{"alert_ids": []uuid.UUID{a.ID}}); err != nil {
			return err
		}
		if err := recount(ctx, c, id); err != nil {
			return err
		}
		if err := hub.Record(ctx, c, hub.Changed(inc.OrganizationID, hub.TopicAlert, hub.KindUpdated, a.ID)...); err != nil {
			return err
		}
		if err := announce(ctx, c, hub.KindUpdated, id); err != nil {
			return err
		}
		out, err = c.Incident.Get(ctx, inc.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// lockAlerts reads the alerts with the given ids, in id order, locked on
// PostgreSQL until the transaction ends. Any id that is not an alert of the
// acting organisation fails with a BAD_USER_INPUT on field.
func lockAlerts(ctx context.Context, c *ent.Client, field string, ids []uuid.UUID) ([]*ent.Alert, error) {
	ids = sortedIDs(ids)
	out := make([]*ent.Alert, 0, len(ids))
	for part := range slices.Chunk(ids, chunk) {
		got, err := c.Alert.Query().Where(alert.IDIn(part...)).Order(ent.Asc(alert.FieldID)).
			Select(alert.FieldID, alert.FieldTitle, alert.FieldSeverity, alert.FieldIncidentID).
			Modify(lockOnPostgres).All(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	if len(out) != len(ids) {
		return nil, apperr.Invalid(field, "%s", missing(ids, out))
	}
	return out, nil
}

// missing describes the ids that found no alert.
func missing(ids []uuid.UUID, found []*ent.Alert) string {
	have := make(map[uuid.UUID]bool, len(found))
	for _, a := range found {
		have[a.ID] = true
	}
	var gone []string
	for _, id := range ids {
		if !have[id] {
			gone = append(gone, id.String())
		}
	}
	if len(gone) == 1 {
		return fmt.Sprintf("%s is not an alert of this organisation", gone[0])
	}
	shown := gone[:min(len(gone), 5)]
	return fmt.Sprintf("%d ids are not alerts of this organisation (%v...)", len(gone), shown)
}

// attach links alerts to inc. Alerts moving from other incidents are
// recorded on both sides; every incident whose alerts changed gets its
// count recomputed. It returns how many alerts were newly linked and how
// many of those moved.
func attach(ctx context.Context, c *ent.Client, inc *ent.Incident, alerts []*ent.Alert) (linked, moved int, err error) {
	var (
		ids     []uuid.UUID
		entries []audit.Entry
		from    = map[uuid.UUID][]*ent.Alert{} // previous incident → alerts leaving it
		fromOrd []uuid.UUID
	)
	for _, a := range alerts {
		if a.IncidentID != nil && *a.IncidentID == inc.ID {
			continue
		}
		ids = append(ids, a.ID)
		var before any
		after := map[string]any{"alert_id": a.ID}
		if prev := a.IncidentID; prev != nil {
			before = prev.String()
			after["from_incident_id"] = *prev
			if from[*prev] == nil {
				fromOrd = append(fromOrd, *prev)
			}
			from[*prev] = append(from[*prev], a)
			entries = append(entries, audit.Entry{EntityType: entityIncident, EntityID: *prev, Action: "unlink_alert",
				After: map[string]any{"alert_id": a.ID, "moved_to_incident_id": inc.ID}})
		}
		entries = append(entries,
			audit.Entry{EntityType: "alert", EntityID: a.ID, Action: "update", Field: "incident_id", Before: before, After: inc.ID.String()},
			audit.Entry{EntityType: entityIncident, EntityID: inc.ID, Action: "link_alert", After: after})
	}
	if len(ids) == 0 {
		return 0, 0, nil
	}
	for part := range slices.Chunk(ids, chunk) {
		if err := c.Alert.Update().Where(alert.IDIn(part...)).SetIncidentID(inc.ID).Exec(ctx); err != nil {
			return 0, 0, err
		}
	}
	if err := audit.Record(ctx, c, entries...); err != nil {
		return 0, 0, err
	}
	if err := addEvent(ctx, c, inc.ID, enum.TimelineKindAlertLinked, linkTitle(alerts, ids), "",
		map[string]any{"alert_ids": head(ids), "count": len(ids)}); err != nil {
		return 0, 0, err
	}
	for _, prev := range fromOrd {
		gone := from[prev]
		goneIDs := make([]uuid.UUID, len(gone))
		for i, a := range gone {
			goneIDs[i] = a.ID
		}
		title := fmt.Sprintf("%d alerts moved to incident #%d", len(gone), inc.Number)
		if len(gone) == 1 {
			title = fmt.Sprintf("Alert moved to incident #%d: %s", inc.Number, gone[0].Title)
		}
		if err := addEvent(ctx, c, prev, enum.TimelineKindAlertUnlinked, title, "",
			map[string]any{"alert_ids": head(goneIDs), "count": len(gone), "moved_to_incident_id": inc.ID}); err != nil {
			return 0, 0, err
		}
		if err := recount(ctx, c, prev); err != nil {
			return 0, 0, err
		}
		moved += len(gone)
	}
	if err := recount(ctx, c, inc.ID); err != nil {
		return 0, 0, err
	}
	if err := hub.Record(ctx, c, hub.Changed(inc.OrganizationID, hub.TopicAlert, hub.KindUpdated, ids...)...); err != nil {
		return 0, 0, err
	}
	return len(ids), moved, announce(ctx, c, hub.KindUpdated, append([]uuid.UUID{inc.ID}, fromOrd...)...)
}

// linkTitle names a link event: the alert's title for one, a count for many.
func linkTitle(alerts []*ent.Alert, ids []uuid.UUID) string {
	if len(ids) == 1 {
		for _, a := range alerts {
			if a.ID == ids[0] {
				return "Alert linked: " + a.Title
			}
		}
	}
	return fmt.Sprintf("%d alerts linked", len(ids))
}

func head(ids []uuid.UUID) []uuid.UUID { return ids[:min(len(ids), maxEventIDs)] }

// recount sets an incident's alert_count from its alerts, so the counter
// cannot drift whatever path linked or unlinked them.
func recount(ctx context.Context, c *ent.Client, id uuid.UUID) error {
	n, err := c.Alert.Query().Where(alert.IncidentID(id)).Count(ctx)
	if err != nil {
		return err
	}
	return c.Incident.Update().Where(incident.ID(id)).SetAlertCount(n).Exec(ctx)
}
