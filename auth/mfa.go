package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"image/png"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/seliq/seliq/auth/credential"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/session"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/security/policy"
	"github.com/seliq/seliq/storage"
)

// TOTP (RFC 6238) as authenticator apps expect it: SHA-1, six digits,
// 30-second steps; one step of clock skew either way is accepted.
const (
	totpPeriod = 30
	totpSkew   = 1
	totpIssuer = "Seliq"
	// mfaTokenTTL is how long a login waits for its second factor.
	mfaTokenTTL = 5 * time.Minute
	// maxMFAAttempts wrong codes end an MFA token: the login starts over.
	maxMFAAttempts = 5
	// mfaAccountLimit codes per mfaAccountWindow per account, whatever the
	// token, so fresh logins do not buy fresh guesses.
	mfaAccountLimit  = 10
	mfaAccountWindow = 15 * time.Minute
	// RecoveryCodes is how many one-time recovery codes a confirmation gives.
	RecoveryCodes = 10
	// PrefixMFAToken marks the token of a login waiting for its code.
	PrefixMFAToken = "sqm_"
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPEnrolment is a started enrolment: the secret to type in, the same as
// an otpauth:// URI, and that URI as a QR code (PNG, base64). It is shown
// once; the secret is never returned again.
type TOTPEnrolment struct {
	Secret      string
	OtpauthURI  string
	QRPNGBase64 string
}

// sealContext binds a sealed TOTP secret to its user.
func sealContext(userID uuid.UUID) string { return "totp:" + userID.String() }

// me returns the calling user (a session or API token's), read outside the
// privacy rules: every role, read-only included, manages its own MFA.
func (s *Service) me(ctx context.Context) (*viewer.Viewer, *ent.User, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, nil, apperr.New(apperr.Unauthenticated, "a user session or API token is required")
	}
	u, err := s.client.User.Get(System(ctx), v.UserID)
	if err != nil {
		return nil, nil, err
	}
	return v, u, nil
}

// EnrolTOTP starts (or restarts) the caller's TOTP enrolment: a new secret,
// stored sealed, that ConfirmTOTP turns on.
func (s *Service) EnrolTOTP(ctx context.Context) (*TOTPEnrolment, error) {
	if s.box == nil {
		return nil, apperr.New(apperr.Unavailable, "MFA needs the server's secret key (SELIQ_SECRET_KEY)")
	}
	_, u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	if u.MfaEnabled {
		return nil, apperr.New(apperr.Conflict, "MFA is already on; disable it first to enrol a new authenticator")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: u.Email, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, err
	}
	sealed, err := s.box.Seal(key.Secret(), sealContext(u.ID))
	if err != nil {
		return nil, err
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	if err := s.client.User.UpdateOneID(u.ID).SetMfaSecret(sealed).Exec(System(ctx)); err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: key.Secret(), OtpauthURI: key.URL(), QRPNGBase64: base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// ConfirmTOTP turns MFA on with a code from the enrolled authenticator and
// returns the recovery codes, shown once (stored hashed). Every other
// session of the user ends: they were opened with the password alone. The
// session it is made with stays, and is no longer enrol-only.
func (s *Service) ConfirmTOTP(ctx context.Context, code string) ([]string, error) {
	v, u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	if u.MfaEnabled {
		return nil, apperr.New(apperr.Conflict, "MFA is already on")
	}
	if u.MfaSecret == "" {
		return nil, apperr.New(apperr.Conflict, "no enrolment in progress; start one first")
	}
	step, ok, err := s.checkTOTP(u, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.Invalid("code", "is not the authenticator's current code")
	}
	codes, hashes := newRecoveryCodes()
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		if err := tx.User.UpdateOneID(u.ID).SetMfaEnabled(true).SetMfaLastStep(step).
			SetMfaRecoveryCodes(hashes).Exec(System(ctx)); err != nil {
			return err
		}
		return Revoke(ctx, tx.Client(), Revocation{UserID: u.ID, OrgID: u.OrganizationID, AllSessions: true, KeepSession: v.SessionID})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// DisableTOTP turns MFA off; it takes a current code or a recovery code.
// The user's other sessions end (see Revoke). In an organisation that
// requires MFA the user's sessions become enrol-only.
func (s *Service) DisableTOTP(ctx context.Context, code string) error {
	v, u, err := s.me(ctx)
	if err != nil {
		return err
	}
	if !u.MfaEnabled {
		return apperr.New(apperr.Conflict, "MFA is not on")
	}
	upd, ok, err := s.secondFactor(u, code)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Invalid("code", "is neither the authenticator's current code nor an unused recovery code")
	}
	_ = upd // the factor is cleared below, used or not
	return storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		if err := tx.User.UpdateOneID(u.ID).SetMfaEnabled(false).ClearMfaSecret().ClearMfaRecoveryCodes().
			SetMfaLastStep(0).Exec(System(ctx)); err != nil {
			return err
		}
		return Revoke(ctx, tx.Client(), Revocation{UserID: u.ID, OrgID: u.OrganizationID, AllSessions: true, KeepSession: v.SessionID})
	})
}

