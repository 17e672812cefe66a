package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apperr"
)

func ptr[T any](v T) *T { return &v }

// fieldOf returns the BadInput field of err, or "" for nil.
func fieldOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *apperr.Error
	if !errors.As(err, &e) || e.Code != apperr.BadInput {
		t.Fatalf("got %v, want a BadInput error", err)
	}
	return e.Field
}

func TestApply(t *testing.T) {
	for _, tt := range []struct {
		name      string
		in        Update
		wantField string
		check     func(Settings) bool
	}{
		{"nothing keeps the defaults", Update{}, "", func(s Settings) bool {
			return s.SessionMaxAgeMinutes == DefaultSessionMaxAge && s.PasswordMinLength == 12 && s.LockoutThreshold == 10 && len(s.IPAllowlist) == 0
		}},
		{"mfa", Update{MFARequired: ptr(true)}, "", func(s Settings) bool { return s.MFARequired }},
		{"max age", Update{SessionMaxAgeMinutes: ptr(60)}, "", func(s Settings) bool { return s.SessionMaxAgeMinutes == 60 }},
		{"max age too small", Update{SessionMaxAgeMinutes: ptr(4)}, "session_max_age_minutes", nil},
		{"max age too large", Update{SessionMaxAgeMinutes: ptr(MaxSessionMinutes + 1)}, "session_max_age_minutes", nil},
		{"idle off", Update{SessionIdleTimeoutMinutes: ptr(0)}, "", func(s Settings) bool { return s.SessionIdleTimeoutMinutes == 0 }},
		{"idle", Update{SessionIdleTimeoutMinutes: ptr(15)}, "", func(s Settings) bool { return s.IdleTimeout().Minutes() == 15 }},
		{"idle negative", Update{SessionIdleTimeoutMinutes: ptr(-1)}, "session_idle_timeout_minutes", nil},
		{"idle too small", Update{SessionIdleTimeoutMinutes: ptr(2)}, "session_idle_timeout_minutes", nil},
		{"password length", Update{PasswordMinLength: ptr(16)}, "", func(s Settings) bool { return s.PasswordMinLength == 16 }},
		{"password below the floor", Update{PasswordMinLength: ptr(8)}, "password_min_length", nil},
		{"password too long", Update{PasswordMinLength: ptr(129)}, "password_min_length", nil},
		{"lockout off", Update{LockoutThreshold: ptr(0)}, "", func(s Settings) bool { return s.LockoutThreshold == 0 }},
		{"lockout too low", Update{LockoutThreshold: ptr(1)}, "lockout_threshold", nil},
		{"lockout too high", Update{LockoutThreshold: ptr(101)}, "lockout_threshold", nil},
		{"allowlist canonical", Update{IPAllowlist: []string{"10.1.2.3/8", " 192.0.2.7 ", "10.0.0.0/8"}}, "", func(s Settings) bool {
			return strings.Join(s.IPAllowlist, ",") == "10.0.0.0/8,192.0.2.7/32"
		}},
		{"allowlist bad entry", Update{IPAllowlist: []string{"10.0.0.0/33"}}, "ip_allowlist", nil},
		{"allowlist too long", Update{IPAllowlist: make([]string, MaxAllowlistEntries+1)}, "ip_allowlist", nil},
		{"allowlist cleared", Update{IPAllowlist: []string{}}, "", func(s Settings) bool { return len(s.IPAllowlist) == 0 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := Defaults()
			got, err := base.Apply(tt.in)
			if f := fieldOf(t, err); f != tt.wantField {
				t.Fatalf("error field %q (%v), want %q", f, err, tt.wantField)
			}
			if tt.check != nil && !tt.check(got) {
				t.Fatalf("got %+v", got)
			}
			if err != nil && (got.SessionMaxAgeMinutes != base.SessionMaxAgeMinutes || len(got.IPAllowlist) != 0) {
				t.Fatalf("a refused update changed the settings: %+v", got)
			}
		})
	}
}

