package query_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/storage"
)

// TestCountedSeriesAgreesWithTheRows: a series summed from the slot
// counters (a query on the severity alone) counts what the same series
// counted from the rows counts, bucket by bucket and group by group, in a
// zone half an hour off UTC and over ranges that start and end inside a
// quarter hour; another organisation's alerts in the same slots are never
// counted. On both databases.
func TestCountedSeriesAgreesWithTheRows(t *testing.T) {
	alerts, _ := query.Lookup("alerts")
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org, other := testenv.Org(t, db), testenv.Org(t, db)
		ctx, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
		otherCtx, _ := testenv.UserContext(t, db, other, enum.RoleAdmin)
		if err := db.Client.Organization.UpdateOneID(org.ID).SetTimezone("Asia/Kolkata").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		base := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
		rng := rand.New(rand.NewPCG(7, 9))
		sevs := enum.Severity("").Values()
		created := map[time.Time]int{}
		for i := range 400 {
			at := base.Add(time.Duration(rng.Int64N(int64(72 * time.Hour)))).Truncate(time.Second)
			sev := enum.Severity(sevs[rng.IntN(len(sevs))])
			db.Client.Alert.Create().SetOrganizationID(org.ID).SetTitle(fmt.Sprint("a", i)).SetSource("s").
				SetSeverity(sev).SetCreatedAt(at).SetLastSeenAt(at.Add(48 * time.Hour)).SaveX(ctx)
			db.Client.Alert.Create().SetOrganizationID(other.ID).SetTitle(fmt.Sprint("b", i)).SetSource("s").
				SetSeverity(sev).SetCreatedAt(at).SetLastSeenAt(at).SaveX(otherCtx)
			created[at]++
		}
		svc := query.New(db.Client, db.Dialect).WithClock(func() time.Time { return base.Add(96 * time.Hour) })
		since, until := base.Add(7*time.Hour+7*time.Minute+3*time.Second), base.Add(61*time.Hour+52*time.Minute)
		inRange := 0
		for at, n := range created {
			if !at.Before(since) && at.Before(until) {
				inRange += n
			}
		}
		for _, tc := range []struct {
			query    string
			groupBy  []string
			interval string
		}{
			{"", nil, "1h"},
			{"", []string{"severity"}, "15m"},
			{`severity == "high"`, nil, "1d"},
			{`severity >= "medium"`, []string{"severity"}, "1h"},
			{`severity in ["low", "info"] || severity == "critical"`, []string{"severity"}, "3h"},
			{`!(severity < "high")`, nil, "30m"},
			{`severity == "high" && severity == "low"`, nil, "1h"},
		} {
			t.Run(fmt.Sprintf("%s/%v/%s", tc.query, tc.groupBy, tc.interval), func(t *testing.T) {
				counted, err := query.SeriesCounted(alerts, tc.query, tc.groupBy)
				if err != nil || !counted {
					t.Fatalf("expected the counters to answer %q: %v", tc.query, err)
				}
				// The same condition and a term on the title: read from the rows.
				scanned := `title != "" && (` + tc.query + `)`
				if tc.query == "" {
					scanned = `title != ""`
				}
				if ok, _ := query.SeriesCounted(alerts, scanned, tc.groupBy); ok {
					t.Fatalf("%q should be counted from the rows", scanned)
				}
				run := func(text string) *query.Result {
					res, err := svc.Run(ctx, query.RunInput{Source: "alerts", Query: text, Interval: tc.interval, GroupBy: tc.groupBy, Since: &since, Until: &until})
					if err != nil {
						t.Fatal(err)
					}
					return res
				}
				got, want := run(tc.query), run(scanned)
				if seriesKey(got) != seriesKey(want) {
					t.Fatalf("counters and rows disagree:\ncounters %s\nrows     %s", seriesKey(got), seriesKey(want))
				}
				if tc.query == "" && got.Total != inRange {
					t.Fatalf("total %d, %d alerts were created in the range", got.Total, inRange)
				}
				if tc.query == `severity == "high" && severity == "low"` && got.Total != 0 {
					t.Fatalf("a condition no severity meets counted %d", got.Total)
				}
			})
		}
	})
}

// seriesKey is every bucket's start, count and groups, as text.
func seriesKey(r *query.Result) string {
	s := fmt.Sprintf("%s total=%d", r.TimeZone, r.Total)
	for _, b := range r.Series {
		s += fmt.Sprintf(" %s=%d", b.Start.Format(time.RFC3339), b.Count)
		groups := []string{}
		for _, g := range b.Groups {
			groups = append(groups, fmt.Sprintf("%v%v:%d", g.Key, g.Other, g.Count))
		}
		slices.Sort(groups)
		s += fmt.Sprint(groups)
	}
	return s
}

// TestSeriesCountedOnlyWhenTheCountersHoldTheAnswer: a query reading any
// field but the severity, or a grouping by another field, is counted
// from the rows.
func TestSeriesCountedOnlyWhenTheCountersHoldTheAnswer(t *testing.T) {
	alerts, _ := query.Lookup("alerts")
	for _, tc := range []struct {
		query   string
		groupBy []string
		counted bool
	}{
		{"", nil, true},
		{"true", []string{"severity"}, true},
		{`severity >= "high"`, nil, true},
		{`severity == "high" && status == "new"`, nil, false},
		{`"edr" in tags`, nil, false},
		{`tags.exists(severity, severity == "high")`, nil, false},
		{`created_at > now - duration("1h")`, nil, false},
		{"", []string{"source"}, false},
		{"", []string{"severity", "status"}, false},
	} {
		got, err := query.SeriesCounted(alerts, tc.query, tc.groupBy)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.counted {
			t.Errorf("%q grouped by %v: counted %v, want %v", tc.query, tc.groupBy, got, tc.counted)
		}
	}
}
