package sla

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/opt"
)

// settingsKey is the settingstore document of an organisation's SLA.
const settingsKey = "sla"

// Settings are an organisation's SLA rules: what it promises per severity
// and which hours count.
type Settings struct {
	// Targets has one entry per severity, most severe first.
	Targets   []*Target         `json:"targets"`
	ClockMode enum.SLAClockMode `json:"clockMode"`
	// TimeZone is the IANA zone of Days and Holidays.
	TimeZone string `json:"timeZone"`
	// Days lists the open week days, Monday first.
	Days []*Day `json:"days"`
	// Holidays are closed local dates, YYYY-MM-DD, in order.
	Holidays          []string   `json:"holidays"`
	EscalationOwnerID *uuid.UUID `json:"escalationOwnerID"`
}

// Target is one severity's promise; a nil duration is not tracked.
type Target struct {
	Severity    enum.Severity `json:"severity"`
	Acknowledge *string       `json:"acknowledge"`
	Resolve     *string       `json:"resolve"`
}

// Day is one open week day: opening and closing local times, HH:MM. A
// closing time at or before the opening time is overnight hours: the
// interval ends the next day (equal times: open 24 hours).
type Day struct {
	Day    string `json:"day"`
	Opens  string `json:"opens"`
	Closes string `json:"closes"`
}

// UpdateSettingsInput patches Settings: a field left out keeps its value,
// lists given replace the stored ones (targets per severity given).
type UpdateSettingsInput struct {
	Targets           []*TargetInput        `json:"targets,omitempty"`
	ClockMode         *enum.SLAClockMode    `json:"clockMode,omitempty"`
	TimeZone          *string               `json:"timeZone,omitempty"`
	Days              []*DayInput           `json:"days,omitempty"`
	Holidays          []string              `json:"holidays,omitempty"`
	EscalationOwnerID opt.Value[*uuid.UUID] `json:"escalationOwnerID"`
}

// TargetInput sets one severity's targets; null or "" stops tracking a
// timer, a field left out keeps it.
type TargetInput struct {
	Severity    enum.Severity      `json:"severity"`
	Acknowledge opt.Value[*string] `json:"acknowledge"`
	Resolve     opt.Value[*string] `json:"resolve"`
}

// DayInput is one open week day.
type DayInput struct {
	Day    string `json:"day"`
	Opens  string `json:"opens"`
	Closes string `json:"closes"`
}

// weekdays are the accepted day names, Monday first.
var weekdays = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

func weekday(name string) time.Weekday {
	return time.Weekday((slices.Index(weekdays, name) + 1) % 7)
}

// Limits on a settings document.
const (
	maxHolidays = 400
	// maxTargetMinutes and maxTargetDays bound a target to a year.
	maxTargetMinutes = 366 * 24 * 60
	maxTargetDays    = 366
)

// Defaults are the settings of an organisation that has saved none.
func Defaults() *Settings {
	s := func(v string) *string { return &v }
	days := make([]*Day, 0, 5)
	for _, d := range weekdays[:5] {
		days = append(days, &Day{Day: d, Opens: "09:00", Closes: "17:00"})
	}
	return &Settings{
		Targets: []*Target{
			{Severity: enum.SeverityCritical, Acknowledge: s("15m"), Resolve: s("4h")},
			{Severity: enum.SeverityHigh, Acknowledge: s("1h"), Resolve: s("8h")},
			{Severity: enum.SeverityMedium, Acknowledge: s("4h"), Resolve: s("24h")},
			{Severity: enum.SeverityLow, Acknowledge: s("24h"), Resolve: s("5d")},
			{Severity: enum.SeverityInfo},
		},
		ClockMode: enum.SLAClockMode24x7, TimeZone: "UTC", Days: days, Holidays: []string{},
	}
}

// Duration is a parsed target: whole minutes, or whole business days.
type Duration struct {
	Minutes int
	Days    int
}

var targetRe = regexp.MustCompile(`^(?:(\d{1,6})d|(?:(\d{1,6})h)?(?:(\d{1,6})m)?)$`)

