package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/auth/credential"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/session"
	"github.com/seliq/seliq/ent/setting"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/reqctx"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/security/policy"
	"github.com/seliq/seliq/storage"
)

// clock is a settable time source for the service.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// setPolicy stores org's security settings document as the settings
// service would (the document, and mfa_required on the organisation).
func setPolicy(t *testing.T, db *storage.DB, org *ent.Organization, s policy.Settings) {
	t.Helper()
	sys := auth.System(context.Background())
	doc := map[string]any{
		"session_max_age_minutes": s.SessionMaxAgeMinutes, "session_idle_timeout_minutes": s.SessionIdleTimeoutMinutes,
		"password_min_length": s.PasswordMinLength, "lockout_threshold": s.LockoutThreshold, "ip_allowlist": s.IPAllowlist,
	}
	if err := db.Client.Setting.Create().SetOrganizationID(org.ID).SetKey(policy.Key).SetValue(doc).
		OnConflictColumns(setting.FieldOrganizationID, setting.FieldKey).UpdateValue().Exec(sys); err != nil {
		t.Fatal(err)
	}
	if err := db.Client.Organization.UpdateOneID(org.ID).SetMfaEnforced(s.MFARequired).Exec(sys); err != nil {
		t.Fatal(err)
	}
}

// from is a request context whose client address is ip.
func from(ip string) context.Context {
	return reqctx.NewContext(context.Background(), reqctx.Info{ClientIP: ip})
}

func isCode(err error, code apperr.Code) bool {
	e, ok := apperr.As(err)
	return ok && e.Code == code
}

func testBox(t *testing.T) *secrets.Box {
	b, err := secrets.NewBox(make([]byte, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The absolute and idle limits end a session on its next use, whatever
// they were when it was opened, and end it for good (the row is revoked).
func TestSessionLimits(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db, testenv.Slug("acme"))
		testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle("alice"), withPassword)
		clk := &clock{t: time.Now()}
		svc := auth.New(db.Client, auth.Config{Now: clk.now})
		limits := func(age, idle int) policy.Settings {
			s := policy.Defaults()
			s.SessionMaxAgeMinutes, s.SessionIdleTimeoutMinutes = age, idle
			return s
		}
		for _, tt := range []struct {
			name   string
			s      policy.Settings
			steps  []time.Duration // uses after each wait
			ending string          // "" when the session survives every step
		}{
			{"default limits", policy.Defaults(), []time.Duration{time.Hour, 5 * time.Hour}, ""},
			{"lowered maximum age", limits(60, 0), []time.Duration{30 * time.Minute, 31 * time.Minute}, "maximum age"},
			{"idle timeout", limits(720, 10), []time.Duration{11 * time.Minute}, "idle"},
			{"use keeps a session alive", limits(720, 10), []time.Duration{9 * time.Minute, 9 * time.Minute, 9 * time.Minute}, ""},
			{"idle timeout off", limits(720, 0), []time.Duration{6 * time.Hour}, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				setPolicy(t, db, org, policy.Defaults())
				s, err := svc.Login(context.Background(), "alice@acme.test", password, "10.0.0.1", "")
				if err != nil {
					t.Fatal(err)
				}
				setPolicy(t, db, org, tt.s)
				var last error
				for _, wait := range tt.steps {
					clk.advance(wait)
					if _, last = svc.Authenticate(from("10.0.0.1"), "Bearer "+s.Token, ""); last != nil {
						break
					}
				}
				if tt.ending == "" {
					if last != nil {
						t.Fatalf("session ended: %v", last)
					}
					return
				}
				if !isCode(last, apperr.Unauthenticated) || !strings.Contains(last.Error(), tt.ending) {
					t.Fatalf("got %v, want the session ended (%s)", last, tt.ending)
				}
				n, err := db.Client.Session.Query().Where(session.TokenHash(credential.HashSecret(s.Token))).Count(auth.System(context.Background()))
				if err != nil || n != 0 {
					t.Fatalf("ended session still stored: %d %v", n, err)
				}
			})
		}
	})
}

