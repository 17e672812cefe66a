package textfield

import (
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/apperr"
)

func TestRequiredAndOptional(t *testing.T) {
	long := strings.Repeat("é", 10)
	cases := []struct {
		name, raw, want string
		required        bool
		wantErr         bool
	}{
		{"trimmed", "  hello \n", "hello", true, false},
		{"blank required", " \t", "", true, true},
		{"blank optional", " \t", "", false, false},
		{"ten characters of two bytes", long, long, true, false},
		{"eleven characters", long + "x", "", false, true},
		{"NUL", "a\x00b", "", false, true},
		{"invalid UTF-8", "a\xffb", "", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := Optional
			if tc.required {
				f = Required
			}
			got, err := f("title", tc.raw, 10)
			if tc.wantErr {
				if e, ok := apperr.As(err); !ok || e.Code != apperr.BadInput || e.Field != "title" {
					t.Fatalf("error = %v, want BAD_USER_INPUT on title", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("= %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"Привет, мир", 7, "Привет…"},
	} {
		if got := Truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestSanitize(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"storable text unchanged", "Привет, 😀 <b>", "Привет, 😀 <b>"},
		{"empty", "", ""},
		{"NUL replaced", "bad\x00request", "bad\uFFFDrequest"},
		{"each NUL replaced", "\x00\x00", "\uFFFD\uFFFD"},
		{"a run of invalid bytes is one replacement", "a\xff\xfeb", "a\uFFFDb"},
		{"truncated sequence", "caf\xc3", "caf\uFFFD"},
		{"NUL and invalid UTF-8 together", "a\x00b\xff", "a\uFFFDb\uFFFD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sanitize(tc.in); got != tc.want {
				t.Fatalf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzSanitize checks the rule's promises on any input: the result is
// storable, sanitising again changes nothing, storable input is kept as it
// is, and only replacements are added (the valid parts stay in order).
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "plain", "a\x00b", "\xff\xfe", "caf\xc3", "😀\x00\xed\xa0\x80", "\uFFFD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Sanitize(s)
		if !Storable(got) {
			t.Fatalf("Sanitize(%q) = %q is not storable", s, got)
		}
		if Sanitize(got) != got {
			t.Fatalf("Sanitize is not idempotent on %q", s)
		}
		if Storable(s) && got != s {
			t.Fatalf("storable %q changed to %q", s, got)
		}
		if strings.ReplaceAll(got, Replacement, "") != strings.ReplaceAll(strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", ""), Replacement, "") {
			t.Fatalf("Sanitize(%q) = %q changed more than the replaced parts", s, got)
		}
	})
}
