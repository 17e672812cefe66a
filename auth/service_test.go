package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/auth/credential"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/session"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

const password = "correct horse battery"

// wantCode fails unless err is an *apperr.Error with code.
func wantCode(t *testing.T, err error, code apperr.Code) *apperr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("got %T %v, want *apperr.Error %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%v), want %s", e.Code, e, code)
	}
	return e
}

var pwHash = func() string {
	h, err := auth.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
}()

// withPassword gives a user the password the tests log in with.
var withPassword = testenv.PasswordHash(pwHash)

func userViewer(u *ent.User) *viewer.Viewer {
	return &viewer.Viewer{
		Kind: viewer.KindUser, UserID: u.ID, Role: u.Role, HomeOrgID: u.OrganizationID,
		OrgID: u.OrganizationID, VisibleOrgIDs: []uuid.UUID{u.OrganizationID},
	}
}

func TestLogin(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		org := testenv.Org(t, db, testenv.Slug("acme"))
		alice := testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle("alice"), withPassword)
		testenv.User(t, db, org, enum.RoleAdmin, testenv.Handle("gone"), withPassword, testenv.Inactive())
		svc := auth.New(db.Client, auth.Config{})

		t.Run("success", func(t *testing.T) {
			before := time.Now()
			s, err := svc.Login(ctx, "  Alice@ACME.test ", password, "10.0.0.1", "test-agent")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(s.Token, credential.PrefixSession) {
				t.Errorf("token %q lacks the session prefix", s.Token)
			}
			if s.User.ID != alice.ID || s.User.LastLoginAt == nil || s.User.LastLoginAt.Before(before.Add(-time.Second)) {
				t.Errorf("user = %+v, want alice with last_login_at set", s.User)
			}
			if d := time.Until(s.ExpiresAt); d < 11*time.Hour || d > 12*time.Hour+time.Minute {
				t.Errorf("session expires in %v, want the 12h default", d)
			}
			v, err := svc.Authenticate(ctx, "Bearer "+s.Token, "")
			if err != nil {
				t.Fatal(err)
			}
			if v.Kind != viewer.KindUser || v.UserID != alice.ID || v.Role != enum.RoleAnalyst ||
				v.HomeOrgID != org.ID || v.OrgID != org.ID || v.SessionID == uuid.Nil || !v.TopLevel ||
				len(v.VisibleOrgIDs) != 1 || v.VisibleOrgIDs[0] != org.ID {
				t.Errorf("viewer = %+v", v)
			}
			// The session row stores only the hash.
			sess, err := db.Client.Session.Get(auth.System(ctx), v.SessionID)
			if err != nil {
				t.Fatal(err)
			}
			if string(sess.TokenHash) != string(credential.HashSecret(s.Token)) || sess.IP != "10.0.0.1" || sess.UserAgent != "test-agent" {
				t.Errorf("session row = %+v", sess)
			}
			// The scheme is case-insensitive and surrounding space is ignored.
			if _, err := svc.Authenticate(ctx, "  bearer   "+s.Token+"  ", ""); err != nil {
				t.Errorf("lower-case scheme: %v", err)
			}
			// A session token is not an API token.
			wantCode(t, mustErr(svc.Authenticate(ctx, "Token "+s.Token, "")), apperr.Unauthenticated)
		})

		t.Run("refused", func(t *testing.T) {
			tests := []struct{ name, email, password string }{
				{"wrong password", "alice@acme.test", "wrong password!"},
				{"unknown email", "nobody@acme.test", password},
				{"deactivated user", "gone@acme.test", password},
			}
			var msg string
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := svc.Login(ctx, tt.email, tt.password, "10.0.0.2", "")
					e := wantCode(t, err, apperr.Unauthenticated)
					if msg == "" {
						msg = e.Message
					} else if e.Message != msg {
						t.Errorf("message %q differs from %q: the answer must not reveal which check failed", e.Message, msg)
					}
				})
			}
		})

		t.Run("missing fields", func(t *testing.T) {
			e := wantCode(t, mustErr(svc.Login(ctx, "  ", password, "", "")), apperr.BadInput)
			if e.Field != "email" {
				t.Errorf("field = %q, want email", e.Field)
			}
			e = wantCode(t, mustErr(svc.Login(ctx, "alice@acme.test", "", "", "")), apperr.BadInput)
			if e.Field != "password" {
				t.Errorf("field = %q, want password", e.Field)
			}
		})

		t.Run("user agent truncated", func(t *testing.T) {
			s, err := svc.Login(ctx, "alice@acme.test", password, "10.0.0.3", strings.Repeat("u", 1000))
			if err != nil {
				t.Fatal(err)
			}
			sess, err := db.Client.Session.Query().Where(session.TokenHash(credential.HashSecret(s.Token))).Only(auth.System(ctx))
			if err != nil {
				t.Fatal(err)
			}
			if len(sess.UserAgent) != 300 {
				t.Errorf("user agent stored with %d characters, want 300", len(sess.UserAgent))
			}
		})
	})
}

