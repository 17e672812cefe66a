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

// startEventClock starts the clock of the subscription event field fc
// belongs to; elsewhere there is none and it does nothing.
// Only fields that can be an event's first look for a clock: the lookup
// walks the whole context chain, and a page of alerts resolves thousands
// of fields that cannot be.
func startEventClock(ctx context.Context, fc *graphql.FieldContext) {
	if fc != nil && !mayStartEvent(fc) {
		return
	}
	if c, ok := ctx.Value(eventClockKey{}).(*eventClock); ok {
		c.start()
	}
}

// mayStartEvent reports whether fc is a subscription's root field or a
// field of its event object (through list elements): every deeper field
// resolves after one of those, which has started the event's clock.
func mayStartEvent(fc *graphql.FieldContext) bool {
	depth := 0
	for p := fc.Parent; p != nil; p = p.Parent {
		if p.Field.Field == nil { // a list element's context
			continue
		}
		if depth++; depth > 1 {
			return false
		}
		fc = p
	}
	return fc.Object == "Subscription"
}
