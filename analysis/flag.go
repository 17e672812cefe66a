package analysis

import (
	"context"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// FlagInput is an analyst's judgement of an analysis.
type FlagInput struct {
	Inaccurate bool `json:"inaccurate"`
}

// Flag marks an analysis of the acting organisation inaccurate, or clears
// the mark (analysts and admins); a change is recorded in the activity log.
func (s *Service) Flag(ctx context.Context, id uuid.UUID, in FlagInput) (*ent.Analysis, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	case v.Kind != viewer.KindUser || !v.HasRole(enum.RoleAnalyst):
		return nil, apperr.New(apperr.Forbidden, "only analysts and admins flag analyses")
	}
	var out *ent.Analysis
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		a, err := tx.Analysis.Get(ctx, id)
		if ent.IsNotFound(err) {
			return apperr.NotFoundf("analysis %s not found", id)
		}
		if err != nil {
			return err
		}
		out = a
		if a.FlaggedInaccurate == in.Inaccurate {
			return nil
		}
		if out, err = a.Update().SetFlaggedInaccurate(in.Inaccurate).Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{EntityType: "analysis", EntityID: id, Action: "update",
			Field: "flagged_inaccurate", Before: a.FlaggedInaccurate, After: in.Inaccurate})
	})
	return out, err
}
