package viewer

import (
	"context"

	"github.com/seliq/seliq/internal/apperr"
)

// User is the person acting in ctx. Things that belong to people (views,
// saved queries, dashboards, MFA) need one: no viewer, a connector or a
// job is Unauthenticated.
func User(ctx context.Context) (*Viewer, error) {
	v := FromContext(ctx)
	if v == nil || v.Kind != KindUser {
		return nil, apperr.New(apperr.Unauthenticated, "a user session or API token is required")
	}
	return v, nil
}

// Admin is the administrator acting in ctx; any other role is Forbidden
// with the message given (what only administrators may do).
func Admin(ctx context.Context, forbidden string) (*Viewer, error) {
	v, err := User(ctx)
	if err != nil {
		return nil, err
	}
	if !v.IsAdmin() {
		return nil, &apperr.Error{Code: apperr.Forbidden, Message: forbidden}
	}
	return v, nil
}
