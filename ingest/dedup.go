package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
)

// Deduplication is one statement per payload (per chunk of upsertChunk
// fingerprints), race-free without a read first: the unique index
// (organization_id, dedup_key) turns a concurrent repeat into a conflict, and
// the conflict into an update of the open alert. The update only applies
// while that alert is open and inside the rolling window; otherwise no row
// comes back for that fingerprint, the stale alert gives up its key and the
// insert is tried again for the fingerprints that came back empty.
//
// One statement cannot touch a row twice (PostgreSQL refuses it), so repeats
// within a payload are folded into one row per fingerprint whose occurrences
// is the number of repeats; the per-item results are unfolded afterwards as
// if each item had been upserted in turn.

// statements builds the dedup SQL texts in one dialect's placeholder style
// and functions; it is the only place the dedup SQL differs by dialect.
type statements struct {
	pg bool
}

// insertColumn is a column written for every new alert, with its
// PostgreSQL type: the upsert hands PostgreSQL one array per column.
type insertColumn struct{ name, pgType string }

// insertColumns are written for every new alert, in this order.
var insertColumns = []insertColumn{
	{"id", "uuid"}, {"organization_id", "uuid"}, {"connector_id", "uuid"},
	{"source", "text"}, {"external_id", "text"}, {"title", "text"}, {"description", "text"},
	{"severity", "text"}, {"severity_rank", "bigint"}, {"status", "text"},
	{"tags", "jsonb"}, {"entities", "jsonb"}, {"mitre", "jsonb"}, {"attributes", "jsonb"}, {"raw", "jsonb"},
	{"fingerprint", "text"}, {"dedup_key", "text"}, {"occurrences", "bigint"},
	{"first_seen_at", "timestamptz"}, {"last_seen_at", "timestamptz"}, {"event_time", "timestamptz"},
	{"ingested_at", "timestamptz"}, {"created_at", "timestamptz"}, {"updated_at", "timestamptz"},
}

// insertColumnList is insertColumns' names as the INSERT lists them.
var insertColumnList = func() string {
	names := make([]string, len(insertColumns))
	for i, col := range insertColumns {
		names[i] = col.name
	}
	return strings.Join(names, ", ")
}()

// upsertChunk bounds the rows of one statement: 500 rows of 24 columns stay
// under SQLite's 32,766 bind parameters.
const upsertChunk = 500

func statementsFor(d string) statements { return statements{pg: d == dialect.Postgres} }

// placeholders appends n placeholders numbered from *next (PostgreSQL) or
// plain ? (SQLite), comma-separated.
func (s statements) placeholders(b *strings.Builder, next *int, n int) {
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		*next++
		if s.pg {
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(*next))
		} else {
			b.WriteByte('?')
		}
	}
}

// upsert is the statement for rows alerts; its arguments are upsertArgs'.
// On PostgreSQL its text is the same whatever the number of rows (unnest of
// one array per column), so each connection prepares and plans it once; a
// VALUES list would be a statement of its own for every batch length.
func (s statements) upsert(rows int) string {
	var b strings.Builder
	b.Grow(rows*len(insertColumns)*6 + 512)
	b.WriteString("INSERT INTO alerts (" + insertColumnList + ") ")
	next := 0
	if s.pg {
		b.WriteString("SELECT * FROM unnest(")
		for j, col := range insertColumns {
			if j > 0 {
				b.WriteString(", ")
			}
			s.placeholders(&b, &next, 1)
			b.WriteString("::" + col.pgType + "[]")
		}
		b.WriteByte(')')
	} else {
		b.WriteString("VALUES ")
		for r := range rows {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			s.placeholders(&b, &next, len(insertColumns))
			b.WriteByte(')')
		}
	}
	// The later of the two stamps: transactions may commit out of order.
	latest := "MAX(alerts.last_seen_at, excluded.last_seen_at)"
	if s.pg {
		latest = "GREATEST(alerts.last_seen_at, excluded.last_seen_at)"
	}
	b.WriteString(" ON CONFLICT (organization_id, dedup_key) DO UPDATE SET occurrences = alerts.occurrences + excluded.occurrences," +
		" last_seen_at = " + latest + ", updated_at = excluded.updated_at" +
		" WHERE alerts.last_seen_at >= ")
	s.placeholders(&b, &next, 1)
	b.WriteString(" AND alerts.status NOT IN " + closedStatuses + " RETURNING dedup_key, id, occurrences")
	return b.String()
}