// ParseDuration reads a target: "15m", "4h", "1h30m" or "5d" (business
// days; 24 hours each in 24x7 mode). It refuses zero, negative and
// fractional values and anything above a year.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-") {
		return Duration{}, fmt.Errorf("must not be negative")
	}
	m := targetRe.FindStringSubmatch(s)
	if m == nil || s == "" {
		return Duration{}, fmt.Errorf("%q is not a duration such as 15m, 4h, 1h30m or 5d", s)
	}
	if m[1] != "" {
		d, _ := strconv.Atoi(m[1])
		if d < 1 || d > maxTargetDays {
			return Duration{}, fmt.Errorf("must be between 1d and %dd", maxTargetDays)
		}
		return Duration{Days: d}, nil
	}
	h, _ := strconv.Atoi(m[2])
	mins, _ := strconv.Atoi(m[3])
	total := h*60 + mins
	if total < 1 || total > maxTargetMinutes {
		return Duration{}, fmt.Errorf("must be between 1m and %dh", maxTargetMinutes/60)
	}
	return Duration{Minutes: total}, nil
}

// String is the canonical spelling ("90m" is "1h30m").
func (d Duration) String() string {
	switch {
	case d.Days > 0:
		return fmt.Sprintf("%dd", d.Days)
	case d.Minutes%60 == 0:
		return fmt.Sprintf("%dh", d.Minutes/60)
	case d.Minutes < 60:
		return fmt.Sprintf("%dm", d.Minutes)
	}
	return fmt.Sprintf("%dh%dm", d.Minutes/60, d.Minutes%60)
}

// clockRe is HH:MM, 00:00 to 23:59.
var clockRe = regexp.MustCompile(`^([01]\d|2[0-3]):([0-5]\d)$`)

func parseClock(field, s string) (int, error) {
	m := clockRe.FindStringSubmatch(s)
	if m == nil {
		return 0, apperr.Invalid(field, "%q is not a time of day HH:MM (00:00 to 23:59)", s)
	}
	h, _ := strconv.Atoi(m[1])
	mm, _ := strconv.Atoi(m[2])
	return h*60 + mm, nil
}

// apply validates a patch against the current settings and returns the
// new ones; the escalation owner's existence is checked by the caller.
func apply(cur *Settings, in UpdateSettingsInput) (*Settings, error) {
	next := *cur
	next.Targets = make([]*Target, len(cur.Targets))
	for i, t := range cur.Targets {
		c := *t
		next.Targets[i] = &c
	}
	seen := map[enum.Severity]bool{}
	for i, t := range in.Targets {
		field := fmt.Sprintf("targets.%d", i)
		if t == nil || !t.Severity.Valid() {
			return nil, apperr.Invalid(field+".severity", "is not a severity")
		}
		if seen[t.Severity] {
			return nil, apperr.Invalid(field+".severity", "%s is given twice", t.Severity)
		}
		seen[t.Severity] = true
		dst := next.target(t.Severity)
		for _, f := range []struct {
			name string
			in   opt.Value[*string]
			out  **string
		}{{"acknowledge", t.Acknowledge, &dst.Acknowledge}, {"resolve", t.Resolve, &dst.Resolve}} {
			if !f.in.IsSet() {
				continue
			}
			v := f.in.Value()
			if v == nil || strings.TrimSpace(*v) == "" {
				*f.out = nil
				continue
			}
			d, err := ParseDuration(*v)
			if err != nil {
				return nil, apperr.Invalid(field+"."+f.name, "%v", err)
			}
			canon := d.String()
			*f.out = &canon
		}
	}
	if in.ClockMode != nil {
		if !in.ClockMode.Valid() {
			return nil, apperr.Invalid("clock_mode", "%q is not a clock mode", *in.ClockMode)
		}
		next.ClockMode = *in.ClockMode
	}
	if in.TimeZone != nil {
		z := strings.TrimSpace(*in.TimeZone)
		// time.LoadLocation also reads paths; an IANA name never holds dots
		// or starts with a slash.
		if _, err := time.LoadLocation(z); err != nil || z == "" || z == "Local" || strings.Contains(z, "..") || strings.HasPrefix(z, "/") {
			return nil, apperr.Invalid("time_zone", "%q is not an IANA time zone such as Europe/Paris", *in.TimeZone)
		}
		next.TimeZone = z
	}
	if in.Days != nil {
		days, err := checkDays(in.Days)
		if err != nil {
			return nil, err
		}
		next.Days = days
	}
	if in.Holidays != nil {
		h, err := checkHolidays(in.Holidays)
		if err != nil {
			return nil, err
		}
		next.Holidays = h
	}
	if in.EscalationOwnerID.IsSet() {
		next.EscalationOwnerID = in.EscalationOwnerID.Value()
	}
	if next.ClockMode == enum.SLAClockModeBusinessHours && len(next.Days) == 0 {
		return nil, apperr.Invalid("days", "business hours need at least one open day")
	}
	return &next, nil
}

