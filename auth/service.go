// Package auth authenticates callers: password logins that issue opaque
// session tokens, personal API tokens, and connector keys. It turns a
// credential into a viewer; what the viewer may do is decided elsewhere
// (roles in the API layer, tenancy in the data layer). Revoke and
// Revocations (revocation.go) are how the end of a credential, or a change
// to its user, reaches whatever was derived from it on every replica.
package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth/credential"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/apitoken"
	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/ent/session"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/ratelimit"
	"github.com/seliq/seliq/internal/reqctx"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/security/policy"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/tenancy"
)

// Config tunes the service.
type Config struct {
	SessionTTL time.Duration // default 12h
	LoginLimit int           // attempts per minute per client IP and email; default 10
	// LoginIPLimit is attempts per minute per client IP whatever the email,
	// so cycling through emails does not escape LoginLimit; default 30.
	LoginIPLimit int
	// Now is the clock sessions and tokens expire by; default time.Now.
	Now func() time.Time
	// Box seals TOTP secrets at rest; MFA enrolment is refused without it.
	Box *secrets.Box
}

// DefaultLoginIPLimit is the default of Config.LoginIPLimit.
const DefaultLoginIPLimit = 30

// Service authenticates callers.
type Service struct {
	client     *ent.Client
	sessionTTL time.Duration
	logins     *ratelimit.Limiter
	loginsByIP *ratelimit.Limiter
	// mfaByUser bounds second-factor attempts per account, across MFA
	// tokens (each token also allows only maxMFAAttempts).
	mfaByUser *ratelimit.Limiter
	now       func() time.Time
	box       *secrets.Box
	cache     *principalCache // see PrincipalCacheTTL
}

