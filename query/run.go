package query

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/viewer"
)

// Limits of a run.
const (
	// DefaultTop and MaxTop bound the groups a grouped run returns (the rest
	// are summed as "other").
	DefaultTop = 10
	MaxTop     = 100
	// maxGroupBy bounds the fields grouped by at once.
	maxGroupBy = 3
	// maxBuckets bounds a time series.
	maxBuckets = 2000
	// maxGroupRows bounds the (slot, group) rows a grouped run reads.
	maxGroupRows = 200_000
	// maxFields bounds the fields a row run returns.
	maxFields = 50
)

// RunInput is one run of the query runner.
type RunInput struct {
	Source string
	Query  string
	// Fields of each row (rows only); id is always there.
	Fields []string
	// Sort is a sortable field, "-" first for descending; default the
	// source's time field, newest first.
	Sort   string
	Limit  *int
	Cursor *string
	// Since and Until bound the source's time field: [Since, Until).
	Since, Until *time.Time
	// GroupBy counts per value of these fields instead of returning rows.
	GroupBy []string
	// Interval counts per time bucket of this width (5m, 1h, 1d…), in the
	// organisation's time zone.
	Interval string
	// Top is how many groups to return before "other".
	Top *int
}

// Result is a run's answer: rows, or groups, or a time series.
type Result struct {
	Source string
	// Rows, when neither GroupBy nor Interval was asked.
	Rows        []map[string]any
	NextCursor  *string
	HasNextPage bool
	// Groups, when GroupBy was asked without Interval: the top groups,
	// largest first, then "other" when more groups matched.
	Groups []*Group
	// Series, when Interval was asked: every bucket of the range, oldest
	// first, each with its groups when GroupBy was asked too.
	Series []*Bucket
	// Total is the number of matching rows, in grouped runs.
	Total int
	// TimeZone the buckets follow.
	TimeZone string
}

// Group is the count of one combination of the grouped fields' values.
type Group struct {
	Key   []string
	Count int
	// Other sums the groups beyond the top ones; its Key is empty.
	Other bool
}

// Bucket is one interval of a time series.
type Bucket struct {
	Start  time.Time
	Count  int
	Groups []*Group
}

// Run compiles in.Query and answers it.
func (s *Service) Run(ctx context.Context, in RunInput) (*Result, error) {
	src, ok := Lookup(in.Source)
	if !ok {
		return nil, apperr.Invalid("source", "unknown source %q; the sources are %s", in.Source, sourceNames())
	}
	now := s.now()
	q, err := Compile(src, "query", in.Query, now)
	if err != nil {
		return nil, err
	}
	if err := checkRange(in.Since, in.Until); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var res *Result
	switch {
	case in.Interval != "":
		res, err = s.series(ctx, q, in, now)
	case len(in.GroupBy) > 0:
		res, err = s.groups(ctx, q, in)
	default:
		res, err = s.rows(ctx, q, in)
	}
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	res.Source = src.Name
	return res, nil
}

func sourceNames() string {
	names := []string{}
	for _, s := range Sources() {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

// classify turns a cancelled statement into QUERY_TOO_EXPENSIVE.
func (s *Service) classify(ctx context.Context, err error) error {
	var pgErr *pgconn.PgError
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &pgErr) && pgErr.Code == "57014") {
		return &apperr.Error{Code: apperr.QueryTooExpensive, Field: "query",
			Message: fmt.Sprintf("the query ran past its %s limit and was stopped; narrow it with a shorter since/until range or more selective conditions (status, severity, source)", s.timeout)}
	}
	return err
}

func checkRange(since, until *time.Time) error {
	for _, b := range []struct {
		name string
		t    *time.Time
	}{{"since", since}, {"until", until}} {
		if b.t != nil && (b.t.UTC().Year() < 1 || b.t.UTC().Year() > 9999) {
			return apperr.Invalid(b.name, "must be between years 1 and 9999")
		}
	}
	if since != nil && until != nil && !since.Before(*until) {
		return apperr.Invalid("until", "must be after since")
	}
	return nil
}