func checkDays(in []*DayInput) ([]*Day, error) {
	byDay := map[string]*Day{}
	for i, d := range in {
		field := fmt.Sprintf("days.%d", i)
		if d == nil || !slices.Contains(weekdays, d.Day) {
			return nil, apperr.Invalid(field+".day", "must be one of %s", strings.Join(weekdays, ", "))
		}
		if byDay[d.Day] != nil {
			return nil, apperr.Invalid(field+".day", "%s is given twice", d.Day)
		}
		if _, err := parseClock(field+".opens", d.Opens); err != nil {
			return nil, err
		}
		if _, err := parseClock(field+".closes", d.Closes); err != nil {
			return nil, err
		}
		byDay[d.Day] = &Day{Day: d.Day, Opens: d.Opens, Closes: d.Closes}
	}
	out := []*Day{}
	for _, w := range weekdays {
		if d := byDay[w]; d != nil {
			out = append(out, d)
		}
	}
	return out, nil
}

func checkHolidays(in []string) ([]string, error) {
	if len(in) > maxHolidays {
		return nil, apperr.Invalid("holidays", "at most %d dates", maxHolidays)
	}
	out := make([]string, 0, len(in))
	for i, s := range in {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil || d.Format(time.DateOnly) != s {
			return nil, apperr.Invalid(fmt.Sprintf("holidays.%d", i), "%q is not a date YYYY-MM-DD", s)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// target returns the entry of severity, adding an untracked one if the
// stored document predates it.
func (s *Settings) target(sev enum.Severity) *Target {
	for _, t := range s.Targets {
		if t.Severity == sev {
			return t
		}
	}
	t := &Target{Severity: sev}
	s.Targets = append(s.Targets, t)
	return t
}

// calendar is the Settings compiled for arithmetic.
type calendar struct {
	mode  enum.SLAClockMode
	hours *Hours
}

func (s *Settings) calendar() (*calendar, error) {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("sla: stored time zone: %w", err)
	}
	h := &Hours{Loc: loc, Days: map[time.Weekday]Span{}, Holidays: map[time.Time]bool{}}
	for _, d := range s.Days {
		o, err1 := parseClock("opens", d.Opens)
		c, err2 := parseClock("closes", d.Closes)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("sla: stored hours of %s", d.Day)
		}
		h.Days[weekday(d.Day)] = Span{Opens: o, Closes: c}
	}
	for _, s := range s.Holidays {
		if d, err := time.Parse(time.DateOnly, s); err == nil {
			h.Holidays[d] = true
		}
	}
	return &calendar{mode: s.ClockMode, hours: h}, nil
}

// due returns when a timer started at start with target d is due, and
// when it turns at risk (75 % of its window, in the clock's time).
func (c *calendar) due(start time.Time, d Duration) (due, atRisk time.Time, err error) {
	start = start.UTC().Truncate(time.Second)
	if c.mode != enum.SLAClockModeBusinessHours {
		window := time.Duration(d.Minutes)*time.Minute + time.Duration(d.Days)*24*time.Hour
		return start.Add(window), start.Add(window * 3 / 4).Truncate(time.Second), nil
	}
	if d.Days > 0 {
		due, err = c.hours.AddDays(start, d.Days)
	} else {
		due, err = c.hours.Add(start, time.Duration(d.Minutes)*time.Minute)
	}
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	window := c.hours.Elapsed(start, due)
	atRisk, err = c.hours.Add(start, window*3/4)
	return due.UTC(), atRisk.UTC().Truncate(time.Second), err
}

// paused reports whether running timers stand still at t.
func (c *calendar) paused(t time.Time) bool {
	return c.mode == enum.SLAClockModeBusinessHours && !c.hours.Open(t)
}
