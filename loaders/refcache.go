package loaders

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/viewer"
)

// References across requests. A page of the queue names a handful of
// connectors, users and incidents, the same ones from one request to the
// next, and reading them was two or three statements per page: a fifth of
// REST's queue CPU after the page itself, and PostgreSQL's time besides.
// For a detached page (alerts.DetachedRows: REST's queue, which writes
// only a reference's id and name fields) PrimeAlerts takes them from a
// RefCache: an entity read by an organisation's viewer is reused for that
// organisation's pages for RefTTL. Every write to a connector, user or
// incident through the client (Track) empties it, so a replica's own
// writes are seen at once; another replica's are seen within RefTTL, as
// a reference read from a replica database would be.

// RefTTL is how long a cached reference is reused.
const RefTTL = time.Second

// maxRefs bounds the cache; past it, it starts over.
const maxRefs = 10000

// RefCache keeps the entities alerts reference, per organisation.
type RefCache struct {
	mu    sync.Mutex
	now   func() time.Time
	gen   atomic.Uint64 // bumped by every write Track sees
	items map[refKey]refItem
}

type refKey struct {
	org, id uuid.UUID // the reading organisation; the entity (ids are unique across tables)
}

type refItem struct {
	v   any
	at  time.Time
	gen uint64
}

// NewRefCache returns an empty cache.
func NewRefCache() *RefCache {
	return &RefCache{now: time.Now, items: map[refKey]refItem{}}
}

// Track empties c on every write to the entities it caches through client.
func (c *RefCache) Track(client *ent.Client) {
	hook := func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			c.gen.Add(1)
			v, err := next.Mutate(ctx, m)
			c.gen.Add(1) // also after: a read between the two may have cached the old row
			return v, err
		})
	}
	client.Connector.Use(hook)
	client.User.Use(hook)
	client.Incident.Use(hook)
}

// scope is the organisation whose cached references ctx's viewer may be
// given: the tenant rules confine connectors, users and incidents to the
// acting organisation for a user's request. ok is false for anything else
// (a job, a connector, a tree-wide read), which reads without the cache.
func scope(ctx context.Context) (uuid.UUID, bool) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser || v.Tree != nil || v.OrgID == uuid.Nil {
		return uuid.Nil, false
	}
	return v.OrgID, true
}

func (c *RefCache) get(org, id uuid.UUID) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[refKey{org, id}]
	if !ok || it.gen != c.gen.Load() || c.now().Sub(it.at) > RefTTL {
		return nil, false
	}
	return it.v, true
}

func (c *RefCache) put(org, id uuid.UUID, gen uint64, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.items) >= maxRefs {
		clear(c.items)
	}
	c.items[refKey{org, id}] = refItem{v: v, at: c.now(), gen: gen}
}

// primeCached is primeRows through c: the references c holds for ctx's
// organisation prime ld without a query, the others are read and kept.
// Without a cache, a scope or a detached page it is primeRows. It returns
// every reference it primed.
func primeCached[T any](ctx context.Context, c *RefCache, ld *dataloadgen.Loader[uuid.UUID, T], ids []*uuid.UUID,
	query func(context.Context, []uuid.UUID) ([]T, error), id func(T) uuid.UUID,
) ([]T, error) {
	org, ok := scope(ctx)
	if c == nil || !ok || !alerts.Detached(ctx) {
		return primeRows(ctx, ld, ids, query, id)
	}
	gen := c.gen.Load()
	var hits []T
	var missing []uuid.UUID
	for _, k := range distinct(ids) {
		if v, hit := c.get(org, k); hit {
			ld.Prime(k, v.(T))
			hits = append(hits, v.(T))
			continue
		}
		missing = append(missing, k)
	}
	read, err := primeKeys(ctx, ld, missing, query, id)
	if err != nil {
		return nil, err
	}
	for _, v := range read {
		c.put(org, id(v), gen, v)
	}
	return append(hits, read...), nil
}
