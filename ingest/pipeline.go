// Package ingest turns what a connector sends into alerts: it maps the payload
// with the connector's catalogue type, extracts entities, fingerprints each
// alert over the connector's dedup fields and deduplicates it against the
// organisation's open alerts, all in one transaction. A payload that cannot be
// mapped is kept as a dead letter instead.
package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/ingest/entities"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/busy"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/storage"
)

// DefaultMaxBodyBytes bounds a payload unless Options say otherwise.
const DefaultMaxBodyBytes = 5 << 20

// Options tune a Service.
type Options struct {
	MaxBodyBytes int64            // default 5 MiB; larger → 413
	Now          func() time.Time // default time.Now; tests may pin it
	AfterCreate  AfterCreate      // optional: told of created alerts (auto-analysis)
	// Busy, when set, is told while payloads are stored, so that
	// background work (automatic analyses) can wait for a pause.
	Busy *busy.Tracker
}

// Service ingests connector payloads.
type Service struct {
	db      *storage.DB
	maxBody int64
	now     func() time.Time
	sql     statements
	stamped sync.Map // connector id → time.Time of the last committed last_seen_at stamp
	after   AfterCreate
	busy    *busy.Tracker
}

// New returns a Service writing to db.
func New(db *storage.DB, opts Options) *Service {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{
		db:      db,
		maxBody: opts.MaxBodyBytes,
		now:     opts.Now,
		sql:     statementsFor(db.Dialect),
		after:   opts.AfterCreate,
		busy:    opts.Busy,
	}
}

// Result is the answer to one payload.
type Result struct {
	Results      []ItemResult `json:"results"` // one per mapped alert, in payload order
	Accepted     int          `json:"accepted"`
	Created      int          `json:"created"`
	Merged       int          `json:"merged"`
	DeadLettered int          `json:"dead_lettered"`
	DeadLetterID *uuid.UUID   `json:"dead_letter_id,omitempty"`
}

// ItemResult says what became of one mapped alert.
type ItemResult struct {
	ID          uuid.UUID `json:"id"`
	Status      string    `json:"status"` // StatusCreated or StatusMerged
	Occurrences int       `json:"occurrences"`
	Fingerprint string    `json:"fingerprint"`
}

// Item statuses.
const (
	StatusCreated = "created"
	StatusMerged  = "merged"
)

// Ingest maps body with the connector's catalogue type, extracts entities,
// fingerprints and deduplicates, all in one transaction. ctx must carry a
// viewer acting in the connector's organisation (the connector itself, as
// Authenticate returns it). Errors are *apperr.Error for bad input: a payload of
// the wrong shape is BadInput naming the field; an unmappable one is not an
// error but a dead letter.
func (s *Service) Ingest(ctx context.Context, c *ent.Connector, body []byte) (*Result, error) {
	if err := checkCaller(ctx, c); err != nil {
		return nil, err
	}
	if int64(len(body)) > s.maxBody {
		return nil, TooLarge(s.maxBody)
	}
	now := stamp(s.now())
	mapped, err := catalogue.Map(c.Type, body)
	var (
		fieldErr   *catalogue.FieldError
		unmappable *catalogue.Unmappable
	)
	switch {
	case errors.As(err, &fieldErr):
		return nil, apperr.Invalid(fieldErr.Field, "%s", fieldErr.Reason)
	case errors.As(err, &unmappable):
		return s.deadLetter(ctx, c, body, unmappable.Reason, now)
	case errors.Is(err, catalogue.ErrUnknownType):
		// A connector whose type left the catalogue cannot be fixed by its
		// sender; keep the payload for replay once the type is repaired.
		return s.deadLetter(ctx, c, body, fmt.Sprintf("connector type %q is not in the catalogue", c.Type), now)
	case err != nil:
		return nil, err
	}
	items, err := s.prepare(c, mapped)
	if err != nil {
		return nil, err
	}
	return s.store(ctx, c, items, now, nil)
}

