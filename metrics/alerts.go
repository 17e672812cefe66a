package metrics

import (
	"context"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/rule"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/storage"
)

// openAlertStatuses are the statuses of an alert still being worked.
var openAlertStatuses = []enum.AlertStatus{enum.AlertStatusNew, enum.AlertStatusAcknowledged, enum.AlertStatusInProgress}

// alertNarrowing is the connector, severity and query narrowing of sc.
func (sc *scope) alertNarrowing() []predicate.Alert {
	var ps []predicate.Alert
	if sc.rng.Connector != nil {
		ps = append(ps, alert.ConnectorID(*sc.rng.Connector))
	}
	if len(sc.rng.Severity) > 0 {
		ps = append(ps, alert.SeverityIn(sc.rng.Severity...))
	}
	if sc.alertQ != nil {
		ps = append(ps, predicate.Alert(sc.alertQ.Where()))
	}
	return ps
}

// alertsCreated is the alerts created in sc's period, narrowed.
func (s *Service) alertsCreated(sc *scope) *ent.AlertQuery {
	return s.client.Alert.Query().Where(alert.CreatedAtGTE(sc.since), alert.CreatedAtLT(sc.until)).Where(sc.alertNarrowing()...)
}

func (sc *scope) incidentNarrowing() []predicate.Incident {
	var ps []predicate.Incident
	if len(sc.rng.Severity) > 0 {
		ps = append(ps, incident.SeverityIn(sc.rng.Severity...))
	}
	if sc.incidentQ != nil {
		ps = append(ps, predicate.Incident(sc.incidentQ.Where()))
	}
	return ps
}

func (s *Service) incidentsCreated(sc *scope) *ent.IncidentQuery {
	return s.client.Incident.Query().Where(incident.CreatedAtGTE(sc.since), incident.CreatedAtLT(sc.until)).Where(sc.incidentNarrowing()...)
}

// --- volume -----------------------------------------------------------------

// autoInterval picks the finest interval giving at most about 200 buckets.
func autoInterval(sc *scope) string {
	span := sc.until.Sub(sc.since)
	for _, name := range volumeIntervals {
		w, _ := query.Interval(name)
		if span/w <= 200 {
			return name
		}
	}
	return "1d"
}

// volumeIntervals are the widths volume accepts, finest first.
var volumeIntervals = []string{"5m", "15m", "30m", "1h", "3h", "6h", "12h", "1d"}

// ParseInterval checks a volume interval: one of 5m … 1d, or "" for auto.
func ParseInterval(name string) (string, error) {
	if name == "" || slices.Contains(volumeIntervals, name) {
		return name, nil
	}
	return "", apperr.Invalid("interval", "must be one of %s, or left out to fit the range", strings.Join(volumeIntervals, ", "))
}

// AlertVolume counts the alerts created per bucket, split by severity.
func (s *Service) AlertVolume(ctx context.Context, r *Range, interval *string, org *string) (*Volume, error) {
	name := ""
	if interval != nil {
		name = *interval
	}
	name, err := ParseInterval(name)
	if err != nil {
		return nil, err
	}
	sc, err := s.resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = autoInterval(sc)
	}
	width, _ := query.Interval(name)
	b, ok := query.NewBuckets(sc.since, sc.until, width, sc.loc, MaxBuckets)
	if !ok {
		return nil, &apperr.Error{Code: apperr.QueryTooExpensive, Field: "interval",
			Message: "over " + itoa(MaxBuckets) + " buckets of " + name + "; use a longer interval or a shorter range"}
	}
	return rolled(ctx, s, org, func(ctx context.Context) (*Volume, error) {
		return s.volume(ctx, sc, b, name)
	}, func(t *Volume, o *ent.Organization, row *Volume) *Volume {
		row.Row = rowOf(o)
		t.Organizations = append(t.Organizations, row)
		return t
	})
}

// slotRow is a count of one severity in one slot.
type slotRow struct {
	Severity string `sql:"severity"`
	Slot     int64  `sql:"slot"`
	N        int    `sql:"n"`
}

