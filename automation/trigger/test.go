package trigger

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/storage"
)

// Bounds of a test run.
const (
	defaultTestLimit = 50
	// MaxTestLimit bounds the objects one test run examines (and so its matches).
	MaxTestLimit = 200
)

// errDryRun rolls a test's transaction back: nothing it did is kept.
var errDryRun = errors.New("trigger test: rolled back")

// Test evaluates a trigger against the organisation's most recent alerts
// (or incidents) as if each had just had its event, ignoring whether the
// trigger is enabled: which match (condition and, now, the period and
// window), and what each action would change. Everything runs in a
// transaction that is rolled back, the actions asked only to plan.
func (s *Service) Test(ctx context.Context, id uuid.UUID, in *TestInput) (*TestResult, error) {
	v, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	if !v.CanWrite() {
		return nil, apperr.New(apperr.Forbidden, "read-only users cannot test triggers")
	}
	limit := defaultTestLimit
	if in != nil && in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > MaxTestLimit {
			return nil, apperr.Invalid("limit", "must be from 1 to %d", MaxTestLimit)
		}
		limit = *in.Limit
	}
	t, err := find(ctx, s.client, id)
	if err != nil {
		return nil, err
	}
	now := s.engine.now()
	cond, err := s.engine.compile(t.Event, t.Condition, now)
	if err != nil {
		return nil, err
	}
	win, err := compileSchedule(t.Schedule)
	if err != nil {
		return nil, err
	}
	ct := &compiled{id: t.ID, name: t.Name, cond: cond, actions: t.Actions, from: t.ActiveFrom, until: t.ActiveUntil, window: win}
	out := &TestResult{Matches: []*TestMatch{}}
	target := TargetOf(t.Event)
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		objs, err := recent(ctx, tx.Client(), target, limit)
		if err != nil {
			return err
		}
		out.Examined = len(objs)
		if !ct.activeAt(now) {
			return errDryRun
		}
		sys := audit.As(context.WithValue(viewer.ForJob(ctx, t.OrganizationID), runningKey{}, true), "trigger:"+t.Name)
		for _, o := range objs {
			ok, err := cond.MatchesAt(o.rec, now)
			if err != nil || !ok {
				continue
			}
			m := &TestMatch{ID: o.id, Kind: string(target), Title: o.title}
			effects, _, err := s.engine.actions.Apply(sys, tx, Run{Target: target, ObjectID: o.id, Actions: t.Actions, TriggerID: t.ID, TriggerName: t.Name, DryRun: true})
			if err != nil {
				effects, _ = json.Marshal([]map[string]string{{"error": err.Error()}})
			}
			m.Effects = effects
			out.Matches = append(out.Matches, m)
		}
		return errDryRun
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return nil, err
	}
	return out, nil
}

type recentObject struct {
	id    uuid.UUID
	title string
	rec   query.Record
}

// recent reads the organisation's newest alerts or incidents.
func recent(ctx context.Context, c *ent.Client, target Target, limit int) ([]recentObject, error) {
	var out []recentObject
	if target == TargetAlert {
		rows, err := c.Alert.Query().Order(ent.Desc(alert.FieldCreatedAt), ent.Desc(alert.FieldID)).Limit(limit).
			WithConnector().WithAssignee().WithIncident().All(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range rows {
			out = append(out, recentObject{id: a.ID, title: a.Title, rec: query.AlertRecord(a)})
		}
		return out, nil
	}
	rows, err := c.Incident.Query().Order(ent.Desc(incident.FieldCreatedAt), ent.Desc(incident.FieldID)).Limit(limit).
		WithAssignee().All(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range rows {
		out = append(out, recentObject{id: n.ID, title: n.Title, rec: query.IncidentRecord(n)})
	}
	return out, nil
}
