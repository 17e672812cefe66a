package jobs

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/internal/viewer"
)

// ForEachOrganization calls fn for every organisation with ctx acting in it
// as a job (viewer.ForJob), for work that starts before any organisation is
// known, such as re-queueing at start. Listing the organisations' ids is
// the one read it makes with the privacy rules bypassed; fn runs confined
// to its organisation.
func ForEachOrganization(ctx context.Context, client *ent.Client, fn func(ctx context.Context, orgID uuid.UUID) error) error {
	ids, err := client.Organization.Query().IDs(privacy.DecisionContext(ctx, privacy.Allow))
	if err != nil {
		return fmt.Errorf("list organisations: %w", err)
	}
	for _, id := range ids {
		if err := fn(viewer.ForJob(ctx, id), id); err != nil {
			return err
		}
	}
	return nil
}
