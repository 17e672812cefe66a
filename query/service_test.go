package query_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/storage"
)

// TestSeriesFollowsTheOrganisationsZone: buckets are local days and hours
// on both databases, including a zone half an hour off UTC, folded from
// UTC slots.
func TestSeriesFollowsTheOrganisationsZone(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db)
		ctx, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
		if err := db.Client.Organization.UpdateOneID(org.ID).SetTimezone("Asia/Kolkata").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		kolkata, _ := time.LoadLocation("Asia/Kolkata")
		// 23:50 and 00:10 local on consecutive days; 18:20 and 18:40 UTC.
		times := []time.Time{
			time.Date(2026, 11, 29, 23, 50, 0, 0, kolkata),
			time.Date(2026, 11, 30, 0, 10, 0, 0, kolkata),
			time.Date(2026, 11, 30, 0, 20, 0, 0, kolkata),
		}
		for i, at := range times {
			db.Client.Alert.Create().SetOrganizationID(org.ID).SetTitle(fmt.Sprint("a", i)).SetSource("s").
				SetSeverity(enum.SeverityHigh).SetCreatedAt(at.UTC()).SetLastSeenAt(at.UTC()).SaveX(ctx)
		}
		svc := query.New(db.Client, db.Dialect).WithClock(func() time.Time { return fixtureNow })
		since, until := time.Date(2026, 11, 29, 0, 0, 0, 0, kolkata), time.Date(2026, 12, 1, 0, 0, 0, 0, kolkata)
		res, err := svc.Run(ctx, query.RunInput{Source: "alerts", Query: `severity == "high"`, Interval: "1d", Since: &since, Until: &until})
		if err != nil {
			t.Fatal(err)
		}
		if res.TimeZone != "Asia/Kolkata" || len(res.Series) != 2 || res.Series[0].Count != 1 || res.Series[1].Count != 2 ||
			!res.Series[1].Start.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, kolkata)) {
			t.Fatalf("daily series: %s", seriesString(res))
		}
		res, err = svc.Run(ctx, query.RunInput{Source: "alerts", Query: "", Interval: "1h", Since: &since, Until: &until, GroupBy: []string{"severity"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Series) != 48 || res.Series[23].Count != 1 || res.Series[24].Count != 2 || res.Total != 3 {
			t.Fatalf("hourly series: %s", seriesString(res))
		}
		if g := res.Series[24].Groups; len(g) != 1 || g[0].Key[0] != "high" || g[0].Count != 2 {
			t.Fatalf("hourly groups: %+v", g)
		}
	})
}

func seriesString(r *query.Result) string {
	s := r.TimeZone
	for _, b := range r.Series {
		if b.Count > 0 {
			s += fmt.Sprintf(" %s=%d", b.Start.Format(time.RFC3339), b.Count)
		}
	}
	return fmt.Sprintf("%s (%d buckets)", s, len(r.Series))
}

// TestLimitsHitOnPurpose: a run past its time limit, a program over its
// cost estimate and a series over its bucket limit are refused with
// QUERY_TOO_EXPENSIVE, on both databases.
func TestLimitsHitOnPurpose(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db)
		ctx, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
		bulk := make([]*ent.AlertCreate, 3000)
		for i := range bulk {
			bulk[i] = db.Client.Alert.Create().SetOrganizationID(org.ID).SetTitle(fmt.Sprintf("alert %d with a longer title to scan", i)).
				SetSource("s").SetTags([]string{"a", "b", "c"})
		}
		for i := 0; i < len(bulk); i += 500 {
			db.Client.Alert.CreateBulk(bulk[i : i+500]...).ExecX(ctx)
		}
		slow := query.New(db.Client, db.Dialect).WithTimeout(time.Millisecond)
		heavy := `title.matches("(a|b|c|d|e|f|g|h)+[0-9]{3}x") || tags.exists(t, t.matches("z+$")) || description.contains("zz")`
		_, err := slow.Run(ctx, query.RunInput{Source: "alerts", Query: heavy, GroupBy: []string{"source", "severity", "status"}})
		wantCode(t, "timeout", err, apperr.QueryTooExpensive)

		src, _ := query.Lookup("alerts")
		costly := ""
		for i := 0; i < 12; i++ {
			costly += fmt.Sprintf(`entities.url.exists(u, u.matches("^(http|https)://[a-z]{%d,}\\.example/.*"))`, i) + " || "
		}
		_, err = query.Compile(src, "query", costly+"false", fixtureNow)
		wantCode(t, "static cost", err, apperr.QueryTooExpensive)

		svc := query.New(db.Client, db.Dialect)
		since := time.Now().Add(-30 * 24 * time.Hour)
		_, err = svc.Run(ctx, query.RunInput{Source: "alerts", Query: "true", Interval: "5m", Since: &since})
		wantCode(t, "buckets", err, apperr.QueryTooExpensive)
	})
}

func wantCode(t *testing.T, what string, err error, code apperr.Code) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != code || e.Message == "" {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}
