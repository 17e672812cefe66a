package directory

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/auth/credential"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/viewer"
)

// CreateUserInput creates a user in the acting organisation.
type CreateUserInput struct {
	Email    string
	Name     *string
	Handle   *string
	Role     *enum.Role
	Password *string
	Timezone *string
}

// UpdateUserInput changes a user (admin).
type UpdateUserInput struct {
	Name     *string
	Handle   *string
	Role     *enum.Role
	Active   *bool
	Timezone *string
}

// UpdateMeInput changes the caller's own profile.
type UpdateMeInput struct {
	Name            *string
	Handle          *string
	Timezone        *string
	Password        *string
	CurrentPassword *string
	// KeepAPITokens keeps the user's API tokens across a password change;
	// by default they are revoked with the other sessions.
	KeepAPITokens *bool
}

// Quota is the seat count of an organisation.
type Quota struct {
	Used      int
	Allowed   *int
	Remaining *int
}

// handleFromEmail derives a mention handle from the email's local part.
func handleFromEmail(email string) string {
	local, _, _ := strings.Cut(email, "@")
	var b strings.Builder
	for _, r := range local {
		if handleRe.MatchString(string(r)) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "user"
	}
	return b.String()
}

func validateHandle(h string) error {
	if !handleRe.MatchString(h) {
		return apperr.Invalid("handle", "must be 1-64 letters, digits, dots, hyphens or underscores")
	}
	return nil
}

