package auth

import (
	"context"
	"crypto/sha256"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/security/policy"
)

// PrincipalCacheTTL is how long an authenticated credential is reused
// without reading the database: the session or token, its user, the
// organisation tree and the security settings were four to six statements
// on every request. Changes do not wait for it: every change of a
// credential, a user, an organisation or its security settings is
// announced through Revocations (Revoke, OrgChanged) and evicts what it
// touched on every replica as soon as the hub delivers it (NOTIFY, or the
// one-second poll); the TTL only bounds how long anything not announced
// could be served.
const PrincipalCacheTTL = 5 * time.Second

// maxCachedPrincipals bounds the cache; past it the cache starts over.
const maxCachedPrincipals = 10_000

// cacheKey identifies one authentication: the credential (hashed) and the
// organisation the request named.
type cacheKey struct {
	scheme string
	secret [sha256.Size]byte
	org    string
}

// cachedPrincipal is what Authenticate found for a credential, with what
// each later request must still check against: the time (expiry, the
// organisation's session age and idle limits, the usage stamp) and its own
// address (the IP allowlists).
type cachedPrincipal struct {
	v    viewer.Viewer // EnrolOnly already worked out
	pols []policy.Settings
	// expiresAt is the session's or token's expiry (nil: never).
	expiresAt *time.Time
	// stamp is the session's last_seen_at or the token's last_used_at
	// as written; once StampDue, the request takes the slow path, which
	// writes it.
	stamp *time.Time
	// For sessions: the creation time and the organisation's limits.
	created         time.Time
	maxAge, idleMax time.Duration
	session         bool

	at    time.Time // when it was cached (the TTL)
	epoch uint64
}

// fresh reports whether c may answer a request at now without reading the
// database.
func (c *cachedPrincipal) fresh(now, wall time.Time, epoch uint64) bool {
	switch {
	case wall.Sub(c.at) > PrincipalCacheTTL || c.epoch != epoch:
		return false
	case c.expiresAt != nil && now.After(*c.expiresAt):
		return false
	case StampDue(c.stamp, now):
		return false
	case c.session && now.Sub(c.created) > c.maxAge:
		return false
	case c.session && c.idleMax > 0 && c.stamp != nil && now.Sub(*c.stamp) > c.idleMax:
		return false
	}
	return true
}

// viewer returns a copy of the cached viewer, or errAddressRefused when the
// request's address is outside an allowlist.
func (c *cachedPrincipal) viewer(clientIP string) (*viewer.Viewer, error) {
	for _, pol := range c.pols {
		if !pol.Allows(clientIP) {
			return nil, errAddressRefused
		}
	}
	v := c.v
	v.VisibleOrgIDs = slices.Clone(c.v.VisibleOrgIDs)
	return &v, nil
}

// principalCache holds one replica's authenticated credentials.
type principalCache struct {
	// epoch moves with every write through the client to what principals
	// are made of (trackWrites), before the write commits: entries of an
	// older epoch are not used, so a replica never serves what it has just
	// changed itself, even before its hub delivers the change. Other
	// replicas learn of it through Revocations.
	epoch *atomic.Uint64
	mu    sync.Mutex
	// gen changes with every eviction: a lookup that started before one
	// does not store what it read, which may predate the change.
	gen uint64
	m   map[cacheKey]*cachedPrincipal
}

func newPrincipalCache(client *ent.Client) *principalCache {
	return &principalCache{epoch: trackWrites(client), m: map[cacheKey]*cachedPrincipal{}}
}

func (pc *principalCache) get(k cacheKey) *cachedPrincipal {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.m[k]
}

// begin returns the generation a lookup starts in, with the process epoch.
func (pc *principalCache) begin() (gen, epoch uint64) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.gen, pc.epoch.Load()
}

// put stores c unless anything was evicted or revoked since begin.
func (pc *principalCache) put(k cacheKey, gen uint64, c *cachedPrincipal) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.gen != gen || c.epoch != pc.epoch.Load() {
		return
	}
	if len(pc.m) >= maxCachedPrincipals {
		clear(pc.m)
	}
	pc.m[k] = c
}

// drop evicts k (a credential found no longer fresh).
func (pc *principalCache) drop(k cacheKey) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	delete(pc.m, k)
}

