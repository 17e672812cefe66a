package auth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/auth/credential"
)

var b64 = base64.RawStdEncoding

func TestHashPasswordRoundTrip(t *testing.T) {
	tests := []struct{ name, password string }{
		{"ascii", "correct horse battery staple"},
		{"unicode", "pässwörd-日本語-🔑"},
		{"single char", "x"},
		{"long", strings.Repeat("a", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := auth.HashPassword(tt.password)
			if err != nil {
				t.Fatal(err)
			}
			ok, err := auth.VerifyPassword(h, tt.password)
			if err != nil || !ok {
				t.Fatalf("VerifyPassword(own hash) = %v, %v; want true, nil", ok, err)
			}
			for _, wrong := range []string{tt.password + "x", strings.ToUpper(tt.password), "", tt.password[1:]} {
				if wrong == tt.password {
					continue
				}
				ok, err := auth.VerifyPassword(h, wrong)
				if err != nil || ok {
					t.Errorf("VerifyPassword(%q) = %v, %v; want false, nil", wrong, ok, err)
				}
			}
		})
	}
}

func TestHashPasswordFormat(t *testing.T) {
	h1, err := auth.HashPassword("same")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := auth.HashPassword("same")
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal; the salt is not random")
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=3,p=2\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)
	for _, h := range []string{h1, h2} {
		if !re.MatchString(h) {
			t.Errorf("hash %q is not a PHC argon2id string with the expected parameters", h)
		}
	}
}