// validateProfile checks the fields a user and an admin may both change and
// returns the trimmed name.
func validateProfile(name, handle, timezone *string) (*string, error) {
	n, err := optional("name", name, 200)
	if err != nil {
		return nil, err
	}
	if handle != nil {
		if err := validateHandle(*handle); err != nil {
			return nil, err
		}
	}
	if timezone != nil {
		if err := validateTimezone("timezone", *timezone); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Me returns the calling user.
func (d *Directory) Me(ctx context.Context) (*ent.User, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	return d.client.User.Get(viewer.Home(ctx), v.UserID)
}

// User returns a user of the acting organisation.
func (d *Directory) User(ctx context.Context, id uuid.UUID) (*ent.User, error) {
	u, err := d.client.User.Get(ctx, id)
	return u, notFound(err, "user", id)
}

// Users pages through the users the caller may see.
func (d *Directory) Users(ctx context.Context, page paging.Page, orderBy *ent.UserOrder) (*ent.UserConnection, error) {
	return paging.Paginate(ctx, page, d.client.User.Query().Paginate, ent.WithUserOrder(orderBy))
}

// CreateUser adds a user to the acting organisation, within its seat quota.
func (d *Directory) CreateUser(ctx context.Context, in CreateUserInput) (*ent.User, error) {
	email, err := validateEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	name, err := optional("name", in.Name, 200)
	if err != nil {
		return nil, err
	}
	handle := handleFromEmail(email)
	if in.Handle != nil {
		handle = strings.TrimSpace(*in.Handle)
	}
	if err := validateHandle(handle); err != nil {
		return nil, err
	}
	role := enum.RoleAnalyst
	if in.Role != nil {
		role = *in.Role
	}
	if in.Timezone != nil {
		if err := validateTimezone("timezone", *in.Timezone); err != nil {
			return nil, err
		}
	}
	password := credential.GeneratePassword() // unusable until reset: nobody saw it
	if in.Password != nil {
		if err := d.checkPassword(ctx, viewer.FromContext(ctx).OrgID, "password", *in.Password, email); err != nil {
			return nil, err
		}
		password = *in.Password
	}
	// Hash before anything can refuse the email, so that a taken email
	// costs the same time as a new one (see errEmailUnavailable).
	hash, err := hashPassword(password)
	if err != nil {
		return nil, err
	}
	var created *ent.User
	err = d.withTx(ctx, func(tx *ent.Tx) error {
		q, err := quota(ctx, tx.Client())
		if err != nil {
			return err
		}
		if q.Remaining != nil && *q.Remaining <= 0 {
			return apperr.New(apperr.Conflict, "user quota reached: %d of %d seats used", q.Used, *q.Allowed)
		}
		// Email first: a handle derived from an email taken in this
		// organisation would otherwise answer differently from another
		// tenant's.
		if err := emailFree(ctx, tx.Client(), email); err != nil {
			return err
		}
		if err := handleFree(ctx, tx.Client(), handle); err != nil {
			return err
		}
		c := tx.User.Create().SetEmail(email).SetHandle(handle).SetRole(role).SetPasswordHash(hash).
			SetNillableName(name).SetNillableTimezone(in.Timezone)
		created, err = c.Save(ctx)
		if ent.IsConstraintError(err) {
			return errEmailUnavailable // lost a race with another create
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return created.Unwrap(), nil // detach from the finished transaction
}

// hashPassword is auth.HashPassword; the tests count its calls to check
// that every create path pays for a hash.
var hashPassword = auth.HashPassword

// errEmailUnavailable answers every create whose email is taken, whether by
// a user the caller can see or by one of another tenant: emails are unique
// across all organisations (they are the login), and a distinct answer for
// the second case would let any admin probe other tenants' accounts. The
// same 422, after the same hash and the same single lookup, for both.
var errEmailUnavailable = apperr.Invalid("email", "cannot be used for a new user")

// emailFree looks the email up across all organisations, as the unique
// index does; the answer never says where it was found.
func emailFree(ctx context.Context, c *ent.Client, email string) error {
	taken, err := c.User.Query().Where(user.Email(email)).Exist(auth.System(ctx))
	if err != nil {
		return err
	}
	if taken {
		return errEmailUnavailable
	}
	return nil
}

// handleFree refuses a handle already used in the acting organisation
// (handles are unique per organisation, so this reveals nothing outside).
func handleFree(ctx context.Context, c *ent.Client, handle string) error {
	taken, err := c.User.Query().Where(user.Handle(handle)).Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return &apperr.Error{Code: apperr.Conflict, Field: "handle", Message: "another user of this organisation has this handle"}
	}
	return nil
}

func quota(ctx context.Context, c *ent.Client) (*Quota, error) {
	v := viewer.FromContext(ctx)
	org, err := c.Organization.Get(ctx, v.OrgID)
	if err != nil {
		return nil, err
	}
	used, err := c.User.Query().Where(user.Active(true)).Count(ctx)
	if err != nil {
		return nil, err
	}
	q := &Quota{Used: used}
	if org.UserQuota > 0 {
		allowed, remaining := org.UserQuota, max(org.UserQuota-used, 0)
		q.Allowed, q.Remaining = &allowed, &remaining
	}
	return q, nil
}

// Quota returns the acting organisation's seat usage (active users).
func (d *Directory) Quota(ctx context.Context) (*Quota, error) { return quota(ctx, d.client) }

// UpdateUser changes a user of the acting organisation. The organisation
// always keeps at least one active admin.
func (d *Directory) UpdateUser(ctx context.Context, id uuid.UUID, in UpdateUserInput) (*ent.User, error) {
	name, err := validateProfile(in.Name, in.Handle, in.Timezone)
	if err != nil {
		return nil, err
	}
	var updated *ent.User
	err = d.withTx(ctx, func(tx *ent.Tx) error {
		u, err := tx.User.Get(ctx, id)
		if err != nil {
			return notFound(err, "user", id)
		}
		losesAdmin := u.Role == enum.RoleAdmin && u.Active &&
			((in.Role != nil && *in.Role != enum.RoleAdmin) || (in.Active != nil && !*in.Active))
		if losesAdmin {
			if err := ensureAnotherAdmin(ctx, tx.Client(), id); err != nil {
				return err
			}
		}
		upd := tx.User.UpdateOne(u).SetNillableName(name).SetNillableHandle(in.Handle).
			SetNillableRole(in.Role).SetNillableActive(in.Active).SetNillableTimezone(in.Timezone)
		if updated, err = upd.Save(ctx); err != nil {
			return conflict(err, "handle", "another user of this organisation has this handle")
		}
		if updated.Role == u.Role && updated.Active == u.Active {
			return nil
		}
		// A new role or status reaches the user's open connections; a
		// deactivated user's sessions end.
		return auth.Revoke(ctx, tx.Client(), auth.Revocation{UserID: id, OrgID: u.OrganizationID, AllSessions: !updated.Active})
	})
	if err != nil {
		return nil, err
	}
	return updated.Unwrap(), nil
}

func ensureAnotherAdmin(ctx context.Context, c *ent.Client, except uuid.UUID) error {
	n, err := c.User.Query().Where(user.RoleEQ(enum.RoleAdmin), user.Active(true), user.IDNEQ(except)).Count(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.Conflict, "the organisation must keep at least one active admin")
	}
	return nil
}

// DeleteUser removes a user; their notes and activity stay, attributed by name.
func (d *Directory) DeleteUser(ctx context.Context, id uuid.UUID) error {
	if v := viewer.FromContext(ctx); v != nil && v.UserID == id {
		return apperr.New(apperr.Conflict, "you cannot delete yourself")
	}
	return d.withTx(ctx, func(tx *ent.Tx) error {
		u, err := tx.User.Get(ctx, id)
		if err != nil {
			return notFound(err, "user", id)
		}
		if u.Role == enum.RoleAdmin && u.Active {
			if err := ensureAnotherAdmin(ctx, tx.Client(), id); err != nil {
				return err
			}
		}
		if err := auth.Revoke(ctx, tx.Client(), auth.Revocation{UserID: id, OrgID: u.OrganizationID, AllSessions: true, AllAPITokens: true}); err != nil {
			return err
		}
		return tx.User.DeleteOne(u).Exec(ctx)
	})
}

// ResetPassword sets a new password (generated when empty) and ends every
// session and API token of the user, closing their open connections. The
// generated password is returned once.
func (d *Directory) ResetPassword(ctx context.Context, id uuid.UUID, password *string) (*ent.User, string, error) {
	generated := ""
	if password == nil || *password == "" {
		generated = credential.GeneratePassword()
		password = &generated
	} else {
		target, err := d.client.User.Get(ctx, id)
		if err != nil {
			return nil, "", notFound(err, "user", id)
		}
		if err := d.checkPassword(ctx, target.OrganizationID, "password", *password, target.Email); err != nil {
			return nil, "", err
		}
	}
	hash, err := auth.HashPassword(*password)
	if err != nil {
		return nil, "", err
	}
	var u *ent.User
	err = d.withTx(ctx, func(tx *ent.Tx) error {
		if u, err = tx.User.UpdateOneID(id).SetPasswordHash(hash).SetPasswordChangedAt(time.Now()).Save(ctx); err != nil {
			return notFound(err, "user", id)
		}
		return auth.Revoke(ctx, tx.Client(), auth.Revocation{UserID: id, OrgID: u.OrganizationID, AllSessions: true, AllAPITokens: true})
	})
	if err != nil {
		return nil, "", err
	}
	return u.Unwrap(), generated, nil
}

// UpdateMe changes the caller's profile; a new password needs the current
// one, and ends the caller's other sessions and, unless KeepAPITokens, their
// API tokens.
func (d *Directory) UpdateMe(ctx context.Context, in UpdateMeInput) (*ent.User, error) {
	me, err := d.Me(ctx)
	if err != nil {
		return nil, err
	}
	ctx = viewer.Home(ctx)
	name, err := validateProfile(in.Name, in.Handle, in.Timezone)
	if err != nil {
		return nil, err
	}
	hash := ""
	if in.Password != nil {
		if in.CurrentPassword == nil {
			return nil, apperr.Invalid("current_password", "is required to change the password")
		}
		ok, err := auth.VerifyPassword(me.PasswordHash, *in.CurrentPassword)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, apperr.Invalid("current_password", "is wrong")
		}
		if err := d.checkPassword(ctx, me.OrganizationID, "password", *in.Password, me.Email); err != nil {
			return nil, err
		}
		if hash, err = auth.HashPassword(*in.Password); err != nil {
			return nil, err
		}
	}
	var u *ent.User
	err = d.withTx(ctx, func(tx *ent.Tx) error {
		upd := tx.User.UpdateOne(me).SetNillableName(name).SetNillableHandle(in.Handle).SetNillableTimezone(in.Timezone)
		if hash == "" {
			u, err = upd.Save(ctx)
			return err
		}
		if u, err = upd.SetPasswordHash(hash).SetPasswordChangedAt(time.Now()).Save(ctx); err != nil {
			return err
		}
		// The session the change is made with stays; whoever else holds the
		// old password's sessions, or the tokens, is out.
		return auth.Revoke(ctx, tx.Client(), auth.Revocation{
			UserID: me.ID, OrgID: me.OrganizationID, AllSessions: true, KeepSession: viewer.FromContext(ctx).SessionID,
			AllAPITokens: in.KeepAPITokens == nil || !*in.KeepAPITokens,
		})
	})
	if err != nil {
		return nil, conflict(err, "handle", "another user of this organisation has this handle")
	}
	return u.Unwrap(), nil
}

// CheckAssignable refuses an assignee who is not an active user of the
// acting organisation (the privacy rules confine the query to it); nil
// needs no check. Errors name field.
func CheckAssignable(ctx context.Context, client *ent.Client, field string, id *uuid.UUID) error {
	if id == nil {
		return nil
	}
	ok, err := client.User.Query().Where(user.ID(*id), user.Active(true)).Exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Invalid(field, "%s is not an active user of this organisation", id)
	}
	return nil
}