func mustErr[T any](_ T, err error) error { return err }

func TestLoginRateLimit(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		org := testenv.Org(t, db, testenv.Slug("acme"))
		testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle("alice"), withPassword)
		testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle("bob"), withPassword)
		svc := auth.New(db.Client, auth.Config{LoginLimit: 3})

		for range 3 {
			_, err := svc.Login(ctx, "alice@acme.test", "wrong password!", "10.0.0.1", "")
			wantCode(t, err, apperr.Unauthenticated) // counted, but not yet limited
		}
		// The 4th attempt is limited even with the right password, and even
		// when the email is spelled differently.
		for _, email := range []string{"alice@acme.test", " ALICE@acme.test"} {
			_, err := svc.Login(ctx, email, password, "10.0.0.1", "")
			e := wantCode(t, err, apperr.RateLimited)
			if e.RetryAfter <= 0 || e.RetryAfter > 2*time.Minute {
				t.Errorf("RetryAfter = %v, want within (0, 2m]", e.RetryAfter)
			}
		}
		// Another email from the same client, and the same email from another
		// client, are counted separately.
		if _, err := svc.Login(ctx, "bob@acme.test", password, "10.0.0.1", ""); err != nil {
			t.Errorf("other email: %v", err)
		}
		if _, err := svc.Login(ctx, "alice@acme.test", password, "10.0.0.9", ""); err != nil {
			t.Errorf("other client: %v", err)
		}
	})
}

