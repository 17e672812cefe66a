package stream

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/apperr"
)

// CloseTooManyConnections refuses a connection_init past the per-user cap.
// graphql-transport-ws uses 4429 for a second connection_init; both mean
// "too many", and graphql-ws clients do not retry it.
const CloseTooManyConnections = 4429

// DefaultMaxConnectionsPerUser is the per-user cap when none is configured
// (SELIQ_WS_MAX_CONNECTIONS_PER_USER).
const DefaultMaxConnectionsPerUser = 20

// recheckTimeout bounds one connection's re-authentication after a change.
const recheckTimeout = 5 * time.Second

// Principal is who a long-lived connection (a WebSocket or an SSE stream)
// acts for, as it was authenticated when it opened.
type Principal struct {
	UserID uuid.UUID
	// Check authenticates the connection's credential again and says
	// whether it still grants what it granted: an apperr Unauthenticated
	// error (the credential is gone, the user deactivated or deleted)
	// closes the connection with 4401, a Forbidden one (the credential is
	// valid but the role or the organisation changed) with 4403. Other
	// errors (the database unreachable) leave it open. It returns, like
	// Ends, when the credential ends unless used again (zero: no such
	// instant); checking must not count as a use.
	Check func(ctx context.Context) (ends time.Time, err error)
	// Ends is when the credential ends unless used again (a session's idle
	// timeout, maximum age or expiry); zero for none. At that instant the
	// connection is checked again and closed if the credential has ended,
	// or kept until the new instant if it was used meanwhile.
	Ends time.Time
}

type principalKey struct{}

// WithPrincipal records p in a connection's context: an InitFunc sets it
// for the transport to register the connection with its Conns.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal WithPrincipal recorded.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Conns is one replica's long-lived connections by user. It caps them per
// user (the count is per replica) and, when told a user changed (Recheck,
// subscribed to auth.Revocations), authenticates each of that user's
// connections again and closes those whose principal no longer holds.
type Conns struct {
	max int
	log *slog.Logger

	mu     sync.Mutex
	byUser map[uuid.UUID]map[*conn]struct{}
}

type conn struct {
	p   Principal
	end func(code int, reason string)

	mu     sync.Mutex
	timer  *time.Timer // fires at the credential's end; nil when it has none
	closed bool
}

// NewConns returns a registry allowing max connections per user
// (DefaultMaxConnectionsPerUser when max <= 0).
func NewConns(max int, log *slog.Logger) *Conns {
	if max <= 0 {
		max = DefaultMaxConnectionsPerUser
	}
	if log == nil {
		log = slog.Default()
	}
	return &Conns{max: max, log: log, byUser: map[uuid.UUID]map[*conn]struct{}{}}
}

// Add registers a connection of p that end closes; remove unregisters it.
// A connection past the user's cap is refused (apperr RateLimited).
func (cs *Conns) Add(p Principal, end func(code int, reason string)) (remove func(), err error) {
	c := &conn{p: p, end: end}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	set := cs.byUser[p.UserID]
	if len(set) >= cs.max {
		return nil, &apperr.Error{Code: apperr.RateLimited, RetryAfter: time.Minute,
			Message: fmt.Sprintf("too many connections: at most %d per user; close one first", cs.max)}
	}
	if set == nil {
		set = map[*conn]struct{}{}
		cs.byUser[p.UserID] = set
	}
	set[c] = struct{}{}
	cs.arm(c, p.Ends)
	return sync.OnceFunc(func() {
		c.mu.Lock()
		c.closed = true
		if c.timer != nil {
			c.timer.Stop()
		}
		c.mu.Unlock()
		cs.mu.Lock()
		defer cs.mu.Unlock()
		delete(set, c)
		if len(cs.byUser[p.UserID]) == 0 {
			delete(cs.byUser, p.UserID)
		}
	}), nil
}

// endRetry is when a connection whose end could not be checked (the
// database unreachable) is checked again.
const endRetry = 30 * time.Second

// arm sets c's timer to check it at ends (nothing when ends is zero): a
// timer per connection, which costs no goroutine until it fires.
func (cs *Conns) arm(c *conn, ends time.Time) {
	if ends.IsZero() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	wait := time.Until(ends)
	if c.timer == nil {
		c.timer = time.AfterFunc(wait, func() { cs.atEnd(c) })
		return
	}
	c.timer.Reset(wait)
}

// atEnd checks c at its credential's end: closed if the credential ended
// (the session went idle: 4401), re-armed at the new end if it was used
// since.
func (cs *Conns) atEnd(c *conn) {
	ends, code, ok := cs.recheck(c)
	switch {
	case !ok && code != CloseTryAgainLater:
		return // closed
	case !ok:
		ends = time.Now().Add(endRetry) // passing: look again later
	case !ends.After(time.Now()):
		// Still good at an end that has come (the checks count "longer
		// than"): a second past it, it has ended.
		ends = time.Now().Add(time.Second)
	}
	cs.arm(c, ends)
}

// Count returns the user's registered connections.
func (cs *Conns) Count(userID uuid.UUID) int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.byUser[userID])
}

// Recheck authenticates every connection of the user again, on a goroutine
// of its own, and closes those that no longer hold (see Principal.Check).
// It never blocks.
func (cs *Conns) Recheck(userID uuid.UUID) {
	cs.mu.Lock()
	conns := make([]*conn, 0, len(cs.byUser[userID]))
	for c := range cs.byUser[userID] {
		conns = append(conns, c)
	}
	cs.mu.Unlock()
	if len(conns) == 0 {
		return
	}
	go func() {
		for _, c := range conns {
			cs.recheck(c)
		}
	}()
}

// CloseCodeFor is the close code for a connection whose credential check
// failed with err: 4401 when the credential no longer authenticates (fatal
// to graphql-ws clients), 4403 when it does but no longer reaches what was
// asked, and 1013 (try again later, which clients retry) for anything
// passing on the server's side, such as the database being unreachable.
func CloseCodeFor(err error) int {
	e, _ := apperr.As(err)
	switch {
	case e != nil && e.Code == apperr.Unauthenticated:
		return CloseUnauthorized
	case e != nil && e.Code == apperr.Forbidden:
		return CloseForbidden
	default:
		return CloseTryAgainLater
	}
}

// recheck authenticates c again and closes it if its principal no longer
// holds. ok is whether it holds, with its credential's new end; code is
// CloseTryAgainLater when that could not be told (left open).
func (cs *Conns) recheck(c *conn) (ends time.Time, code int, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), recheckTimeout)
	defer cancel()
	ends, err := c.p.Check(ctx)
	if err == nil {
		return ends, 0, true
	}
	code = CloseCodeFor(err)
	if code == CloseTryAgainLater {
		// Passing (the database): the next operation checks again.
		cs.log.Warn("realtime: re-authenticate a connection", "user", c.p.UserID, "err", err)
		return time.Time{}, code, false
	}
	e, _ := apperr.As(err)
	reason := "Unauthorized: "
	if code == CloseForbidden {
		reason = "Forbidden: "
	}
	c.end(code, reason+e.Message)
	return time.Time{}, code, false
}
