package metrics

import (
	"context"
	"math"
	"slices"
	"strconv"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/incident"
)

// Durations are computed where the rows are, by one rule on both
// databases: the mean, and the median and 90th percentile by linear
// interpolation between the two nearest ranks (PostgreSQL's
// percentile_cont). PostgreSQL computes all three in SQL, overall and per
// severity in one GROUP BY ROLLUP; SQLite has no percentile function, so
// it returns the durations in order and Go picks the ranks (memory grows
// with the rows of the range, which MaxPeriod bounds; SQLite is the
// small-deployment database).

// span is a duration measured on a source's rows: from column start to
// column end, the rows a metric keeps.
type span struct {
	start, end string
}

// seconds is end - start in seconds, in dialect d.
func (sp span) seconds(d string, sel *sql.Selector) string {
	if d == dialect.Postgres {
		// date_part gives float8; EXTRACT gives numeric, whose sorts for
		// the percentiles and sums for the mean are several times slower.
		return "date_part('epoch', " + sel.C(sp.end) + " - " + sel.C(sp.start) + ")"
	}
	return "((julianday(" + sel.C(sp.end) + ") - julianday(" + sel.C(sp.start) + ")) * 86400.0)"
}

// scanner runs a query reshaped by mod into v: an alert or incident query.
type scanner func(ctx context.Context, mod func(*sql.Selector), v any) error

func alertScanner(q *ent.AlertQuery) scanner {
	return func(ctx context.Context, mod func(*sql.Selector), v any) error { return q.Modify(mod).Scan(ctx, v) }
}

func incidentScanner(q *ent.IncidentQuery) scanner {
	return func(ctx context.Context, mod func(*sql.Selector), v any) error { return q.Modify(mod).Scan(ctx, v) }
}

// durations computes sp's statistics over the rows scan reads, overall and
// per severity.
func (s *Service) durations(ctx context.Context, scan scanner, sp span) (*Durations, error) {
	if s.dialect == dialect.Postgres {
		return durationsSQL(ctx, scan, sp)
	}
	return durationsInGo(ctx, scan, sp, s.dialect)
}

func durationsSQL(ctx context.Context, scan scanner, sp span) (*Durations, error) {
	var rows []struct {
		Severity nullString `sql:"severity"`
		N        int        `sql:"n"`
		Mean     *float64   `sql:"mean"`
		Median   *float64   `sql:"median"`
		P90      *float64   `sql:"p90"`
	}
	err := scan(ctx, func(sel *sql.Selector) {
		d := sp.seconds(dialect.Postgres, sel)
		sev := sel.C("severity")
		sel.Select(sev).
			AppendSelectExprAs(sql.Expr("COUNT(*)"), "n").
			AppendSelectExprAs(sql.Expr("AVG("+d+")"), "mean").
			AppendSelectExprAs(sql.Expr("percentile_cont(0.5) WITHIN GROUP (ORDER BY "+d+")"), "median").
			AppendSelectExprAs(sql.Expr("percentile_cont(0.9) WITHIN GROUP (ORDER BY "+d+")"), "p90").
			GroupBy("ROLLUP (" + sev + ")")
	}, &rows)
	if err != nil {
		return nil, err
	}
	out := emptyDurations()
	for _, r := range rows {
		st := &Stats{Count: r.N, Mean: Round(r.Mean), Median: Round(r.Median), P90: Round(r.P90)}
		if !r.Severity.Valid {
			out.Overall = st
			continue
		}
		if i := slices.IndexFunc(out.BySeverity, func(x *SeverityStats) bool { return string(x.Severity) == r.Severity.S }); i >= 0 {
			out.BySeverity[i].Stats = st
		}
	}
	return out, nil
}

func durationsInGo(ctx context.Context, scan scanner, sp span, d string) (*Durations, error) {
	var rows []struct {
		Severity string  `sql:"severity"`
		D        float64 `sql:"d"`
	}
	err := scan(ctx, func(sel *sql.Selector) {
		e := sp.seconds(d, sel)
		sel.Select(sel.C("severity")).AppendSelectExprAs(sql.Expr(e), "d").OrderExpr(sql.Expr(e))
	}, &rows)
	if err != nil {
		return nil, err
	}
	all := make([]float64, len(rows))
	per := map[string][]float64{}
	for i, r := range rows {
		all[i] = r.D
		per[r.Severity] = append(per[r.Severity], r.D)
	}
	out := emptyDurations()
	out.Overall = Summarise(all)
	for _, ss := range out.BySeverity {
		ss.Stats = Summarise(per[string(ss.Severity)])
	}
	return out, nil
}

func emptyDurations() *Durations {
	out := &Durations{Overall: &Stats{}}
	for _, sev := range severities() {
		out.BySeverity = append(out.BySeverity, &SeverityStats{Severity: sev, Stats: &Stats{}})
	}
	return out
}