// volume counts per bucket. Without a query or connector narrowing, and
// with buckets of whole quarter hours, the whole quarter hours of the
// range are summed from the slot counters (storage/alertslots.go), a few
// rows per quarter hour however many alerts, and only the partial quarter
// hours at either end are counted from the alerts.
func (s *Service) volume(ctx context.Context, sc *scope, b *query.Buckets, name string) (*Volume, error) {
	sevs := severities()
	out := &Volume{Interval: name, TimeZone: sc.loc.String(), Buckets: make([]*VolumeBucket, len(b.Starts))}
	for i, st := range b.Starts {
		out.Buckets[i] = &VolumeBucket{Start: st, BySeverity: make([]*SeverityCount, len(sevs))}
		for j, sev := range sevs {
			out.Buckets[i].BySeverity[j] = &SeverityCount{Severity: sev}
		}
	}
	add := func(rows []slotRow, grain *query.Buckets) {
		for _, r := range rows {
			i := grain.Index(r.Slot)
			j := slices.Index(sevs, enum.Severity(r.Severity))
			if i < 0 || j < 0 {
				continue
			}
			out.Buckets[i].Count += r.N
			out.Buckets[i].BySeverity[j].Count += r.N
			out.Total += r.N
		}
	}
	lo, hi, whole := storage.WholeAlertSlots(sc.since, sc.until)
	if sc.alertQ != nil || sc.rng.Connector != nil || b.Slot%storage.AlertSlot != 0 || !whole {
		rows, err := s.scanSlots(ctx, sc, b)
		add(rows, b)
		return out, err
	}
	for _, part := range sc.edges(lo, hi) {
		rows, err := s.scanSlots(ctx, part, b)
		if err != nil {
			return nil, err
		}
		add(rows, b)
	}
	rows, err := s.countedSlots(ctx, sc, lo, hi)
	if err != nil {
		return nil, err
	}
	add(rows, &query.Buckets{Starts: b.Starts, Slot: storage.AlertSlot, Location: b.Location})
	return out, nil
}

// scanSlots counts the alerts created in sc's range per severity and slot
// of b's grain.
func (s *Service) scanSlots(ctx context.Context, sc *scope, b *query.Buckets) ([]slotRow, error) {
	var rows []slotRow
	err := s.alertsCreated(sc).Modify(func(sel *sql.Selector) {
		slot := b.SlotSQL(s.dialect, sel.C(alert.FieldCreatedAt))
		sel.Select(sel.C(alert.FieldSeverity)).AppendSelectExprAs(sql.Expr(slot), "slot").
			AppendSelectExprAs(sql.Expr("COUNT(*)"), "n").
			GroupBy(sel.C(alert.FieldSeverity), slot)
	}).Scan(ctx, &rows)
	return rows, err
}

// countedSlots sums the slot counters of [lo, hi), whole quarter hours, of
// the organisations the viewer reads, narrowed by severity.
func (s *Service) countedSlots(ctx context.Context, sc *scope, lo, hi time.Time) ([]slotRow, error) {
	orgs, err := rule.ReadableOrgs(ctx)
	if err != nil {
		return nil, err
	}
	var sevs []string
	for _, v := range sc.rng.Severity {
		sevs = append(sevs, string(v))
	}
	counts, err := storage.CountAlertSlots(ctx, s.client, s.dialect, orgs, lo, hi, sevs)
	out := make([]slotRow, len(counts))
	for i, c := range counts {
		out[i] = slotRow{Severity: c.Severity, Slot: c.Slot, N: c.N}
	}
	return out, err
}

// severities are every severity, most severe first.
func severities() []enum.Severity {
	var out []enum.Severity
	for _, v := range enum.Severity("").Values() {
		out = append(out, enum.Severity(v))
	}
	slices.SortFunc(out, func(a, b enum.Severity) int { return b.Rank() - a.Rank() })
	return out
}

// --- breakdowns -------------------------------------------------------------

// breakdownRow is one grouped count; name is the joined display name.
type breakdownRow struct {
	Key  string `sql:"k"`
	Name string `sql:"name"`
	N    int    `sql:"n"`
}