// A session's viewer says when it ends unless used again (the earliest of
// the idle deadline and the maximum age), which long-lived connections
// close at; and a re-check the server makes by itself (reqctx.Recheck) is
// no use: it neither moves that instant nor keeps an idle session alive.
func TestSessionEndsAndRechecks(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db, testenv.Slug("acme"))
		testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle("alice"), withPassword)
		clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
		svc := auth.New(db.Client, auth.Config{Now: clk.now})
		s := policy.Defaults()
		s.SessionMaxAgeMinutes, s.SessionIdleTimeoutMinutes = 60, 10
		setPolicy(t, db, org, s)
		login, err := svc.Login(context.Background(), "alice@acme.test", password, "10.0.0.1", "")
		if err != nil {
			t.Fatal(err)
		}
		t0 := clk.now()
		use := func(recheck bool) (time.Time, error) {
			ctx := from("10.0.0.1")
			if recheck {
				ctx = reqctx.Recheck(ctx)
			}
			v, err := svc.Authenticate(ctx, "Bearer "+login.Token, "")
			if err != nil {
				return time.Time{}, err
			}
			return v.SessionEnds, nil
		}
		for _, step := range []struct {
			name    string
			wait    time.Duration
			recheck bool
			ends    time.Duration // from t0; 0: the session has ended
		}{
			{"a use moves the idle deadline", 2 * time.Minute, false, 12 * time.Minute},
			{"a re-check does not", 9 * time.Minute, true, 12 * time.Minute},
			{"so the session went idle", 2 * time.Minute, true, 0},
		} {
			clk.advance(step.wait)
			ends, err := use(step.recheck)
			if step.ends == 0 {
				if !isCode(err, apperr.Unauthenticated) || !strings.Contains(err.Error(), "idle") {
					t.Fatalf("%s: got %v, want the session ended as idle", step.name, err)
				}
				continue
			}
			if err != nil || !ends.Equal(t0.Add(step.ends)) {
				t.Fatalf("%s: ends %v (%v), want t0+%v", step.name, ends.Sub(t0), err, step.ends)
			}
		}

		// Without an idle timeout, the maximum age is the end.
		s.SessionIdleTimeoutMinutes = 0
		setPolicy(t, db, org, s)
		again, err := svc.Login(context.Background(), "alice@acme.test", password, "10.0.0.1", "")
		if err != nil {
			t.Fatal(err)
		}
		v, err := svc.Authenticate(from("10.0.0.1"), "Bearer "+again.Token, "")
		if err != nil || !v.SessionEnds.Equal(clk.now().Add(time.Hour)) {
			t.Fatalf("ends %v (%v), want the maximum age, an hour from login", v.SessionEnds.Sub(clk.now()), err)
		}
	})
}

// The IP allowlist applies to sessions, API tokens and logins of the
// organisation, and a client organisation's to provider users acting in it.
func TestIPAllowlist(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		prov := testenv.Org(t, db, testenv.Slug("mssp"))
		client := testenv.Org(t, db, testenv.Slug("client"), testenv.Parent(prov.ID))
		testenv.User(t, db, prov, enum.RoleAdmin, testenv.Handle("pat"), withPassword)
		svc := auth.New(db.Client, auth.Config{})
		s, err := svc.Login(context.Background(), "pat@mssp.test", password, "10.0.0.1", "")
		if err != nil {
			t.Fatal(err)
		}
		v, err := svc.Authenticate(from("10.0.0.1"), "Bearer "+s.Token, "")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := svc.CreateAPIToken(viewer.NewContext(context.Background(), v), "siem", nil)
		if err != nil {
			t.Fatal(err)
		}
		provList, clientList := policy.Defaults(), policy.Defaults()
		provList.IPAllowlist, clientList.IPAllowlist = []string{"10.0.0.0/8"}, []string{"10.1.0.0/16"}
		setPolicy(t, db, prov, provList)
		setPolicy(t, db, client, clientList)
		session, token := "Bearer "+s.Token, "Token "+tok.Secret
		for _, tt := range []struct {
			name, auth, org, ip string
			ok                  bool
		}{
			{"session inside", session, "", "10.2.3.4", true},
			{"session outside", session, "", "203.0.113.1", false},
			{"token inside", token, "", "10.2.3.4", true},
			{"token outside", token, "", "203.0.113.1", false},
			{"no address", token, "", "", false},
			{"in the client, outside its list", session, "client", "10.2.3.4", false},
			{"in the client, inside both", session, "client", "10.1.2.3", true},
			{"token in the client, outside its list", token, "client", "10.9.9.9", false},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := svc.Authenticate(from(tt.ip), tt.auth, tt.org)
				if tt.ok && err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !tt.ok && !isCode(err, apperr.Forbidden) {
					t.Fatalf("got %v, want 403", err)
				}
			})
		}
		if _, err := svc.Login(context.Background(), "pat@mssp.test", password, "203.0.113.1", ""); !isCode(err, apperr.Forbidden) {
			t.Fatalf("login from outside the allowlist: %v", err)
		}
	})
}

