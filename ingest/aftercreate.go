package ingest

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
)

// AfterCreate is told, inside the ingest transaction, which alerts a payload
// created (merged repeats are not listed), as the payload wrote them: with
// their connector, without their original document, and without what
// earlier hooks of a Chain changed (a hook that needs that reads them). It
// may write through tx, so its rows commit or roll back with the alerts;
// the function it returns (nil for none) runs once the transaction has
// committed, e.g. to enqueue jobs. The analysis service implements it for
// auto-analysis.
type AfterCreate interface {
	OnCreated(ctx context.Context, tx *ent.Tx, created []*ent.Alert) (afterCommit func(context.Context), err error)
}

// AfterMerge is told, inside the ingest transaction, which open alerts a
// payload's repeats were merged into (the alert.merged triggers). A hook
// of the Chain (or the AfterCreate itself) may implement it.
type AfterMerge interface {
	OnMerged(ctx context.Context, tx *ent.Tx, alertIDs []uuid.UUID) error
}

// onMerged hands the alerts a payload merged into to the AfterMerge hook.
func (s *Service) onMerged(ctx context.Context, tx *ent.Tx, ids []uuid.UUID) error {
	m, ok := s.after.(AfterMerge)
	if !ok || len(ids) == 0 {
		return nil
	}
	return m.OnMerged(ctx, tx, ids)
}

// OnMerged calls every hook that implements AfterMerge.
func (ch Chain) OnMerged(ctx context.Context, tx *ent.Tx, alertIDs []uuid.UUID) error {
	for _, h := range ch {
		if m, ok := h.(AfterMerge); ok {
			if err := m.OnMerged(ctx, tx, alertIDs); err != nil {
				return err
			}
		}
	}
	return nil
}

// onCreated hands the alerts a payload created (results' created items,
// as written) to the AfterCreate hook; without a hook it builds nothing.
func (s *Service) onCreated(ctx context.Context, tx *ent.Tx, c *ent.Connector, items []item, results []ItemResult, now time.Time) (func(context.Context), error) {
	if s.after == nil {
		return nil, nil
	}
	created := written(c, items, results, now)
	if len(created) == 0 {
		return nil, nil
	}
	return s.after.OnCreated(ctx, tx, created)
}

// Chain is several AfterCreate hooks called in turn in the same
// transaction (auto-analysis, the on-duty group's critical alerts); their
// after-commit functions run in the same order.
type Chain []AfterCreate

// OnCreated calls every hook; the first error aborts the payload.
func (ch Chain) OnCreated(ctx context.Context, tx *ent.Tx, created []*ent.Alert) (func(context.Context), error) {
	var after []func(context.Context)
	for _, h := range ch {
		if h == nil {
			continue
		}
		f, err := h.OnCreated(ctx, tx, created)
		if err != nil {
			return nil, err
		}
		if f != nil {
			after = append(after, f)
		}
	}
	if len(after) == 0 {
		return nil, nil
	}
	return func(ctx context.Context) {
		for _, f := range after {
			f(ctx)
		}
	}, nil
}
