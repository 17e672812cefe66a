// Package policy is an organisation's security settings as the code that
// enforces them reads them: session lifetimes, the password policy, the
// login lockout threshold, the IP allowlist and whether MFA is required.
// It depends on no domain, so auth (sessions, logins, tokens) and directory
// (wherever a password is set) apply the same values; the security package
// is where administrators read and change them.
package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/ent/setting"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/cidr"
)

// Key is the settings document's key (storage/settingstore).
const Key = "security"

// Bounds of the settings. A zero idle timeout or lockout threshold turns
// that check off; the others are always on.
const (
	MinSessionMinutes      = 5
	MaxSessionMinutes      = 30 * 24 * 60
	MinPasswordLength      = 12 // the server's floor: no organisation goes below it
	MaxPasswordLength      = 128
	MinLockoutThreshold    = 3
	MaxLockoutThreshold    = 100
	MaxAllowlistEntries    = 100
	DefaultSessionMaxAge   = 12 * 60
	DefaultLockoutAttempts = 10
)

// LockoutCoolDown is how long an account stays locked for one address once
// that address reached the threshold.
const LockoutCoolDown = 15 * time.Minute

// Settings are one organisation's security settings. MFARequired is the
// organisation row's mfa_enforced, not part of the stored document: one
// value, whichever name it is changed under.
type Settings struct {
	MFARequired               bool     `json:"-"`
	SessionMaxAgeMinutes      int      `json:"session_max_age_minutes"`
	SessionIdleTimeoutMinutes int      `json:"session_idle_timeout_minutes"`
	PasswordMinLength         int      `json:"password_min_length"`
	LockoutThreshold          int      `json:"lockout_threshold"`
	IPAllowlist               []string `json:"ip_allowlist"`
}

// Defaults are the settings of an organisation that never changed them.
func Defaults() Settings {
	return Settings{
		SessionMaxAgeMinutes: DefaultSessionMaxAge,
		PasswordMinLength:    MinPasswordLength,
		LockoutThreshold:     DefaultLockoutAttempts,
		IPAllowlist:          []string{},
	}
}

// Update patches Settings: nil fields keep their value; IPAllowlist nil
// keeps the list, an empty one clears it.
type Update struct {
	MFARequired               *bool
	SessionMaxAgeMinutes      *int
	SessionIdleTimeoutMinutes *int
	PasswordMinLength         *int
	LockoutThreshold          *int
	IPAllowlist               []string
}

// Apply returns s patched by u, or a BadInput error naming the first bad
// field as REST spells it. s is not changed.
func (s Settings) Apply(u Update) (Settings, error) {
	out := s
	out.IPAllowlist = append([]string{}, s.IPAllowlist...)
	if u.MFARequired != nil {
		out.MFARequired = *u.MFARequired
	}
	if n := u.SessionMaxAgeMinutes; n != nil {
		if *n < MinSessionMinutes || *n > MaxSessionMinutes {
			return s, apperr.Invalid("session_max_age_minutes", "must be between %d and %d", MinSessionMinutes, MaxSessionMinutes)
		}
		out.SessionMaxAgeMinutes = *n
	}
	if n := u.SessionIdleTimeoutMinutes; n != nil {
		if *n != 0 && (*n < MinSessionMinutes || *n > MaxSessionMinutes) {
			return s, apperr.Invalid("session_idle_timeout_minutes", "must be 0 (off) or between %d and %d", MinSessionMinutes, MaxSessionMinutes)
		}
		out.SessionIdleTimeoutMinutes = *n
	}
	if n := u.PasswordMinLength; n != nil {
		if *n < MinPasswordLength || *n > MaxPasswordLength {
			return s, apperr.Invalid("password_min_length", "must be between %d and %d", MinPasswordLength, MaxPasswordLength)
		}
		out.PasswordMinLength = *n
	}
	if n := u.LockoutThreshold; n != nil {
		if *n != 0 && (*n < MinLockoutThreshold || *n > MaxLockoutThreshold) {
			return s, apperr.Invalid("lockout_threshold", "must be 0 (off) or between %d and %d", MinLockoutThreshold, MaxLockoutThreshold)
		}
		out.LockoutThreshold = *n
	}
	if u.IPAllowlist != nil {
		list, err := ParseAllowlist(u.IPAllowlist)
		if err != nil {
			return s, err
		}
		out.IPAllowlist = list
	}
	return out, nil
}

// ParseAllowlist checks an allowlist and returns it in canonical form
// (masked CIDRs, duplicates dropped); errors name ip_allowlist.
func ParseAllowlist(list []string) ([]string, error) {
	if len(list) > MaxAllowlistEntries {
		return nil, apperr.Invalid("ip_allowlist", "must have at most %d entries", MaxAllowlistEntries)
	}
	prefixes, err := cidr.ParseAll(list)
	if err != nil {
		return nil, apperr.Invalid("ip_allowlist", "%v", err)
	}
	out := make([]string, 0, len(prefixes))
	for _, p := range prefixes {
		out = append(out, p.String())
	}
	return out, nil
}

// Allows reports whether the allowlist admits the client address: any
// address when the list is empty, otherwise only one inside it. An address
// that does not parse (no HTTP request behind the call) is refused when
// there is a list, so the check fails closed.
func (s Settings) Allows(clientIP string) bool {
	if len(s.IPAllowlist) == 0 {
		return true
	}
	a, err := netip.ParseAddr(strings.TrimSpace(clientIP))
	if err != nil {
		return false
	}
	prefixes, err := cidr.ParseAll(s.IPAllowlist)
	if err != nil {
		return false
	}
	return cidr.Contains(prefixes, a.Unmap())
}

// SessionMaxAge is the absolute lifetime of a session.
func (s Settings) SessionMaxAge() time.Duration {
	return time.Duration(s.SessionMaxAgeMinutes) * time.Minute
}

// IdleTimeout is how long a session may go unused; zero is no limit.
func (s Settings) IdleTimeout() time.Duration {
	return time.Duration(s.SessionIdleTimeoutMinutes) * time.Minute
}

// ForOrg reads organisation orgID's settings. ctx must be allowed to read
// that organisation's rows: credential checks pass a system context (they
// run before a viewer exists); the settings service its admin's.
func ForOrg(ctx context.Context, c *ent.Client, orgID uuid.UUID) (Settings, error) {
	org, err := c.Organization.Query().Where(organization.ID(orgID)).Only(ctx)
	if err != nil {
		return Defaults(), err
	}
	return For(ctx, c, org)
}

// For reads the settings of org, already loaded.
func For(ctx context.Context, c *ent.Client, org *ent.Organization) (Settings, error) {
	out := Defaults()
	out.MFARequired = org.MfaEnforced
	row, err := c.Setting.Query().Where(setting.OrganizationID(org.ID), setting.Key(Key)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return out, nil
	case err != nil:
		return out, err
	}
	if err := Decode(row.Value, &out); err != nil {
		return Defaults(), err
	}
	out.MFARequired = org.MfaEnforced
	return out, nil
}

// Decode reads a stored document over the defaults already in out.
func Decode(doc map[string]any, out *Settings) error {
	js, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(js, out); err != nil {
		return fmt.Errorf("security settings: %w", err)
	}
	if out.IPAllowlist == nil {
		out.IPAllowlist = []string{}
	}
	return nil
}
