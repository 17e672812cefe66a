package paging

import (
	"time"

	"github.com/seliq/seliq/internal/apperr"
)

// ByTime normalises the page size (Normalize) and checks the cursors of a
// listing ordered by a timestamp: they must carry a time, which is put in
// UTC, as SQLite compares times as text, which orders correctly only
// within one offset.
func (p Page) ByTime() (Page, error) {
	p, err := p.Normalize()
	if err != nil {
		return Page{}, err
	}
	if p.After, err = timeCursor(p.After, "after"); err != nil {
		return Page{}, err
	}
	if p.Before, err = timeCursor(p.Before, "before"); err != nil {
		return Page{}, err
	}
	return p, nil
}

func timeCursor(c *Cursor, param string) (*Cursor, error) {
	if c == nil {
		return nil, nil
	}
	t, ok := c.Value.(time.Time)
	if !ok {
		return nil, apperr.Invalid(param, "is not a cursor of this listing")
	}
	return &Cursor{ID: c.ID, Value: t.UTC()}, nil
}