// where is the compiled query and the time range over field.
func (s *Service) where(q *Query, field string, since, until *time.Time) func(*sql.Selector) {
	col := q.Source.byName[field].col.name
	return func(sel *sql.Selector) {
		sel.Where(q.where(sqlCtx{s: sel}))
		if since != nil {
			sel.Where(sql.GTE(sel.C(col), since.UTC()))
		}
		if until != nil {
			sel.Where(sql.LT(sel.C(col), until.UTC()))
		}
	}
}

// --- rows -------------------------------------------------------------------

// sortKey is a field rows can be ordered by: a column that is never NULL.
type sortKey struct {
	field  *Field
	column string
	desc   bool
}

func parseSort(src *Source, sort string) (sortKey, error) {
	name, desc := strings.CutPrefix(sort, "-")
	if sort == "" {
		name, desc = src.timeField, true
	}
	f, ok := src.byName[name]
	if !ok || f.col.kind != colPlain || f.col.nullable || f.Type == TypeStringList {
		return sortKey{}, apperr.Invalid("sort", "must be one of %s, optionally prefixed with - for descending", strings.Join(sortable(src), ", "))
	}
	col := f.col.name
	if f.Ranked {
		col = f.col.rank
	}
	return sortKey{field: f, column: col, desc: desc}, nil
}

func sortable(src *Source) []string {
	var out []string
	for _, f := range src.Fields {
		if f.col.kind == colPlain && !f.col.nullable && f.Type != TypeStringList {
			out = append(out, f.Name)
		}
	}
	return out
}

// rowCursor is where a page of rows ended: the sort value and the id.
type rowCursor struct {
	V  any    `json:"v"`
	ID string `json:"id"`
}

func (k sortKey) value(r Record) any {
	v := r[k.field.Name]
	if k.field.Ranked {
		rank, _ := k.field.rank(v.(string))
		return int64(rank)
	}
	return v
}

func encodeCursor(v any, id string) string {
	b, _ := json.Marshal(rowCursor{V: v, ID: id}) // strings, int64 and times marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor back into the sort column's Go type.
func (k sortKey) decodeCursor(c string) (any, string, error) {
	bad := apperr.Invalid("cursor", "is not a cursor of this query and sort")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, "", bad
	}
	var rc struct {
		V  json.RawMessage `json:"v"`
		ID string          `json:"id"`
	}
	if json.Unmarshal(b, &rc) != nil {
		return nil, "", bad
	}
	if _, err := uuid.Parse(rc.ID); err != nil {
		return nil, "", bad
	}
	switch {
	case k.field.Ranked || k.field.Type == TypeInt:
		var n int64
		if json.Unmarshal(rc.V, &n) != nil {
			return nil, "", bad
		}
		return n, rc.ID, nil
	case k.field.Type == TypeTimestamp:
		var t time.Time
		if json.Unmarshal(rc.V, &t) != nil {
			return nil, "", bad
		}
		return t.UTC(), rc.ID, nil
	}
	var str string
	if json.Unmarshal(rc.V, &str) != nil {
		return nil, "", bad
	}
	return str, rc.ID, nil
}