// challenge answers a correct password of a user with MFA: an MFA token
// (stored as a pending session that authenticates nothing) to send with
// the code.
func (s *Service) challenge(sys context.Context, u *ent.User, clientIP, userAgent string) (*Session, error) {
	token := credential.NewSecret(PrefixMFAToken)
	now := s.now()
	if err := s.client.Session.Create().
		SetOrganizationID(u.OrganizationID).SetUserID(u.ID).SetTokenHash(credential.HashSecret(token)).
		SetExpiresAt(now.Add(mfaTokenTTL)).SetIP(clientIP).SetUserAgent(truncate(userAgent, 300)).SetMfaPending(true).
		Exec(sys); err != nil {
		return nil, err
	}
	return &Session{MFAToken: token, User: u, ExpiresAt: now.Add(mfaTokenTTL)}, nil
}

var errBadMFAToken = apperr.New(apperr.Unauthenticated, "invalid or expired MFA token; log in again")

// CompleteMFA finishes a login with the MFA token and a TOTP or recovery
// code. A token allows maxMFAAttempts wrong codes, an account
// mfaAccountLimit per window whatever the token; a code is accepted once.
func (s *Service) CompleteMFA(ctx context.Context, mfaToken, code, clientIP, userAgent string) (*Session, error) {
	mfaToken, code = strings.TrimSpace(mfaToken), strings.TrimSpace(code)
	if mfaToken == "" {
		return nil, apperr.Invalid("mfa_token", "is required")
	}
	if code == "" {
		return nil, apperr.Invalid("code", "is required")
	}
	if ok, wait := s.loginsByIP.Allow(clientIP); !ok {
		return nil, &apperr.Error{Code: apperr.RateLimited, Message: "too many login attempts; try again later", RetryAfter: wait}
	}
	sys := System(ctx)
	pending, err := s.client.Session.Query().
		Where(session.TokenHash(credential.HashSecret(mfaToken)), session.MfaPending(true)).Only(sys)
	if ent.IsNotFound(err) {
		return nil, errBadMFAToken
	}
	if err != nil {
		return nil, err
	}
	if s.now().After(pending.ExpiresAt) || pending.MfaAttempts >= maxMFAAttempts {
		_ = s.client.Session.DeleteOneID(pending.ID).Exec(sys)
		return nil, errBadMFAToken
	}
	if ok, wait := s.mfaByUser.Allow(pending.UserID.String()); !ok {
		return nil, &apperr.Error{Code: apperr.RateLimited, Message: "too many MFA attempts for this account; try again later", RetryAfter: wait}
	}
	u, err := s.client.User.Get(sys, pending.UserID)
	if ent.IsNotFound(err) {
		return nil, errBadMFAToken
	}
	if err != nil {
		return nil, err
	}
	if !u.Active || !u.MfaEnabled {
		_ = s.client.Session.DeleteOneID(pending.ID).Exec(sys)
		return nil, errBadMFAToken
	}
	upd, ok, err := s.secondFactor(u, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := s.client.Session.UpdateOneID(pending.ID).AddMfaAttempts(1).Exec(sys); err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		return nil, apperr.New(apperr.Unauthenticated, "invalid code")
	}
	pol, err := policy.ForOrg(sys, s.client, u.OrganizationID)
	if err != nil {
		return nil, err
	}
	if !pol.Allows(clientIP) {
		return nil, errAddressRefused
	}
	var out *Session
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		// Deleting the token first makes it single-use even against a
		// concurrent request with the same token: only one delete counts.
		n, err := tx.Session.Delete().Where(session.ID(pending.ID)).Exec(sys)
		if err != nil {
			return err
		}
		if n == 0 {
			return errBadMFAToken
		}
		// The step or recovery code is consumed in the same transaction
		// as the session is issued; a replay finds it used.
		if err := upd(tx.User.UpdateOneID(u.ID)).Exec(sys); err != nil {
			return err
		}
		svc := *s
		svc.client = tx.Client()
		out, err = svc.openSession(sys, u, pol, clientIP, userAgent)
		return err
	})
	if err != nil {
		return nil, err
	}
	out.User = out.User.Unwrap()
	return out, nil
}

