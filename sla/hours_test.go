package sla

import (
	"math/rand/v2"
	"testing"
	"time"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("zone %s: %v", name, err)
	}
	return loc
}

// weekdaysOnly is Monday to Friday, opens to closes (minutes).
func weekdaysOnly(loc *time.Location, opens, closes int, holidays ...string) *Hours {
	h := &Hours{Loc: loc, Days: map[time.Weekday]Span{}, Holidays: map[time.Time]bool{}}
	for d := time.Monday; d <= time.Friday; d++ {
		h.Days[d] = Span{opens, closes}
	}
	for _, s := range holidays {
		d, _ := time.Parse(time.DateOnly, s)
		h.Holidays[d] = true
	}
	return h
}

func everyDay(loc *time.Location, opens, closes int) *Hours {
	h := &Hours{Loc: loc, Days: map[time.Weekday]Span{}, Holidays: map[time.Time]bool{}}
	for d := time.Sunday; d <= time.Saturday; d++ {
		h.Days[d] = Span{opens, closes}
	}
	return h
}

func TestHoursAdd(t *testing.T) {
	paris := mustZone(t, "Europe/Paris")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	office := weekdaysOnly(paris, 9*60, 17*60)
	// 2026-03-23 is a Monday; 2026-03-24 a holiday in the second calendar.
	withHoliday := weekdaysOnly(paris, 9*60, 17*60, "2026-03-24")
	night := everyDay(paris, 22*60, 6*60)
	cases := []struct {
		name  string
		h     *Hours
		start string
		d     time.Duration
		want  string
	}{
		{"inside one day", office, "2026-03-23 10:00", 2 * time.Hour, "2026-03-23 12:00"},
		{"ends at closing", office, "2026-03-23 15:00", 2 * time.Hour, "2026-03-23 17:00"},
		{"carries over to the next day", office, "2026-03-23 16:00", 2 * time.Hour, "2026-03-24 10:00"},
		{"carries over the weekend", office, "2026-03-27 16:00", 2 * time.Hour, "2026-03-30 10:00"},
		{"starts in the weekend", office, "2026-03-28 12:00", time.Hour, "2026-03-30 10:00"},
		{"starts before opening", office, "2026-03-23 07:00", 30 * time.Minute, "2026-03-23 09:30"},
		{"skips a holiday", withHoliday, "2026-03-23 16:00", 2 * time.Hour, "2026-03-25 10:00"},
		{"overnight, same night", night, "2026-03-23 23:00", 2 * time.Hour, "2026-03-24 01:00"},
		{"overnight, into the next night", night, "2026-03-24 05:00", 2 * time.Hour, "2026-03-24 23:00"},
		{"overnight, started by the previous day's opening", night, "2026-03-24 03:00", time.Hour, "2026-03-24 04:00"},
		// 2026-03-29 02:00 → 03:00 in Paris: that night has 7 hours.
		{"spring forward: a 7-hour night", night, "2026-03-28 22:00", 8 * time.Hour, "2026-03-29 23:00"},
		// 2026-10-25 03:00 → 02:00: that night has 9 hours.
		{"fall back: a 9-hour night", night, "2026-10-24 22:00", 8 * time.Hour, "2026-10-25 05:00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.h.Add(at(tc.start), tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if want := at(tc.want); !got.Equal(want) {
				t.Fatalf("Add(%s, %v) = %s, want %s", tc.start, tc.d, got.In(paris), want)
			}
			if e := tc.h.Elapsed(at(tc.start), got); e != tc.d {
				t.Fatalf("Elapsed back = %v, want %v", e, tc.d)
			}
		})
	}
}

