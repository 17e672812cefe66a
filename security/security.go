// Package security is where administrators read and change their
// organisation's security settings (security/policy holds the values and
// their rules; auth and directory enforce them) and lift login lockouts.
package security

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/reqctx"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/security/policy"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/storage/settingstore"
)

// Service reads and changes the settings.
type Service struct{ client *ent.Client }

// New returns the service over client.
func New(client *ent.Client) *Service { return &Service{client: client} }

// Settings returns the acting organisation's security settings (admins).
func (s *Service) Settings(ctx context.Context) (*policy.Settings, error) {
	v, err := viewer.Admin(ctx, "only administrators manage the security settings")
	if err != nil {
		return nil, err
	}
	out, err := policy.ForOrg(ctx, s.client, v.OrgID)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Update patches the acting organisation's settings (admins); each changed
// value is recorded in the activity log (the settings document by
// audit.Track, mfa_required as the organisation's mfa_enforced). A change
// that would shut out the admin making it is refused. Sessions that can no
// longer stand end at once (see applyToSessions).
func (s *Service) Update(ctx context.Context, in policy.Update) (*policy.Settings, error) {
	v, err := viewer.Admin(ctx, "only administrators manage the security settings")
	if err != nil {
		return nil, err
	}
	var out policy.Settings
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		cur, err := policy.ForOrg(ctx, c, v.OrgID)
		if err != nil {
			return err
		}
		next, err := cur.Apply(in)
		if err != nil {
			return err
		}
		if ip := reqctx.From(ctx).ClientIP; !next.Allows(ip) {
			return apperr.Invalid("ip_allowlist", "would lock you out: your own address (%s) is not in it", ip)
		}
		if next.MFARequired && !cur.MFARequired {
			// Requiring MFA of others while having none would leave the
			// admin's own session able only to enrol: enrol first.
			me, err := c.User.Get(auth.System(ctx), v.UserID)
			if err != nil {
				return err
			}
			if !me.MfaEnabled {
				return apperr.Invalid("mfa_required", "turn on your own multi-factor authentication first (POST /api/v1/users/me/mfa/totp)")
			}
		}
		if next.MFARequired != cur.MFARequired {
			if err := c.Organization.UpdateOneID(v.OrgID).SetMfaEnforced(next.MFARequired).SetMfaEnabled(next.MFARequired).Exec(ctx); err != nil {
				return err
			}
		}
		if err := settingstore.Save(ctx, c, policy.Key, next); err != nil {
			return err
		}
		// Cached principals carry the settings: every replica drops them.
		if err := auth.OrgChanged(ctx, c, v.OrgID); err != nil {
			return err
		}
		out = next
		return s.applyToSessions(ctx, c, cur, next)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// applyToSessions tells every user of the organisation, through
// auth.Revoke, that their principal changed when the allowlist or the MFA
// requirement did: each request is checked against the settings anyway,
// and this makes their open WebSockets and event streams authenticate
// again under the new rules, closing those from an address the allowlist
// no longer admits and those that became enrol-only.
func (s *Service) applyToSessions(ctx context.Context, c *ent.Client, before, after policy.Settings) error {
	if slices.Equal(before.IPAllowlist, after.IPAllowlist) && before.MFARequired == after.MFARequired {
		return nil
	}
	users, err := c.User.Query().All(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := auth.Revoke(ctx, c, auth.Revocation{UserID: u.ID, OrgID: u.OrganizationID}); err != nil {
			return err
		}
	}
	return nil
}

// Unlock lifts every login lockout of a user of the acting organisation
// (admins) and records it in the activity log.
func (s *Service) Unlock(ctx context.Context, id uuid.UUID) (*ent.User, error) {
	if _, err := viewer.Admin(ctx, "only administrators manage the security settings"); err != nil {
		return nil, err
	}
	var u *ent.User
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		var err error
		if u, err = tx.User.Get(ctx, id); err != nil {
			if ent.IsNotFound(err) {
				return apperr.NotFoundf("user %s not found", id)
			}
			return err
		}
		locked, err := auth.Unlock(ctx, tx.Client(), id)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{EntityType: "user", EntityID: id, Action: "unlock",
			Field: "login_lockout", Before: locked, After: false})
	})
	if err != nil {
		return nil, err
	}
	return u.Unwrap(), nil
}