// grouping is what a breakdown groups by: the column, and for ids the
// table whose name (a display column) shows it.
type grouping struct {
	column string
	table  string
	// labels are the table's columns naming a row, the first not empty wins.
	labels []string
}

// group adds the breakdown's SELECT and GROUP BY to sel, counting rows.
func (g grouping) group(sel *sql.Selector) { g.groupBy("COUNT(*)")(sel) }

// groupBy adds the breakdown's SELECT and GROUP BY to sel, each group's n
// being agg. The name's join reads the connector's or user's name beside
// an id the privacy rules already let through (the row's own foreign key,
// or a counter's key of an organisation the viewer reads).
func (g grouping) groupBy(agg string) func(*sql.Selector) {
	return func(sel *sql.Selector) { g.selectGroups(sel, agg) }
}

func (g grouping) selectGroups(sel *sql.Selector, agg string) {
	key := "COALESCE(CAST(" + sel.C(g.column) + " AS TEXT), '')"
	name := "''"
	if g.table != "" {
		t := sql.Table(g.table).As("n0")
		sel.LeftJoin(t).On(sel.C(g.column), t.C("id"))
		var parts []string
		for _, l := range g.labels {
			parts = append(parts, "NULLIF("+t.C(l)+", '')")
		}
		name = "COALESCE(" + strings.Join(parts, ", ") + ", '')"
	}
	cols := []string{key}
	if g.table != "" {
		cols = append(cols, name)
	}
	sel.Select().AppendSelectExprAs(sql.Expr(key), "k").AppendSelectExprAs(sql.Expr(name), "name").
		AppendSelectExprAs(sql.Expr(agg), "n").GroupBy(cols...)
}

