package metrics

import (
	"context"
	stdsql "database/sql"

	"entgo.io/ent/dialect"

	"entgo.io/ent/dialect/sql"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/enum"
)

// Each duration is counted in the period its end falls in: time to detect
// when the alert was created, time to resolve when it was resolved.

// detected is the alerts whose time to detect counts in sc's period: those
// created in it whose payload gave an event time not after creation (a
// source clock ahead of Seliq's would give a negative time).
func (s *Service) detected(sc *scope) *ent.AlertQuery {
	return s.alertsCreated(sc).Where(alert.EventTimeNotNil(), predicate.Alert(func(sel *sql.Selector) {
		sel.Where(sql.ColumnsLTE(sel.C(alert.FieldEventTime), sel.C(alert.FieldCreatedAt)))
	}))
}

// resolved is the alerts resolved or closed in sc's period, except those
// closed as duplicates and those automation suppressed: closing them takes
// no work and would pull the time to resolve towards zero.
func (s *Service) resolved(sc *scope) *ent.AlertQuery {
	return s.client.Alert.Query().Where(
		alert.StatusIn(enum.AlertStatusResolved, enum.AlertStatusClosed),
		alert.ResolvedAtGTE(sc.since), alert.ResolvedAtLT(sc.until),
		alert.Or(alert.DispositionIsNil(), alert.DispositionNEQ(enum.DispositionDuplicate)),
		alert.Suppressed(false),
	).Where(sc.alertNarrowing()...)
}

// acknowledged is the incidents first acknowledged in sc's period.
func (s *Service) acknowledged(sc *scope) *ent.IncidentQuery {
	return s.client.Incident.Query().Where(incident.AcknowledgedAtGTE(sc.since), incident.AcknowledgedAtLT(sc.until)).
		Where(sc.incidentNarrowing()...)
}

// closed is the incidents closed in sc's period, except duplicates.
func (s *Service) closed(sc *scope) *ent.IncidentQuery {
	return s.client.Incident.Query().Where(
		incident.StatusEQ(enum.IncidentStatusClosed),
		incident.ClosedAtGTE(sc.since), incident.ClosedAtLT(sc.until),
		incident.Or(incident.DispositionIsNil(), incident.DispositionNEQ(enum.DispositionDuplicate)),
	).Where(sc.incidentNarrowing()...)
}

func attachDurations(t *Durations, o *ent.Organization, row *Durations) *Durations {
	row.Row = rowOf(o)
	t.Organizations = append(t.Organizations, row)
	return t
}

// AlertMTTD is the time to detect: from the event time the payload gave
// to the alert's creation.
func (s *Service) AlertMTTD(ctx context.Context, r *Range, org *string) (*Durations, error) {
	sc, err := s.resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	return rolled(ctx, s, org, func(ctx context.Context) (*Durations, error) {
		return s.alertDurations(ctx, sc, timeToDetect)
	}, attachDurations)
}

// AlertMTTR is the time to resolve: from creation to resolved or closed.
func (s *Service) AlertMTTR(ctx context.Context, r *Range, org *string) (*Durations, error) {
	sc, err := s.resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	return rolled(ctx, s, org, func(ctx context.Context) (*Durations, error) {
		return s.alertDurations(ctx, sc, timeToResolve)
	}, attachDurations)
}

// sortMemory is the work_mem of a percentile's statement: a week of a
// million-alert organisation is some 230,000 durations to sort, which
// spill to disk under PostgreSQL's default 4 MB.
const sortMemory = "32MB"

// withSortMemory runs fn on PostgreSQL in a read-only transaction whose
// work_mem is sortMemory (SET LOCAL: the pooled connection keeps its
// default), with s reading through that transaction; on SQLite it runs fn
// on s (durations are sorted in Go there).
func withSortMemory[T any](ctx context.Context, s *Service, fn func(*Service) (T, error)) (T, error) {
	var zero T
	if s.dialect != dialect.Postgres {
		return fn(s)
	}
	tx, err := s.client.BeginTx(ctx, &stdsql.TxOptions{ReadOnly: true})
	if err != nil {
		return zero, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '"+sortMemory+"'"); err != nil {
		return zero, err
	}
	in := *s
	in.client = tx.Client()
	return fn(&in)
}