func TestSessions(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		sys := auth.System(ctx)
		org := testenv.Org(t, db, testenv.Slug("acme"))
		alice := testenv.User(t, db, org, enum.RoleAdmin, testenv.Handle("alice"), withPassword)
		svc := auth.New(db.Client, auth.Config{})
		login := func(t *testing.T, svc *auth.Service) string {
			t.Helper()
			s, err := svc.Login(ctx, "alice@acme.test", password, "10.0.0.1", "")
			if err != nil {
				t.Fatal(err)
			}
			return s.Token
		}

		t.Run("expired by ttl", func(t *testing.T) {
			now := time.Now()
			short := auth.New(db.Client, auth.Config{SessionTTL: time.Hour, Now: func() time.Time { return now }})
			tok := login(t, short)
			now = now.Add(time.Hour - time.Second)
			if _, err := short.Authenticate(ctx, "Bearer "+tok, ""); err != nil {
				t.Fatalf("a second before the TTL: %v", err)
			}
			now = now.Add(2 * time.Second)
			wantCode(t, mustErr(short.Authenticate(ctx, "Bearer "+tok, "")), apperr.Unauthenticated)
		})

		t.Run("expired in the database", func(t *testing.T) {
			tok := login(t, svc)
			if _, err := svc.Authenticate(ctx, "Bearer "+tok, ""); err != nil {
				t.Fatal(err)
			}
			n, err := db.Client.Session.Update().Where(session.TokenHash(credential.HashSecret(tok))).
				SetExpiresAt(time.Now().Add(-time.Second)).Save(sys)
			if err != nil || n != 1 {
				t.Fatalf("expire session: %d, %v", n, err)
			}
			wantCode(t, mustErr(svc.Authenticate(ctx, "Bearer "+tok, "")), apperr.Unauthenticated)
		})

		t.Run("logout", func(t *testing.T) {
			tok, other := login(t, svc), login(t, svc)
			v, err := svc.Authenticate(ctx, "Bearer "+tok, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.Logout(viewer.NewContext(ctx, v)); err != nil {
				t.Fatal(err)
			}
			wantCode(t, mustErr(svc.Authenticate(ctx, "Bearer "+tok, "")), apperr.Unauthenticated)
			if _, err := svc.Authenticate(ctx, "Bearer "+other, ""); err != nil {
				t.Errorf("logout ended another session: %v", err)
			}
			wantCode(t, svc.Logout(ctx), apperr.Unauthenticated)
			tokenViewer := userViewer(alice)
			tokenViewer.TokenID = uuid.New()
			wantCode(t, svc.Logout(viewer.NewContext(ctx, tokenViewer)), apperr.BadInput)
		})

		t.Run("revoke sessions", func(t *testing.T) {
			bob := testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle("bob"), withPassword)
			t1, t2 := login(t, svc), login(t, svc)
			sb, err := svc.Login(ctx, "bob@acme.test", password, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if err := auth.Revoke(ctx, db.Client, auth.Revocation{UserID: alice.ID, OrgID: org.ID, AllSessions: true}); err != nil {
				t.Fatal(err)
			}
			for _, tok := range []string{t1, t2} {
				wantCode(t, mustErr(svc.Authenticate(ctx, "Bearer "+tok, "")), apperr.Unauthenticated)
			}
			if n, err := db.Client.Session.Query().Where(session.UserID(alice.ID)).Count(sys); err != nil || n != 0 {
				t.Errorf("alice has %d sessions left (%v)", n, err)
			}
			if v, err := svc.Authenticate(ctx, "Bearer "+sb.Token, ""); err != nil || v.UserID != bob.ID {
				t.Errorf("bob's session: %v, %v", v, err)
			}
			if err := auth.Revoke(ctx, db.Client, auth.Revocation{UserID: uuid.New(), OrgID: org.ID, AllSessions: true}); err != nil {
				t.Errorf("revoking sessions of an unknown user: %v", err)
			}
		})

		t.Run("deactivated after login", func(t *testing.T) {
			carol := testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle("carol"), withPassword)
			s, err := svc.Login(ctx, "carol@acme.test", password, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if err := carol.Update().SetActive(false).Exec(sys); err != nil {
				t.Fatal(err)
			}
			wantCode(t, mustErr(svc.Authenticate(ctx, "Bearer "+s.Token, "")), apperr.Unauthenticated)
		})

		t.Run("last seen written", func(t *testing.T) {
			tok := login(t, svc)
			old := time.Now().Add(-time.Hour)
			if _, err := db.Client.Session.Update().Where(session.TokenHash(credential.HashSecret(tok))).
				SetLastSeenAt(old).Save(sys); err != nil {
				t.Fatal(err)
			}
			v, err := svc.Authenticate(ctx, "Bearer "+tok, "")
			if err != nil {
				t.Fatal(err)
			}
			sess, err := db.Client.Session.Get(sys, v.SessionID)
			if err != nil {
				t.Fatal(err)
			}
			if sess.LastSeenAt == nil || !sess.LastSeenAt.After(old.Add(time.Minute)) {
				t.Errorf("last_seen_at = %v, want refreshed", sess.LastSeenAt)
			}
		})
	})
}

func TestAuthenticateOrganizationHeader(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		provider := testenv.Org(t, db, testenv.Slug("provider"))
		client := testenv.Org(t, db, testenv.Slug("client"), testenv.Parent(provider.ID))
		other := testenv.Org(t, db, testenv.Slug("other"))
		testenv.User(t, db, provider, enum.RoleAdmin, testenv.Handle("p"), withPassword)
		testenv.User(t, db, client, enum.RoleAdmin, testenv.Handle("c"), withPassword)
		svc := auth.New(db.Client, auth.Config{})
		tok := func(email string) string {
			s, err := svc.Login(ctx, email, password, "", "")
			if err != nil {
				t.Fatal(err)
			}
			return "Bearer " + s.Token
		}
		p, c := tok("p@provider.test"), tok("c@client.test")

		v, err := svc.Authenticate(ctx, p, " client ")
		if err != nil {
			t.Fatal(err)
		}
		if v.HomeOrgID != provider.ID || v.OrgID != client.ID || !v.TopLevel {
			t.Errorf("provider acting in client: %+v", v)
		}
		v, err = svc.Authenticate(ctx, c, "")
		if err != nil {
			t.Fatal(err)
		}
		if v.TopLevel || v.OrgID != client.ID {
			t.Errorf("client user: %+v", v)
		}
		for _, target := range []string{"provider", other.ID.String(), "other", "missing"} {
			wantCode(t, mustErr(svc.Authenticate(ctx, c, target)), apperr.Forbidden)
		}
		wantCode(t, mustErr(svc.Authenticate(ctx, p, "other")), apperr.Forbidden)
	})
}