func TestAllows(t *testing.T) {
	list := Settings{IPAllowlist: []string{"10.0.0.0/8", "2001:db8::/32"}}
	for _, tt := range []struct {
		s    Settings
		ip   string
		want bool
	}{
		{Defaults(), "203.0.113.9", true},
		{Defaults(), "", true},
		{list, "10.2.3.4", true},
		{list, "::ffff:10.2.3.4", true},
		{list, "2001:db8::1", true},
		{list, "203.0.113.9", false},
		{list, "", false},
		{list, "not an address", false},
	} {
		if got := tt.s.Allows(tt.ip); got != tt.want {
			t.Errorf("%v allows %q: %v, want %v", tt.s.IPAllowlist, tt.ip, got, tt.want)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	long := Defaults()
	long.PasswordMinLength = 20
	for _, tt := range []struct {
		name, password, email string
		s                     Settings
		ok                    bool
	}{
		{"fine", "violet-otter-canoe", "ann@acme.test", Defaults(), true},
		{"too short", "short-pass1", "", Defaults(), false},
		{"organisation's length", "violet-otter-canoe", "", long, false},
		{"organisation's length met", "violet-otter-canoe-lake", "", long, true},
		{"listed", "passwordpassword", "", Defaults(), false},
		{"listed any case", "PasswordPassword", "", Defaults(), false},
		{"listed word with digits and symbols", "Summer2024!!!!", "", Defaults(), false},
		{"listed word built up", "!!Password1234", "", Defaults(), false},
		{"one character", "aaaaaaaaaaaaaaa", "", Defaults(), false},
		{"two characters", "abababababababab", "", Defaults(), false},
		{"key run", "1234567890123", "", Defaults(), false},
		{"keyboard walk", "qwertyuiopqw", "", Defaults(), false},
		{"backwards run", "9876543210987", "", Defaults(), false},
		{"the email", "ann.lee@acme.test", "Ann.Lee@acme.test", Defaults(), false},
		{"the email's name", "2024-ann.lee-2024!", "ann.lee@acme.test", Defaults(), false},
		{"a word the email's name is in", "acme-admin-password", "admin@acme.test", Defaults(), true},
		{"too many bytes", strings.Repeat("é", 600), "", Defaults(), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.CheckPassword("password", tt.password, tt.email)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckPassword(%q) = %v, want ok %v", tt.password, err, tt.ok)
			}
			if err != nil && fieldOf(t, err) != "password" {
				t.Fatalf("error names %q", fieldOf(t, err))
			}
		})
	}
}

func TestDecode(t *testing.T) {
	out := Defaults()
	if err := Decode(map[string]any{"lockout_threshold": 5, "ip_allowlist": []any{"10.0.0.0/8"}}, &out); err != nil {
		t.Fatal(err)
	}
	if out.LockoutThreshold != 5 || out.PasswordMinLength != 12 || out.IPAllowlist[0] != "10.0.0.0/8" {
		t.Fatalf("decoded %+v", out)
	}
	if err := Decode(map[string]any{"lockout_threshold": "five"}, &out); err == nil {
		t.Fatal("a malformed document decoded")
	}
}

// FuzzApply: any input is either refused with a field or gives settings
// inside the bounds whose allowlist parses again to itself.
func FuzzApply(f *testing.F) {
	f.Add(720, 0, 12, 10, "10.0.0.0/8,192.0.2.7")
	f.Add(-1, 99999999, 0, -5, "::ffff:1.2.3.4/120, fe80::1%eth0")
	f.Add(5, 5, 128, 3, ",,,/,1.2.3.4/0")
	f.Fuzz(func(t *testing.T, age, idle, length, lockout int, list string) {
		u := Update{SessionMaxAgeMinutes: &age, SessionIdleTimeoutMinutes: &idle, PasswordMinLength: &length,
			LockoutThreshold: &lockout, IPAllowlist: strings.Split(list, ",")}
		got, err := Defaults().Apply(u)
		if err != nil {
			if fieldOf(t, err) == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		if got.SessionMaxAgeMinutes < MinSessionMinutes || got.PasswordMinLength < MinPasswordLength ||
			(got.LockoutThreshold != 0 && got.LockoutThreshold < MinLockoutThreshold) {
			t.Fatalf("out of bounds: %+v", got)
		}
		again, err := ParseAllowlist(got.IPAllowlist)
		if err != nil || strings.Join(again, ",") != strings.Join(got.IPAllowlist, ",") {
			t.Fatalf("allowlist %v is not canonical: %v %v", got.IPAllowlist, again, err)
		}
		for _, ip := range []string{"10.0.0.1", "::1", list} {
			_ = got.Allows(ip)
		}
	})
}

// FuzzCheckPassword: never panics, and what it accepts meets the length
// rules and is not listed.
func FuzzCheckPassword(f *testing.F) {
	f.Add("violet-otter-canoe", "ann@acme.test")
	f.Add("Summer2024!!!!", "")
	f.Add("\xff\xfe", "@")
	f.Fuzz(func(t *testing.T, password, email string) {
		err := Defaults().CheckPassword("password", password, email)
		if err != nil {
			return
		}
		if len([]rune(password)) < MinPasswordLength || len(password) > MaxPasswordBytes || Common(password) {
			t.Fatalf("accepted %q", password)
		}
	})
}
