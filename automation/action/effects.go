package action

import (
	"context"

	"github.com/seliq/seliq/internal/apperr"
)

// alertSideEffect runs the actions outside an alert's own fields.
func (r *run) alertSideEffect(ctx context.Context, a Action, at string, idx int) error {
	return apperr.Invalid(at+"type", "%s is not available yet", a.Type)
}

// incidentSideEffect runs the actions outside an incident's own fields.
func (r *run) incidentSideEffect(ctx context.Context, a Action, at string, idx int) error {
	return apperr.Invalid(at+"type", "%s is not available yet", a.Type)
}