func TestAPITokens(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		sys := auth.System(ctx)
		provider := testenv.Org(t, db, testenv.Slug("provider"))
		client := testenv.Org(t, db, testenv.Slug("client"), testenv.Parent(provider.ID))
		alice := testenv.User(t, db, provider, enum.RoleReadOnly, testenv.Handle("alice"), withPassword)
		bob := testenv.User(t, db, provider, enum.RoleAdmin, testenv.Handle("bob"), withPassword)
		svc := auth.New(db.Client, auth.Config{})
		aliceCtx := viewer.NewContext(ctx, userViewer(alice))
		bobCtx := viewer.NewContext(ctx, userViewer(bob))

		expires := time.Now().Add(24 * time.Hour).Truncate(time.Second)
		created, err := svc.CreateAPIToken(aliceCtx, "  ci pipeline  ", &expires)
		if err != nil {
			t.Fatal(err) // read-only users may create their own tokens
		}
		secret, tok := created.Secret, created.Token
		if !strings.HasPrefix(secret, credential.PrefixAPIToken) || tok.Prefix != credential.DisplayPrefix(secret) ||
			tok.Name != "ci pipeline" || tok.UserID != alice.ID || tok.OrganizationID != provider.ID ||
			tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(expires) || string(tok.TokenHash) != string(credential.HashSecret(secret)) {
			t.Errorf("created token = %+v (secret %q)", tok, secret)
		}

		t.Run("authenticates", func(t *testing.T) {
			v, err := svc.Authenticate(ctx, "Token "+secret, "")
			if err != nil {
				t.Fatal(err)
			}
			if v.UserID != alice.ID || v.Role != enum.RoleReadOnly || v.TokenID != tok.ID || v.SessionID != uuid.Nil {
				t.Errorf("viewer = %+v", v)
			}
			got, err := db.Client.APIToken.Get(sys, tok.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.LastUsedAt == nil {
				t.Error("last_used_at not stamped")
			}
			wantCode(t, mustErr(svc.Authenticate(ctx, "Bearer "+secret, "")), apperr.Unauthenticated)
		})

		t.Run("list has no secret", func(t *testing.T) {
			second, err := svc.CreateAPIToken(aliceCtx, "second", nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.CreateAPIToken(bobCtx, "bob's", nil); err != nil {
				t.Fatal(err)
			}
			list, err := svc.APITokens(aliceCtx)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 {
				t.Fatalf("alice lists %d tokens, want her 2", len(list))
			}
			ids := map[uuid.UUID]bool{list[0].ID: true, list[1].ID: true}
			if !ids[tok.ID] || !ids[second.Token.ID] {
				t.Errorf("listed %v, want %s and %s", ids, tok.ID, second.Token.ID)
			}
			body, err := json.Marshal(list)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{secret, second.Secret} {
				if strings.Contains(string(body), s) || strings.Contains(list[0].String()+list[1].String(), s) {
					t.Errorf("listing reveals the secret %q", s)
				}
			}
			if strings.Contains(string(body), "token_hash") {
				t.Errorf("listing JSON includes the hash: %s", body)
			}
		})

		t.Run("acting in a client organisation", func(t *testing.T) {
			v := userViewer(bob)
			v.OrgID, v.VisibleOrgIDs = client.ID, []uuid.UUID{client.ID}
			created, err := svc.CreateAPIToken(viewer.NewContext(ctx, v), "from client", nil)
			if err != nil {
				t.Fatal(err)
			}
			if created.Token.OrganizationID != provider.ID {
				t.Errorf("token stamped with %s, want the home organisation %s", created.Token.OrganizationID, provider.ID)
			}
			list, err := svc.APITokens(viewer.NewContext(ctx, v))
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 {
				t.Errorf("bob lists %d tokens from a client organisation, want 2", len(list))
			}
		})

		t.Run("invalid input", func(t *testing.T) {
			past := time.Now().Add(-time.Minute)
			tests := []struct {
				name, tokName, field string
				expires              *time.Time
			}{
				{"empty name", "   ", "name", nil},
				{"long name", strings.Repeat("n", 101), "name", nil},
				{"past expiry", "x", "expires_at", &past},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					e := wantCode(t, mustErr(svc.CreateAPIToken(aliceCtx, tt.tokName, tt.expires)), apperr.BadInput)
					if e.Field != tt.field {
						t.Errorf("field = %q, want %q", e.Field, tt.field)
					}
				})
			}
			if _, err := svc.CreateAPIToken(aliceCtx, strings.Repeat("n", 100), nil); err != nil {
				t.Errorf("100-character name: %v", err)
			}
		})

		t.Run("needs a user", func(t *testing.T) {
			conn := viewer.NewContext(ctx, &viewer.Viewer{Kind: viewer.KindConnector, HomeOrgID: provider.ID, OrgID: provider.ID,
				VisibleOrgIDs: []uuid.UUID{provider.ID}})
			for _, c := range []context.Context{ctx, conn} {
				wantCode(t, mustErr(svc.CreateAPIToken(c, "x", nil)), apperr.Unauthenticated)
				wantCode(t, mustErr(svc.APITokens(c)), apperr.Unauthenticated)
				wantCode(t, svc.RevokeAPIToken(c, tok.ID), apperr.Unauthenticated)
			}
		})

		t.Run("expired", func(t *testing.T) {
			c, err := svc.CreateAPIToken(aliceCtx, "short-lived", nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Authenticate(ctx, "Token "+c.Secret, ""); err != nil {
				t.Fatal(err)
			}
			if err := db.Client.APIToken.UpdateOneID(c.Token.ID).SetExpiresAt(time.Now().Add(-time.Second)).Exec(sys); err != nil {
				t.Fatal(err)
			}
			wantCode(t, mustErr(svc.Authenticate(ctx, "Token "+c.Secret, "")), apperr.Unauthenticated)
		})

		t.Run("expires by the clock", func(t *testing.T) {
			now := time.Now()
			clocked := auth.New(db.Client, auth.Config{Now: func() time.Time { return now }})
			expires := now.Add(time.Hour)
			c, err := clocked.CreateAPIToken(aliceCtx, "an hour", &expires)
			if err != nil {
				t.Fatal(err)
			}
			now = expires.Add(-time.Second)
			if _, err := clocked.Authenticate(ctx, "Token "+c.Secret, ""); err != nil {
				t.Fatalf("a second before expiry: %v", err)
			}
			now = expires.Add(time.Second)
			wantCode(t, mustErr(clocked.Authenticate(ctx, "Token "+c.Secret, "")), apperr.Unauthenticated)
			// Nor can a token be created already expired by the clock.
			wantCode(t, mustErr(clocked.CreateAPIToken(aliceCtx, "stale", &expires)), apperr.BadInput)
		})

		t.Run("revoke", func(t *testing.T) {
			c, err := svc.CreateAPIToken(aliceCtx, "to revoke", nil)
			if err != nil {
				t.Fatal(err)
			}
			// Another user cannot revoke it, and learns nothing from trying.
			wantCode(t, svc.RevokeAPIToken(bobCtx, c.Token.ID), apperr.NotFound)
			if _, err := svc.Authenticate(ctx, "Token "+c.Secret, ""); err != nil {
				t.Fatalf("token unusable after another user's revoke attempt: %v", err)
			}
			if err := svc.RevokeAPIToken(aliceCtx, c.Token.ID); err != nil {
				t.Fatal(err)
			}
			wantCode(t, mustErr(svc.Authenticate(ctx, "Token "+c.Secret, "")), apperr.Unauthenticated)
			wantCode(t, svc.RevokeAPIToken(aliceCtx, c.Token.ID), apperr.NotFound)
			wantCode(t, svc.RevokeAPIToken(aliceCtx, uuid.New()), apperr.NotFound)
		})

		t.Run("owner deactivated", func(t *testing.T) {
			c, err := svc.CreateAPIToken(bobCtx, "bob's last", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := bob.Update().SetActive(false).Exec(sys); err != nil {
				t.Fatal(err)
			}
			wantCode(t, mustErr(svc.Authenticate(ctx, "Token "+c.Secret, "")), apperr.Unauthenticated)
			if _, err := svc.Authenticate(ctx, "Token "+secret, ""); err != nil {
				t.Errorf("alice's token: %v", err)
			}
		})
	})
}

