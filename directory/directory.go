// Package directory manages who is who: organisations and their contacts,
// users and groups. Authorisation by role happens in the API layer; tenancy
// is enforced by the data layer; this package owns the business rules
// (quotas, the last admin, slug rules, input validation).
package directory

import (
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/security/policy"
	"github.com/seliq/seliq/storage"
)

// Directory is the service. Changes to a user's credentials, role or
// status go through auth.Revoke in their transaction, which ends what must
// end and closes the user's open connections on every replica.
type Directory struct {
	client *ent.Client
}

// New returns a Directory.
func New(client *ent.Client) *Directory {
	return &Directory{client: client}
}

// MinPasswordLength is the password policy's floor; an organisation may
// raise it (security settings' password_min_length).
const MinPasswordLength = policy.MinPasswordLength

var (
	slugRe   = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	handleRe = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,64}$`)
)

func validateEmail(field, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 {
		return "", apperr.Invalid(field, "is not a valid email address")
	}
	return email, nil
}

func validatePassword(field, p string) error {
	return policy.Defaults().CheckPassword(field, p, "")
}

// checkPassword applies organisation orgID's password policy to a password
// being set for the user with this email.
func (d *Directory) checkPassword(ctx context.Context, orgID uuid.UUID, field, password, email string) error {
	pol, err := policy.ForOrg(auth.System(ctx), d.client, orgID)
	if err != nil {
		return err
	}
	return pol.CheckPassword(field, password, email)
}

func validateSlug(s string) error {
	if !slugRe.MatchString(s) {
		return apperr.Invalid("slug", "must be 1-63 lower-case letters, digits or hyphens, not starting or ending with a hyphen")
	}
	return nil
}

func validateTimezone(field, tz string) error {
	if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
		return apperr.Invalid(field, "%q is not an IANA time zone", tz)
	}
	return nil
}

func required(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", apperr.Invalid(field, "is required")
	}
	if len([]rune(s)) > max {
		return "", apperr.Invalid(field, "must be at most %d characters", max)
	}
	return s, nil
}

func optional(field string, s *string, max int) (*string, error) {
	if s == nil {
		return nil, nil
	}
	v, err := required(field, *s, max)
	return &v, err
}

// notFound turns ent's not-found into the API's; anything else passes through.
func notFound(err error, what string, id fmt.Stringer) error {
	if ent.IsNotFound(err) {
		return apperr.NotFoundf("%s %s not found", what, id)
	}
	return err
}

// conflict turns a unique-constraint violation into a 409 naming the field.
func conflict(err error, field, msg string) error {
	if ent.IsConstraintError(err) {
		return &apperr.Error{Code: apperr.Conflict, Field: field, Message: msg}
	}
	return err
}

// withTx runs fn in a transaction: no partial writes.
func (d *Directory) withTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	return storage.InTx(ctx, d.client, fn)
}
