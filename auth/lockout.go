package auth

import (
	"context"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/loginlockout"
	"github.com/seliq/seliq/security/policy"
)

// The login lockout counts an account's failed logins per client address,
// in the database so every replica sees the same count. Past the
// organisation's threshold that address may not try the account for
// policy.LockoutCoolDown; other addresses still may, so an attacker cannot
// lock the owner out, and an admin can lift it at once (Unlock). It sits on
// top of the in-memory per-address rate limit of allowLogin.

// locked reports whether clientIP is locked out of u's account now. The
// caller answers a locked account exactly as a wrong password or an unknown
// email (errBadLogin, after the same hash), so the lockout cannot be used to
// tell which emails have accounts.
func (s *Service) locked(sys context.Context, u *ent.User, clientIP string) (bool, error) {
	row, err := s.client.LoginLockout.Query().
		Where(loginlockout.UserID(u.ID), loginlockout.IP(clientIP)).Only(sys)
	if ent.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return row.LockedUntil != nil && s.now().Before(*row.LockedUntil), nil
}

// recordFailure counts a wrong password; at threshold failures (0: no
// lockout) the address is locked out of the account for the cool-down.
func (s *Service) recordFailure(sys context.Context, u *ent.User, clientIP string, threshold int) error {
	if threshold <= 0 {
		return nil
	}
	now := s.now()
	row, err := s.client.LoginLockout.Query().
		Where(loginlockout.UserID(u.ID), loginlockout.IP(clientIP)).Only(sys)
	if ent.IsNotFound(err) {
		err = s.client.LoginLockout.Create().SetOrganizationID(u.OrganizationID).SetUserID(u.ID).SetIP(clientIP).
			SetFailures(1).OnConflictColumns(loginlockout.FieldUserID, loginlockout.FieldIP).AddFailures(1).Exec(sys)
		if err != nil {
			return err
		}
		row, err = s.client.LoginLockout.Query().Where(loginlockout.UserID(u.ID), loginlockout.IP(clientIP)).Only(sys)
	} else if err == nil {
		// A lockout that has run out starts a fresh count.
		upd := s.client.LoginLockout.UpdateOneID(row.ID).AddFailures(1)
		if row.LockedUntil != nil && !now.Before(*row.LockedUntil) {
			upd = s.client.LoginLockout.UpdateOneID(row.ID).SetFailures(1).ClearLockedUntil()
		}
		row, err = upd.Save(sys)
	}
	if err != nil {
		return err
	}
	if row.Failures < threshold {
		return nil
	}
	return s.client.LoginLockout.UpdateOneID(row.ID).SetFailures(0).SetLockedUntil(now.Add(policy.LockoutCoolDown)).Exec(sys)
}

// clearFailures forgets an address's failures after it logged in.
func (s *Service) clearFailures(sys context.Context, userID uuid.UUID, clientIP string) error {
	_, err := s.client.LoginLockout.Delete().Where(loginlockout.UserID(userID), loginlockout.IP(clientIP)).Exec(sys)
	return err
}

// Unlock lifts every lockout of a user (all addresses) and reports whether
// there was one. The caller checks the admin's right to the user first:
// client must be the transaction of that check.
func Unlock(ctx context.Context, client *ent.Client, userID uuid.UUID) (bool, error) {
	n, err := client.LoginLockout.Delete().Where(loginlockout.UserID(userID), loginlockout.LockedUntilNotNil()).Exec(System(ctx))
	if err != nil {
		return false, err
	}
	_, err = client.LoginLockout.Delete().Where(loginlockout.UserID(userID)).Exec(System(ctx))
	return n > 0, err
}

// Locked reports whether any address is locked out of the user's account now.
func (s *Service) Locked(ctx context.Context, userID uuid.UUID) (bool, error) {
	return s.client.LoginLockout.Query().
		Where(loginlockout.UserID(userID), loginlockout.LockedUntilGT(s.now())).Exist(System(ctx))
}
