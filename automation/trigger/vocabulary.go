package trigger

import (
	"context"
	"encoding/json"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/automation/action"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/secrets"
)

// Vocabulary is the shared action vocabulary (package automation/action)
// as triggers use it.
type Vocabulary struct {
	Exec *action.Executor
	// Max bounds a trigger's list (DefaultMaxActions when zero).
	Max int
	// Box seals webhook secrets at rest; without it a webhook with a
	// secret is refused.
	Box *secrets.Box
}

// Prepare parses the list for target (errors name actions[i].<param>),
// checks webhook URLs against the organisation's outbound policy, and
// returns the list to store with webhook secrets sealed.
func (v Vocabulary) Prepare(ctx context.Context, target Target, raw, stored json.RawMessage) (json.RawMessage, error) {
	list, err := action.Parse(raw, action.ParseOptions{Target: enum.AutomationTarget(target), Max: v.max(), Stored: storedList(stored)})
	if err != nil {
		return nil, err
	}
	if err := v.Exec.CheckURLs(ctx, list, "actions"); err != nil {
		return nil, err
	}
	if err := action.SealSecrets(v.Box, list); err != nil {
		return nil, err
	}
	return json.Marshal(list)
}

// Redact is a stored list without its webhook secrets.
func (v Vocabulary) Redact(stored json.RawMessage) json.RawMessage {
	out, err := json.Marshal(action.Redact(storedList(stored)))
	if err != nil {
		return json.RawMessage("[]")
	}
	return out
}

// storedList reads a stored list (written by Prepare, so valid; a list
// that no longer reads is empty).
func storedList(stored json.RawMessage) []action.Action {
	list := []action.Action{}
	if len(stored) > 0 {
		_ = json.Unmarshal(stored, &list)
	}
	return list
}

func (v Vocabulary) max() int {
	if v.Max <= 0 {
		return DefaultMaxActions
	}
	return v.Max
}

// Apply runs the list on the object in tx, as the trigger, and returns the
// changes it made and the work to run after commit.
func (v Vocabulary) Apply(ctx context.Context, tx *ent.Tx, run Run) (json.RawMessage, func(context.Context), error) {
	// Stored lists hold sealed secrets, which Parse refuses from clients.
	list := storedList(run.Actions)
	if err := action.Validate(list, action.ParseOptions{Target: enum.AutomationTarget(run.Target), Max: v.max()}); err != nil {
		return nil, nil, err
	}
	opts := action.Options{Actor: "trigger:" + run.TriggerName, SkipEvent: run.SkipEvent, Event: string(run.Event)}
	var res *action.Result
	if run.Target == TargetAlert {
		a, err := alerts.LockAlert(ctx, tx, run.ObjectID)
		if err != nil {
			return nil, nil, err
		}
		if res, err = v.Exec.RunAlert(ctx, tx, a, list, opts); err != nil {
			return nil, nil, err
		}
	} else {
		inc, err := tx.Incident.Query().Where(incident.ID(run.ObjectID)).Only(ctx)
		if err != nil {
			return nil, nil, err
		}
		if res, err = v.Exec.RunIncident(ctx, tx, inc, list, opts); err != nil {
			return nil, nil, err
		}
	}
	changes := res.Changes
	if changes == nil {
		changes = []action.Change{}
	}
	out, err := json.Marshal(changes)
	return out, res.AfterCommit, err
}
