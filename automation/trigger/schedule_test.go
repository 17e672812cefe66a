package trigger

import (
	"testing"
	"time"

	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/internal/apperr"
)

// Weekly windows at their edges, across midnight and across both DST
// changes of Europe/Berlin (2026: 29 March 02:00→03:00, 25 October
// 03:00→02:00).
func TestWindowEdges(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, berlin) }
	sunday := &schematype.TriggerSchedule{Days: []string{"sun"}, From: "02:00", Until: "04:00", TimeZone: "Europe/Berlin"}
	overnight := &schematype.TriggerSchedule{Days: []string{"fri"}, From: "22:00", Until: "02:00", TimeZone: "Europe/Berlin"}
	wholeDay := &schematype.TriggerSchedule{Days: []string{"sat"}, From: "00:00", Until: "24:00", TimeZone: "UTC"}
	cases := []struct {
		name   string
		s      *schematype.TriggerSchedule
		t      time.Time
		inside bool
	}{
		{"opening minute", sunday, at(2026, 3, 1, 2, 0), true},
		{"a minute before", sunday, at(2026, 3, 1, 1, 59), false},
		{"last minute", sunday, at(2026, 3, 1, 3, 59), true},
		{"closing minute", sunday, at(2026, 3, 1, 4, 0), false},
		{"another day", sunday, at(2026, 3, 2, 3, 0), false},
		{"zone: 02:30 UTC is 03:30 in Berlin", sunday, time.Date(2026, 3, 1, 2, 30, 0, 0, time.UTC), true},
		{"zone: 03:00 UTC is 04:00 in Berlin", sunday, time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC), false},
		{"spring forward: 02:00 does not exist, 03:00 is inside", sunday, at(2026, 3, 29, 3, 0), true},
		{"spring forward: the hour before", sunday, time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC), false}, // 01:59 CET
		{"spring forward: 04:00 CEST closes", sunday, at(2026, 3, 29, 4, 0), false},
		{"fall back: first 02:30 (CEST)", sunday, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), true},
		{"fall back: second 02:30 (CET)", sunday, time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), true},
		{"fall back: 04:00 CET closes", sunday, time.Date(2026, 10, 25, 3, 0, 0, 0, time.UTC), false},
		{"overnight evening", overnight, at(2026, 3, 6, 23, 0), true},
		{"overnight next morning", overnight, at(2026, 3, 7, 1, 59), true},
		{"overnight closes", overnight, at(2026, 3, 7, 2, 0), false},
		{"overnight morning of the opening day", overnight, at(2026, 3, 6, 1, 0), false},
		{"whole day start", wholeDay, time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC), true},
		{"whole day end", wholeDay, time.Date(2026, 3, 7, 23, 59, 0, 0, time.UTC), true},
		{"whole day next", wholeDay, time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := compileSchedule(tc.s)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.open(tc.t); got != tc.inside {
				t.Fatalf("open(%s) = %v, want %v", tc.t.In(w.loc), got, tc.inside)
			}
		})
	}
}

func TestActivePeriod(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := from.Add(time.Hour)
	c := &compiled{from: &from, until: &until}
	for _, tc := range []struct {
		t    time.Time
		want bool
	}{{from.Add(-time.Second), false}, {from, true}, {until.Add(-time.Second), true}, {until, false}} {
		if got := c.activeAt(tc.t); got != tc.want {
			t.Errorf("activeAt(%s) = %v, want %v", tc.t, got, tc.want)
		}
	}
}

func TestCheckSchedule(t *testing.T) {
	for _, tc := range []struct {
		s     schematype.TriggerSchedule
		field string
	}{
		{schematype.TriggerSchedule{Days: nil, From: "02:00", Until: "04:00"}, "schedule.days"},
		{schematype.TriggerSchedule{Days: []string{"mon", "funday"}, From: "02:00", Until: "04:00"}, "schedule.days.1"},
		{schematype.TriggerSchedule{Days: []string{"mon"}, From: "2:00", Until: "04:00"}, "schedule.from"},
		{schematype.TriggerSchedule{Days: []string{"mon"}, From: "24:00", Until: "04:00"}, "schedule.from"},
		{schematype.TriggerSchedule{Days: []string{"mon"}, From: "02:00", Until: "24:01"}, "schedule.until"},
		{schematype.TriggerSchedule{Days: []string{"mon"}, From: "02:00", Until: "02:00"}, "schedule.until"},
		{schematype.TriggerSchedule{Days: []string{"mon"}, From: "02:00", Until: "04:00", TimeZone: "Local"}, "schedule.time_zone"},
		{schematype.TriggerSchedule{Days: []string{"mon"}, From: "02:00", Until: "04:00", TimeZone: "Nowhere/City"}, "schedule.time_zone"},
		{schematype.TriggerSchedule{Days: []string{"SUN", "mon", "sun"}, From: "02:00", Until: "04:00", TimeZone: "Europe/Berlin"}, ""},
	} {
		got, err := checkSchedule(&tc.s)
		if tc.field == "" {
			if err != nil || len(got.Days) != 2 || got.Days[0] != "mon" || got.Days[1] != "sun" {
				t.Errorf("%+v: %+v, %v", tc.s, got, err)
			}
			continue
		}
		if e, ok := apperr.As(err); !ok || e.Field != tc.field {
			t.Errorf("%+v: %v, want a refusal naming %s", tc.s, err, tc.field)
		}
	}
}

// FuzzCheckSchedule: any input is refused or yields a window that answers.
func FuzzCheckSchedule(f *testing.F) {
	f.Add("sun", "02:00", "04:00", "Europe/Berlin", int64(0))
	f.Add("fri", "22:00", "02:00", "", int64(1e9))
	f.Fuzz(func(t *testing.T, day, from, until, tz string, unix int64) {
		s, err := checkSchedule(&schematype.TriggerSchedule{Days: []string{day}, From: from, Until: until, TimeZone: tz})
		if err != nil {
			if _, ok := apperr.As(err); !ok {
				t.Fatalf("not a validation error: %v", err)
			}
			return
		}
		w, err := compileSchedule(s)
		if err != nil {
			t.Fatalf("a checked schedule does not compile: %v", err)
		}
		_ = w.open(time.Unix(unix, 0))
	})
}
