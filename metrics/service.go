package metrics

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/storage"
)

// Limits that bound a metric's cost.
const (
	// DefaultPeriod is the range when since is not given.
	DefaultPeriod = 7 * 24 * time.Hour
	// MaxPeriod bounds since to until: a year and a day.
	MaxPeriod = 366 * 24 * time.Hour
	// MaxBuckets bounds the volume series.
	MaxBuckets = 2000
	// MaxTreeOrgs bounds the organisations of a roll-up (a row each).
	MaxTreeOrgs = 200
	// AllOrganizations is the organization argument of a roll-up.
	AllOrganizations = "all"
)

// Service computes the metrics for the acting organisation, or a
// provider's tree.
type Service struct {
	client  *ent.Client
	dialect string
	now     func() time.Time
	// exactUpTo is ExactUpTo; tests lower it to compare both paths.
	exactUpTo int
}

// New returns the service over client, a database of the ent dialect d.
func New(client *ent.Client, d string) *Service {
	return &Service{client: client, dialect: d, now: time.Now, exactUpTo: ExactUpTo}
}

// WithClock sets the clock the default range reads, and returns s.
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	return s
}

// scope is a validated range: the period, the narrowing, the queries
// compiled per source, and the time zone buckets follow.
type scope struct {
	since, until time.Time
	rng          Range
	alertQ       *query.Query
	incidentQ    *query.Query
	loc          *time.Location
}

// edges are the parts of sc's range outside [lo, hi), whole periods of
// the counters inside it: the partial periods at either end, which are
// counted from the rows.
func (sc *scope) edges(lo, hi time.Time) []*scope {
	var out []*scope
	for _, edge := range storage.PartialEdges(sc.since, sc.until, lo, hi) {
		part := *sc
		part.since, part.until = edge[0], edge[1]
		out = append(out, &part)
	}
	return out
}

// PeriodEnd is where a period ending at t stops: the next whole second
// (t itself when whole), as the summary tells its periods apart by epoch
// seconds, so that an alert of t's own second counts.
func PeriodEnd(t time.Time) time.Time {
	end := t.UTC().Truncate(time.Second)
	if end.Before(t) {
		end = end.Add(time.Second)
	}
	return end
}

// resolve validates r (nil: the defaults) in the caller's organisation.
func (s *Service) resolve(ctx context.Context, r *Range) (*scope, error) {
	if viewer.FromContext(ctx) == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	sc := &scope{}
	if r != nil {
		sc.rng = *r
	}
	now := s.now().UTC()
	sc.until = PeriodEnd(now)
	if sc.rng.Until != nil {
		sc.until = PeriodEnd(*sc.rng.Until)
	}
	sc.since = sc.until.Add(-DefaultPeriod)
	if sc.rng.Since != nil {
		sc.since = sc.rng.Since.UTC().Truncate(time.Second)
	}
	for _, b := range []struct {
		name string
		t    time.Time
	}{{"since", sc.since}, {"until", sc.until}} {
		if b.t.Year() < 1970 || b.t.Year() > 9999 {
			return nil, apperr.Invalid(b.name, "must be between years 1970 and 9999")
		}
	}
	if !sc.since.Before(sc.until) {
		return nil, apperr.Invalid("until", "must be after since")
	}
	if sc.until.Sub(sc.since) > MaxPeriod {
		return nil, apperr.Invalid("since", "the range is at most %d days", int(MaxPeriod/(24*time.Hour)))
	}
	for _, sev := range sc.rng.Severity {
		if !sev.Valid() {
			return nil, apperr.Invalid("severity", "unknown severity %q; the severities are %s", sev, strings.Join(enum.Severity("").Values(), ", "))
		}
	}
	if sc.rng.Query != nil && strings.TrimSpace(*sc.rng.Query) != "" {
		var err error
		if sc.alertQ, err = compile("alerts", *sc.rng.Query, now); err != nil {
			return nil, err
		}
		// An incident metric needs the expression to read incidents' fields;
		// the error is reported when one is asked for (incidentQuery).
		sc.incidentQ, _ = compile("incidents", *sc.rng.Query, now)
	}
	loc, err := query.OrgLocation(ctx, s.client)
	if err != nil {
		return nil, err
	}
	sc.loc = loc
	return sc, nil
}

