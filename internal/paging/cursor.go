package paging

import (
	"time"

	"entgo.io/contrib/entgql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/apperr"
)

// TimeCursors checks that the cursors come from a listing ordered by a
// timestamp and puts their time in UTC: SQLite compares times as text,
// which orders correctly only within one offset.
func TimeCursors(after, before *entgql.Cursor[uuid.UUID]) (*entgql.Cursor[uuid.UUID], *entgql.Cursor[uuid.UUID], error) {
	a, err := timeCursor(after, "after")
	if err != nil {
		return nil, nil, err
	}
	b, err := timeCursor(before, "before")
	return a, b, err
}

func timeCursor(c *entgql.Cursor[uuid.UUID], param string) (*entgql.Cursor[uuid.UUID], error) {
	if c == nil {
		return nil, nil
	}
	t, ok := c.Value.(time.Time)
	if !ok {
		return nil, apperr.Invalid(param, "is not a cursor of this listing")
	}
	return &entgql.Cursor[uuid.UUID]{ID: c.ID, Value: t.UTC()}, nil
}

// Window is one page request of a listing ordered by a timestamp, ready
// for ent's Paginate.
type Window struct {
	After, Before *entgql.Cursor[uuid.UUID]
	First, Last   *int
}

// ByTime normalises the page size (Normalize) and checks the cursors
// (TimeCursors) of a listing ordered by a timestamp.
func ByTime(after *entgql.Cursor[uuid.UUID], first *int, before *entgql.Cursor[uuid.UUID], last *int) (Window, error) {
	first, last, err := Normalize(first, last)
	if err != nil {
		return Window{}, err
	}
	after, before, err = TimeCursors(after, before)
	if err != nil {
		return Window{}, err
	}
	return Window{After: after, Before: before, First: first, Last: last}, nil
}