// New returns a Service over client.
func New(client *ent.Client, cfg Config) *Service {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.LoginLimit <= 0 {
		cfg.LoginLimit = 10
	}
	if cfg.LoginIPLimit <= 0 {
		cfg.LoginIPLimit = DefaultLoginIPLimit
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{client: client, sessionTTL: cfg.SessionTTL, now: cfg.Now, box: cfg.Box, cache: newPrincipalCache(client),
		logins:     ratelimit.New(cfg.LoginLimit, time.Minute),
		loginsByIP: ratelimit.New(cfg.LoginIPLimit, time.Minute),
		mfaByUser:  ratelimit.New(mfaAccountLimit, mfaAccountWindow)}
}

// System returns a context that bypasses the privacy rules. Only credential
// checks and bootstrap use it: they run before any viewer exists.
func System(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}

// UsageWriteInterval bounds how often last-seen/last-used stamps (sessions,
// API tokens, connectors) are written, so authenticating a request is a
// read, not a write.
const UsageWriteInterval = time.Minute

// StampDue reports whether a last-seen/last-used stamp should be rewritten.
func StampDue(last *time.Time, now time.Time) bool {
	return last == nil || now.Sub(*last) > UsageWriteInterval
}

// Session is the result of a successful login: a session (Token), or,
// for a user with MFA, the MFAToken to complete the login with
// (CompleteMFA) and no session yet.
type Session struct {
	Token     string
	ExpiresAt time.Time
	User      *ent.User
	MFAToken  string
	// EnrolOnly: the user has no MFA and their organisation requires it;
	// the session can only enrol.
	EnrolOnly bool
}

// errBadLogin answers an unknown email, a wrong password, a deactivated
// user and an account locked out for the client's address alike: the
// message tells a real user both possibilities without telling anyone which.
var errBadLogin = apperr.New(apperr.Unauthenticated, "invalid email or password, or the account is temporarily locked after too many failed logins from your address")

// NormalizeEmail is how emails are stored and compared.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Login checks a password and opens a session. Unknown users, wrong
// passwords and deactivated users all get the same answer. Each wrong
// password counts towards the account's lockout for the client's address
// (lockout.go); the organisation's IP allowlist applies; a user with MFA
// gets an MFA token instead of a session (CompleteMFA finishes the login).
func (s *Service) Login(ctx context.Context, email, password, clientIP, userAgent string) (*Session, error) {
	email = NormalizeEmail(email)
	if email == "" {
		return nil, apperr.Invalid("email", "is required")
	}
	if password == "" {
		return nil, apperr.Invalid("password", "is required")
	}
	if err := s.allowLogin(clientIP, email); err != nil {
		return nil, err
	}
	sys := System(ctx)
	u, err := s.client.User.Query().Where(user.Email(email)).Only(sys)
	if ent.IsNotFound(err) {
		// The same hash (and the same 429 when hashing is saturated) as for
		// a known email, so neither timing nor answer tells them apart.
		if _, err := VerifyPassword(dummyHash, password); errors.Is(err, ErrHashBusy) {
			return nil, err
		}
		return nil, errBadLogin
	}
	if err != nil {
		return nil, err
	}
	pol, err := policy.ForOrg(sys, s.client, u.OrganizationID)
	if err != nil {
		return nil, err
	}
	locked, err := s.locked(sys, u, clientIP)
	if err != nil {
		return nil, err
	}
	// Hashed even when locked, so that a locked account costs what an
	// unknown email does and answers the same.
	ok, err := VerifyPassword(u.PasswordHash, password)
	if err != nil {
		return nil, err
	}
	if locked {
		return nil, errBadLogin
	}
	if !ok || !u.Active {
		if !ok {
			if err := s.recordFailure(sys, u, clientIP, pol.LockoutThreshold); err != nil {
				return nil, err
			}
		}
		return nil, errBadLogin
	}
	if err := s.clearFailures(sys, u.ID, clientIP); err != nil {
		return nil, err
	}
	if !pol.Allows(clientIP) {
		return nil, errAddressRefused
	}
	if u.MfaEnabled {
		return s.challenge(sys, u, clientIP, userAgent)
	}
	return s.openSession(sys, u, pol, clientIP, userAgent)
}

// errAddressRefused refuses a credential used from outside its
// organisation's IP allowlist.
var errAddressRefused = apperr.New(apperr.Forbidden, "your address is not in the organisation's IP allowlist")

// openSession issues a session to u, living as long as both the server's
// session lifetime and the organisation's absolute limit allow.
func (s *Service) openSession(sys context.Context, u *ent.User, pol policy.Settings, clientIP, userAgent string) (*Session, error) {
	token := credential.NewSecret(credential.PrefixSession)
	now := s.now()
	expires := now.Add(min(s.sessionTTL, pol.SessionMaxAge()))
	// Created by the service's clock: the maximum age counts from it.
	if err := s.client.Session.Create().SetCreatedAt(now.UTC()).
		SetOrganizationID(u.OrganizationID).SetUserID(u.ID).SetTokenHash(credential.HashSecret(token)).
		SetExpiresAt(expires).SetLastSeenAt(now).SetIP(clientIP).SetUserAgent(truncate(userAgent, 300)).
		Exec(sys); err != nil {
		return nil, err
	}
	// By id through s.client: u may come from another client than the
	// transaction this runs in (CompleteMFA).
	u, err := s.client.User.UpdateOneID(u.ID).SetLastLoginAt(now).Save(sys)
	if err != nil {
		return nil, err
	}
	return &Session{Token: token, ExpiresAt: expires, User: u, EnrolOnly: pol.MFARequired && !u.MfaEnabled}, nil
}

// allowLogin counts one attempt against the client's limit across emails,
// then against its limit for this email.
func (s *Service) allowLogin(clientIP, email string) error {
	ok, wait := s.loginsByIP.Allow(clientIP)
	if ok {
		ok, wait = s.logins.Allow(clientIP + "|" + email)
	}
	if !ok {
		return &apperr.Error{Code: apperr.RateLimited, Message: "too many login attempts; try again later", RetryAfter: wait}
	}
	return nil
}

// Logout ends the session the request was authenticated with, and with it
// every connection opened with that session (see Revoke). A request made
// with an API token has no session; revoke the token instead.
func (s *Service) Logout(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	if v == nil {
		return apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if v.SessionID == uuid.Nil {
		return apperr.Invalid("authorization", "logout ends a session; API tokens are revoked instead")
	}
	return s.revoke(ctx, Revocation{UserID: v.UserID, OrgID: v.HomeOrgID, Session: v.SessionID})
}

// revoke runs Revoke in a transaction of its own.
func (s *Service) revoke(ctx context.Context, r Revocation) error {
	return storage.InTx(ctx, s.client, func(tx *ent.Tx) error { return Revoke(ctx, tx.Client(), r) })
}

// Authenticate turns an Authorization header value and an optional
// X-Seliq-Org value into a viewer. Errors are Unauthenticated (401) or
// Forbidden (403, organisation out of scope). What it finds is reused for
// the same credential and organisation for up to PrincipalCacheTTL, until a
// change evicts it (see PrincipalCacheTTL); expiry, the session limits and
// the IP allowlists are still checked on every request.
func (s *Service) Authenticate(ctx context.Context, authorization, org string) (*viewer.Viewer, error) {
	return s.authenticate(ctx, authorization, org, true)
}

// AuthenticateFresh is Authenticate reading everything from the database,
// whatever is cached (and caching what it read): for long-lived
// connections, which authenticate again for each operation and on each
// principal change, so that even a change made behind the application's
// back (no signal at all) reaches their next operation.
func (s *Service) AuthenticateFresh(ctx context.Context, authorization, org string) (*viewer.Viewer, error) {
	return s.authenticate(ctx, authorization, org, false)
}

func (s *Service) authenticate(ctx context.Context, authorization, org string, cached bool) (*viewer.Viewer, error) {
	scheme, secret, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	secret = strings.TrimSpace(secret)
	if !ok || secret == "" {
		return nil, apperr.New(apperr.Unauthenticated, "malformed Authorization header; use \"Bearer <token>\" or \"Token <api token>\"")
	}
	scheme = strings.ToLower(scheme)
	org = strings.TrimSpace(org)
	key := cacheKey{scheme: scheme, secret: sha256.Sum256([]byte(secret)), org: org}
	clientIP := reqctx.From(ctx).ClientIP
	if c := s.cache.get(key); cached && c != nil {
		if c.fresh(s.now(), time.Now(), s.cache.epoch.Load()) {
			return c.viewer(clientIP)
		}
		s.cache.drop(key)
	}
	gen, epoch := s.cache.begin()
	var (
		v     *viewer.Viewer
		u     *ent.User
		home  *policy.Settings // the home organisation's, when already read
		entry = &cachedPrincipal{at: time.Now(), epoch: epoch}
		err   error
	)
	switch scheme {
	case "bearer":
		v, u, home, err = s.fromSession(ctx, secret, entry)
	case "token":
		v, u, err = s.fromAPIToken(ctx, secret, entry)
	default:
		return nil, apperr.New(apperr.Unauthenticated, "unsupported authorization scheme %q", scheme)
	}
	if err != nil {
		return nil, err
	}
	if err := tenancy.Apply(ctx, s.client, v, org); err != nil {
		return nil, err
	}
	pols, err := s.policies(ctx, v, u, home)
	if err != nil {
		return nil, err
	}
	entry.v, entry.pols = *v, pols
	entry.v.VisibleOrgIDs = slices.Clone(v.VisibleOrgIDs)
	s.cache.put(key, gen, entry)
	return entry.viewer(clientIP)
}

// policies returns the security settings that apply to the request: the
// user's home organisation's and, for a provider user acting in a client
// organisation, that organisation's too. The request's address must be in
// each IP allowlist (sessions and API tokens alike; checked by the caller),
// and a session of a user without MFA where either requires it may only
// enrol, which is set on v here. API tokens are the scripts' credential:
// MFA does not apply to them.
func (s *Service) policies(ctx context.Context, v *viewer.Viewer, u *ent.User, home *policy.Settings) ([]policy.Settings, error) {
	sys := System(ctx)
	if home == nil {
		pol, err := policy.For(sys, s.client, u.Edges.Organization)
		if err != nil {
			return nil, err
		}
		home = &pol
	}
	pols := []policy.Settings{*home}
	if v.OrgID != v.HomeOrgID {
		acting, err := policy.ForOrg(sys, s.client, v.OrgID)
		if err != nil {
			return nil, err
		}
		pols = append(pols, acting)
	}
	for _, pol := range pols {
		if v.SessionID != uuid.Nil && pol.MFARequired && !u.MfaEnabled {
			v.EnrolOnly = true
		}
	}
	return pols, nil
}

var errBadToken = apperr.New(apperr.Unauthenticated, "invalid or expired token")

// sessionEnds is when sess ends unless used again: its expiry, its
// organisation's maximum age, or lastSeen (its recorded last use) plus the
// idle timeout, whichever comes first. The checks of fromSession decide
// against the same instants.
func sessionEnds(sess *ent.Session, pol policy.Settings, lastSeen time.Time) time.Time {
	ends := sess.ExpiresAt
	if maxAge := sess.CreatedAt.Add(pol.SessionMaxAge()); maxAge.Before(ends) {
		ends = maxAge
	}
	if idle := pol.IdleTimeout(); idle > 0 && lastSeen.Add(idle).Before(ends) {
		ends = lastSeen.Add(idle)
	}
	return ends
}

// fromSession authenticates a session token and records in c what later
// requests must check again.
func (s *Service) fromSession(ctx context.Context, secret string, c *cachedPrincipal) (*viewer.Viewer, *ent.User, *policy.Settings, error) {
	sys := System(ctx)
	sess, err := s.client.Session.Query().Where(session.TokenHash(credential.HashSecret(secret))).Only(sys)
	if ent.IsNotFound(err) {
		return nil, nil, nil, errBadToken
	}
	if err != nil {
		return nil, nil, nil, err
	}
	now := s.now()
	if sess.MfaPending || now.After(sess.ExpiresAt) {
		return nil, nil, nil, errBadToken
	}
	v, u, err := s.userViewer(sys, sess.UserID)
	if err != nil {
		return nil, nil, nil, err
	}
	pol, err := policy.For(sys, s.client, u.Edges.Organization)
	if err != nil {
		return nil, nil, nil, err
	}
	// The organisation's limits as they are now, not as they were at login:
	// a session past either ends, through Revoke so its open connections
	// close with it.
	ended := ""
	switch {
	case now.Sub(sess.CreatedAt) > pol.SessionMaxAge():
		ended = "the session reached the organisation's maximum age; log in again"
	case pol.IdleTimeout() > 0 && sess.LastSeenAt != nil && now.Sub(*sess.LastSeenAt) > pol.IdleTimeout():
		ended = "the session was idle longer than the organisation allows; log in again"
	}
	if ended != "" {
		if err := s.revoke(sys, Revocation{UserID: u.ID, OrgID: u.OrganizationID, Session: sess.ID}); err != nil {
			return nil, nil, nil, err
		}
		return nil, nil, nil, apperr.New(apperr.Unauthenticated, "%s", ended)
	}
	v.SessionID = sess.ID
	c.session, c.created, c.maxAge, c.idleMax = true, sess.CreatedAt, pol.SessionMaxAge(), pol.IdleTimeout()
	c.expiresAt, c.stamp = &sess.ExpiresAt, sess.LastSeenAt
	lastSeen := now
	if sess.LastSeenAt != nil {
		lastSeen = *sess.LastSeenAt
	}
	// A re-check the server makes by itself is no use of the session.
	if !reqctx.IsRecheck(ctx) && StampDue(sess.LastSeenAt, now) {
		if err := s.client.Session.UpdateOneID(sess.ID).SetLastSeenAt(now).Exec(sys); err != nil && !ent.IsNotFound(err) {
			return nil, nil, nil, err
		}
		c.stamp = &now
		lastSeen = now
	}
	v.SessionEnds = sessionEnds(sess, pol, lastSeen)
	return v, u, &pol, nil
}

// fromAPIToken authenticates an API token and records in c what later
// requests must check again.
func (s *Service) fromAPIToken(ctx context.Context, secret string, c *cachedPrincipal) (*viewer.Viewer, *ent.User, error) {
	sys := System(ctx)
	tok, err := s.client.APIToken.Query().Where(apitoken.TokenHash(credential.HashSecret(secret))).Only(sys)
	if ent.IsNotFound(err) {
		return nil, nil, errBadToken
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	if tok.ExpiresAt != nil && now.After(*tok.ExpiresAt) {
		return nil, nil, errBadToken
	}
	v, u, err := s.userViewer(sys, tok.UserID)
	if err != nil {
		return nil, nil, err
	}
	v.TokenID = tok.ID
	c.expiresAt, c.stamp = tok.ExpiresAt, tok.LastUsedAt
	if StampDue(tok.LastUsedAt, now) {
		if err := s.client.APIToken.UpdateOneID(tok.ID).SetLastUsedAt(now).Exec(sys); err != nil && !ent.IsNotFound(err) {
			return nil, nil, err
		}
		c.stamp = &now
	}
	return v, u, nil
}

func (s *Service) userViewer(sys context.Context, id uuid.UUID) (*viewer.Viewer, *ent.User, error) {
	u, err := s.client.User.Query().Where(user.ID(id)).WithOrganization().Only(sys)
	if ent.IsNotFound(err) {
		return nil, nil, errBadToken
	}
	if err != nil {
		return nil, nil, err
	}
	if !u.Active {
		return nil, nil, apperr.New(apperr.Unauthenticated, "user is deactivated")
	}
	return &viewer.Viewer{
		Kind: viewer.KindUser, UserID: u.ID, Role: u.Role, HomeOrgID: u.OrganizationID,
		TopLevel: u.Edges.Organization.ParentID == nil,
	}, u, nil
}

// AuthenticateConnector verifies an X-API-Key. The viewer it returns acts in
// the connector's organisation and nowhere else; it is only accepted by the
// ingest endpoint.
func (s *Service) AuthenticateConnector(ctx context.Context, key string) (*viewer.Viewer, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, apperr.New(apperr.Unauthenticated, "missing X-API-Key header")
	}
	c, err := s.client.Connector.Query().Where(connector.KeyHash(credential.HashSecret(key))).Only(System(ctx))
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.Unauthenticated, "invalid connector key")
	}
	if err != nil {
		return nil, err
	}
	if !c.Enabled {
		return nil, apperr.New(apperr.Forbidden, "connector is disabled")
	}
	return &viewer.Viewer{
		Kind: viewer.KindConnector, ConnectorID: c.ID, Role: "", HomeOrgID: c.OrganizationID,
		OrgID: c.OrganizationID, VisibleOrgIDs: []uuid.UUID{c.OrganizationID},
	}, nil
}

// unknownInbound: no connector has this inbound email token.
func unknownInbound() error { return apperr.NotFoundf("no such inbound email address") }

// AuthenticateInboundEmail finds the email connector whose inbound URL
// token this is and returns it as the viewer, like AuthenticateConnector.
// The lookup is by the token's hash through a unique index, so its time
// does not depend on how much of a guess matches a real token; an unknown
// token is NotFound (the URL does not exist), a disabled connector Forbidden.
func (s *Service) AuthenticateInboundEmail(ctx context.Context, token string) (*viewer.Viewer, error) {
	if token == "" {
		return nil, unknownInbound()
	}
	c, err := s.client.Connector.Query().Where(connector.InboundTokenHash(credential.HashSecret(token))).Only(System(ctx))
	if ent.IsNotFound(err) {
		return nil, unknownInbound()
	}
	if err != nil {
		return nil, err
	}
	if !c.Enabled {
		return nil, apperr.New(apperr.Forbidden, "connector is disabled")
	}
	return &viewer.Viewer{
		Kind: viewer.KindConnector, ConnectorID: c.ID, HomeOrgID: c.OrganizationID,
		OrgID: c.OrganizationID, VisibleOrgIDs: []uuid.UUID{c.OrganizationID},
	}, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
