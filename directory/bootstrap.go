package directory

import (
	"context"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/auth/credential"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/enum"
)

// Bootstrap is what the first start created.
type Bootstrap struct {
	Created  bool   // false when the organisation already existed
	Email    string // the admin's email
	Password string // set only when generated here; shown once
}

// DefaultSlug is the provider organisation created on first start.
const DefaultSlug = "default"

// EnsureBootstrap creates the provider organisation "Default" and its first
// admin unless it exists. Replicas starting together on one database race
// safely: the unique slug lets exactly one insert win, in one transaction
// with the admin, and the others see it exists.
func EnsureBootstrap(ctx context.Context, client *ent.Client, email, password string) (*Bootstrap, error) {
	ctx = auth.System(ctx)
	if email == "" {
		email = "admin@seliq.local"
	}
	email, err := validateEmail("SELIQ_ADMIN_EMAIL", email)
	if err != nil {
		return nil, err
	}
	exists, err := client.Organization.Query().Where(organization.Slug(DefaultSlug)).Exist(ctx)
	if err != nil || exists {
		return &Bootstrap{Email: email}, err
	}
	out := &Bootstrap{Created: true, Email: email}
	if password == "" {
		password = credential.GeneratePassword()
		out.Password = password
	} else if err := validatePassword("SELIQ_ADMIN_PASSWORD", password); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	org, err := tx.Organization.Create().SetName("Default").SetSlug(DefaultSlug).Save(ctx)
	if err == nil {
		err = tx.User.Create().SetOrganizationID(org.ID).SetEmail(email).SetHandle(handleFromEmail(email)).
			SetName("Administrator").SetRole(enum.RoleAdmin).SetPasswordHash(hash).Exec(ctx)
	}
	if err != nil {
		_ = tx.Rollback()
		if ent.IsConstraintError(err) { // another replica won the race
			return &Bootstrap{Email: email}, nil
		}
		return nil, err
	}
	return out, tx.Commit()
}
