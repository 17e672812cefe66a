package trigger

import (
	"context"
	"encoding/json"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/automation/action"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/enum"
)

// Vocabulary is the shared action vocabulary (package automation/action)
// as triggers use it.
type Vocabulary struct {
	Exec *action.Executor
	// Max bounds a trigger's list (DefaultMaxActions when zero).
	Max int
}

// Validate parses the list for target; errors name actions[i].<param>.
func (v Vocabulary) Validate(_ context.Context, target Target, raw json.RawMessage) error {
	_, err := action.Parse(raw, action.ParseOptions{Target: enum.AutomationTarget(target), Max: v.max()})
	return err
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
	list, err := action.Parse(run.Actions, action.ParseOptions{Target: enum.AutomationTarget(run.Target), Max: v.max()})
	if err != nil {
		return nil, nil, err
	}
	opts := action.Options{Actor: "trigger:" + run.TriggerName, SkipEvent: run.SkipEvent}
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
