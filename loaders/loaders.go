// Package loaders batches the objects nested in lists: an alert's
// connector, assignee and incident, an incident's assignee, group and
// severity counts. Each root field of a query or mutation gets its own
// Loaders (gqlserver installs them, so REST, which runs the same
// operations, gets them too; subscriptions read nested objects directly);
// each loader reads the keys of a whole batch in one query, through the
// viewer's ent client, so the privacy rules decide what comes back exactly
// as they do for a single read. A list primes them from its page (Prime*),
// so a page costs one query per relation whatever its size; anything not
// primed is batched by dataloadgen within a short wait.
package loaders

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/ent/group"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/user"
)

// wait is how long a loader collects keys before it queries: long enough
// for the sibling fields gqlgen resolves concurrently, short beside a
// request.
const wait = 2 * time.Millisecond

// Sources are what the loaders read from.
type Sources struct {
	Client *ent.Client
	Alerts *alerts.Service
	// Refs, if set, keeps the references of detached pages across
	// requests (RefCache).
	Refs *RefCache
}

// Loaders are one request's batched loaders; a key's value is cached for
// the request.
type Loaders struct {
	src        Sources
	connector  *dataloadgen.Loader[uuid.UUID, *ent.Connector]
	user       *dataloadgen.Loader[uuid.UUID, *ent.User]
	incident   *dataloadgen.Loader[uuid.UUID, *ent.Incident]
	group      *dataloadgen.Loader[uuid.UUID, *ent.Group]
	severities *dataloadgen.Loader[uuid.UUID, []*alerts.FacetValue]
}

// New returns a request's loaders.
func New(src Sources) *Loaders {
	opt := dataloadgen.WithWait(wait)
	return &Loaders{
		src:        src,
		connector:  dataloadgen.NewLoader(byID(src.connectors, func(v *ent.Connector) uuid.UUID { return v.ID }), opt),
		user:       dataloadgen.NewLoader(byID(src.users, func(v *ent.User) uuid.UUID { return v.ID }), opt),
		incident:   dataloadgen.NewLoader(byID(src.incidents, func(v *ent.Incident) uuid.UUID { return v.ID }), opt),
		group:      dataloadgen.NewLoader(byID(src.groups, func(v *ent.Group) uuid.UUID { return v.ID }), opt),
		severities: dataloadgen.NewLoader(mapped(src.severities), opt),
	}
}

type ctxKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the request's loaders; nil outside a GraphQL response.
func From(ctx context.Context) *Loaders {
	l, _ := ctx.Value(ctxKey{}).(*Loaders)
	return l
}

func (s Sources) connectors(ctx context.Context, ids []uuid.UUID) ([]*ent.Connector, error) {
	return s.Client.Connector.Query().Where(connector.IDIn(ids...)).All(ctx)
}

func (s Sources) users(ctx context.Context, ids []uuid.UUID) ([]*ent.User, error) {
	return s.Client.User.Query().Where(user.IDIn(ids...)).All(ctx)
}

func (s Sources) incidents(ctx context.Context, ids []uuid.UUID) ([]*ent.Incident, error) {
	return s.Client.Incident.Query().Where(incident.IDIn(ids...)).All(ctx)
}

func (s Sources) groups(ctx context.Context, ids []uuid.UUID) ([]*ent.Group, error) {
	return s.Client.Group.Query().Where(group.IDIn(ids...)).All(ctx)
}

func (s Sources) severities(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]*alerts.FacetValue, error) {
	return s.Alerts.SeveritiesByIncident(ctx, ids)
}

// byID turns a query by ids into a batch function: a key the viewer may
// not read (or that does not exist) gets nil, as a nullable edge does.
func byID[T any](query func(context.Context, []uuid.UUID) ([]T, error), id func(T) uuid.UUID) func(context.Context, []uuid.UUID) ([]T, []error) {
	return func(ctx context.Context, keys []uuid.UUID) ([]T, []error) {
		m, err := fetchMap(ctx, keys, query, id)
		if err != nil {
			return nil, []error{err}
		}
		out := make([]T, len(keys))
		for i, k := range keys {
			out[i] = m[k]
		}
		return out, nil
	}
}

func mapped[T any](query func(context.Context, []uuid.UUID) (map[uuid.UUID]T, error)) func(context.Context, []uuid.UUID) ([]T, []error) {
	return func(ctx context.Context, keys []uuid.UUID) ([]T, []error) {
		m, err := query(ctx, keys)
		if err != nil {
			return nil, []error{err}
		}
		out := make([]T, len(keys))
		for i, k := range keys {
			out[i] = m[k]
		}
		return out, nil
	}
}

func fetchMap[T any](ctx context.Context, keys []uuid.UUID, query func(context.Context, []uuid.UUID) ([]T, error), id func(T) uuid.UUID) (map[uuid.UUID]T, error) {
	rows, err := query(ctx, keys)
	if err != nil {
		return nil, err
	}
	m := make(map[uuid.UUID]T, len(rows))
	for _, r := range rows {
		m[id(r)] = r
	}
	return m, nil
}