// checkCaller refuses a context whose viewer acts outside the connector's
// organisation: the dedup statements bypass ent's tenant filter, so the
// organisation they touch must be the caller's own.
func checkCaller(ctx context.Context, c *ent.Connector) error {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return apperr.New(apperr.Unauthenticated, "authentication required")
	case v.OrgID != c.OrganizationID:
		return apperr.New(apperr.Forbidden, "connector belongs to another organisation")
	case !c.Enabled:
		return apperr.New(apperr.Forbidden, "connector is disabled")
	}
	return nil
}

// TooLarge is the error for a payload over limit bytes (413).
func TooLarge(limit int64) error {
	return apperr.New(apperr.TooLarge, "payload exceeds %d bytes", limit)
}

// item is one mapped alert ready to be written.
type item struct {
	alert       catalogue.Alert
	fingerprint string
	tags        json.RawMessage
	mitre       json.RawMessage
	entities    json.RawMessage
	attributes  json.RawMessage
	raw         json.RawMessage
	description string
	// The entity and attribute values as stored (PostgreSQL's JSON cannot
	// hold some escapes, which pgJSON replaces), for the written alert.
	ents  []schematype.Entity
	attrs map[string]string
}

// prepare does the CPU work outside the transaction: entities, fingerprint
// and the JSON column values.
func (s *Service) prepare(c *ent.Connector, mapped []catalogue.Alert) ([]item, error) {
	fields := dedupFields(c)
	pg := s.db.Dialect == dialect.Postgres
	items := make([]item, len(mapped))
	for i, a := range mapped {
		if a.EventTime != nil {
			t := stamp(*a.EventTime)
			a.EventTime = &t
		}
		it := item{alert: a, fingerprint: fingerprint(c.ID, fields, &a), raw: a.Raw, description: a.Description, attrs: a.Attributes}
		found := extractEntities(&a)
		it.ents = make([]schematype.Entity, len(found))
		for k, e := range found {
			it.ents[k] = schematype.Entity(e)
		}
		var err error
		if it.tags, err = marshalList(a.Tags); err != nil {
			return nil, err
		}
		if it.mitre, err = marshalList(a.Mitre); err != nil {
			return nil, err
		}
		if it.entities, err = json.Marshal(it.ents); err != nil {
			return nil, fmt.Errorf("marshal entities: %w", err)
		}
		if it.attributes, err = MarshalAttributes(a.Attributes); err != nil {
			return nil, err
		}
		if pg {
			it.raw = pgJSON(it.raw)
			it.description = textfield.Sanitize(it.description)
			if err := it.storeForPostgres(); err != nil {
				return nil, err
			}
		}
		items[i] = it
	}
	return items, nil
}

// storeForPostgres makes the entities and attributes what PostgreSQL
// will store, and keeps the written values equal to them.
func (it *item) storeForPostgres() error {
	if b := pgJSON(it.entities); !bytes.Equal(b, it.entities) {
		it.entities, it.ents = b, nil
		if err := json.Unmarshal(b, &it.ents); err != nil {
			return fmt.Errorf("entities: %w", err)
		}
	}
	if b := pgJSON(it.attributes); !bytes.Equal(b, it.attributes) {
		it.attributes, it.attrs = b, nil
		if err := json.Unmarshal(b, &it.attrs); err != nil {
			return fmt.Errorf("attributes: %w", err)
		}
	}
	return nil
}

