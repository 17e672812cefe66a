// Package textfield holds the rules every free-text input follows: trimmed,
// valid UTF-8 without NUL (PostgreSQL refuses NUL in text and fails the
// request instead), and bounded in characters, with errors naming the field.
// Text that is stored as received rather than refused (an ingested payload,
// a model's answer, a provider's error) goes through Sanitize instead.
package textfield

import (
	"strings"
	"unicode/utf8"

	"github.com/seliq/seliq/internal/apperr"
)

// Storable reports whether PostgreSQL can store s as text.
func Storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// Replacement is what Sanitize puts in place of what it removes.
const Replacement = "\uFFFD"

// Sanitize returns s as PostgreSQL can store it as text, by the one rule
// for text kept rather than refused: each NUL, and each maximal run of
// bytes that is not valid UTF-8, becomes one U+FFFD. Replacing rather than
// dropping keeps a mark where something was (and never joins the words on
// either side); storable text is returned unchanged.
func Sanitize(s string) string {
	if Storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, Replacement), "\x00", Replacement)
}

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