// A user without MFA in an organisation (home or acting) that requires it
// gets a session that can only enrol; API tokens are not affected; once the
// user enrols, the same session is a full one.
func TestMFARequired(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		prov := testenv.Org(t, db, testenv.Slug("mssp"))
		client := testenv.Org(t, db, testenv.Slug("client"), testenv.Parent(prov.ID))
		testenv.User(t, db, prov, enum.RoleReadOnly, testenv.Handle("pat"), withPassword)
		clk := &clock{t: time.Now()}
		svc := auth.New(db.Client, auth.Config{Now: clk.now, Box: testBox(t)})
		ctx := from("10.0.0.1")
		s, err := svc.Login(ctx, "pat@mssp.test", password, "10.0.0.1", "")
		if err != nil || s.EnrolOnly {
			t.Fatalf("login before MFA is required: %+v %v", s, err)
		}
		v, _ := svc.Authenticate(ctx, "Bearer "+s.Token, "")
		tok, err := svc.CreateAPIToken(viewer.NewContext(ctx, v), "script", nil)
		if err != nil {
			t.Fatal(err)
		}
		required := policy.Defaults()
		required.MFARequired = true
		setPolicy(t, db, client, required)
		for _, tt := range []struct {
			name, auth, org string
			enrolOnly       bool
		}{
			{"session at home", "Bearer " + s.Token, "", false},
			{"session in the client requiring MFA", "Bearer " + s.Token, "client", true},
			{"API token in the client", "Token " + tok.Secret, "client", false},
		} {
			t.Run(tt.name, func(t *testing.T) {
				v, err := svc.Authenticate(ctx, tt.auth, tt.org)
				if err != nil || v.EnrolOnly != tt.enrolOnly {
					t.Fatalf("viewer %+v, %v; want enrol-only %v", v, err, tt.enrolOnly)
				}
			})
		}
		setPolicy(t, db, prov, required)
		s, err = svc.Login(ctx, "pat@mssp.test", password, "10.0.0.1", "")
		if err != nil || !s.EnrolOnly || s.Token == "" {
			t.Fatalf("login where MFA is required: %+v %v", s, err)
		}
		v, err = svc.Authenticate(ctx, "Bearer "+s.Token, "")
		if err != nil || !v.EnrolOnly {
			t.Fatalf("enrol-only session: %+v %v", v, err)
		}
		vctx := viewer.NewContext(ctx, v)
		if _, err := svc.CreateAPIToken(vctx, "escape", nil); !isCode(err, apperr.Forbidden) {
			t.Fatalf("enrol-only session created an API token: %v", err)
		}
		if v, err := svc.Authenticate(ctx, "Token "+tok.Secret, ""); err != nil || v.EnrolOnly {
			t.Fatalf("API token under required MFA: %+v %v", v, err)
		}
		// Enrolling from the enrol-only session makes it a full session.
		en, err := svc.EnrolTOTP(vctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ConfirmTOTP(vctx, code(t, en.Secret, clk.now())); err != nil {
			t.Fatal(err)
		}
		if v, err := svc.Authenticate(ctx, "Bearer "+s.Token, "client"); err != nil || v.EnrolOnly {
			t.Fatalf("session after enrolment: %+v %v", v, err)
		}
	})
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TOTP end to end: enrolment (secret sealed at rest, never shown again),
// confirmation and recovery codes, the two-step login, replayed codes and
// recovery codes refused, the per-token attempt limit, disabling.
func TestTOTP(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db, testenv.Slug("acme"))
		alice := testenv.User(t, db, org, enum.RoleReadOnly, testenv.Handle("alice"), withPassword)
		clk := &clock{t: time.Now()}
		svc := auth.New(db.Client, auth.Config{Now: clk.now, Box: testBox(t)})
		sys := auth.System(context.Background())
		s, err := svc.Login(context.Background(), "alice@acme.test", password, "10.0.0.1", "")
		if err != nil {
			t.Fatal(err)
		}
		other, err := svc.Login(context.Background(), "alice@acme.test", password, "10.0.0.2", "")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := svc.Authenticate(context.Background(), "Bearer "+s.Token, "")
		me := viewer.NewContext(context.Background(), v)

		en, err := svc.EnrolTOTP(me)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(en.OtpauthURI, "otpauth://totp/Seliq:alice@acme.test?") || en.QRPNGBase64 == "" || en.Secret == "" {
			t.Fatalf("enrolment %+v", en)
		}
		stored, _ := db.Client.User.Get(sys, alice.ID)
		if stored.MfaSecret == "" || strings.Contains(stored.MfaSecret, en.Secret) || stored.MfaEnabled {
			t.Fatalf("secret stored in clear or MFA on before confirmation: %q", stored.MfaSecret)
		}
		if _, err := svc.ConfirmTOTP(me, "000000"); !isCode(err, apperr.BadInput) {
			t.Fatalf("wrong confirmation code: %v", err)
		}
		recovery, err := svc.ConfirmTOTP(me, code(t, en.Secret, clk.now()))
		if err != nil || len(recovery) != auth.RecoveryCodes {
			t.Fatalf("confirm: %v %v", recovery, err)
		}
		if _, err := svc.EnrolTOTP(me); !isCode(err, apperr.Conflict) {
			t.Fatalf("re-enrolment with MFA on: %v", err)
		}
		if _, err := svc.Authenticate(context.Background(), "Bearer "+other.Token, ""); !isCode(err, apperr.Unauthenticated) {
			t.Fatalf("a password-only session outlived MFA's confirmation: %v", err)
		}
		if _, err := svc.Authenticate(context.Background(), "Bearer "+s.Token, ""); err != nil {
			t.Fatalf("the confirming session ended: %v", err)
		}

		// The password alone gives an MFA token, which authenticates nothing.
		login := func() string {
			t.Helper()
			c, err := svc.Login(context.Background(), "alice@acme.test", password, "10.0.0.1", "")
			if err != nil || c.Token != "" || c.MFAToken == "" {
				t.Fatalf("login with MFA: %+v %v", c, err)
			}
			if _, err := svc.Authenticate(context.Background(), "Bearer "+c.MFAToken, ""); !isCode(err, apperr.Unauthenticated) {
				t.Fatalf("an MFA token authenticated: %v", err)
			}
			return c.MFAToken
		}
		mfa := login()
		used := code(t, en.Secret, clk.now())
		if _, err := svc.CompleteMFA(context.Background(), mfa, used, "10.0.0.1", ""); !isCode(err, apperr.Unauthenticated) {
			t.Fatalf("the confirmation's code was accepted again: %v", err)
		}
		clk.advance(30 * time.Second)
		fresh := code(t, en.Secret, clk.now())
		done, err := svc.CompleteMFA(context.Background(), mfa, fresh, "10.0.0.1", "")
		if err != nil || done.Token == "" || done.User.ID != alice.ID {
			t.Fatalf("complete: %+v %v", done, err)
		}
		if _, err := svc.Authenticate(context.Background(), "Bearer "+done.Token, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CompleteMFA(context.Background(), mfa, fresh, "10.0.0.1", ""); !isCode(err, apperr.Unauthenticated) {
			t.Fatalf("an MFA token was used twice: %v", err)
		}
		if _, err := svc.CompleteMFA(context.Background(), login(), fresh, "10.0.0.1", ""); !isCode(err, apperr.Unauthenticated) {
			t.Fatalf("a used code was accepted with a new token: %v", err)
		}

		// Recovery codes work once each.
		if _, err := svc.CompleteMFA(context.Background(), login(), strings.ToUpper(recovery[0]), "10.0.0.1", ""); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		if _, err := svc.CompleteMFA(context.Background(), login(), recovery[0], "10.0.0.1", ""); !isCode(err, apperr.Unauthenticated) {
			t.Fatalf("a recovery code worked twice: %v", err)
		}

		// Five wrong codes end a token, even if the sixth is right.
		mfa = login()
		for range 5 {
			if _, err := svc.CompleteMFA(context.Background(), mfa, "000000", "10.0.0.1", ""); !isCode(err, apperr.Unauthenticated) {
				t.Fatalf("wrong code: %v", err)
			}
		}
		clk.advance(30 * time.Second)
		if _, err := svc.CompleteMFA(context.Background(), mfa, code(t, en.Secret, clk.now()), "10.0.0.1", ""); !isCode(err, apperr.Unauthenticated) {
			t.Fatalf("a token past its attempts completed: %v", err)
		}

		// Disabling takes a valid code; afterwards the password suffices.
		if err := svc.DisableTOTP(me, "000000"); !isCode(err, apperr.BadInput) {
			t.Fatalf("disable with a wrong code: %v", err)
		}
		if err := svc.DisableTOTP(me, recovery[1]); err != nil {
			t.Fatal(err)
		}
		if c, err := svc.Login(context.Background(), "alice@acme.test", password, "10.0.0.1", ""); err != nil || c.Token == "" {
			t.Fatalf("login after disabling MFA: %+v %v", c, err)
		}
		if stored, _ := db.Client.User.Get(sys, alice.ID); stored.MfaSecret != "" || len(stored.MfaRecoveryCodes) != 0 {
			t.Fatal("disabling MFA kept the secret or the recovery codes")
		}
	})
}

