package gqlserver

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/internal/apperr"
)

// DefaultTimeout bounds the execution of one query or mutation, and of one
// subscription event (SELIQ_GRAPHQL_TIMEOUT).
const DefaultTimeout = 30 * time.Second

// timeoutError is the cause of an execution cut short by its deadline; the
// error presenter reports it instead of the resolver's bare
// context.DeadlineExceeded.
type timeoutError struct{ after time.Duration }

func (e timeoutError) Error() string { return "operation timed out after " + e.after.String() }

func (e timeoutError) apperr() *apperr.Error {
	return apperr.New(apperr.Timeout, "the operation ran longer than %s and was stopped; ask for less (smaller pages, fewer fields)", e.after)
}

// deadline bounds each response's execution by d: a query's or mutation's
// single response, and each event of a subscription. A subscription waits
// for its events without limit: its clock starts when the first field of an
// event resolves (eventClock) and stops once the event is written.
func deadline(d time.Duration) graphql.ResponseMiddleware {
	cause := timeoutError{after: d}
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		oc := graphql.GetOperationContext(ctx)
		if oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
			ctx, cancel := context.WithTimeoutCause(ctx, d, cause)
			defer cancel()
			return next(ctx)
		}
		ctx, cancel := context.WithCancelCause(ctx)
		clock := &eventClock{d: d, fire: func() { cancel(cause) }}
		defer func() {
			clock.stop()
			cancel(nil)
		}()
		return next(context.WithValue(ctx, eventClockKey{}, clock))
	}
}

type eventClockKey struct{}

// eventClock starts an event's deadline on the first field resolved for it.
type eventClock struct {
	d     time.Duration
	fire  func()
	once  sync.Once
	mu    sync.Mutex
	timer *time.Timer
}

func (c *eventClock) start() {
	c.once.Do(func() {
		c.mu.Lock()
		c.timer = time.AfterFunc(c.d, c.fire)
		c.mu.Unlock()
	})
}

func (c *eventClock) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
	}
}

// startEventClock is the field middleware that starts a subscription
// event's clock; elsewhere there is none and it does nothing.
func startEventClock(ctx context.Context, next graphql.Resolver) (any, error) {
	if c, ok := ctx.Value(eventClockKey{}).(*eventClock); ok {
		c.start()
	}
	return next(ctx)
}