// forget evicts what c touched: the user's credentials, or everything for
// a change to an organisation (its tree, its settings), which is rare.
func (pc *principalCache) forget(c PrincipalChange) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.gen++
	if c.UserID == uuid.Nil {
		clear(pc.m)
		return
	}
	for k, e := range pc.m {
		if e.v.UserID == c.UserID {
			delete(pc.m, k)
		}
	}
}

// Forget evicts the cached principals a change touched. Subscribe it to
// Revocations before anything that authenticates again in reaction to the
// same change (the stream registry's recheck), so that it reads afresh.
func (s *Service) Forget(c PrincipalChange) { s.cache.forget(c) }

// OrgChanged announces that organisation orgID changed in a way that
// affects who may do what (created, renamed, its security settings), with
// client, the change's transaction's: every replica's Revocations delivers
// it as a PrincipalChange without a user, and their caches start over.
func OrgChanged(ctx context.Context, client *ent.Client, orgID uuid.UUID) error {
	return hub.Record(System(ctx), client, hub.Event{
		OrganizationID: orgID, Topic: hub.TopicPrincipal, Kind: hub.KindUpdated, EntityID: orgID,
	})
}

// announcing holds the clients TrackOrganizations has hooked.
var announcing sync.Map

// TrackOrganizations makes every change to an organisation row announce
// itself (OrgChanged) in the same transaction, whoever makes it: the tree
// and the MFA requirement cached with principals live there.
func TrackOrganizations(client *ent.Client) {
	if _, loaded := announcing.LoadOrStore(client, true); loaded {
		return // one announcement per change, however many servers share client
	}
	client.Organization.Use(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			om, ok := m.(*ent.OrganizationMutation)
			if !ok {
				return next.Mutate(ctx, m)
			}
			ids, err := om.IDs(System(ctx))
			if err != nil && !om.Op().Is(ent.OpCreate) {
				return nil, err
			}
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return v, err
			}
			if o, ok := v.(*ent.Organization); ok && om.Op().Is(ent.OpCreate) {
				ids = []uuid.UUID{o.ID}
			}
			for _, id := range ids {
				if err := OrgChanged(ctx, om.Client(), id); err != nil {
					return nil, err
				}
			}
			return v, nil
		})
	})
}

// epochs holds each client's epoch (principalCache.epoch); a client's
// transactions carry its hooks, so they move it too.
var epochs sync.Map // *ent.Client → *atomic.Uint64

// trackWrites returns client's epoch, making every write through client to
// what cached principals are made of (sessions, API tokens, users,
// organisations, settings) move it: the services also announce their
// changes to every replica (Revoke, OrgChanged), and this covers a write
// that does not. The usage stamps are left out: they change once a minute
// per credential and change nothing a principal grants. New sessions and
// tokens are left out too: nothing cached is made of them.
func trackWrites(client *ent.Client) *atomic.Uint64 {
	e, loaded := epochs.LoadOrStore(client, new(atomic.Uint64))
	epoch := e.(*atomic.Uint64)
	if loaded {
		return epoch
	}
	hook := func(skipCreate bool, stamps ...string) ent.Hook {
		return func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
				if (skipCreate && m.Op().Is(ent.OpCreate)) || onlyFields(m, stamps) {
					return next.Mutate(ctx, m)
				}
				// Before, so that a lookup already reading does not store
				// what it read; after, for one that read in between.
				epoch.Add(1)
				defer epoch.Add(1)
				return next.Mutate(ctx, m)
			})
		}
	}
	client.Session.Use(hook(true, "last_seen_at", "updated_at"))
	client.APIToken.Use(hook(true, "last_used_at", "updated_at"))
	client.User.Use(hook(true, "last_login_at", "updated_at"))
	client.Organization.Use(hook(false))
	client.Setting.Use(hook(false))
	return epoch
}

// onlyFields reports whether an update sets nothing but fields (a delete or
// a create sets other fields or none, and is not "only" these).
func onlyFields(m ent.Mutation, fields []string) bool {
	if len(fields) == 0 || !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) {
		return false
	}
	set := m.Fields()
	if len(set) == 0 || len(m.ClearedFields()) > 0 || len(m.AddedFields()) > 0 {
		return false
	}
	for _, f := range set {
		if !slices.Contains(fields, f) {
			return false
		}
	}
	return true
}
