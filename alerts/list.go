package alerts

import (
	"context"
	"math"
	"reflect"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/ratelimit"
	"github.com/seliq/seliq/storage"
)

// Service is the triage queue.
type Service struct {
	client    *ent.Client
	dialect   string // the database's ent dialect: facets take another path on PostgreSQL
	bulkLimit *ratelimit.Limiter
	// builder builds statements without running them (statementOf);
	// estimates keeps the planner's estimates of the dear counts.
	builder   *ent.Client
	estimates *estimates
	triggers  Triggers
}

// Triggers is told, inside the change's transaction, what changed on
// alerts (the automation engine runs the alert.updated triggers). The
// entries are the activity records of the change, one per field.
type Triggers interface {
	Changed(ctx context.Context, tx *ent.Tx, event enum.TriggerEvent, entries []audit.Entry) error
}

// WithTriggers runs t's alert.updated triggers on every update and bulk
// action, and returns s.
func (s *Service) WithTriggers(t Triggers) *Service {
	s.triggers = t
	return s
}

// fire tells the triggers of an update, if the server has them.
func (s *Service) fire(ctx context.Context, tx *ent.Tx, entries []audit.Entry) error {
	if s.triggers == nil || len(entries) == 0 {
		return nil
	}
	return s.triggers.Changed(ctx, tx, enum.TriggerEventAlertUpdated, entries)
}

// New returns the service over client, a database of the ent dialect d.
func New(client *ent.Client, d string) *Service {
	client.Alert.Intercept(ent.InterceptFunc(plainRows))
	return &Service{client: client, dialect: d, builder: newBuilder(d), estimates: newEstimates()}
}

// WithBulkLimit makes Bulk refuse a user's actions beyond l's rate, and
// returns s.
func (s *Service) WithBulkLimit(l *ratelimit.Limiter) *Service {
	s.bulkLimit = l
	return s
}

// defaultOrder puts the most recently active alerts first.
var defaultOrder = ent.AlertOrder{Direction: paging.Desc, Field: ent.AlertOrderFieldLastSeenAt}

// List pages through the queue (entgql Paginate with WithAlertOrder and the
// filter); default order last_seen_at DESC. The connection's total counts
// the alerts that match the filter, up to CountCap when counting is dear
// (see countIsCheap). sel is what a GraphQL caller reads of the
// connection; nil (outside GraphQL) lets Paginate count exactly.
func (s *Service) List(ctx context.Context, f *schematype.AlertFilter, page paging.Page, orderBy *ent.AlertOrder,
	sel *Selection,
) (*ent.AlertConnection, error) {
	if err := ValidateFilter("filter", f); err != nil {
		return nil, err
	}
	page, err := page.Normalize()
	if err != nil {
		return nil, err
	}
	order := orderOrDefault(orderBy)
	if err := order.Direction.Validate(); err != nil {
		return nil, apperr.Invalid("order_by.direction", "must be ASC or DESC")
	}
	page.After, err = cursorFor(order, page.After, "after")
	if err != nil {
		return nil, err
	}
	page.Before, err = cursorFor(order, page.Before, "before")
	if err != nil {
		return nil, err
	}
	preds := Predicates(f)
	// The queue's filters are dynamic: its page and count are planned with
	// their values every time (storage.CustomPlans).
	ctx = s.withAlertRows(storage.CustomPlans(ctx))
	return s.paginate(ctx, f, s.client.Alert.Query().Where(preds...), preds, page, sel, ent.WithAlertOrder(&order))
}

// Get returns one alert of the acting organisation; an alert of another
// organisation is an ent NotFound error, like one that does not exist.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*ent.Alert, error) {
	return s.client.Alert.Get(ctx, id)
}

// orderOrDefault fills what the caller left out; an order without a field
// sorts by last activity rather than by id.
func orderOrDefault(o *ent.AlertOrder) ent.AlertOrder {
	if o == nil {
		return defaultOrder
	}
	order := *o
	if order.Field == nil {
		order.Field = defaultOrder.Field
	}
	return order
}

// cursorFor checks that c was issued for an order on the same field, so a
// stale or foreign cursor is a validation error instead of a SQL type
// error, and normalises its value: times to UTC (SQLite compares times as
// text, which orders correctly only within one offset) and integers, which
// the cursor encoding shrinks to the smallest width, to int64.
func cursorFor(order ent.AlertOrder, c *ent.Cursor, param string) (*ent.Cursor, error) {
	if c == nil {
		return nil, nil
	}
	out := *c
	bad := apperr.Invalid(param, "was issued for a listing in another order")
	switch order.Field.String() {
	case "CREATED_AT", "UPDATED_AT", "FIRST_SEEN_AT", "LAST_SEEN_AT":
		t, ok := c.Value.(time.Time)
		if !ok {
			return nil, bad
		}
		out.Value = t.UTC()
	case "SEVERITY", "OCCURRENCES":
		n, ok := cursorInt(c.Value)
		if !ok {
			return nil, bad
		}
		out.Value = n
	case "TITLE":
		if _, ok := c.Value.(string); !ok {
			return nil, bad
		}
	default:
		if c.Value != nil {
			return nil, bad
		}
	}
	return &out, nil
}

func cursorInt(v any) (int64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if u := rv.Uint(); u <= math.MaxInt64 {
			return int64(u), true
		}
	}
	return 0, false
}
