package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/jobs"
)

// BackfillArgs is the job that fills the attributes of alerts stored before
// alerts kept them, by mapping their raw payload again with their
// connector's type. It runs once per start; alerts it has done are skipped.
type BackfillArgs struct{}

// Kind names the job type in the queue.
func (BackfillArgs) Kind() string { return "ingest.backfill_attributes" }

// InsertOpts keep one backfill queued at a time, however many replicas start.
func (BackfillArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// BackfillWorker runs BackfillArgs.
type BackfillWorker struct {
	river.WorkerDefaults[BackfillArgs]
	client *ent.Client
}

// NewBackfillWorker returns the worker over client.
func NewBackfillWorker(client *ent.Client) *BackfillWorker { return &BackfillWorker{client: client} }

// Timeout of the backfill: it resumes where it stopped when retried.
func (w *BackfillWorker) Timeout(*river.Job[BackfillArgs]) time.Duration { return time.Hour }

// Work fills every organisation's alerts.
func (w *BackfillWorker) Work(ctx context.Context, _ *river.Job[BackfillArgs]) error {
	return jobs.ForEachOrganization(ctx, w.client, func(ctx context.Context, _ uuid.UUID) error {
		return BackfillAttributes(ctx, w.client)
	})
}

// backfillBatch is how many alerts one pass reads and updates.
const backfillBatch = 500

// BackfillAttributes maps the raw payload of each alert of the acting
// organisation whose attributes were never stored. An alert whose payload
// no longer maps (a deleted connector's unknown type, a payload the mapper
// now refuses) gets empty attributes, so every alert is visited once.
func BackfillAttributes(ctx context.Context, client *ent.Client) error {
	for {
		batch, err := client.Alert.Query().Where(alert.AttributesIsNil()).
			WithConnector().Limit(backfillBatch).
			Select(alert.FieldID, alert.FieldSource, alert.FieldRaw, alert.FieldConnectorID).All(ctx)
		if err != nil {
			return fmt.Errorf("backfill attributes: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		for _, a := range batch {
			if err := client.Alert.UpdateOneID(a.ID).SetAttributes(remappedAttributes(a)).Exec(ctx); err != nil && !ent.IsNotFound(err) {
				return fmt.Errorf("backfill attributes of alert %s: %w", a.ID, err)
			}
		}
	}
}

// remappedAttributes maps a's raw payload with its connector's type (or,
// without a connector, the type its source names).
func remappedAttributes(a *ent.Alert) map[string]string {
	key := a.Source
	if a.Edges.Connector != nil {
		key = a.Edges.Connector.Type
	}
	mapped, err := catalogue.Map(key, a.Raw)
	if err != nil || len(mapped) != 1 || mapped[0].Attributes == nil {
		return map[string]string{}
	}
	return mapped[0].Attributes
}
