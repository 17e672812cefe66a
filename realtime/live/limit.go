package live

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/seliq/seliq/internal/apperr"
)

// MaxSubscriptionsPerConnection bounds the subscriptions one WebSocket
// connection runs at once: each holds a hub subscription and a goroutine,
// or a place in a shared one.
const MaxSubscriptionsPerConnection = 50

type slotsKey struct{}

// slots counts one connection's running subscriptions.
type slots struct {
	used atomic.Int32
	max  int32
}

// WithSubscriptionLimit gives a connection's context a budget of max
// concurrent subscriptions; operations started on the connection inherit it.
func WithSubscriptionLimit(ctx context.Context, max int) context.Context {
	return context.WithValue(ctx, slotsKey{}, &slots{max: int32(max)})
}

// noLimit hides a connection's budget from a context derived from it.
type noLimit struct{}

// WithoutSubscriptionLimit returns ctx without its connection's budget: a
// shared operation outlives the connection it started from, and each of
// its subscribers holds a slot of its own connection instead.
func WithoutSubscriptionLimit(ctx context.Context) context.Context {
	return context.WithValue(ctx, slotsKey{}, noLimit{})
}

// AcquireSubscription takes one of the connection's slots and returns the
// function that gives it back. Outside a limited connection (server-sent
// events, tests) it always succeeds.
func AcquireSubscription(ctx context.Context) (release func(), err error) {
	s, ok := ctx.Value(slotsKey{}).(*slots)
	if !ok {
		return func() {}, nil
	}
	if s.used.Add(1) > s.max {
		s.used.Add(-1)
		return nil, &apperr.Error{Code: apperr.RateLimited, Message: fmt.Sprintf("too many subscriptions on this connection: at most %d; close one first", s.max)}
	}
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			s.used.Add(-1)
		}
	}, nil
}