// breakdown turns rows into a Breakdown, largest first, then by key.
func breakdown(rows []breakdownRow, ranked bool) *Breakdown {
	out := &Breakdown{Values: []*Value{}}
	for _, r := range rows {
		name := r.Name
		if name == "" {
			name = r.Key
		}
		out.Values = append(out.Values, &Value{Key: r.Key, Name: name, Count: r.N})
		out.Total += r.N
	}
	slices.SortFunc(out.Values, func(a, b *Value) int {
		if ranked { // severities in their order, not by count
			return enum.Severity(b.Key).Rank() - enum.Severity(a.Key).Rank()
		}
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

func attachBreakdown(t *Breakdown, o *ent.Organization, row *Breakdown) *Breakdown {
	row.Row = rowOf(o)
	t.Organizations = append(t.Organizations, row)
	return t
}

var alertGroupings = map[string]grouping{
	"severity":  {column: alert.FieldSeverity},
	"status":    {column: alert.FieldStatus},
	"connector": {column: alert.FieldConnectorID, table: "connectors", labels: []string{"name"}},
	"assignee":  {column: alert.FieldAssigneeID, table: "users", labels: []string{"name", "email"}},
}

// AlertsBy counts the alerts created in the range per value of field
// (severity, status, connector or assignee).
func (s *Service) AlertsBy(ctx context.Context, field string, r *Range, org *string) (*Breakdown, error) {
	g, ok := alertGroupings[field]
	if !ok {
		return nil, apperr.Invalid("field", "unknown breakdown %q", field)
	}
	sc, err := s.resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	return rolled(ctx, s, org, func(ctx context.Context) (*Breakdown, error) {
		rows, err := s.alertGroups(ctx, sc, g)
		if err != nil {
			return nil, err
		}
		return breakdown(rows, field == "severity"), nil
	}, attachBreakdown)
}

// alertGroups counts the alerts created in sc's range per group of g.
// Without a query narrowing, the range is read from the period counters
// (storage/alerthours.go: every breakdown's column and the severity and
// connector narrowing are their keys): its whole days, then the whole
// hours at either end, and only the partial hours at the ends are counted
// from the alerts, some thousands of rows a week however many alerts.
func (s *Service) alertGroups(ctx context.Context, sc *scope, g grouping) ([]breakdownRow, error) {
	lo, hi, whole := storage.AlertHours.Whole(sc.since, sc.until)
	if sc.alertQ != nil || !whole {
		return s.scanGroups(ctx, sc, g)
	}
	var rows []breakdownRow
	for _, sp := range countedSpans(lo, hi) {
		more, err := s.countedGroups(ctx, sc, g, sp)
		if err != nil {
			return nil, err
		}
		rows = append(rows, more...)
	}
	for _, part := range sc.edges(lo, hi) {
		more, err := s.scanGroups(ctx, part, g)
		if err != nil {
			return nil, err
		}
		rows = append(rows, more...)
	}
	return mergeGroups(rows), nil
}

// countedSpan is [lo, hi), whole periods of grain.
type countedSpan struct {
	grain  storage.AlertCountGrain
	lo, hi time.Time
}

// countedSpans cuts [lo, hi), whole hours, into its whole days and the
// hours before and after them.
func countedSpans(lo, hi time.Time) []countedSpan {
	dlo, dhi, days := storage.AlertDays.Whole(lo, hi)
	if !days {
		return []countedSpan{{storage.AlertHours, lo, hi}}
	}
	out := []countedSpan{{storage.AlertDays, dlo, dhi}}
	for _, sp := range []countedSpan{{storage.AlertHours, lo, dlo}, {storage.AlertHours, dhi, hi}} {
		if sp.lo.Before(sp.hi) {
			out = append(out, sp)
		}
	}
	return out
}

// scanGroups counts the alerts created in sc's range per group of g.
func (s *Service) scanGroups(ctx context.Context, sc *scope, g grouping) ([]breakdownRow, error) {
	var rows []breakdownRow
	err := s.alertsCreated(sc).Modify(g.group).Scan(ctx, &rows)
	return rows, err
}

// countedGroups sums the period counters of sp of the organisations the
// viewer reads, per group of g, narrowed by severity and connector.
func (s *Service) countedGroups(ctx context.Context, sc *scope, g grouping, sp countedSpan) ([]breakdownRow, error) {
	var rows []breakdownRow
	err := s.scanCounters(ctx, sp.grain.View(), &rows, func(sel *sql.Selector) { g.selectGroups(sel, storage.SumN(sel)) },
		append(sc.alertNarrowing(), sp.buckets)...)
	return rows, err
}

// buckets keeps a period counter view's rows of sp.
func (sp countedSpan) buckets(sel *sql.Selector) {
	sel.Where(sql.And(sql.GTE(sel.C("bucket"), sp.grain.Bucket(sp.lo)), sql.LT(sel.C("bucket"), sp.grain.Bucket(sp.hi))))
}

// scanCounters reads the counter view's rows of the organisations the
// viewer reads, filtered by ps and shaped by shape, into rows (a pointer
// to a slice, left empty when the viewer reads none). The counters'
// columns are named as the alerts', so alert predicates apply to them.
func (s *Service) scanCounters(ctx context.Context, view string, rows any, shape func(*sql.Selector), ps ...predicate.Alert) error {
	orgs, err := rule.ReadableOrgs(ctx)
	if err != nil || len(orgs) == 0 {
		return err
	}
	sel := storage.CountersOf(s.dialect, view, orgs)
	for _, p := range ps {
		p(sel)
	}
	shape(sel)
	q, args := sel.Query()
	rs, err := s.client.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	if err := sql.ScanSlice(rs, rows); err != nil {
		return err
	}
	return rs.Err()
}

// mergeGroups adds up the rows of each key, leaving out keys whose total
// is zero (counters of alerts since moved or deleted).
func mergeGroups(rows []breakdownRow) []breakdownRow {
	var out []breakdownRow
	at := map[string]int{}
	for _, r := range rows {
		i, ok := at[r.Key]
		if !ok {
			at[r.Key] = len(out)
			out = append(out, r)
			continue
		}
		out[i].N += r.N
		if out[i].Name == "" {
			out[i].Name = r.Name
		}
	}
	return slices.DeleteFunc(out, func(r breakdownRow) bool { return r.N == 0 })
}

// createdCount is the number of alerts created in sc's range, narrowed.
func (s *Service) createdCount(ctx context.Context, sc *scope) (int, error) {
	rows, err := s.alertGroups(ctx, sc, alertGroupings["severity"])
	n := 0
	for _, r := range rows {
		n += r.N
	}
	return n, err
}

// UnassignedAlertCount counts the alerts open and unassigned now, narrowed
// by connector, severity and query (the range does not apply: it is now).
func (s *Service) UnassignedAlertCount(ctx context.Context, r *Range, org *string) (*Count, error) {
	sc, err := s.resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	return rolled(ctx, s, org, func(ctx context.Context) (*Count, error) {
		n, err := s.unassigned(ctx, sc)
		return &Count{Count: n}, err
	}, attachCount)
}

// alertOpen keeps the alerts still being worked.
func alertOpen() predicate.Alert { return alert.StatusIn(openAlertStatuses...) }

func (s *Service) unassigned(ctx context.Context, sc *scope) (int, error) {
	return s.openAlerts(ctx, sc, alert.AssigneeIDIsNil())
}

// openAlerts counts the alerts open now, narrowed by sc and also. Without
// a query narrowing every condition is on a key of the alert counters
// (storage/alertcounts.go: status, severity, connector, assignee), so the
// count is a sum over a few counter rows however many alerts are open.
func (s *Service) openAlerts(ctx context.Context, sc *scope, also ...predicate.Alert) (int, error) {
	preds := append([]predicate.Alert{alertOpen()}, also...)
	if sc.alertQ != nil {
		return s.client.Alert.Query().Where(preds...).Where(sc.alertNarrowing()...).Count(ctx)
	}
	var rows []struct {
		N int `sql:"n"`
	}
	err := s.scanCounters(ctx, storage.AlertCountsView, &rows, func(sel *sql.Selector) {
		sel.Select().AppendSelectExprAs(sql.Expr("COALESCE("+storage.SumN(sel)+", 0)"), "n")
	}, append(preds, sc.alertNarrowing()...)...)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	return rows[0].N, nil
}

func attachCount(t *Count, o *ent.Organization, row *Count) *Count {
	row.Row = rowOf(o)
	t.Organizations = append(t.Organizations, row)
	return t
}

var incidentGroupings = map[string]grouping{
	"status":   {column: incident.FieldStatus},
	"assignee": {column: incident.FieldAssigneeID, table: "users", labels: []string{"name", "email"}},
}

// IncidentsBy counts the incidents created in the range per status or
// assignee.
func (s *Service) IncidentsBy(ctx context.Context, field string, r *Range, org *string) (*Breakdown, error) {
	g, ok := incidentGroupings[field]
	if !ok {
		return nil, apperr.Invalid("field", "unknown breakdown %q", field)
	}
	sc, err := s.resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := sc.incidentScope(); err != nil {
		return nil, err
	}
	return rolled(ctx, s, org, func(ctx context.Context) (*Breakdown, error) {
		var rows []breakdownRow
		if err := s.incidentsCreated(sc).Modify(g.group).Scan(ctx, &rows); err != nil {
			return nil, err
		}
		return breakdown(rows, false), nil
	}, attachBreakdown)
}

// OpenIncidentCount counts the incidents not closed now, narrowed by
// severity and query.
func (s *Service) OpenIncidentCount(ctx context.Context, r *Range, org *string) (*Count, error) {
	sc, err := s.resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := sc.incidentScope(); err != nil {
		return nil, err
	}
	return rolled(ctx, s, org, func(ctx context.Context) (*Count, error) {
		n, err := s.openIncidents(ctx, sc)
		return &Count{Count: n}, err
	}, attachCount)
}

func (s *Service) openIncidents(ctx context.Context, sc *scope) (int, error) {
	return s.client.Incident.Query().Where(incident.StatusNEQ(enum.IncidentStatusClosed)).Where(sc.incidentNarrowing()...).Count(ctx)
}
