package ingest

import (
	"context"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
)

// AfterCreate is told, inside the ingest transaction, which alerts a payload
// created (merged repeats are not listed). It may write through tx, so its
// rows commit or roll back with the alerts; the function it returns (nil for
// none) runs once the transaction has committed, e.g. to enqueue jobs.
// The analysis service implements it for auto-analysis.
type AfterCreate interface {
	OnCreated(ctx context.Context, tx *ent.Tx, alertIDs []uuid.UUID) (afterCommit func(context.Context), err error)
}

// onCreated hands the alerts a payload created to the AfterCreate hook.
func (s *Service) onCreated(ctx context.Context, tx *ent.Tx, ids []uuid.UUID) (func(context.Context), error) {
	if s.after == nil || len(ids) == 0 {
		return nil, nil
	}
	return s.after.OnCreated(ctx, tx, ids)
}