// The lockout engages per account and address after the threshold,
// leaves other addresses alone, releases after the cool-down, and an
// admin unlock lifts it at once.
func TestLockout(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db, testenv.Slug("acme"))
		alice := testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle("alice"), withPassword)
		s := policy.Defaults()
		s.LockoutThreshold = 3
		setPolicy(t, db, org, s)
		clk := &clock{t: time.Now()}
		svc := auth.New(db.Client, auth.Config{Now: clk.now, LoginLimit: 100}) // the per-address limit is not under test
		login := func(pw, ip string) error {
			_, err := svc.Login(context.Background(), "alice@acme.test", pw, ip, "")
			return err
		}
		for i := range 3 {
			if err := login("wrong password here", "10.0.0.1"); !isCode(err, apperr.Unauthenticated) {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		for _, tt := range []struct {
			name string
			ip   string
			wait time.Duration
			want apperr.Code // "" for a successful login
		}{
			{"locked for the address, right password or not", "10.0.0.1", 0, apperr.Unauthenticated},
			{"another address is not locked", "10.0.0.2", 0, ""},
			{"still locked before the cool-down ends", "10.0.0.1", policy.LockoutCoolDown - time.Minute, apperr.Unauthenticated},
			{"released after the cool-down", "10.0.0.1", 2 * time.Minute, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				clk.advance(tt.wait)
				err := login(password, tt.ip)
				if tt.want == "" && err != nil || tt.want != "" && !isCode(err, tt.want) {
					t.Fatalf("got %v, want %q", err, tt.want)
				}
			})
		}
		for range 3 {
			_ = login("wrong password here", "10.0.0.1")
		}
		t.Run("locked answers as an unknown email", func(t *testing.T) {
			// Same error, and the same work: with every hashing slot taken
			// both are refused as busy, which only a hash attempt is.
			locked := login(password, "10.0.0.1")
			_, unknown := svc.Login(context.Background(), "nobody@acme.test", password, "10.0.0.1", "")
			if !isCode(locked, apperr.Unauthenticated) || locked.Error() != unknown.Error() {
				t.Fatalf("locked: %v; unknown email: %v", locked, unknown)
			}
			auth.LimitHashing(1, time.Millisecond)
			t.Cleanup(func() { auth.LimitHashing(0, 0) })
			release := auth.HoldHashSlots()
			defer release()
			if err := login(password, "10.0.0.1"); !errors.Is(err, auth.ErrHashBusy) {
				t.Fatalf("a locked account's login did not hash: %v", err)
			}
			if _, err := svc.Login(context.Background(), "nobody@acme.test", password, "10.0.0.1", ""); !errors.Is(err, auth.ErrHashBusy) {
				t.Fatalf("an unknown email's login did not hash: %v", err)
			}
		})
		if locked, err := svc.Locked(context.Background(), alice.ID); err != nil || !locked {
			t.Fatalf("locked: %v %v", locked, err)
		}
		if was, err := auth.Unlock(context.Background(), db.Client, alice.ID); err != nil || !was {
			t.Fatalf("unlock: %v %v", was, err)
		}
		if err := login(password, "10.0.0.1"); err != nil {
			t.Fatalf("login after the unlock: %v", err)
		}
	})
}