// consume marks a second factor used on the user's row.
type consume func(*ent.UserUpdateOne) *ent.UserUpdateOne

// secondFactor checks a TOTP code or, failing that, a recovery code, and
// returns how to mark it used.
func (s *Service) secondFactor(u *ent.User, code string) (consume, bool, error) {
	code = strings.TrimSpace(code)
	step, ok, err := s.checkTOTP(u, code)
	if err != nil || ok {
		return func(q *ent.UserUpdateOne) *ent.UserUpdateOne { return q.SetMfaLastStep(step) }, ok, err
	}
	h := hashRecoveryCode(code)
	for i, stored := range u.MfaRecoveryCodes {
		if subtle.ConstantTimeCompare([]byte(stored), []byte(h)) == 1 {
			rest := slices.Delete(slices.Clone(u.MfaRecoveryCodes), i, i+1)
			return func(q *ent.UserUpdateOne) *ent.UserUpdateOne { return q.SetMfaRecoveryCodes(rest) }, true, nil
		}
	}
	return nil, false, nil
}

// checkTOTP accepts a code of the current time step or one step either
// side, but never of a step at or before the last one accepted, so a code
// seen by someone else is useless once used.
func (s *Service) checkTOTP(u *ent.User, code string) (int64, bool, error) {
	if s.box == nil || u.MfaSecret == "" || len(code) != 6 {
		return 0, false, nil
	}
	secret, err := s.box.Open(u.MfaSecret, sealContext(u.ID))
	if err != nil {
		return 0, false, err
	}
	now := s.now().Unix() / totpPeriod
	for step := now - totpSkew; step <= now+totpSkew; step++ {
		if step <= u.MfaLastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true, nil
		}
	}
	return 0, false, nil
}

// newRecoveryCodes returns fresh recovery codes and their stored hashes.
func newRecoveryCodes() (codes, hashes []string) {
	for range RecoveryCodes {
		raw := strings.ToLower(credential.NewSecret("")[:10])
		c := raw[:5] + "-" + raw[5:]
		codes = append(codes, c)
		hashes = append(hashes, hashRecoveryCode(c))
	}
	return codes, hashes
}

// hashRecoveryCode is what is stored of a recovery code: they are random
// (about 50 bits), and the per-account attempt limits make guessing them
// hopeless, so a fast hash suffices. Case and spacing are forgiven.
func hashRecoveryCode(c string) string {
	c = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(c), " ", ""))
	return hex.EncodeToString(credential.HashSecret("recovery:" + c))
}
