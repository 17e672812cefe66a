package server_test

// Security settings and MFA over REST and GraphQL: the settings' shape,
// roles, validation and the self-lockout guard; the IP allowlist refusing
// a token from another address; the enrol-only session; TOTP enrolment,
// the two-step login and recovery codes; the lockout and its admin unlock.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/server"
	"github.com/seliq/seliq/storage"
)

// behindProxy serves with loopback as a trusted proxy, so a client's
// X-Forwarded-For is the address the server sees.
func behindProxy(t *testing.T, db *storage.DB) *apitest.Env {
	return apitest.Start(t, db, apitest.Options{Configure: func(c *server.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}})
}

func at(c *apitest.Client, ip string) *apitest.Client {
	cp := *c
	cp.ForwardedFor = ip
	return &cp
}

var securityKeys = []string{"ip_allowlist", "lockout_threshold", "mfa_required", "password_min_length", "session_idle_timeout_minutes", "session_max_age_minutes"}

func TestSecuritySettingsAPI(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := behindProxy(t, db)
		admin := at(env.Admin(), "10.1.2.3")
		analyst, _ := env.NewUser(t, admin, "ann@provider.test", "analyst")
		const path = "/api/v1/settings/security"

		got := admin.Must(t, http.MethodGet, path, nil, http.StatusOK)
		var keys []string
		for k := range got.Body {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, securityKeys) || got.Body["password_min_length"] != float64(12) || got.Body["mfa_required"] != false {
			t.Fatalf("settings: %s", got.Raw)
		}
		analyst.Must(t, http.MethodGet, path, nil, http.StatusForbidden)
		analyst.Must(t, http.MethodPatch, path, map[string]any{"lockout_threshold": 5}, http.StatusForbidden)
		if r := analyst.GraphQL(`{ securitySettings { mfaRequired } }`, nil); r.Code() != "FORBIDDEN" {
			t.Fatalf("analyst over GraphQL: %+v", r.Errors)
		}

		for _, tt := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"max age", map[string]any{"session_max_age_minutes": 1}, "session_max_age_minutes"},
			{"idle", map[string]any{"session_idle_timeout_minutes": 3}, "session_idle_timeout_minutes"},
			{"password length", map[string]any{"password_min_length": 8}, "password_min_length"},
			{"lockout", map[string]any{"lockout_threshold": 1}, "lockout_threshold"},
			{"allowlist entry", map[string]any{"ip_allowlist": []string{"10.0.0.0/40"}}, "ip_allowlist"},
			{"allowlist without the caller", map[string]any{"ip_allowlist": []string{"192.0.2.0/24"}}, "ip_allowlist"},
			{"several, one bad: nothing written", map[string]any{"lockout_threshold": 5, "session_max_age_minutes": 0}, "session_max_age_minutes"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				res := admin.Must(t, http.MethodPatch, path, tt.body, http.StatusUnprocessableEntity)
				if !strings.Contains(string(res.Raw), tt.field) {
					t.Fatalf("422 does not name %s: %s", tt.field, res.Raw)
				}
			})
		}
		if res := admin.Do(http.MethodPatch, path, map[string]any{"ip_allowlist": []string{"192.0.2.0/24"}}); !strings.Contains(string(res.Raw), "lock you out") {
			t.Fatalf("self-lockout answer: %s", res.Raw)
		}
		if res := admin.Must(t, http.MethodGet, path, nil, http.StatusOK); res.Body["lockout_threshold"] != float64(10) {
			t.Fatalf("a refused patch wrote: %s", res.Raw)
		}

		res := admin.Must(t, http.MethodPatch, path, map[string]any{"lockout_threshold": 5, "ip_allowlist": []string{"10.0.0.0/8"}, "session_idle_timeout_minutes": 30}, http.StatusOK)
		if res.Body["lockout_threshold"] != float64(5) || res.Body["session_idle_timeout_minutes"] != float64(30) {
			t.Fatalf("patched: %s", res.Raw)
		}
		// mfa_required is the organisation's mfa_enforced, on either surface;
		// requiring it takes the admin's own MFA first.
		if r := admin.GraphQL(`mutation { updateSecuritySettings(input: {mfaRequired: true}) { mfaRequired } }`, nil); r.Code() != "BAD_USER_INPUT" {
			t.Fatalf("MFA required by an admin without MFA: %+v", r.Errors)
		}
		enrolMFA(t, admin)
		gql := admin.GraphQL(`mutation { updateSecuritySettings(input: {mfaRequired: true}) { mfaRequired ipAllowlist } }`, nil)
		if len(gql.Errors) > 0 {
			t.Fatalf("GraphQL update: %+v", gql.Errors)
		}
		me := admin.Must(t, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK)
		org := admin.Must(t, http.MethodGet, "/api/v1/organizations/"+me.String("organization_id"), nil, http.StatusOK)
		if org.Body["mfa_enforced"] != true {
			t.Fatalf("mfa_required is not the organisation's mfa_enforced: %s", org.Raw)
		}
		admin.Must(t, http.MethodPatch, "/api/v1/organizations/"+me.String("organization_id"), map[string]any{"mfa_enforced": false}, http.StatusOK)
		if res := admin.Must(t, http.MethodGet, path, nil, http.StatusOK); res.Body["mfa_required"] != false {
			t.Fatalf("mfa_enforced is not mfa_required: %s", res.Raw)
		}
		n, err := db.Client.Activity.Query().Where(activity.EntityType("security_settings")).Count(auth.System(context.Background()))
		if err != nil || n < 3 {
			t.Fatalf("activity records of the settings: %d %v", n, err)
		}

		// The allowlist holds for sessions and API tokens: another address
		// is refused, the listed one is not.
		token := admin.Must(t, http.MethodPost, "/api/v1/users/me/api-tokens", map[string]any{"name": "siem"}, http.StatusCreated).String("token")
		script := env.Anonymous()
		script.Authorization = "Token " + token
		for _, tt := range []struct {
			name string
			c    *apitest.Client
			ip   string
			want int
		}{
			{"token inside", script, "10.9.9.9", http.StatusOK},
			{"token from another address", script, "203.0.113.7", http.StatusForbidden},
			{"session from another address", admin, "203.0.113.7", http.StatusForbidden},
			{"session inside", admin, "10.1.2.3", http.StatusOK},
		} {
			t.Run(tt.name, func(t *testing.T) {
				at(tt.c, tt.ip).Must(t, http.MethodGet, "/api/v1/users/me", nil, tt.want)
			})
		}

		// Another organisation's admin sees its own settings, not these.
		client := admin.Must(t, http.MethodPost, "/api/v1/organizations", map[string]any{"name": "Client", "slug": "client"}, http.StatusCreated).String("id")
		clientAdmin, _ := env.NewUser(t, admin.As(client), "boss@client.test", "admin")
		if res := at(clientAdmin, "10.1.2.3").Must(t, http.MethodGet, path, nil, http.StatusOK); len(res.Body["ip_allowlist"].([]any)) != 0 {
			t.Fatalf("a client admin sees the provider's settings: %s", res.Raw)
		}
	})
}

