package policy

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"

	"github.com/seliq/seliq/internal/apperr"
)

// MaxPasswordBytes bounds what is hashed: argon2id takes any length, but a
// megabyte "password" is a denial of service, not a secret.
const MaxPasswordBytes = 1024

// denylist holds common and breached-style passwords and the words they are
// built from, one a line, lower-case. It is compiled into the binary, so the
// check needs no network and leaks no password anywhere.
//
//go:embed denylist.txt
var denylist string

var denied = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(denylist, "\n") {
		if w := strings.TrimSpace(line); w != "" && !strings.HasPrefix(w, "#") {
			m[strings.ToLower(w)] = true
		}
	}
	return m
})

// CheckPassword applies the password policy to a password being set for the
// user with this email (the whole address, or its name padded with digits
// and symbols, is refused); field names the input in the error.
func (s Settings) CheckPassword(field, password, email string) error {
	min := max(s.PasswordMinLength, MinPasswordLength)
	if n := len([]rune(password)); n < min {
		return apperr.Invalid(field, "must be at least %d characters", min)
	}
	if len(password) > MaxPasswordBytes {
		return apperr.Invalid(field, "must be at most %d bytes", MaxPasswordBytes)
	}
	if Common(password) {
		return apperr.Invalid(field, "is a common or previously breached password; choose another")
	}
	lower := strings.ToLower(password)
	email = strings.ToLower(strings.TrimSpace(email))
	local, _, _ := strings.Cut(email, "@")
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if email != "" && (strings.Contains(lower, email) || core == strings.TrimFunc(local, func(r rune) bool { return !unicode.IsLetter(r) })) {
		return apperr.Invalid(field, "must not be or contain your email address")
	}
	return nil
}

// Common reports whether a password is on the deny-list or is built the
// way breached passwords are: a listed word with digits and symbols
// around it ("Summer2024!!!!"), one repeated character, or a run of
// consecutive keys or digits.
func Common(password string) bool {
	lower := strings.ToLower(strings.TrimSpace(password))
	if denied()[lower] {
		return true
	}
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if core != "" && denied()[core] && len([]rune(core)) >= 4 {
		return true
	}
	return repetitive(lower)
}

// keyRuns are sequences a password made by walking them is taken from.
var keyRuns = []string{"0123456789012345678901234567890", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
	"qwertyuiopqwertyuiop", "asdfghjklasdfghjkl", "zxcvbnmzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm", "9876543210987654321098765432109876543210"}

// repetitive: at most two distinct characters, or a substring of a key run
// (forwards or backwards).
func repetitive(p string) bool {
	distinct := map[rune]bool{}
	for _, r := range p {
		distinct[r] = true
	}
	if len(distinct) <= 2 {
		return true
	}
	rev := []rune(p)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	for _, run := range keyRuns {
		if strings.Contains(run, p) || strings.Contains(run, string(rev)) {
			return true
		}
	}
	return false
}
