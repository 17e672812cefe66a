package paging

import (
	"testing"

	"github.com/seliq/seliq/apperr"
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
