// Package ratelimit applies httprate's sliding-window counter to keys that
// are known only deep inside a request (login: client IP plus the email in
// the body), where httprate's middleware cannot see them.
package ratelimit

import (
	"net/http"
	"time"

	"github.com/go-chi/httprate"
)

// Limiter allows Limit events per Window for each key.
type Limiter struct {
	rl     *httprate.RateLimiter
	window time.Duration
}

// New returns a limiter of limit events per window and key (in memory, per
// replica: a login limit per replica still bounds guessing to limit × replicas).
func New(limit int, window time.Duration) *Limiter {
	return &Limiter{rl: httprate.NewRateLimiter(limit, window), window: window}
}

// headerSink discards the rate headers httprate writes; callers get the
// verdict and the wait instead.
type headerSink http.Header

func (h headerSink) Header() http.Header       { return http.Header(h) }
func (headerSink) Write(b []byte) (int, error) { return len(b), nil }
func (headerSink) WriteHeader(int)             {}

// Allow counts one event for key. When the limit is reached it returns false
// and how long to wait before trying again.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	if l.rl.OnLimit(headerSink{}, &http.Request{}, key) {
		now := time.Now().UTC()
		return false, now.Truncate(l.window).Add(l.window).Sub(now).Round(time.Second) + time.Second
	}
	return true, 0
}
