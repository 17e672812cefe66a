// Package paging holds the rules every Relay connection follows: a default
// page size (entgql returns the whole table when neither first nor last is
// given), a cap that keeps one request bounded, and the argument mistakes
// entgql would otherwise report as uncoded (500) errors.
package paging

import "github.com/seliq/seliq/internal/apperr"

// Page sizes.
const (
	Default = 50
	Max     = 500
)

// Normalize validates first and last and applies the default size.
func Normalize(first, last *int) (*int, *int, error) {
	if first != nil && last != nil {
		return nil, nil, apperr.Invalid("last", "cannot be combined with first")
	}
	for _, p := range []struct {
		name string
		v    *int
	}{{"first", first}, {"last", last}} {
		if p.v != nil && (*p.v < 0 || *p.v > Max) {
			return nil, nil, apperr.Invalid(p.name, "must be between 0 and %d", Max)
		}
	}
	if first == nil && last == nil {
		n := Default
		first = &n
	}
	return first, last, nil
}
