package alertviews

import (
	"context"
	"sync"

	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/viewer"
)

// prefs are one caller's choices in the acting organisation.
type prefs struct {
	hidden    map[uuid.UUID]bool
	defaultID uuid.UUID // uuid.Nil when there is no usable default
}

// prefsKey identifies a caller in an organisation.
type prefsKey struct{ user, org uuid.UUID }

// cache holds prefs for the duration of one request. GraphQL resolves the
// hidden and isDefault fields of a list concurrently, so the first lookup
// holds the lock and the others wait for its answer instead of querying.
type cache struct {
	mu      sync.Mutex
	entries map[prefsKey]*prefs
}

type cacheKey struct{}

// WithCache returns ctx carrying a per-request cache of the caller's hidden
// views and default, so that Hidden and IsDefault over a list of views cost
// two queries in all rather than one per view and field. Install it once
// per request (GraphQL operation); writes through the Service clear it.
func WithCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, cacheKey{}, &cache{})
}

func cacheFrom(ctx context.Context) *cache {
	c, _ := ctx.Value(cacheKey{}).(*cache)
	return c
}

// get returns v's prefs, loading them on first use.
func (c *cache) get(ctx context.Context, v *viewer.Viewer, load func(context.Context, *viewer.Viewer) (*prefs, error)) (*prefs, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := prefsKey{user: v.UserID, org: v.OrgID}
	if p, ok := c.entries[key]; ok {
		return p, nil
	}
	p, err := load(ctx, v)
	if err != nil {
		return &prefs{}, err
	}
	if c.entries == nil {
		c.entries = make(map[prefsKey]*prefs)
	}
	c.entries[key] = p
	return p, nil
}

// forget drops what the request's cache holds, after a write that may have
// changed it.
func forget(ctx context.Context) {
	if c := cacheFrom(ctx); c != nil {
		c.mu.Lock()
		c.entries = nil
		c.mu.Unlock()
	}
}