// stored is the alert the upsert writes for it when it is new, with id,
// in the connector's organisation; occurrences counts the payload's
// repeats folded into it. The one statement of a new alert's values: the
// INSERT's arguments are read off it, and the hooks are handed it (with
// its connector, which edge conditions read). The original document (raw)
// is left out: hooks read the alert, not what the sender sent, and the
// INSERT takes it, as the other JSON columns, from its encoded values.
func (it *item) stored(id, orgID, connID uuid.UUID, occurrences int, now time.Time) *ent.Alert {
	a := &it.alert
	key := it.fingerprint
	out := &ent.Alert{
		ID: id, OrganizationID: orgID, ConnectorID: &connID, Source: a.Source, ExternalID: a.ExternalID,
		Title: a.Title, Description: it.description, Severity: a.Severity, SeverityRank: a.Severity.Rank(),
		Status: enum.AlertStatusNew, Tags: a.Tags, Entities: it.ents, Mitre: a.Mitre, Attributes: it.attrs,
		Fingerprint: it.fingerprint, DedupKey: &key, Occurrences: occurrences,
		FirstSeenAt: now, LastSeenAt: now, IngestedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if a.EventTime != nil {
		t := *a.EventTime // stamped by prepare
		out.EventTime = &t
	}
	return out
}

// written are the alerts a payload created, in payload order, as the
// upsert wrote them.
func written(c *ent.Connector, items []item, results []ItemResult, now time.Time) []*ent.Alert {
	repeats := make(map[uuid.UUID]int, len(results))
	for _, r := range results {
		repeats[r.ID]++
	}
	var out []*ent.Alert
	for i, r := range results {
		if r.Status == StatusCreated {
			a := items[i].stored(r.ID, c.OrganizationID, c.ID, repeats[r.ID], now)
			a.Edges.Connector = c
			out = append(out, a)
		}
	}
	return out
}

// stamp is the time an ingest writes, in UTC to the microsecond (what
// PostgreSQL keeps), so the alerts hooks are handed equal those stored.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// MarshalAttributes encodes the attributes column: the vendor fields the
// mapping named, {} when it named none.
func MarshalAttributes(attrs map[string]string) (json.RawMessage, error) {
	if attrs == nil {
		attrs = map[string]string{}
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		return nil, fmt.Errorf("marshal attributes: %w", err)
	}
	return b, nil
}

// dedupFields are the connector's own dedup fields, else its type's.
func dedupFields(c *ent.Connector) []string {
	if len(c.DedupFields) > 0 {
		return c.DedupFields
	}
	t, _ := catalogue.Lookup(c.Type)
	return t.DedupFields
}

// marshalList encodes a list column; an empty list is [] rather than null,
// as ent writes it.
func marshalList(l []string) (json.RawMessage, error) {
	if l == nil {
		l = []string{}
	}
	b, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("marshal list: %w", err)
	}
	return b, nil
}

// extractEntities combines what the mapper knows for sure (its entities,
// then attributes as hints, with title and description) with what the original document holds
// beyond the mapped fields.
func extractEntities(a *catalogue.Alert) []entities.Entity {
	found := entities.ExtractAlert(a.Attributes, a.Raw, a.Title, a.Description)
	if len(a.Entities) == 0 {
		return found
	}
	return entities.Merge(a.Entities, found)
}