func (s *Service) rows(ctx context.Context, q *Query, in RunInput) (*Result, error) {
	src := q.Source
	key, err := parseSort(src, in.Sort)
	if err != nil {
		return nil, err
	}
	fields, err := rowFields(src, in.Fields)
	if err != nil {
		return nil, err
	}
	limit := paging.Default
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > paging.Max {
			return nil, apperr.Invalid("limit", "must be between 1 and %d", paging.Max)
		}
		limit = *in.Limit
	}
	where := s.where(q, q.Source.timeField, in.Since, in.Until)
	if in.Cursor != nil && *in.Cursor != "" {
		v, id, err := key.decodeCursor(*in.Cursor)
		if err != nil {
			return nil, err
		}
		base := where
		where = func(sel *sql.Selector) {
			base(sel)
			sel.Where(after(sel, key, v, id))
		}
	}
	order := func(sel *sql.Selector) {
		dir := " ASC"
		if key.desc {
			dir = " DESC"
		}
		col := sel.C(key.column)
		if sel.Dialect() == dialect.Postgres && key.field.Type == TypeString && !key.field.Ranked {
			col += ` COLLATE "C"`
		}
		sel.OrderExpr(sql.Expr(col+dir), sql.Expr(sel.C("id")+dir))
	}
	recs, err := backends[src.Name].records(ctx, s.client, where, order, limit+1)
	if err != nil {
		return nil, err
	}
	res := &Result{Rows: []map[string]any{}}
	if len(recs) > limit {
		recs = recs[:limit]
		res.HasNextPage = true
		last := recs[len(recs)-1]
		c := encodeCursor(key.value(last), last["id"].(string))
		res.NextCursor = &c
	}
	for _, r := range recs {
		row := map[string]any{"id": r["id"]}
		for _, f := range fields {
			row[f] = r[f]
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// after is the keyset condition "past (v, id)" in the sort's direction.
func after(sel *sql.Selector, key sortKey, v any, id string) *sql.Predicate {
	op := ">"
	if key.desc {
		op = "<"
	}
	typ := key.field.Type
	if key.field.Ranked {
		typ = TypeInt
	}
	c := toVal(v)
	idArg, idCol := parseID(id), sel.C("id")
	return sql.Or(
		opSQL(sel.Dialect(), sel.C(key.column), op, c, typ),
		sql.And(opSQL(sel.Dialect(), sel.C(key.column), "==", c, typ),
			sql.P(func(b *sql.Builder) { b.WriteString(idCol + " " + op + " ").Arg(idArg) })),
	)
}

// defaultRowFields are what a row shows when the caller names none.
var defaultRowFields = map[string][]string{
	"alerts":    {"title", "severity", "status", "source", "assignee.email", "last_seen_at"},
	"incidents": {"number", "title", "severity", "status", "assignee.email", "created_at"},
	"activity":  {"created_at", "actor.name", "action", "entity_type", "field"},
}

func rowFields(src *Source, names []string) ([]string, error) {
	if len(names) == 0 {
		return defaultRowFields[src.Name], nil
	}
	if len(names) > maxFields {
		return nil, apperr.Invalid("fields", "at most %d fields", maxFields)
	}
	for i, n := range names {
		f, ok := src.byName[n]
		if !ok {
			msg := fmt.Sprintf("unknown field %q of %s", n, src.Name)
			if s := closest(n, src.fieldNames()); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return nil, apperr.Invalid(fmt.Sprintf("fields.%d", i), "%s", msg)
		}
		if f.Type == TypeObject {
			return nil, apperr.Invalid(fmt.Sprintf("fields.%d", i), "%s is an object; name one of its fields (%s.…)", n, n)
		}
	}
	return names, nil
}

// --- groups -----------------------------------------------------------------

// groupKey reads one grouped field as text, "" when missing.
type groupKey struct {
	field *Field
}

func parseGroupBy(src *Source, names []string) ([]groupKey, error) {
	if len(names) > maxGroupBy {
		return nil, apperr.Invalid("group_by", "at most %d fields", maxGroupBy)
	}
	out := make([]groupKey, len(names))
	for i, n := range names {
		f, ok := src.byName[n]
		if !ok || !f.Groupable {
			return nil, apperr.Invalid(fmt.Sprintf("group_by.%d", i), "%q cannot be grouped by; the groupable fields of %s are %s", n, src.Name, strings.Join(groupable(src), ", "))
		}
		if slices.Contains(names[:i], n) {
			return nil, apperr.Invalid(fmt.Sprintf("group_by.%d", i), "%q is listed twice", n)
		}
		out[i] = groupKey{field: f}
	}
	return out, nil
}

func groupable(src *Source) []string {
	var out []string
	for _, f := range src.Fields {
		if f.Groupable {
			out = append(out, f.Name)
		}
	}
	return out
}

// expr adds what the key needs to sel's FROM and returns its SQL (text).
func (k groupKey) expr(sel *sql.Selector, i int) string {
	col := k.field.col
	switch col.kind {
	case colRelated:
		t := sql.Table(col.table).As(fmt.Sprintf("g%d", i))
		sel.LeftJoin(t).On(sel.C(col.name), t.C("id"))
		return "COALESCE(CAST(" + t.C(col.target) + " AS TEXT), '')"
	default:
		return "COALESCE(CAST(" + sel.C(col.name) + " AS TEXT), '')"
	}
}

func parseTop(top *int) (int, error) {
	if top == nil {
		return DefaultTop, nil
	}
	if *top < 1 || *top > MaxTop {
		return 0, apperr.Invalid("top", "must be between 1 and %d", MaxTop)
	}
	return *top, nil
}

// groupRow is one row of a grouped count: up to three keys, a time slot.
type groupRow struct {
	K0    string `sql:"k0"`
	K1    string `sql:"k1"`
	K2    string `sql:"k2"`
	Slot  int64  `sql:"slot"`
	Count int    `sql:"n"`
}

func (r groupRow) key(n int) []string { return []string{r.K0, r.K1, r.K2}[:n] }

// grouped counts per key (and per slot when slot is set).
func (s *Service) grouped(ctx context.Context, q *Query, field string, since, until *time.Time, keys []groupKey, slot func(*sql.Selector) string) ([]groupRow, error) {
	where := s.where(q, field, since, until)
	var rows []groupRow
	err := backends[q.Source.Name].scan(ctx, s.client, where, func(sel *sql.Selector) {
		var cols []string
		exprs := []sql.Querier{}
		for i := range 3 {
			e := "''"
			if i < len(keys) {
				e = keys[i].expr(sel, i)
				cols = append(cols, e)
			}
			exprs = append(exprs, sql.Expr(fmt.Sprintf("%s AS k%d", e, i)))
		}
		slotExpr := "0"
		if slot != nil {
			slotExpr = slot(sel)
			cols = append(cols, slotExpr)
		}
		exprs = append(exprs, sql.Expr(slotExpr+" AS slot"), sql.Expr("COUNT(*) AS n"))
		sel.SelectExpr(exprs...)
		if len(cols) > 0 {
			sel.GroupBy(cols...)
		}
		sel.Limit(maxGroupRows + 1)
	}, &rows)
	if err != nil {
		return nil, err
	}
	if len(rows) > maxGroupRows {
		return nil, &apperr.Error{Code: apperr.QueryTooExpensive, Field: "group_by",
			Message: fmt.Sprintf("over %d groups; group by fewer fields or narrow the range", maxGroupRows)}
	}
	return rows, nil
}

// grouping reads a run's group_by and top.
func grouping(src *Source, in RunInput) ([]groupKey, int, error) {
	keys, err := parseGroupBy(src, in.GroupBy)
	if err != nil {
		return nil, 0, err
	}
	top, err := parseTop(in.Top)
	return keys, top, err
}

func (s *Service) groups(ctx context.Context, q *Query, in RunInput) (*Result, error) {
	keys, top, err := grouping(q.Source, in)
	if err != nil {
		return nil, err
	}
	rows, err := s.grouped(ctx, q, q.Source.timeField, in.Since, in.Until, keys, nil)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	counts := map[string]*Group{}
	for _, r := range rows {
		k := r.key(len(keys))
		id := strings.Join(k, "\x00")
		if g, ok := counts[id]; ok {
			g.Count += r.Count
			continue
		}
		counts[id] = &Group{Key: k, Count: r.Count}
	}
	res.Groups, res.Total = topGroups(counts, top)
	return res, nil
}

// topGroups orders groups largest first (then by key), keeps top of them
// and sums the rest into "other"; it returns them with the total.
func topGroups(counts map[string]*Group, top int) ([]*Group, int) {
	all := make([]*Group, 0, len(counts))
	total := 0
	for _, g := range counts {
		all = append(all, g)
		total += g.Count
	}
	slices.SortFunc(all, func(a, b *Group) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return slices.Compare(a.Key, b.Key)
	})
	if len(all) <= top {
		return all, total
	}
	other := &Group{Key: []string{}, Other: true}
	for _, g := range all[top:] {
		other.Count += g.Count
	}
	return append(all[:top:top], other), total
}

// --- series -----------------------------------------------------------------

// intervals are the bucket widths a series may use.
var intervals = map[string]time.Duration{
	"1m": time.Minute, "5m": 5 * time.Minute, "15m": 15 * time.Minute, "30m": 30 * time.Minute,
	"1h": time.Hour, "3h": 3 * time.Hour, "6h": 6 * time.Hour, "12h": 12 * time.Hour,
	"1d": 24 * time.Hour, "1w": 7 * 24 * time.Hour,
}

func intervalNames() string {
	return "1m, 5m, 15m, 30m, 1h, 3h, 6h, 12h, 1d, 1w"
}

func (s *Service) series(ctx context.Context, q *Query, in RunInput, now time.Time) (*Result, error) {
	width, ok := intervals[in.Interval]
	if !ok {
		return nil, apperr.Invalid("interval", "must be one of %s", intervalNames())
	}
	keys, top, err := grouping(q.Source, in)
	if err != nil {
		return nil, err
	}
	loc, err := s.orgLocation(ctx)
	if err != nil {
		return nil, err
	}
	until := now
	if in.Until != nil {
		until = in.Until.UTC()
	}
	since := until.Add(-defaultSpan(width))
	if in.Since != nil {
		since = in.Since.UTC()
	}
	if !since.Before(until) {
		return nil, apperr.Invalid("since", "must be before until (%s by default)", until.Format(time.RFC3339))
	}
	buckets := bucketStarts(since, until, width, loc)
	if len(buckets) > maxBuckets {
		return nil, &apperr.Error{Code: apperr.QueryTooExpensive, Field: "interval",
			Message: fmt.Sprintf("%d buckets of %s, over the limit of %d; use a longer interval or a shorter range", len(buckets), in.Interval, maxBuckets)}
	}
	folded := &Buckets{Starts: buckets, Slot: slotWidth(width, loc, since, until), Location: loc}
	rows, err := s.seriesRows(ctx, q, since, until, keys, folded)
	if err != nil {
		return nil, err
	}
	res := &Result{TimeZone: loc.String(), Series: make([]*Bucket, len(buckets))}
	for i, b := range buckets {
		res.Series[i] = &Bucket{Start: b, Groups: []*Group{}}
	}
	overall := map[string]*Group{}
	perBucket := make([]map[string]*Group, len(buckets))
	for _, r := range rows {
		i := r.bucket
		res.Series[i].Count += r.Count
		res.Total += r.Count
		if len(keys) == 0 {
			continue
		}
		k := r.key(len(keys))
		id := strings.Join(k, "\x00")
		if overall[id] == nil {
			overall[id] = &Group{Key: k}
		}
		overall[id].Count += r.Count
		if perBucket[i] == nil {
			perBucket[i] = map[string]*Group{}
		}
		if perBucket[i][id] == nil {
			perBucket[i][id] = &Group{Key: k}
		}
		perBucket[i][id].Count += r.Count
	}
	if len(keys) > 0 {
		// The same top groups in every bucket, so a chart's series line up.
		ranked, _ := topGroups(overall, top)
		for i, b := range res.Series {
			other := &Group{Key: []string{}, Other: true}
			kept := map[string]bool{}
			for _, g := range ranked {
				if g.Other {
					continue
				}
				id := strings.Join(g.Key, "\x00")
				kept[id] = true
				n := 0
				if c := perBucket[i][id]; c != nil {
					n = c.Count
				}
				b.Groups = append(b.Groups, &Group{Key: g.Key, Count: n})
			}
			for id, g := range perBucket[i] {
				if !kept[id] {
					other.Count += g.Count
				}
			}
			if len(ranked) > 0 && ranked[len(ranked)-1].Other {
				b.Groups = append(b.Groups, other)
			}
		}
	}
	return res, nil
}

// defaultSpan is the range a series covers when since is not given.
func defaultSpan(width time.Duration) time.Duration {
	switch {
	case width >= 7*24*time.Hour:
		return 26 * 7 * 24 * time.Hour
	case width >= 24*time.Hour:
		return 30 * 24 * time.Hour
	}
	return 24 * time.Hour
}

// bucketStarts are the local bucket boundaries covering [since, until).
func bucketStarts(since, until time.Time, width time.Duration, loc *time.Location) []time.Time {
	var out []time.Time
	for b := floorLocal(since, width, loc); b.Before(until); b = nextLocal(b, width, loc) {
		out = append(out, b.UTC())
		if len(out) > maxBuckets {
			break
		}
	}
	return out
}

// floorLocal is the start of the local bucket holding t: buckets start at
// local midnight (Monday for weeks) and every width after it.
func floorLocal(t time.Time, width time.Duration, loc *time.Location) time.Time {
	lt := t.In(loc)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	switch {
	case width >= 7*24*time.Hour:
		back := (int(day.Weekday()) + 6) % 7
		return day.AddDate(0, 0, -back)
	case width >= 24*time.Hour:
		return day
	}
	since := lt.Sub(day)
	return day.Add(since / width * width)
}

func nextLocal(b time.Time, width time.Duration, loc *time.Location) time.Time {
	switch {
	case width >= 7*24*time.Hour:
		return b.In(loc).AddDate(0, 0, 7)
	case width >= 24*time.Hour:
		return b.In(loc).AddDate(0, 0, 1)
	}
	next := b.Add(width)
	// A bucket never crosses local midnight: after a DST change the day's
	// buckets restart from midnight.
	if f := floorLocal(next, width, loc); !f.Equal(next) && f.After(b) {
		return f
	}
	return next
}

func bucketIndex(buckets []time.Time, t time.Time) int {
	i, found := slices.BinarySearchFunc(buckets, t, func(b, t time.Time) int { return b.Compare(t) })
	if found {
		return i
	}
	return i - 1
}

// slotWidth is the SQL aggregation grain: whole hours when the zone's
// offsets over the range are whole hours (and the width a multiple of an
// hour), else quarter hours (every zone's offset is a multiple of 15
// minutes), else the width itself when it is shorter.
func slotWidth(width time.Duration, loc *time.Location, since, until time.Time) time.Duration {
	if width < 15*time.Minute {
		return width
	}
	if width%time.Hour == 0 && wholeHourOffsets(loc, since, until) {
		return time.Hour
	}
	return 15 * time.Minute
}

func wholeHourOffsets(loc *time.Location, since, until time.Time) bool {
	for t := since; t.Before(until); t = t.Add(24 * time.Hour) {
		if _, off := t.In(loc).Zone(); off%3600 != 0 {
			return false
		}
	}
	_, off := until.In(loc).Zone()
	return off%3600 == 0
}

// slotSQL numbers col's slot of width since the epoch.
func slotSQL(d, col string, width time.Duration) string {
	secs := int64(width / time.Second)
	if d == dialect.Postgres {
		return fmt.Sprintf("CAST(floor(extract(epoch from %s) / %d) AS BIGINT)", col, secs)
	}
	return fmt.Sprintf("(CAST(strftime('%%s', %s) AS INTEGER) / %d)", col, secs)
}

// orgLocation is the acting organisation's time zone (UTC when unknown).
func (s *Service) orgLocation(ctx context.Context) (*time.Location, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "not authenticated")
	}
	org, err := s.client.Organization.Get(ctx, v.OrgID)
	if err != nil {
		if ent.IsNotFound(err) {
			return time.UTC, nil
		}
		return nil, err
	}
	loc, err := time.LoadLocation(org.Timezone)
	if err != nil {
		return time.UTC, nil
	}
	return loc, nil
}

