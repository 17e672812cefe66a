package auth

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth/credential"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/apitoken"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
)

// atHome returns ctx with the viewer acting in its home organisation: API
// tokens belong to the user, not to whichever client organisation the
// request happens to target.
func atHome(ctx context.Context) (context.Context, *viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, nil, apperr.New(apperr.Unauthenticated, "a user session or API token is required")
	}
	if v.EnrolOnly {
		return nil, nil, ErrEnrolOnly
	}
	return viewer.Home(ctx), v, nil
}

// ErrEnrolOnly refuses whatever an enrol-only session asks but MFA
// enrolment.
var ErrEnrolOnly = apperr.New(apperr.Forbidden, "your organisation requires multi-factor authentication: enrol (POST /api/v1/users/me/mfa/totp) before anything else")

// NewAPIToken is a freshly created token; Secret is never stored or shown again.
type NewAPIToken struct {
	Secret string
	Token  *ent.APIToken
}

// CreateAPIToken issues a named token for the calling user.
func (s *Service) CreateAPIToken(ctx context.Context, name string, expiresAt *time.Time) (*NewAPIToken, error) {
	ctx, v, err := atHome(ctx)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, apperr.Invalid("name", "is required")
	}
	if len(name) > 100 {
		return nil, apperr.Invalid("name", "must be at most 100 characters")
	}
	if expiresAt != nil && !expiresAt.After(s.now()) {
		return nil, apperr.Invalid("expires_at", "must be in the future")
	}
	secret := credential.NewSecret(credential.PrefixAPIToken)
	tok, err := s.client.APIToken.Create().
		SetName(name).SetPrefix(credential.DisplayPrefix(secret)).SetTokenHash(credential.HashSecret(secret)).
		SetUserID(v.UserID).SetNillableExpiresAt(expiresAt).Save(ctx)
	if err != nil {
		return nil, err
	}
	return &NewAPIToken{Secret: secret, Token: tok}, nil
}

// APITokens lists the calling user's tokens, newest first.
func (s *Service) APITokens(ctx context.Context) ([]*ent.APIToken, error) {
	ctx, v, err := atHome(ctx)
	if err != nil {
		return nil, err
	}
	return s.client.APIToken.Query().Where(apitoken.UserID(v.UserID)).
		Order(ent.Desc(apitoken.FieldCreatedAt)).All(ctx)
}

// RevokeAPIToken deletes one of the calling user's tokens; connections
// opened with it close (see Revoke).
func (s *Service) RevokeAPIToken(ctx context.Context, id uuid.UUID) error {
	ctx, v, err := atHome(ctx)
	if err != nil {
		return err
	}
	n, err := s.client.APIToken.Query().Where(apitoken.ID(id), apitoken.UserID(v.UserID)).Count(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.NotFoundf("API token %s not found", id)
	}
	return s.revoke(ctx, Revocation{UserID: v.UserID, OrgID: v.HomeOrgID, Token: id})
}
