// Package tags holds the rules for the labels analysts put on alerts and
// incidents.
package tags

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/textfield"
)

// Limits on one object's tags.
const (
	Max       = 50
	MaxLength = 64
)

// Clean trims tags, drops repeats (keeping first appearance) and checks
// each is 1 to MaxLength characters of storable text, at most Max of them.
// Errors name field.
func Clean(field string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, raw := range in {
		t := strings.TrimSpace(raw)
		switch {
		case t == "":
			return nil, apperr.Invalid(field, "tags must not be empty")
		case !textfield.Storable(t):
			return nil, apperr.Invalid(field, "tag %q is not valid text", t)
		case utf8.RuneCountInString(t) > MaxLength:
			return nil, apperr.Invalid(field, "tag %q is longer than %d characters", t, MaxLength)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > Max {
		return nil, apperr.Invalid(field, "at most %d tags", Max)
	}
	return out, nil
}