// enrolMFA turns MFA on for c's user; c's session stays a full one.
func enrolMFA(t *testing.T, c *apitest.Client) []any {
	t.Helper()
	en := c.Must(t, http.MethodPost, "/api/v1/users/me/mfa/totp", nil, http.StatusOK)
	conf := c.Must(t, http.MethodPost, "/api/v1/users/me/mfa/totp/confirm", map[string]any{"code": currentCode(t, en.String("secret"))}, http.StatusOK)
	codes, _ := conf.Body["recovery_codes"].([]any)
	return codes
}

func currentCode(t *testing.T, secret string) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMFAAPI(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		s := &suite{env: env, cov: newCoverage()}
		defer t.Run("coverage", s.checkCoverage("security", "mfa"))
		reader, readerID := env.NewUser(t, admin, "rita@provider.test", "read_only")

		// Login of a user without MFA answers as it always did.
		plain := env.Anonymous().Must(t, http.MethodPost, "/api/v1/auth/login", map[string]any{"email": "rita@provider.test", "password": apitest.UserPassword}, http.StatusOK)
		if plain.String("access_token") == "" || plain.Body["mfa_required"] != false || plain.String("token_type") != "bearer" {
			t.Fatalf("plain login: %s", plain.Raw)
		}

		// A read-only user enrols.
		en := s.rest(t, reader, http.MethodPost, "/api/v1/users/me/mfa/totp", nil, http.StatusOK)
		if en.String("secret") == "" || !strings.HasPrefix(en.String("otpauth_uri"), "otpauth://totp/") || en.String("qr_png_base64") == "" {
			t.Fatalf("enrolment: %s", en.Raw)
		}
		reader.Must(t, http.MethodPost, "/api/v1/users/me/mfa/totp/confirm", map[string]any{"code": "000000"}, http.StatusUnprocessableEntity)
		conf := s.rest(t, reader, http.MethodPost, "/api/v1/users/me/mfa/totp/confirm", map[string]any{"code": currentCode(t, en.String("secret"))}, http.StatusOK)
		codes, _ := conf.Body["recovery_codes"].([]any)
		if len(codes) != 10 {
			t.Fatalf("recovery codes: %s", conf.Raw)
		}
		if me := reader.Must(t, http.MethodGet, "/api/v1/users/me", nil, http.StatusOK); me.Body["mfa_enabled"] != true || strings.Contains(string(me.Raw), en.String("secret")) {
			t.Fatalf("me after enrolment: %s", me.Raw)
		}

		// The password alone now gives an MFA token; the code gives the session.
		first := env.Anonymous().Must(t, http.MethodPost, "/api/v1/auth/login", map[string]any{"email": "rita@provider.test", "password": apitest.UserPassword}, http.StatusOK)
		if first.Body["mfa_required"] != true || first.String("mfa_token") == "" || first.Body["access_token"] != nil {
			t.Fatalf("login with MFA: %s", first.Raw)
		}
		env.Anonymous().Must(t, http.MethodPost, "/api/v1/auth/mfa", map[string]any{"mfa_token": first.String("mfa_token"), "code": "000000"}, http.StatusUnauthorized)
		done := env.Anonymous().Must(t, http.MethodPost, "/api/v1/auth/mfa", map[string]any{"mfa_token": first.String("mfa_token"), "code": codes[0]}, http.StatusOK)
		if done.String("access_token") == "" || done.Body["mfa_required"] != false {
			t.Fatalf("completed login: %s", done.Raw)
		}
		env.Anonymous().Must(t, http.MethodPost, "/api/v1/auth/mfa", map[string]any{"mfa_token": first.String("mfa_token"), "code": codes[1]}, http.StatusUnauthorized)
		// The same over GraphQL.
		gl := env.Anonymous().GraphQL(`mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { mfaRequired mfaToken accessToken } }`,
			map[string]any{"e": "rita@provider.test", "p": apitest.UserPassword})
		tok, _ := gl.Data["login"].(map[string]any)["mfaToken"].(string)
		gm := env.Anonymous().GraphQL(`mutation($t: String!, $c: String!) { completeMFALogin(input: {mfaToken: $t, code: $c}) { accessToken user { email } } }`,
			map[string]any{"t": tok, "c": codes[1]})
		if len(gm.Errors) > 0 || gm.Data["completeMFALogin"].(map[string]any)["accessToken"] == "" {
			t.Fatalf("GraphQL two-step login: %+v %+v", gl, gm)
		}

		reader.Must(t, http.MethodDelete, "/api/v1/users/me/mfa/totp", map[string]any{"code": "000000"}, http.StatusUnprocessableEntity)
		s.rest(t, reader, http.MethodDelete, "/api/v1/users/me/mfa/totp", map[string]any{"code": codes[2]}, http.StatusNoContent)

		// The same on GraphQL, for an analyst.
		ana, _ := env.NewUser(t, admin, "andy@provider.test", "analyst")
		g := s.gql(t, ana, `mutation { enrolTOTP { secret otpauthURI qrPngBase64 } }`, nil)
		secret := digS(g, "enrolTOTP", "secret")
		g = s.gql(t, ana, `mutation($c: String!) { confirmTOTP(code: $c) { recoveryCodes } }`, map[string]any{"c": currentCode(t, secret)})
		anaCodes, _ := dig(g, "confirmTOTP", "recoveryCodes").([]any)
		if len(anaCodes) != 10 {
			t.Fatalf("GraphQL confirmation: %+v", g)
		}
		s.gqlErr(t, ana, `mutation { disableTOTP(code: "000000") }`, nil, "BAD_USER_INPUT")
		if g := s.gql(t, ana, `mutation($c: String!) { disableTOTP(code: $c) }`, map[string]any{"c": anaCodes[0]}); g["disableTOTP"] != true {
			t.Fatalf("GraphQL disable: %+v", g)
		}
		s.rest(t, admin, http.MethodGet, "/api/v1/settings/security", nil, http.StatusOK)
		s.gql(t, admin, `{ securitySettings { mfaRequired sessionMaxAgeMinutes sessionIdleTimeoutMinutes passwordMinLength lockoutThreshold ipAllowlist } }`, nil)

		// Admin unlock: a row over REST, admins only.
		reader.Must(t, http.MethodPost, "/api/v1/users/"+readerID+"/unlock", nil, http.StatusForbidden)
		admin.Must(t, http.MethodPost, "/api/v1/users/"+readerID+"/unlock", nil, http.StatusOK)

		// MFA required: a user without it gets a session that can only enrol.
		s.rest(t, admin, http.MethodPatch, "/api/v1/settings/security", map[string]any{"mfa_required": true}, http.StatusUnprocessableEntity)
		enrolMFA(t, admin)
		s.gql(t, admin, `mutation { updateSecuritySettings(input: {mfaRequired: true}) { mfaRequired } }`, nil)
		login := env.Anonymous().Must(t, http.MethodPost, "/api/v1/auth/login", map[string]any{"email": "rita@provider.test", "password": apitest.UserPassword}, http.StatusOK)
		if login.Body["enrol_only"] != true || login.String("access_token") == "" {
			t.Fatalf("login where MFA is required: %s", login.Raw)
		}
		limited := env.Anonymous()
		limited.Authorization = "Bearer " + login.String("access_token")
		for _, tt := range []struct {
			method, path string
			body         any
			want         int
		}{
			{http.MethodPost, "/api/v1/users/me/api-tokens", map[string]any{"name": "escape"}, http.StatusForbidden},
			{http.MethodGet, "/api/v1/alerts", nil, http.StatusForbidden},
			{http.MethodGet, "/api/v1/settings/report/template", nil, http.StatusForbidden},
			{http.MethodGet, "/api/v1/users/me", nil, http.StatusOK},
			{http.MethodPost, "/api/v1/users/me/mfa/totp", nil, http.StatusOK},
		} {
			t.Run("enrol-only "+tt.method+" "+tt.path, func(t *testing.T) {
				limited.Must(t, tt.method, tt.path, tt.body, tt.want)
			})
		}
		if r := limited.GraphQL(`mutation { createAPIToken(input: {name: "x"}) { token } }`, nil); r.Code() != "FORBIDDEN" {
			t.Fatalf("enrol-only GraphQL: %+v", r.Errors)
		}
		if r := admin.GraphQL(`{ securitySettings { mfaRequired } }`, nil); len(r.Errors) > 0 {
			t.Fatalf("the admin with MFA: %+v", r.Errors)
		}

	})
}