// store writes the items in one transaction: one dedup statement for the
// payload, the activity and realtime events of all its alerts (one
// multi-row INSERT each), and the connector's last-seen stamp.
func (s *Service) store(ctx context.Context, c *ent.Connector, items []item, now time.Time, also func(context.Context, *ent.Tx) error) (*Result, error) {
	defer s.busy.Begin()()
	res := &Result{}
	cutoff := now.Add(-time.Duration(c.DedupWindowSeconds) * time.Second)
	stamped := false
	var afterCommit func(context.Context)
	err := storage.InTx(ctx, s.db.Client, func(tx *ent.Tx) error {
		d := deduper{tx: tx, sql: s.sql, orgID: c.OrganizationID, connectorID: c.ID, now: now, cutoff: cutoff}
		results, err := d.upsertAll(ctx, items)
		if err != nil {
			return err
		}
		res.Results = results
		// Work that must commit with the creation of these alerts (their
		// automatic analysis) is queued in this transaction.
		if afterCommit, err = s.onCreated(ctx, tx, c, items, results, now); err != nil {
			return err
		}
		if err := s.onMerged(ctx, tx, mergedAlerts(results)); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx.Client(), activityEntries(results)...); err != nil {
			return err
		}
		if err := hub.Record(ctx, tx.Client(), alertEvents(c.OrganizationID, results)...); err != nil {
			return err
		}
		if stamped, err = s.stampConnector(ctx, tx, c, now); err != nil {
			return err
		}
		if also != nil {
			return also(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.rememberStamp(c, stamped, now)
	if afterCommit != nil {
		afterCommit(ctx)
	}
	for _, r := range res.Results {
		if r.Status == StatusCreated {
			res.Created++
		} else {
			res.Merged++
		}
	}
	res.Accepted = len(res.Results)
	return res, nil
}

// mergedAlerts are the ids of the open alerts repeats were merged into,
// once each, in payload order.
func mergedAlerts(results []ItemResult) []uuid.UUID {
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, r := range results {
		if r.Status == StatusMerged && !seen[r.ID] {
			seen[r.ID] = true
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// alertEvents announce each created or merged alert to subscribers.
func alertEvents(org uuid.UUID, results []ItemResult) []hub.Event {
	events := make([]hub.Event, len(results))
	for i, r := range results {
		kind := hub.KindMerged
		if r.Status == StatusCreated {
			kind = hub.KindCreated
		}
		events[i] = hub.Event{OrganizationID: org, Topic: hub.TopicAlert, Kind: kind, EntityID: r.ID}
	}
	return events
}

// activityEntries are one entry per created alert and one per merge.
func activityEntries(results []ItemResult) []audit.Entry {
	entries := make([]audit.Entry, len(results))
	for i, r := range results {
		if r.Status == StatusCreated {
			entries[i] = audit.Entry{EntityType: "alert", EntityID: r.ID, Action: "create"}
			continue
		}
		entries[i] = audit.Entry{EntityType: "alert", EntityID: r.ID, Action: "merge",
			Field: "occurrences", Before: r.Occurrences - 1, After: r.Occurrences}
	}
	return entries
}

// stampConnector records that the connector was heard from, at most once
// per auth.UsageWriteInterval (rewriting it on every post would serialise
// a connector's concurrent posts on that one row); it reports whether it
// wrote. The condition is
// repeated in the statement because c may be a stale copy: another replica
// may have stamped since it was read.
func (s *Service) stampConnector(ctx context.Context, tx *ent.Tx, c *ent.Connector, now time.Time) (bool, error) {
	last := c.LastSeenAt
	if v, ok := s.stamped.Load(c.ID); ok {
		if t := v.(time.Time); last == nil || t.After(*last) {
			last = &t
		}
	}
	if !auth.StampDue(last, now) {
		return false, nil
	}
	err := tx.Connector.Update().
		Where(connector.ID(c.ID), connector.Or(connector.LastSeenAtIsNil(), connector.LastSeenAtLT(now.Add(-auth.UsageWriteInterval)))).
		SetLastSeenAt(now).Exec(ctx)
	return err == nil, err
}

// rememberStamp notes a committed stamp, so that callers holding an older
// copy of the connector do not stamp it again.
func (s *Service) rememberStamp(c *ent.Connector, stamped bool, now time.Time) {
	if stamped {
		s.stamped.Store(c.ID, now)
	}
}

// DeadLetter keeps a payload the caller could not even parse (a malformed
// email), with the reason, like a payload its mapper refused. ctx must act
// as the connector, as for Ingest.
func (s *Service) DeadLetter(ctx context.Context, c *ent.Connector, body []byte, reason string) (*Result, error) {
	if err := checkCaller(ctx, c); err != nil {
		return nil, err
	}
	return s.deadLetter(ctx, c, body, reason, s.now().UTC())
}

// deadLetter keeps a payload that could not be mapped, with the reason.
func (s *Service) deadLetter(ctx context.Context, c *ent.Connector, body []byte, reason string, now time.Time) (*Result, error) {
	payload := string(body)
	if s.db.Dialect == dialect.Postgres {
		// A reason may quote the payload (a parser's error), so it is
		// cleaned like the payload.
		payload, reason = textfield.Sanitize(payload), textfield.Sanitize(reason)
	}
	var (
		id      uuid.UUID
		stamped bool
	)
	err := storage.InTx(ctx, s.db.Client, func(tx *ent.Tx) error {
		dl, err := tx.DeadLetter.Create().SetConnectorID(c.ID).SetReason(reason).SetPayload(payload).Save(ctx)
		if err != nil {
			return err
		}
		id = dl.ID
		stamped, err = s.stampConnector(ctx, tx, c, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.rememberStamp(c, stamped, now)
	return &Result{Results: []ItemResult{}, DeadLettered: 1, DeadLetterID: &id}, nil
}
