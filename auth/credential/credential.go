// Package credential makes and stores the random secrets Seliq issues
// (session and API tokens, connector keys, generated passwords): how they
// look, and what of them is stored. It depends on nothing, so tests and
// fixtures can mint a credential the way the server does.
package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Credential prefixes make a leaked secret recognisable (secret scanners,
// logs) and tell at a glance which kind it is.
const (
	PrefixSession   = "sqs_"
	PrefixAPIToken  = "sqt_"
	PrefixConnector = "sqk_"
	// PrefixInboundEmail marks an inbound email URL token (it travels in a
	// URL path, so it is URL-safe like the others).
	PrefixInboundEmail = "sqm_"
)

// NewSecret returns a random secret with the given prefix (256 bits of entropy).
func NewSecret(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret returns what is stored for a secret. The secrets are random and
// long, so a fast hash is enough: there is nothing to brute-force.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// DisplayPrefix is the part of a secret shown in listings.
func DisplayPrefix(secret string) string {
	const n = 12
	if len(secret) <= n {
		return secret
	}
	return secret[:n]
}

// GeneratePassword returns a random password for bootstrap and resets.
func GeneratePassword() string {
	s := NewSecret("")
	return strings.NewReplacer("-", "x", "_", "y").Replace(s[:20])
}