// Summarise is the one definition of a duration summary (the SLA figures
// use it too): count, mean, and the median and 90th percentile by linear
// interpolation (percentile_cont), each rounded to the millisecond, of
// sorted durations.
func Summarise(sorted []float64) *Stats {
	st := &Stats{Count: len(sorted)}
	if len(sorted) == 0 {
		return st
	}
	sum := 0.0
	for _, v := range sorted {
		sum += v
	}
	mean := sum / float64(len(sorted))
	st.Mean = Round(&mean)
	med, p90 := percentile(sorted, 0.5), percentile(sorted, 0.9)
	st.Median, st.P90 = Round(&med), Round(&p90)
	return st
}

// percentile is percentile_cont: linear interpolation between the ranks
// around p·(n-1) of sorted.
func percentile(sorted []float64, p float64) float64 {
	pos := p * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
}

// Round keeps milliseconds: SQLite's julianday arithmetic is exact to a
// few microseconds, so both databases show the same figures.
func Round(v *float64) *float64 {
	if v == nil {
		return nil
	}
	r := math.Round(*v*1000) / 1000
	return &r
}

// nullString scans a nullable text column.
type nullString struct {
	S     string
	Valid bool
}

func (n *nullString) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		n.S, n.Valid = "", false
	case string:
		n.S, n.Valid = x, true
	case []byte:
		n.S, n.Valid = string(x), true
	default:
		n.S, n.Valid = "", false
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// The spans of the duration metrics, and which rows they keep.
var (
	detectSpan      = span{start: alert.FieldEventTime, end: alert.FieldCreatedAt}
	resolveSpan     = span{start: alert.FieldCreatedAt, end: alert.FieldResolvedAt}
	ackIncidentSpan = span{start: incident.FieldCreatedAt, end: incident.FieldAcknowledgedAt}
	closeSpan       = span{start: incident.FieldCreatedAt, end: incident.FieldClosedAt}
)

// periods counts the rows scan reads per period, current (end at or after
// since) and previous, and the median of sp over each when sp is set.
func (s *Service) periods(ctx context.Context, scan scanner, sp span, end string, since time.Time) (count, median *Comparison, err error) {
	var rows []struct {
		Cur    int      `sql:"cur"`
		N      int      `sql:"n"`
		Median *float64 `sql:"median"`
		D      *float64 `sql:"d"`
	}
	inGo := sp.end != "" && s.dialect != dialect.Postgres
	err = scan(ctx, func(sel *sql.Selector) {
		cur := s.atOrAfter(sel.C(end), since)
		sel.Select().AppendSelectExprAs(sql.Expr(cur), "cur")
		switch {
		case inGo:
			d := sp.seconds(s.dialect, sel)
			sel.AppendSelectExprAs(sql.Expr("1"), "n").AppendSelectExprAs(sql.Expr(d), "d").OrderExpr(sql.Expr(d))
			return
		case sp.end != "":
			sel.AppendSelectExprAs(sql.Expr("percentile_cont(0.5) WITHIN GROUP (ORDER BY "+sp.seconds(s.dialect, sel)+")"), "median")
		}
		sel.AppendSelectExprAs(sql.Expr("COUNT(*)"), "n").GroupBy(cur)
	}, &rows)
	if err != nil {
		return nil, nil, err
	}
	zero := 0.0
	count, median = &Comparison{Current: &zero, Previous: ptrTo(0.0)}, &Comparison{}
	pick := func(cur int) (c **float64, m **float64) {
		if cur == 1 {
			return &count.Current, &median.Current
		}
		return &count.Previous, &median.Previous
	}
	if inGo {
		per := map[int][]float64{}
		for _, r := range rows {
			per[r.Cur] = append(per[r.Cur], *r.D)
		}
		for cur, ds := range per {
			c, m := pick(cur)
			st := Summarise(ds)
			*c, *m = ptrTo(float64(st.Count)), st.Median
		}
		return count, median, nil
	}
	for _, r := range rows {
		c, m := pick(r.Cur)
		*c, *m = ptrTo(float64(r.N)), Round(r.Median)
	}
	return count, median, nil
}

// atOrAfter is 1 when col is at or after t (whole seconds), else 0: the
// epoch seconds are written into the SQL as an integer.
func (s *Service) atOrAfter(col string, t time.Time) string {
	secs := strconv.FormatInt(t.Unix(), 10)
	if s.dialect == dialect.Postgres {
		return "(CASE WHEN EXTRACT(EPOCH FROM " + col + ") >= " + secs + " THEN 1 ELSE 0 END)"
	}
	return "(CASE WHEN CAST(strftime('%s', " + col + ") AS INTEGER) >= " + secs + " THEN 1 ELSE 0 END)"
}

func ptrTo[T any](v T) *T { return &v }
