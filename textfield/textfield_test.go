package textfield

import (
	"strings"
	"testing"

	"github.com/seliq/seliq/apperr"
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
