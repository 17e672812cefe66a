package ingest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
)

// Deduplication is one statement per alert, race-free without a read first:
// the unique index (organization_id, dedup_key) turns a concurrent repeat
// into a conflict, and the conflict into an update of the open alert. The
// update only applies while that alert is open and inside the rolling
// window; otherwise no row comes back, the stale alert gives up its key and
// the insert is tried again.

// statements are the dedup SQL texts in one dialect's placeholder style.
type statements struct {
	upsert string
	retire string
}

// insertColumns are written for every new alert, in this order.
var insertColumns = []string{
	"id", "organization_id", "connector_id", "source", "external_id", "title", "description",
	"severity", "severity_rank", "status", "tags", "entities", "mitre", "raw",
	"fingerprint", "dedup_key", "occurrences", "first_seen_at", "last_seen_at",
	"event_time", "ingested_at", "created_at", "updated_at",
}

func statementsFor(d string) statements {
	n := 0
	next := func() string {
		n++
		if d == dialect.Postgres {
			return "$" + strconv.Itoa(n)
		}
		return "?"
	}
	values := make([]string, len(insertColumns))
	for i := range values {
		values[i] = next()
	}
	// The later of the two stamps: transactions may commit out of order.
	latest := "MAX(alerts.last_seen_at, excluded.last_seen_at)"
	if d == dialect.Postgres {
		latest = "GREATEST(alerts.last_seen_at, excluded.last_seen_at)"
	}
	upsert := "INSERT INTO alerts (" + strings.Join(insertColumns, ", ") + ") VALUES (" + strings.Join(values, ", ") + ")" +
		" ON CONFLICT (organization_id, dedup_key) DO UPDATE SET occurrences = alerts.occurrences + 1," +
		" last_seen_at = " + latest + ", updated_at = excluded.updated_at" +
		" WHERE alerts.last_seen_at >= " + next() + " AND alerts.status NOT IN " + closedStatuses +
		" RETURNING id, occurrences"
	n = 0
	retire := "UPDATE alerts SET dedup_key = NULL WHERE organization_id = " + next() + " AND dedup_key = " + next() +
		" AND (last_seen_at < " + next() + " OR status IN " + closedStatuses + ")"
	return statements{upsert: upsert, retire: retire}
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

// upsert creates the alert or merges it into the open one with its
// fingerprint.
func (d *deduper) upsert(ctx context.Context, it *item) (ItemResult, error) {
	for range maxAttempts {
		id, err := uuid.NewV7()
		if err != nil {
			return ItemResult{}, err
		}
		gotID, occurrences, ok, err := d.insert(ctx, id, it)
		if err != nil {
			return ItemResult{}, err
		}
		if ok {
			r := ItemResult{ID: gotID, Status: StatusMerged, Occurrences: occurrences, Fingerprint: it.fingerprint}
			if gotID == id && occurrences == 1 {
				r.Status = StatusCreated
			}
			return r, nil
		}
		if _, err := d.tx.ExecContext(ctx, d.sql.retire, d.orgID, it.fingerprint, d.cutoff); err != nil {
			return ItemResult{}, fmt.Errorf("retire dedup key: %w", err)
		}
	}
	return ItemResult{}, fmt.Errorf("dedup of fingerprint %s did not settle after %d attempts", it.fingerprint, maxAttempts)
}

// insert runs the upsert; ok is false when the key belongs to an alert that
// may not absorb the repeat (closed, or outside the window).
func (d *deduper) insert(ctx context.Context, id uuid.UUID, it *item) (uuid.UUID, int, bool, error) {
	a := &it.alert
	var eventTime any
	if a.EventTime != nil {
		eventTime = a.EventTime.UTC()
	}
	rows, err := d.tx.QueryContext(ctx, d.sql.upsert,
		id, d.orgID, d.connectorID, a.Source, a.ExternalID, a.Title, it.description,
		string(a.Severity), a.Severity.Rank(), string(enum.AlertStatusNew), it.tags, it.entities, it.mitre, it.raw,
		it.fingerprint, it.fingerprint, 1, d.now, d.now,
		eventTime, d.now, d.now, d.now,
		d.cutoff,
	)
	if err != nil {
		return uuid.Nil, 0, false, fmt.Errorf("upsert alert: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return uuid.Nil, 0, false, rows.Err()
	}
	var (
		got         uuid.UUID
		occurrences int
	)
	if err := rows.Scan(&got, &occurrences); err != nil {
		return uuid.Nil, 0, false, fmt.Errorf("upsert alert: %w", err)
	}
	return got, occurrences, true, rows.Close()
}