// The lockout engages over REST after the organisation's threshold and an
// admin unlock releases it at once.
func TestLockoutAPI(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		_, id := env.NewUser(t, admin, "lou@provider.test", "analyst")
		admin.Must(t, http.MethodPatch, "/api/v1/settings/security", map[string]any{"lockout_threshold": 3}, http.StatusOK)
		login := func(pw string) int {
			return env.Anonymous().Do(http.MethodPost, "/api/v1/auth/login", map[string]any{"email": "lou@provider.test", "password": pw}).Status
		}
		for range 3 {
			if s := login("not-the-password-9"); s != http.StatusUnauthorized {
				t.Fatalf("wrong password: %d", s)
			}
		}
		// Locked, the right password answers as an unknown email does:
		// same status and body, so the lockout tells no one the account
		// exists.
		locked := env.Anonymous().Do(http.MethodPost, "/api/v1/auth/login", map[string]any{"email": "lou@provider.test", "password": apitest.UserPassword})
		unknown := env.Anonymous().Do(http.MethodPost, "/api/v1/auth/login", map[string]any{"email": "nobody-here@provider.test", "password": apitest.UserPassword})
		if locked.Status != http.StatusUnauthorized || unknown.Status != locked.Status || !bytes.Equal(locked.Raw, unknown.Raw) || locked.Header.Get("Retry-After") != "" {
			t.Fatalf("locked account %d %s, unknown email %d %s", locked.Status, locked.Raw, unknown.Status, unknown.Raw)
		}
		if !strings.Contains(string(locked.Raw), "temporarily locked") {
			t.Fatalf("the answer does not tell a real user about the lockout: %s", locked.Raw)
		}
		if r := admin.GraphQL(`mutation($id: ID!) { unlockUser(id: $id) { id } }`, map[string]any{"id": id}); len(r.Errors) > 0 {
			t.Fatalf("unlock: %+v", r.Errors)
		}
		if s := login(apitest.UserPassword); s != http.StatusOK {
			t.Fatalf("after unlock: %d", s)
		}
		n, err := db.Client.Activity.Query().Where(activity.Action("unlock")).Count(auth.System(context.Background()))
		if err != nil || n != 1 {
			t.Fatalf("unlock activity: %d %v", n, err)
		}
	})
}