func TestHoursAddDaysAndOpen(t *testing.T) {
	paris := mustZone(t, "Europe/Paris")
	at := func(s string) time.Time {
		v, _ := time.ParseInLocation("2006-01-02 15:04", s, paris)
		return v
	}
	office := weekdaysOnly(paris, 9*60, 17*60, "2026-03-31")
	cases := []struct {
		name  string
		start string
		n     int
		want  string
	}{
		{"same time five opening days later", "2026-03-23 10:00", 5, "2026-03-30 10:00"},
		{"a holiday does not count", "2026-03-24 10:00", 5, "2026-04-01 10:00"},
		{"from closed time: the closing of the fifth day", "2026-03-21 12:00", 5, "2026-03-27 17:00"},
		{"one day from a Friday", "2026-03-27 11:30", 1, "2026-03-30 11:30"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := office.AddDays(at(tc.start), tc.n)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(at(tc.want)) {
				t.Fatalf("AddDays(%s, %d) = %s, want %s", tc.start, tc.n, got.In(paris), tc.want)
			}
		})
	}
	for _, o := range []struct {
		at   string
		want bool
	}{{"2026-03-23 08:59", false}, {"2026-03-23 09:00", true}, {"2026-03-23 16:59", true}, {"2026-03-23 17:00", false},
		{"2026-03-28 12:00", false}, {"2026-03-31 12:00", false}} {
		if got := office.Open(at(o.at)); got != o.want {
			t.Errorf("Open(%s) = %v, want %v", o.at, got, o.want)
		}
	}
	closed := &Hours{Loc: paris, Days: map[time.Weekday]Span{}, Holidays: map[time.Time]bool{}}
	if _, err := closed.Add(at("2026-03-23 10:00"), time.Hour); err == nil {
		t.Fatal("a calendar that never opens gave a due time")
	}
}

// randomHours is a calendar with random days, spans (overnight ones
// included, overlapping the next day's opening sometimes), holidays and a
// zone with daylight saving.
func randomHours(r *rand.Rand, zones []*time.Location) *Hours {
	h := &Hours{Loc: zones[r.IntN(len(zones))], Days: map[time.Weekday]Span{}, Holidays: map[time.Time]bool{}}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if r.IntN(4) > 0 || d == time.Wednesday {
			h.Days[d] = Span{Opens: r.IntN(24*4) * 15, Closes: r.IntN(24*4) * 15}
		}
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < r.IntN(20); i++ {
		h.Holidays[base.AddDate(0, 0, r.IntN(400))] = true
	}
	return h
}

// TestHoursProperties checks, over random calendars, starts and
// durations: measuring the time elapsed up to Add(start, d) gives d back;
// the due time is never inside closed time; Add is monotonic in d.
func TestHoursProperties(t *testing.T) {
	zones := []*time.Location{mustZone(t, "Europe/Paris"), mustZone(t, "America/New_York"),
		mustZone(t, "Australia/Lord_Howe"), mustZone(t, "Asia/Kolkata"), time.UTC}
	r := rand.New(rand.NewPCG(16, 2026))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 400; i++ {
		h := randomHours(r, zones)
		start := base.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))
		d1 := time.Duration(1+r.Int64N(60*24*14)) * time.Minute
		d2 := d1 + time.Duration(r.Int64N(60*24*3))*time.Minute
		due1, err := h.Add(start, d1)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		due2, err := h.Add(start, d2)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got := h.Elapsed(start, due1); got != d1 {
			t.Fatalf("case %d (%+v, start %s): Elapsed(start, Add(start, %v)) = %v", i, h.Days, start, d1, got)
		}
		if !h.Open(due1.Add(-time.Nanosecond)) {
			t.Fatalf("case %d: due %s follows closed time", i, due1)
		}
		if due2.Before(due1) {
			t.Fatalf("case %d: Add(%v) = %s before Add(%v) = %s", i, d2, due2, d1, due1)
		}
		if days := 1 + r.IntN(10); true {
			due, err := h.AddDays(start, days)
			if err != nil || !due.After(start) {
				t.Fatalf("case %d: AddDays(%s, %d) = %s, %v", i, start, days, due, err)
			}
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"15m", "4h", "1h30m", "5d", "0m", "-1h", "", "99999999h", "1.5h", "h", "d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d.Minutes <= 0 && d.Days <= 0 {
			t.Fatalf("%q parsed to an empty duration", s)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("%q → %q does not read back: %v, %v", s, d.String(), back, err)
		}
	})
}
