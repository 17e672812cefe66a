package analysis

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/ai/config"
	"github.com/seliq/seliq/ent"
)

// createBatch bounds the rows of one INSERT (SQLite allows 32,766 bound
// values, about 14 a row here).
const createBatch = 1000

// OnCreated is auto-analysis, called by ingest inside its transaction with
// the alerts a payload created: when the organisation's autoAnalyse feature
// is on (the default), it inserts a pending analysis for each, in the same
// transaction (one statement per 1,000 alerts), and returns the enqueue of
// their jobs (one batch insert) to run after commit. The settings are read
// once per payload. A crash between commit and enqueue leaves the rows
// pending, which Resume queues at the next start.
func (s *Service) OnCreated(ctx context.Context, tx *ent.Tx, alertIDs []uuid.UUID) (func(context.Context), error) {
	if len(alertIDs) == 0 {
		return nil, nil
	}
	st, err := config.Read(ctx, tx.Client())
	if err != nil {
		return nil, err
	}
	if !st.Features.AutoAnalyse {
		return nil, nil
	}
	// The quota is checked when the job runs (FallbackQuota), not here:
	// ingest never fails for want of tokens.
	prov, model := ProviderBuiltin, builtin.Engine
	if st.Provider != config.ProviderBuiltin && s.ai != nil {
		prov, model = st.Provider, st.Model
	}
	created := make([]*ent.Analysis, 0, len(alertIDs))
	for chunk := range slices.Chunk(alertIDs, createBatch) {
		bulk := make([]*ent.AnalysisCreate, len(chunk))
		for i, id := range chunk {
			bulk[i] = tx.Analysis.Create().SetAlertID(id).SetProvider(prov).SetModel(model)
		}
		rows, err := tx.Analysis.CreateBulk(bulk...).Save(ctx)
		if err != nil {
			return nil, err
		}
		created = append(created, rows...)
	}
	return func(ctx context.Context) {
		// The payload is stored: a client hanging up must not cancel this.
		if err := s.enqueueAll(context.WithoutCancel(ctx), created); err != nil {
			s.log.Error("queue automatic analyses; Resume queues them at the next start", "analyses", len(created), "err", err)
		}
	}, nil
}