// upsertArgs are the upsert's arguments for values, the rows' insertColumns
// one row after another: the rows' values (SQLite) or one typed array per
// column (PostgreSQL), then the window's cutoff.
func (s statements) upsertArgs(values []any, cutoff time.Time) []any {
	if !s.pg {
		return append(values, cutoff)
	}
	n := len(insertColumns)
	rows := len(values) / n
	args := make([]any, 0, n+1)
	for j, col := range insertColumns {
		switch col.pgType {
		case "uuid":
			args = append(args, column[uuid.UUID](values, rows, n, j))
		case "text":
			args = append(args, column[string](values, rows, n, j))
		case "bigint":
			args = append(args, column[int](values, rows, n, j))
		case "jsonb":
			args = append(args, column[json.RawMessage](values, rows, n, j))
		case "timestamptz": // nullable: a nil value is NULL
			times := make([]*time.Time, rows)
			for r := range rows {
				if t, ok := values[r*n+j].(time.Time); ok {
					times[r] = &t
				}
			}
			args = append(args, times)
		default:
			panic("ingest: no array for PostgreSQL type " + col.pgType)
		}
	}
	return append(args, cutoff)
}

// column is column j of rows rows of n values each, as a typed slice.
func column[T any](values []any, rows, n, j int) []T {
	out := make([]T, rows)
	for r := range rows {
		out[r] = values[r*n+j].(T)
	}
	return out
}

// retire is the statement taking their keys from keys stale or finished
// alerts; its arguments are retireArgs'.
func (s statements) retire(keys int) string {
	var b strings.Builder
	next := 0
	b.WriteString("UPDATE alerts SET dedup_key = NULL WHERE organization_id = ")
	s.placeholders(&b, &next, 1)
	b.WriteString(" AND (last_seen_at < ")
	s.placeholders(&b, &next, 1)
	b.WriteString(" OR status IN " + closedStatuses + ") AND dedup_key ")
	if s.pg { // one text whatever the number of keys, as upsert's
		b.WriteString("= ANY(")
		s.placeholders(&b, &next, 1)
		b.WriteString("::text[])")
		return b.String()
	}
	b.WriteString("IN (")
	s.placeholders(&b, &next, keys)
	b.WriteByte(')')
	return b.String()
}

// retireArgs are the organisation, the cutoff, then the keys (one array on
// PostgreSQL).
func (s statements) retireArgs(orgID uuid.UUID, cutoff time.Time, keys []string) []any {
	if s.pg {
		return []any{orgID, cutoff, keys}
	}
	args := make([]any, 0, len(keys)+2)
	args = append(args, orgID, cutoff)
	for _, k := range keys {
		args = append(args, k)
	}
	return args
}

// closedStatuses can no longer absorb repeats.
var closedStatuses = "('" + string(enum.AlertStatusResolved) + "', '" + string(enum.AlertStatusClosed) + "')"

// maxAttempts bounds the retire-and-insert loop. Two attempts suffice unless
// other writers keep retiring the key at the same moment.
const maxAttempts = 4

// deduper writes the alerts of one payload in its transaction.
type deduper struct {
	tx          *ent.Tx
	sql         statements
	orgID       uuid.UUID
	connectorID uuid.UUID
	now         time.Time
	cutoff      time.Time // an open alert last seen before it is outside the window
}

// group is one fingerprint of a payload: the indexes of its items in payload
// order. The first item's values are the ones written if the alert is new.
type group struct {
	fingerprint string
	items       []int
	newID       uuid.UUID // the id offered in the current attempt
	id          uuid.UUID // the alert it landed in, once settled
	occurrences int       // the alert's occurrences after this payload
}

// groups folds items by fingerprint, in fingerprint order: every payload
// locks the rows it touches in that one order, so two payloads repeating
// the same alerts in different orders cannot deadlock.
func groups(items []item) []*group {
	byFP := make(map[string]*group, len(items))
	out := make([]*group, 0, len(items))
	for i := range items {
		g := byFP[items[i].fingerprint]
		if g == nil {
			g = &group{fingerprint: items[i].fingerprint}
			byFP[g.fingerprint] = g
			out = append(out, g)
		}
		g.items = append(g.items, i)
	}
	slices.SortFunc(out, func(a, b *group) int { return strings.Compare(a.fingerprint, b.fingerprint) })
	return out
}