func TestAuthenticateConnector(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		sys := auth.System(ctx)
		org := testenv.Org(t, db, testenv.Slug("acme"))
		newConnector := func(name, key string, enabled bool) *ent.Connector {
			c, err := db.Client.Connector.Create().SetOrganizationID(org.ID).SetName(name).SetType("generic").
				SetKeyPrefix(credential.DisplayPrefix(key)).SetKeyHash(credential.HashSecret(key)).SetEnabled(enabled).Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		key, offKey := credential.NewSecret(credential.PrefixConnector), credential.NewSecret(credential.PrefixConnector)
		on := newConnector("on", key, true)
		newConnector("off", offKey, false)
		svc := auth.New(db.Client, auth.Config{})

		v, err := svc.AuthenticateConnector(ctx, "  "+key+" ")
		if err != nil {
			t.Fatal(err)
		}
		if v.Kind != viewer.KindConnector || v.ConnectorID != on.ID || v.UserID != uuid.Nil || v.Role != "" ||
			v.HomeOrgID != org.ID || v.OrgID != org.ID || len(v.VisibleOrgIDs) != 1 || v.VisibleOrgIDs[0] != org.ID {
			t.Errorf("viewer = %+v", v)
		}
		tests := []struct {
			name, key string
			code      apperr.Code
		}{
			{"disabled", offKey, apperr.Forbidden},
			{"wrong key", key + "x", apperr.Unauthenticated},
			{"unknown key", credential.NewSecret(credential.PrefixConnector), apperr.Unauthenticated},
			{"empty", "", apperr.Unauthenticated},
			{"blank", "   ", apperr.Unauthenticated},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, mustErr(svc.AuthenticateConnector(ctx, tt.key)), tt.code)
			})
		}
		// A connector key is not a user credential.
		wantCode(t, mustErr(svc.Authenticate(ctx, "Token "+key, "")), apperr.Unauthenticated)
		wantCode(t, mustErr(svc.Authenticate(ctx, "Bearer "+key, "")), apperr.Unauthenticated)
	})
}

