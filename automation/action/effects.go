package action

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/correlation"
	"github.com/seliq/seliq/ent/group"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/query"
)

// alertSideEffect runs the actions outside an alert's own fields.
func (r *run) alertSideEffect(ctx context.Context, a Action, at string, idx int) error {
	cur := r.draft.Alert()
	subject := notify.Subject{EntityType: "alert", EntityID: cur.ID, Title: cur.Title}
	switch a.Type {
	case TypeLinkIncident:
		return r.link(ctx, a, at, idx)
	case TypeNotify:
		return r.notify(ctx, a, at, idx, subject)
	case TypeWebhook:
		return r.webhook(ctx, a, at, idx, "alert", cur.ID, cur)
	case TypeAnalyze:
		return r.analyze(ctx, at, idx, &cur.ID, nil)
	}
	return apperr.Invalid(at+"type", "%q is not an action type", a.Type)
}

// incidentSideEffect runs the actions outside an incident's own fields.
func (r *run) incidentSideEffect(ctx context.Context, a Action, at string, idx int) error {
	inc := r.res.Incident
	subject := notify.Subject{EntityType: "incident", EntityID: inc.ID, Title: fmt.Sprintf("Incident #%d: %s", inc.Number, inc.Title)}
	switch a.Type {
	case TypeNotify:
		return r.notify(ctx, a, at, idx, subject)
	case TypeWebhook:
		return r.webhook(ctx, a, at, idx, "incident", inc.ID, inc)
	case TypeAnalyze:
		return r.analyze(ctx, at, idx, nil, &inc.ID)
	}
	return apperr.Invalid(at+"type", "%q is not an action type", a.Type)
}

// flush writes the draft's changes so far, so that a domain reading the
// alert's row (linking) sees them, and starts a new draft from the saved
// alert; the activity is recorded at the end with the rest.
func (r *run) flush(ctx context.Context) error {
	saved, err := r.draft.Save(ctx, r.tx)
	if err != nil {
		return err
	}
	r.entries = append(r.entries, r.draft.Entries()...)
	r.draft = alerts.NewDraft(saved, r.now)
	return nil
}

// link attaches the alert to an incident: the one named, or the open
// incident its correlation key opened within the window, or a new one.
// The key's row in automation_correlations is upserted first: on
// PostgreSQL the upsert locks it until commit, so a concurrent transaction
// with the same key waits and then finds the incident this one opened;
// SQLite's transactions are serial already.
func (r *run) link(ctx context.Context, a Action, at string, idx int) error {
	if err := r.flush(ctx); err != nil {
		return err
	}
	cur := r.draft.Alert()
	c := r.tx.Client()
	if a.IncidentID != nil {
		if _, err := incidents.Attach(ctx, c, *a.IncidentID, at+"incident_id", []uuid.UUID{cur.ID}); err != nil {
			return err
		}
		return r.linked(ctx, idx, a.Type, cur, *a.IncidentID)
	}
	key, ok, err := r.e.key(at+"incident_key", a.IncidentKey, cur, r.now)
	if err != nil || !ok {
		return err // an alert without a key is not correlated
	}
	window, err := ParseWindow(at+"window", a.Window)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(key))
	hash := hex.EncodeToString(sum[:])
	err = c.Correlation.Create().SetKeyHash(hash).SetKey(textfield.Truncate(key, MaxKey)).
		OnConflictColumns(correlation.FieldOrganizationID, correlation.FieldKeyHash).UpdateKeyHash().Exec(ctx)
	if err != nil {
		return err
	}
	row, err := c.Correlation.Query().Where(correlation.KeyHash(hash)).Only(ctx)
	if err != nil {
		return err
	}
	if row.IncidentID != nil && row.OpenedAt != nil && r.now.Sub(*row.OpenedAt) < window {
		open, err := c.Incident.Query().Where(incident.ID(*row.IncidentID), incident.StatusNEQ(enum.IncidentStatusClosed)).Exist(ctx)
		if err != nil {
			return err
		}
		if open {
			if _, err := incidents.Attach(ctx, c, *row.IncidentID, at+"incident_key", []uuid.UUID{cur.ID}); err != nil {
				return err
			}
			return r.linked(ctx, idx, a.Type, cur, *row.IncidentID)
		}
	}
	title := textfield.Truncate(fmt.Sprintf("%s: %s", key, cur.Title), 1000)
	inc, after, err := r.e.deps.Incidents.CreateTx(ctx, r.tx, incidents.CreateIncidentInput{Title: title, AlertIDs: []uuid.UUID{cur.ID}})
	if err != nil {
		return prefixed(err, at)
	}
	r.res.after = append(r.res.after, after)
	if err := c.Correlation.UpdateOne(row).SetIncidentID(inc.ID).SetOpenedAt(r.now).Exec(ctx); err != nil {
		return err
	}
	if err := r.e.deps.Incidents.CreatedTx(ctx, r.tx, inc.ID); err != nil {
		return err
	}
	return r.linked(ctx, idx, a.Type, cur, inc.ID)
}