// The password policy holds wherever a password is set: creation, reset
// and a user's own change, with the organisation's minimum length.
func TestPasswordPolicyAPI(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		user, id := env.NewUser(t, admin, "piano@provider.test", "analyst")
		admin.Must(t, http.MethodPatch, "/api/v1/settings/security", map[string]any{"password_min_length": 20}, http.StatusOK)
		type call struct {
			c                   *apitest.Client
			method, path, email string
			body                func(pw string) map[string]any
		}
		create := call{admin, http.MethodPost, "/api/v1/users", "piano.new@provider.test", func(pw string) map[string]any {
			return map[string]any{"email": "piano.new@provider.test", "password": pw}
		}}
		reset := call{admin, http.MethodPost, "/api/v1/users/" + id + "/reset-password", "piano@provider.test", func(pw string) map[string]any {
			return map[string]any{"password": pw}
		}}
		change := call{user, http.MethodPatch, "/api/v1/users/me", "piano@provider.test", func(pw string) map[string]any {
			return map[string]any{"password": pw, "current_password": apitest.UserPassword}
		}}
		for _, tt := range []struct {
			name, password string
			ok             bool
		}{
			{"shorter than the organisation's minimum", "violet-otter-canoe", false},
			{"a common password", "passwordpassword1234", false},
			{"a breached-style password", "Welcome2026!!!!!!!!!!", false},
			{"the email in it", "%s-2026", false},
			{"a good one", "violet-otter-canoe-lake", true},
		} {
			// The reset last: it ends the user's sessions.
			for _, c := range []call{create, change, reset} {
				name := c.method + " " + c.path
				if tt.ok && c.path == create.path {
					continue // the email is then taken for the next run
				}
				t.Run(tt.name+" on "+name, func(t *testing.T) {
					want := http.StatusUnprocessableEntity
					if tt.ok {
						want = http.StatusOK
					}
					pw := tt.password
					if strings.Contains(pw, "%s") {
						pw = fmt.Sprintf(pw, c.email)
					}
					res := c.c.Must(t, c.method, c.path, c.body(pw), want)
					if !tt.ok && !strings.Contains(string(res.Raw), "password") {
						t.Fatalf("422 does not name the password: %s", res.Raw)
					}
				})
			}
		}
		if r := admin.GraphQL(`mutation { createUser(input: {email: "g@provider.test", password: "Qwerty123456789!!!!!"}) { id } }`, nil); r.Code() != "BAD_USER_INPUT" {
			t.Fatalf("GraphQL create with a padded common word: %+v", r.Errors)
		}
	})
}
