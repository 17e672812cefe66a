package trigger

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/internal/apperr"
)

// weekdays are the schedule's day names, Sunday first as time.Weekday counts.
var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// clock reads HH:MM as minutes after midnight; 24:00 is 1440.
func clock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	var h, m int
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// window is a validated schedule, ready to test instants against.
type window struct {
	days        [7]bool
	from, until int // minutes after midnight
	loc         *time.Location
}

// checkSchedule validates a schedule (errors name schedule.<field>) and
// returns it normalised: days lower-case, in week order, once each.
func checkSchedule(s *schematype.TriggerSchedule) (*schematype.TriggerSchedule, error) {
	if s == nil {
		return nil, nil
	}
	if len(s.Days) == 0 {
		return nil, apperr.Invalid("schedule.days", "must list at least one day (mon … sun)")
	}
	out := &schematype.TriggerSchedule{From: s.From, Until: s.Until, TimeZone: s.TimeZone}
	seen := map[string]bool{}
	for i, d := range s.Days {
		d = strings.ToLower(strings.TrimSpace(d))
		if !slices.Contains(weekdays, d) {
			return nil, apperr.Invalid(fmt.Sprintf("schedule.days.%d", i), "must be one of mon, tue, wed, thu, fri, sat, sun")
		}
		seen[d] = true
	}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		if seen[d] {
			out.Days = append(out.Days, d)
		}
	}
	from, ok := clock(s.From)
	if !ok || from == 24*60 {
		return nil, apperr.Invalid("schedule.from", "must be a time HH:MM from 00:00 to 23:59")
	}
	until, ok := clock(s.Until)
	if !ok {
		return nil, apperr.Invalid("schedule.until", "must be a time HH:MM from 00:00 to 24:00")
	}
	if until == from {
		return nil, apperr.Invalid("schedule.until", "must differ from schedule.from")
	}
	if _, err := time.LoadLocation(s.TimeZone); err != nil || strings.EqualFold(s.TimeZone, "local") {
		return nil, apperr.Invalid("schedule.time_zone", "must be an IANA time zone such as Europe/Berlin")
	}
	return out, nil
}

// compileSchedule turns a stored (validated) schedule into a window; nil
// is always open.
func compileSchedule(s *schematype.TriggerSchedule) (*window, error) {
	if s == nil {
		return nil, nil
	}
	w := &window{}
	for _, d := range s.Days {
		i := slices.Index(weekdays, d)
		if i < 0 {
			return nil, fmt.Errorf("schedule: unknown day %q", d)
		}
		w.days[i] = true
	}
	var ok bool
	if w.from, ok = clock(s.From); !ok {
		return nil, fmt.Errorf("schedule: bad from %q", s.From)
	}
	if w.until, ok = clock(s.Until); !ok {
		return nil, fmt.Errorf("schedule: bad until %q", s.Until)
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return nil, err
	}
	w.loc = loc
	return w, nil
}

// open reports whether t falls in the window. Times are wall-clock in the
// window's zone, so 02:00–04:00 stays 02:00–04:00 local across DST; on the
// spring-forward night a window of missing hours is shorter, on the
// fall-back night the repeated hour counts twice (both are 02:xx local).
func (w *window) open(t time.Time) bool {
	if w == nil {
		return true
	}
	local := t.In(w.loc)
	min := local.Hour()*60 + local.Minute()
	day := int(local.Weekday())
	if w.from < w.until {
		return w.days[day] && min >= w.from && min < w.until
	}
	// Overnight: the evening part belongs to today, the morning part to
	// the window that opened yesterday.
	if min >= w.from {
		return w.days[day]
	}
	return min < w.until && w.days[(day+6)%7]
}
