// Package textfield holds the rules every free-text input follows: trimmed,
// valid UTF-8 without NUL (PostgreSQL refuses NUL in text and fails the
// request instead), and bounded in characters, with errors naming the field.
package textfield

import (
	"strings"
	"unicode/utf8"

	"github.com/seliq/seliq/apperr"
)

// Storable reports whether PostgreSQL can store s as text.
func Storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// Required trims raw and checks it holds 1 to max characters of storable
// text.
func Required(field, raw string, max int) (string, error) {
	t := strings.TrimSpace(raw)
	if t == "" {
		return "", apperr.Invalid(field, "must not be empty")
	}
	return Optional(field, t, max)
}

// Optional trims raw and checks it holds at most max characters of
// storable text; empty is allowed.
func Optional(field, raw string, max int) (string, error) {
	t := strings.TrimSpace(raw)
	switch {
	case !Storable(t):
		return "", apperr.Invalid(field, "is not valid text")
	case utf8.RuneCountInString(t) > max:
		return "", apperr.Invalid(field, "must be at most %d characters", max)
	}
	return t, nil
}

// Truncate cuts s to at most n runes, marking a cut with an ellipsis.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
