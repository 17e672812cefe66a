package sla

import (
	"errors"
	"time"
)

// Hours is a business-hours calendar: the opening interval of each week
// day, in a time zone, minus holidays. Its arithmetic runs on absolute
// instants, so an interval spanning a daylight-saving change is an hour
// longer or shorter than its wall-clock times say.
type Hours struct {
	Loc *time.Location
	// Days maps a week day to its opening interval; a day absent is closed.
	Days map[time.Weekday]Span
	// Holidays are local dates (year, month, day at midnight UTC) closed
	// all day; an overnight interval belongs to the day it opens on.
	Holidays map[time.Time]bool
}

// Span is one day's opening, as minutes after local midnight. Closes at or
// before Opens means overnight hours: the interval ends the next day.
type Span struct{ Opens, Closes int }

// errNoOpening is returned when a calendar has no opening within the
// search horizon (every day closed, or a decade of holidays).
var errNoOpening = errors.New("sla: the business hours never open")

// horizonDays bounds every walk over the calendar.
const horizonDays = 3660

// interval returns the opening interval of the local date d (midnight
// UTC of that date), empty when the day is closed.
func (h *Hours) interval(d time.Time) (start, end time.Time, ok bool) {
	sp, open := h.Days[d.Weekday()]
	if !open || h.Holidays[d] {
		return time.Time{}, time.Time{}, false
	}
	y, m, day := d.Date()
	start = time.Date(y, m, day, sp.Opens/60, sp.Opens%60, 0, 0, h.Loc)
	endDay := day
	if sp.Closes <= sp.Opens {
		endDay++
	}
	end = time.Date(y, m, endDay, sp.Closes/60, sp.Closes%60, 0, 0, h.Loc)
	return start, end, end.After(start)
}

// localDate is t's date in the calendar's zone, as midnight UTC.
func (h *Hours) localDate(t time.Time) time.Time {
	y, m, d := t.In(h.Loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// walk calls f with each opening interval that ends after from, in order,
// clipped so that intervals never overlap (an overnight interval running
// into the next day's opening), until f returns false.
func (h *Hours) walk(from time.Time, f func(start, end time.Time) bool) error {
	// The previous day's overnight interval may still be open at from.
	d := h.localDate(from).AddDate(0, 0, -1)
	cursor := time.Time{}
	for i := 0; i < horizonDays; i++ {
		start, end, ok := h.interval(d.AddDate(0, 0, i))
		if !ok {
			continue
		}
		if start.Before(cursor) {
			start = cursor
		}
		if !end.After(start) || !end.After(from) {
			continue
		}
		cursor = end
		if !f(start, end) {
			return nil
		}
	}
	return errNoOpening
}

// Add returns the instant at which d of business time has passed since
// start. The result is never inside closed time: it lies in (opening,
// closing] of some interval.
func (h *Hours) Add(start time.Time, d time.Duration) (time.Time, error) {
	var due time.Time
	left := d
	err := h.walk(start, func(s, e time.Time) bool {
		if s.Before(start) {
			s = start
		}
		if span := e.Sub(s); left <= span {
			due = s.Add(left)
			return false
		} else {
			left -= span
		}
		return true
	})
	return due, err
}

// Elapsed returns the business time between a and b (zero when b is not
// after a).
func (h *Hours) Elapsed(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var total time.Duration
	_ = h.walk(a, func(s, e time.Time) bool {
		if !s.Before(b) {
			return false
		}
		if s.Before(a) {
			s = a
		}
		if e.After(b) {
			e = b
		}
		total += e.Sub(s)
		return true
	})
	return total
}

// Open reports whether t is inside business hours.
func (h *Hours) Open(t time.Time) bool {
	open := false
	_ = h.walk(t, func(s, e time.Time) bool {
		open = !s.After(t) && t.Before(e)
		return false
	})
	return open
}

// AddDays returns the instant at the same point of the n-th next opening
// day as start is of its own (clamped to that day's length): "5 business
// days". A start in closed time counts from the next opening, so its due
// time is the closing of the n-th opening day, the first counting as one.
func (h *Hours) AddDays(start time.Time, n int) (time.Time, error) {
	var first time.Time
	if err := h.walk(start, func(s, _ time.Time) bool { first = s; return false }); err != nil {
		return time.Time{}, err
	}
	offset := time.Duration(0)
	if start.After(first) {
		offset = start.Sub(first)
	}
	want := n
	if offset == 0 {
		want = n - 1
	}
	var due time.Time
	count := 0
	err := h.walk(first, func(s, e time.Time) bool {
		if count < want {
			count++
			return true
		}
		if offset == 0 {
			due = e
		} else {
			due = s.Add(min(offset, e.Sub(s)))
		}
		return false
	})
	return due, err
}
