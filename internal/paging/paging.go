// Package paging holds the rules every Relay connection follows: a default
// page size (entgql returns the whole table when neither first nor last is
// given), a cap that keeps one request bounded, and the argument mistakes
// entgql would otherwise report as uncoded (500) errors. Every connection
// runs ent's Paginate through Paginate, which applies them.
package paging

import (
	"context"

	"entgo.io/contrib/entgql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/apperr"
)

// Page sizes.
const (
	Default = 50
	Max     = 500
)

// Sort directions of ent's orders.
const (
	Asc  = entgql.OrderDirectionAsc
	Desc = entgql.OrderDirectionDesc
)

// Cursor is a position in a listing (ent.Cursor).
type Cursor = entgql.Cursor[uuid.UUID]

// Page is one page request of a Relay connection.
type Page struct {
	After  *Cursor
	First  *int
	Before *Cursor
	Last   *int
}

// Paginate normalises p and runs paginate, a query's generated Paginate
// method, on it.
func Paginate[C, O any](ctx context.Context, p Page,
	paginate func(context.Context, *Cursor, *int, *Cursor, *int, ...O) (C, error), opts ...O,
) (C, error) {
	p, err := p.Normalize()
	if err != nil {
		var zero C
		return zero, err
	}
	return paginate(ctx, p.After, p.First, p.Before, p.Last, opts...)
}

// Normalize validates First and Last and applies the default size. A
// normalised page normalises to itself, so a listing that validates its
// page early still goes through Paginate.
func (p Page) Normalize() (Page, error) {
	var err error
	p.First, p.Last, err = Normalize(p.First, p.Last)
	if err != nil {
		return Page{}, err
	}
	return p, nil
}

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