// upsertAll creates or merges every item and returns one result per item,
// in payload order, as if each had been upserted in turn: of n repeats of a
// new alert the first is created (occurrences 1) and the others merged (2…n);
// repeats of an existing alert with T occurrences after the payload count
// T-n+1…T.
func (d *deduper) upsertAll(ctx context.Context, items []item) ([]ItemResult, error) {
	all := groups(items)
	pending := all
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == maxAttempts {
			return nil, fmt.Errorf("dedup of fingerprint %s did not settle after %d attempts", pending[0].fingerprint, maxAttempts)
		}
		var missing []*group
		for chunk := range slices.Chunk(pending, upsertChunk) {
			left, err := d.insert(ctx, items, chunk)
			if err != nil {
				return nil, err
			}
			missing = append(missing, left...)
		}
		if len(missing) == 0 {
			break
		}
		if err := d.retire(ctx, missing); err != nil {
			return nil, err
		}
		pending = missing
	}
	results := make([]ItemResult, len(items))
	for _, g := range all {
		created := g.id == g.newID
		first := g.occurrences - len(g.items) + 1
		for k, i := range g.items {
			r := ItemResult{ID: g.id, Status: StatusMerged, Occurrences: first + k, Fingerprint: g.fingerprint}
			if created && k == 0 {
				r.Status = StatusCreated
			}
			results[i] = r
		}
	}
	return results, nil
}

// insert runs the upsert for chunk and settles the groups that came back;
// it returns those that did not: their key belongs to an alert that may not
// absorb the repeat (finished, or outside the window).
func (d *deduper) insert(ctx context.Context, items []item, chunk []*group) ([]*group, error) {
	values := make([]any, 0, len(chunk)*len(insertColumns))
	for _, g := range chunk {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		g.newID = id
		it := &items[g.items[0]]
		a := it.stored(id, d.orgID, d.connectorID, len(g.items), d.now)
		var eventTime any
		if a.EventTime != nil {
			eventTime = *a.EventTime
		}
		// In insertColumns' order.
		values = append(values,
			a.ID, a.OrganizationID, *a.ConnectorID, a.Source, a.ExternalID, a.Title, a.Description,
			string(a.Severity), a.SeverityRank, string(a.Status), it.tags, it.entities, it.mitre, it.attributes, it.raw,
			a.Fingerprint, *a.DedupKey, a.Occurrences, a.FirstSeenAt, a.LastSeenAt,
			eventTime, a.IngestedAt, a.CreatedAt, a.UpdatedAt,
		)
	}
	rows, err := d.tx.QueryContext(ctx, d.sql.upsert(len(chunk)), d.sql.upsertArgs(values, d.cutoff)...)
	if err != nil {
		return nil, fmt.Errorf("upsert alerts: %w", err)
	}
	defer rows.Close()
	// RETURNING order is unspecified on both databases: match by key.
	type landed struct {
		id          uuid.UUID
		occurrences int
	}
	got := make(map[string]landed, len(chunk))
	for rows.Next() {
		var (
			key string
			l   landed
		)
		if err := rows.Scan(&key, &l.id, &l.occurrences); err != nil {
			return nil, fmt.Errorf("upsert alerts: %w", err)
		}
		got[key] = l
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("upsert alerts: %w", err)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("upsert alerts: %w", err)
	}
	var missing []*group
	for _, g := range chunk {
		l, ok := got[g.fingerprint]
		if !ok {
			missing = append(missing, g)
			continue
		}
		g.id, g.occurrences = l.id, l.occurrences
	}
	return missing, nil
}

// retire takes the keys of groups from the stale or finished alerts holding
// them. The conflicting rows are already locked by this transaction's upsert.
func (d *deduper) retire(ctx context.Context, groups []*group) error {
	for chunk := range slices.Chunk(groups, upsertChunk) {
		keys := make([]string, len(chunk))
		for i, g := range chunk {
			keys[i] = g.fingerprint
		}
		if _, err := d.tx.ExecContext(ctx, d.sql.retire(len(chunk)), d.sql.retireArgs(d.orgID, d.cutoff, keys)...); err != nil {
			return fmt.Errorf("retire dedup keys: %w", err)
		}
	}
	return nil
}
