package metrics

import (
	"slices"
	"testing"

	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/query"
)

// FuzzParseInterval: an interval is accepted exactly when it is one of the
// volume widths (or empty, for auto), and every accepted one is a width
// the query package's buckets know; anything else is a 422 on interval.
func FuzzParseInterval(f *testing.F) {
	for _, s := range append(slices.Clone(volumeIntervals), "", "1m", "1w", "7m", "1h ", "01h", "1H", "\x00") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseInterval(s)
		if err != nil {
			if e, ok := apperr.As(err); !ok || e.Field != "interval" || e.Code != apperr.BadInput {
				t.Fatalf("%q: %v", s, err)
			}
			if s == "" || slices.Contains(volumeIntervals, s) {
				t.Fatalf("%q refused", s)
			}
			return
		}
		if got != s {
			t.Fatalf("%q read as %q", s, got)
		}
		if s != "" {
			if _, ok := query.Interval(s); !ok {
				t.Fatalf("%q accepted but unknown to the buckets", s)
			}
		}
	})
}

// FuzzPercentile: the SQLite path's percentile lies between its
// neighbouring ranks, grows with p, and is the median of two values their
// mean, as percentile_cont.
func FuzzPercentile(f *testing.F) {
	f.Add(3.0, 1.0, 2.0, 0.5)
	f.Add(0.0, 0.0, 86400.0, 0.9)
	f.Fuzz(func(t *testing.T, a, b, c, p float64) {
		vals := []float64{a, b, c}
		for _, v := range vals {
			if v != v || v > 1e12 || v < -1e12 { // NaN or beyond any duration
				return
			}
		}
		if p != p || p < 0 || p > 1 {
			return
		}
		slices.Sort(vals)
		got := percentile(vals, p)
		if got < vals[0] || got > vals[2] {
			t.Fatalf("percentile(%v, %v) = %v outside the values", vals, p, got)
		}
		if lo := percentile(vals, p/2); lo > got+1e-6 {
			t.Fatalf("percentile decreasing: %v at %v, %v at %v", lo, p/2, got, p)
		}
		if m := percentile(vals[:2], 0.5); m-(vals[0]+vals[1])/2 > 1e-6 || (vals[0]+vals[1])/2-m > 1e-6 {
			t.Fatalf("median of %v: %v", vals[:2], m)
		}
	})
}