// Buckets is a time series' local bucketing of [since, until), as the
// runner's series use it, for other aggregates (metrics) that count per
// bucket: the local bucket starts and the UTC slot grain SQL groups by.
type Buckets struct {
	// Starts are the buckets' starts, oldest first.
	Starts []time.Time
	// Slot is the SQL aggregation grain: slots fold into the buckets.
	Slot time.Duration
	// Location is the time zone the buckets follow.
	Location *time.Location
}

// NewBuckets buckets [since, until) by width in loc; it fails when more
// than max buckets would result.
func NewBuckets(since, until time.Time, width time.Duration, loc *time.Location, max int) (*Buckets, bool) {
	starts := bucketStarts(since, until, width, loc)
	if len(starts) > max {
		return nil, false
	}
	return &Buckets{Starts: starts, Slot: slotWidth(width, loc, since, until), Location: loc}, true
}

// SlotSQL is the slot number of column col, in dialect d.
func (b *Buckets) SlotSQL(d, col string) string { return slotSQL(d, col, b.Slot) }

// Index is the bucket holding slot, or -1 before the first.
func (b *Buckets) Index(slot int64) int {
	return bucketIndex(b.Starts, time.Unix(slot*int64(b.Slot/time.Second), 0).UTC())
}

// Interval is the width of a named series interval (5m, 1h, 1d…).
func Interval(name string) (time.Duration, bool) {
	d, ok := intervals[name]
	return d, ok
}

// OrgLocation is the time zone of the organisation ctx's viewer acts in
// (UTC when unknown), as series follow it.
func OrgLocation(ctx context.Context, client *ent.Client) (*time.Location, error) {
	return (&Service{client: client}).orgLocation(ctx)
}