func compile(source, text string, now time.Time) (*query.Query, error) {
	src, _ := query.Lookup(source)
	return query.Compile(src, "query", text, now)
}

// incidentScope checks that sc can narrow incidents: connectors deliver
// alerts only, and the query must read incidents' fields.
func (sc *scope) incidentScope() error {
	if sc.rng.Connector != nil {
		return apperr.Invalid("connector", "incidents have no connector; leave it out for incident metrics")
	}
	if sc.rng.Query != nil && strings.TrimSpace(*sc.rng.Query) != "" && sc.incidentQ == nil {
		_, err := compile("incidents", *sc.rng.Query, time.Now())
		return err
	}
	return nil
}

// previous is the period of the same length just before sc's.
func (sc *scope) previous() *scope {
	p := *sc
	p.since, p.until = sc.since.Add(-sc.until.Sub(sc.since)), sc.since
	return &p
}

// rolled answers one metric for the acting organisation or, with
// organization "all", for the caller's whole tree: the total, then a row
// per organisation (each computed acting in that organisation alone).
// Whether the caller may is decided by viewer.ForTree and enforced by the
// privacy rules; a named organisation (X-Seliq-Org) wins over "all".
func rolled[T any](ctx context.Context, s *Service, org *string, one func(context.Context) (T, error), attach func(total T, org *ent.Organization, row T) T) (T, error) {
	return RollUp(ctx, s.client, org, one, attach)
}

// RollUp is rolled for other packages' aggregates (the SLA figures): one
// computes the figure under the context it is given (the tree viewer for
// the total, then each organisation's), attach adds an organisation's row
// to the total.
func RollUp[T any](ctx context.Context, client *ent.Client, org *string, one func(context.Context) (T, error), attach func(total T, org *ent.Organization, row T) T) (T, error) {
	var zero T
	all := false
	if org != nil && *org != "" {
		if *org != AllOrganizations {
			return zero, apperr.Invalid("organization", `must be %q (every organisation of your tree) or left out; pick one organisation with the X-Seliq-Org header`, AllOrganizations)
		}
		all = true
	}
	if !all {
		return one(ctx)
	}
	tree, orgs, ok := viewer.ForTree(ctx)
	if !ok {
		if v := viewer.FromContext(ctx); v != nil && v.Picked {
			return one(ctx) // X-Seliq-Org names the scope: it wins over all
		}
		return zero, apperr.New(apperr.Forbidden, "organization=all is for users of a provider organisation, acting in it")
	}
	if len(orgs) > MaxTreeOrgs {
		return zero, &apperr.Error{Code: apperr.QueryTooExpensive, Field: "organization",
			Message: fmt.Sprintf("the tree has %d organisations, over the roll-up limit of %d; ask per organisation with X-Seliq-Org", len(orgs), MaxTreeOrgs)}
	}
	total, err := one(tree)
	if err != nil {
		return zero, err
	}
	ents, err := client.Organization.Query().Where(organization.IDIn(orgs...)).All(tree)
	if err != nil {
		return zero, err
	}
	// The provider first, then its clients by name.
	slices.SortFunc(ents, func(a, b *ent.Organization) int {
		if (a.ID == orgs[0]) != (b.ID == orgs[0]) {
			if a.ID == orgs[0] {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	for _, o := range ents {
		in := viewer.InTree(tree, o.ID)
		if in == nil {
			return zero, fmt.Errorf("organisation %s outside the tree", o.ID)
		}
		row, err := one(in)
		if err != nil {
			return zero, err
		}
		total = attach(total, o, row)
	}
	return total, nil
}