// linked reloads the alert after a domain linked it and reports the change
// (the incidents package recorded its activity).
func (r *run) linked(ctx context.Context, idx int, typ string, before *ent.Alert, incidentID uuid.UUID) error {
	saved, err := r.tx.Alert.Get(ctx, before.ID)
	if err != nil {
		return err
	}
	r.draft = alerts.NewDraft(saved, r.now)
	var was any
	if before.IncidentID != nil {
		was = before.IncidentID.String()
	}
	if was != incidentID.String() {
		r.res.Changes = append(r.res.Changes, Change{Action: idx, Type: typ, Field: "incident_id", Before: was, After: incidentID.String()})
	}
	return nil
}

// key evaluates a correlation key expression on the alert; ok is false
// when the alert has no value for it (an empty list, a missing attribute).
func (e *Executor) key(field, text string, a *ent.Alert, now time.Time) (string, bool, error) {
	v, err := e.keyProgram(field, text)
	if err != nil {
		return "", false, err
	}
	k, err := v.Eval(query.AlertRecord(a), now)
	if err != nil || k == "" {
		return "", false, nil
	}
	return k, true, nil
}

// keyProgram compiles a key expression once per executor.
func (e *Executor) keyProgram(field, text string) (*query.Value, error) {
	if v, ok := e.keys.Load(text); ok {
		return v.(*query.Value), nil
	}
	v, err := compileKey(field, text)
	if err != nil {
		return nil, err
	}
	e.keys.Store(text, v)
	return v, nil
}

// notify writes in-app notifications and queues emails, in the transaction.
func (r *run) notify(ctx context.Context, a Action, at string, idx int, s notify.Subject) error {
	c := r.tx.Client()
	users := append([]uuid.UUID(nil), a.UserIDs...)
	if len(a.GroupIDs) > 0 {
		members, err := c.User.Query().Where(user.Active(true), user.HasGroupsWith(group.IDIn(a.GroupIDs...))).IDs(ctx)
		if err != nil {
			return err
		}
		users = append(users, members...)
	}
	var inApp, email bool
	for _, ch := range a.Channels {
		inApp = inApp || ch == ChannelInApp
		email = email || ch == ChannelEmail
	}
	if len(a.Channels) == 0 {
		inApp = true
	}
	title := "Automation: " + s.Title
	if err := notify.Automation(ctx, c, users, inApp, email, title, a.Message, s); err != nil {
		return err
	}
	if email {
		if err := notify.Contacts(ctx, c, a.ContactIDs, a.Message, s); err != nil {
			return err
		}
	}
	r.res.Changes = append(r.res.Changes, Change{Action: idx, Type: a.Type, Field: "notified", Effect: true,
		After: map[string]any{"users": len(users), "contacts": len(a.ContactIDs), "channels": a.Channels}})
	return nil
}

// analyze queues an analysis in the transaction.
func (r *run) analyze(ctx context.Context, at string, idx int, alertID, incidentID *uuid.UUID) error {
	if r.e.deps.Analysis == nil {
		return apperr.Invalid(at+"type", "analyses are not available on this server")
	}
	an, err := r.e.deps.Analysis.QueueTx(ctx, r.tx, alertID, incidentID)
	if err != nil {
		return prefixed(err, at)
	}
	r.res.Changes = append(r.res.Changes, Change{Action: idx, Type: TypeAnalyze, Field: "analysis", After: an.ID.String(), Effect: true})
	return nil
}

// WebhookArgs is the durable job delivering one webhook call: the body is
// fixed when queued, the secret travels sealed.
type WebhookArgs struct {
	OrganizationID uuid.UUID       `json:"organization_id"`
	DeliveryID     uuid.UUID       `json:"delivery_id" river:"unique"`
	URL            string          `json:"url"`
	SecretSealed   string          `json:"secret_sealed"`
	Body           json.RawMessage `json:"body"`
}

// Kind names the job type.
func (WebhookArgs) Kind() string { return "automation.webhook" }

// webhook queues the call in the transaction: it goes out after commit,
// retried with backoff until the receiver answers 2xx.
func (r *run) webhook(ctx context.Context, a Action, at string, idx int, objType string, id uuid.UUID, obj any) error {
	if a.SecretSealed == "" {
		return apperr.Invalid(at+"secret", "the webhook has no stored secret")
	}
	deliveryID := uuid.Must(uuid.NewV7())
	body, err := json.Marshal(map[string]any{
		"delivery_id": deliveryID, "event": r.opts.Event, "actor": r.opts.Actor,
		"object_type": objType, "object_id": id, "object": obj, "sent_at": r.now,
	})
	if err != nil {
		return err
	}
	var org uuid.UUID
	switch o := obj.(type) {
	case *ent.Alert:
		org = o.OrganizationID
	case *ent.Incident:
		org = o.OrganizationID
	}
	args := WebhookArgs{OrganizationID: org, DeliveryID: deliveryID, URL: a.URL, SecretSealed: a.SecretSealed, Body: body}
	if err := jobs.EnqueueTx(ctx, r.tx.Client(), args, &webhookInsertOpts); err != nil {
		return err
	}
	r.res.Changes = append(r.res.Changes, Change{Action: idx, Type: a.Type, Field: "webhook", After: map[string]any{"url": a.URL, "delivery_id": deliveryID}, Effect: true})
	return nil
}

// keys caches compiled correlation keys; see Executor.
type keyCache = sync.Map

// Sign is the signature header's value for body: "sha256=" and the hex
// HMAC-SHA256 of the body under the webhook's secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