// phc builds a PHC argon2id string with arbitrary parameters.
func phc(password string, salt []byte, m, iters uint32, p uint8, keyLen uint32) string {
	key := argon2.IDKey([]byte(password), salt, iters, m, p, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, m, iters, p, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func TestVerifyPasswordReadsParameters(t *testing.T) {
	tests := []struct {
		name   string
		m, i   uint32
		p      uint8
		keyLen uint32
		salt   string
	}{
		{"weaker", 1024, 1, 1, 32, "0123456789abcdef"},
		{"more threads", 2048, 2, 4, 32, "fedcba9876543210"},
		{"longer key", 1024, 1, 1, 64, "saltsaltsaltsalt"},
		{"short salt", 512, 1, 1, 16, "saltsalt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := phc("hunter2hunter2", []byte(tt.salt), tt.m, tt.i, tt.p, tt.keyLen)
			if ok, err := auth.VerifyPassword(h, "hunter2hunter2"); err != nil || !ok {
				t.Fatalf("VerifyPassword(%s) = %v, %v; want true, nil", h, ok, err)
			}
			if ok, err := auth.VerifyPassword(h, "hunter3hunter3"); err != nil || ok {
				t.Fatalf("wrong password: %v, %v; want false, nil", ok, err)
			}
			// The same key under other parameters must not verify: the
			// parameters are really used, not assumed.
			other := strings.Replace(h, fmt.Sprintf("t=%d", tt.i), fmt.Sprintf("t=%d", tt.i+1), 1)
			if ok, err := auth.VerifyPassword(other, "hunter2hunter2"); err != nil || ok {
				t.Fatalf("with altered t: %v, %v; want false, nil", ok, err)
			}
		})
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	good := phc("pw", []byte("0123456789abcdef"), 1024, 1, 1, 32)
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, key
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct{ name, hash string }{
		{"empty", ""},
		{"plain text", "pw"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", with(1, "argon2i")},
		{"argon2d", with(1, "argon2d")},
		{"too few parts", strings.Join(parts[:5], "$")},
		{"too many parts", good + "$extra"},
		{"old version", with(2, "v=16")},
		{"future version", with(2, "v=20")},
		{"version not a number", with(2, "v=x")},
		{"version missing", with(2, "")},
		{"params garbled", with(3, "m=1024;t=1;p=1")},
		{"params not numbers", with(3, "m=a,t=b,p=c")},
		{"params missing", with(3, "")},
		{"negative memory", with(3, "m=-1,t=1,p=1")},
		{"threads overflow uint8", with(3, "m=1024,t=1,p=256")},
		{"zero rounds", with(3, "m=1024,t=0,p=1")},
		{"zero threads", with(3, "m=1024,t=1,p=0")},
		{"huge memory", with(3, "m=4294967295,t=1,p=1")},
		{"huge rounds", with(3, "m=1024,t=4294967295,p=1")},
		{"salt not base64", with(4, "!!!!")},
		{"salt padded base64", with(4, parts[4]+"==")},
		{"key not base64", with(5, "%%%%")},
		{"empty key", with(5, "")},
		{"one byte key", with(5, b64.EncodeToString([]byte{0}))},
		{"fifteen byte key", with(5, b64.EncodeToString(make([]byte, 15)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := auth.VerifyPassword(tt.hash, "pw")
			if err == nil || ok {
				t.Fatalf("VerifyPassword(%q) = %v, %v; want false and an error", tt.hash, ok, err)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	charset := regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	for _, prefix := range []string{credential.PrefixSession, credential.PrefixAPIToken, credential.PrefixConnector, ""} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			seen := map[string]bool{}
			for range 500 {
				s := credential.NewSecret(prefix)
				if !strings.HasPrefix(s, prefix) {
					t.Fatalf("%q lacks prefix %q", s, prefix)
				}
				if body := strings.TrimPrefix(s, prefix); !charset.MatchString(body) {
					t.Fatalf("%q: body %q is not 43 base64url characters (256 bits)", s, body)
				}
				if seen[s] {
					t.Fatalf("duplicate secret %q", s)
				}
				seen[s] = true
			}
		})
	}
	if p := map[string]bool{credential.PrefixSession: true, credential.PrefixAPIToken: true, credential.PrefixConnector: true}; len(p) != 3 {
		t.Error("credential prefixes are not distinct")
	}
}

func TestHashSecret(t *testing.T) {
	tests := []string{"", "sqs_abc", credential.NewSecret(credential.PrefixAPIToken)}
	for _, s := range tests {
		want := sha256.Sum256([]byte(s))
		got := credential.HashSecret(s)
		if string(got) != string(want[:]) {
			t.Errorf("HashSecret(%q) = %x, want sha256 %x", s, got, want)
		}
		if string(credential.HashSecret(s)) != string(got) {
			t.Errorf("HashSecret(%q) is not deterministic", s)
		}
	}
	if string(credential.HashSecret("a")) == string(credential.HashSecret("b")) {
		t.Error("different secrets hash equally")
	}
}

func TestDisplayPrefix(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"sqt_12345678", "sqt_12345678"},
		{"sqt_123456789", "sqt_12345678"},
		{"sqt_abcdefghijklmnopqrstuvwxyz", "sqt_abcdefgh"},
	}
	for _, tt := range tests {
		if got := credential.DisplayPrefix(tt.in); got != tt.want {
			t.Errorf("DisplayPrefix(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	s := credential.NewSecret(credential.PrefixAPIToken)
	if p := credential.DisplayPrefix(s); len(p) != 12 || !strings.HasPrefix(s, p) || len(s)-len(p) < 32 {
		t.Errorf("DisplayPrefix(%q) = %q: want 12 leading characters and most of the secret hidden", s, p)
	}
}

func TestGeneratePassword(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9]{20}$`)
	seen := map[string]bool{}
	for range 200 {
		p := credential.GeneratePassword()
		if !re.MatchString(p) {
			t.Fatalf("GeneratePassword() = %q, want 20 alphanumerics", p)
		}
		if seen[p] {
			t.Fatalf("duplicate password %q", p)
		}
		seen[p] = true
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Alice@Example.COM", "alice@example.com"},
		{"  bob@example.com\t", "bob@example.com"},
		{"", ""},
		{"   ", ""},
	}
	for _, tt := range tests {
		if got := auth.NormalizeEmail(tt.in); got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// New hashes carry the production cost; in tests, UseCheapHashingInTests
// lowers it, and the cheap hashes still verify (cost is read from the hash).
func TestHashCost(t *testing.T) {
	full, err := auth.HashPassword("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(full, "$m=65536,t=3,p=2$") {
		t.Fatalf("production hash %q, want m=65536,t=3,p=2", full)
	}
	auth.UseCheapHashingInTests()
	t.Cleanup(auth.RestoreHashParams)
	cheap, err := auth.HashPassword("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cheap, "$m=1024,t=1,p=1$") {
		t.Fatalf("test hash %q, want m=1024,t=1,p=1", cheap)
	}
	for _, h := range []string{full, cheap} {
		if ok, err := auth.VerifyPassword(h, "a long enough password"); !ok || err != nil {
			t.Fatalf("verify %q: %v %v", h, ok, err)
		}
		if ok, _ := auth.VerifyPassword(h, "another password"); ok {
			t.Fatalf("%q verified a wrong password", h)
		}
	}
}