func TestAuthenticateMalformed(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		svc := auth.New(db.Client, auth.Config{})
		for _, h := range []string{
			"", " ", "Bearer", "Bearer ", "Bearer    ", "Token", "Token  ", "Basic x", "Basic dXNlcjpwYXNz",
			"Digest a=b", credential.NewSecret(credential.PrefixSession), "Bearer sqs_unknown", "Token sqt_unknown",
			"Bearer\tsqs_x", "BearerToken x",
		} {
			t.Run(h, func(t *testing.T) {
				v, err := svc.Authenticate(ctx, h, "")
				if v != nil {
					t.Errorf("got viewer %+v", v)
				}
				wantCode(t, err, apperr.Unauthenticated)
			})
		}
	})
}

// testenv.Connector's key authenticates as the connector it created.
func TestFixtureConnectorKeyAuthenticates(t *testing.T) {
	db := testenv.Open(t, testenv.SQLite)
	org := testenv.Org(t, db)
	c, key := testenv.Connector(t, db, org, "generic")
	if !strings.HasPrefix(key, credential.PrefixConnector) || !bytes.Equal(c.KeyHash, credential.HashSecret(key)) {
		t.Fatalf("key %q, hash %x: not as auth makes them", key, c.KeyHash)
	}
	v, err := auth.New(db.Client, auth.Config{}).AuthenticateConnector(context.Background(), key)
	if err != nil || v.ConnectorID != c.ID || v.OrgID != org.ID {
		t.Fatalf("authenticate: %+v %v", v, err)
	}
}
