package paging

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/apperr"
)

func TestNormalize(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		name        string
		first, last *int
		wantFirst   *int
		wantLast    *int
		wantField   string
	}{
		{name: "default", wantFirst: n(Default)},
		{name: "first", first: n(10), wantFirst: n(10)},
		{name: "last", last: n(7), wantLast: n(7)},
		{name: "zero", first: n(0), wantFirst: n(0)},
		{name: "max", first: n(Max), wantFirst: n(Max)},
		{name: "both", first: n(1), last: n(1), wantField: "last"},
		{name: "negative first", first: n(-1), wantField: "first"},
		{name: "too many last", last: n(Max + 1), wantField: "last"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, last, err := Normalize(tc.first, tc.last)
			if tc.wantField != "" {
				e, ok := apperr.As(err)
				if !ok || e.Code != apperr.BadInput || e.Field != tc.wantField {
					t.Fatalf("error %v, want BAD_USER_INPUT on %s", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !same(first, tc.wantFirst) || !same(last, tc.wantLast) {
				t.Fatalf("got first %v last %v", deref(first), deref(last))
			}
		})
	}
}

func same(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestByTime(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	id := uuid.New()
	timeCursor := &Cursor{ID: id, Value: at}
	tests := []struct {
		name      string
		after     *Cursor
		first     *int
		wantField string // the offending argument, "" when valid
	}{
		{name: "defaults", wantField: ""},
		{name: "time cursor in UTC", after: timeCursor, first: ptr(10)},
		{name: "cursor of another listing", after: &Cursor{ID: id, Value: "title"}, wantField: "after"},
		{name: "negative page", first: ptr(-1), wantField: "first"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Page{After: tc.after, First: tc.first}.ByTime()
			if tc.wantField != "" {
				e, ok := apperr.As(err)
				if !ok || e.Field != tc.wantField {
					t.Fatalf("error %v, want one naming %q", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.First == nil || *w.First <= 0 {
				t.Errorf("First = %v, want the normalised page size", deref(w.First))
			}
			if tc.after != nil {
				if got := w.After.Value.(time.Time); got.Location() != time.UTC || !got.Equal(at) {
					t.Errorf("After = %v, want %v in UTC", got, at)
				}
			}
		})
	}
}

func ptr(v int) *int { return &v }

func TestPaginate(t *testing.T) {
	// paginate stands for a query's generated Paginate method.
	paginate := func(_ context.Context, _ *Cursor, first *int, _ *Cursor, last *int, _ ...string) (*int, error) {
		if last != nil {
			return last, nil
		}
		return first, nil
	}
	got, err := Paginate(context.Background(), Page{}, paginate)
	if err != nil || got == nil || *got != Default {
		t.Fatalf("no size: got %v, %v; want the default %d", deref(got), err, Default)
	}
	got, err = Paginate(context.Background(), Page{Last: ptr(7)}, paginate, "option")
	if err != nil || got == nil || *got != 7 {
		t.Fatalf("last 7: got %v, %v", deref(got), err)
	}
	if _, err := Paginate(context.Background(), Page{First: ptr(Max + 1)}, paginate); err == nil {
		t.Fatal("a page above the cap was run")
	}
}
