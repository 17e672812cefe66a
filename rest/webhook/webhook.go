// Package webhook serves POST /api/v1/alerts/ingest, the connectors' push
// endpoint: the HTTP side of package ingest (key header, per-connector rate
// limit, body limit, status codes), which does the rest.
package webhook

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/go-chi/httprate"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ingest"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/rest"
)

// Rate limiting: each connector may post its rate_limit_per_minute times
// per sliding minute (per replica).
const (
	defaultRateLimit = 300
	rateWindow       = time.Minute
)

// Handler serves POST /api/v1/alerts/ingest: it authenticates the
// connector by its X-API-Key, applies the connector's rate limit and the
// body limit, ingests the payload and answers 202 with the Result.
func Handler(s *ingest.Service, authn ingest.ConnectorAuthenticator) http.Handler {
	// One limiter counts posts for every connector; each request carries
	// its connector's own limit.
	limiter := httprate.NewRateLimiter(defaultRateLimit, rateWindow)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			rest.WriteJSON(w, http.StatusMethodNotAllowed, map[string]any{"detail": "use POST"})
			return
		}
		ctx, c, err := s.Authenticate(r.Context(), authn, r.Header.Get("X-API-Key"))
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		if err := allow(limiter, w, r.WithContext(ctx), c); err != nil {
			rest.WriteError(w, err)
			return
		}
		body, err := readBody(w, r, s.MaxBodyBytes())
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		res, err := s.Ingest(ctx, c, body)
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		rest.WriteJSON(w, http.StatusAccepted, res)
	})
}

// allow counts one post against the connector's limit.
func allow(limiter *httprate.RateLimiter, w http.ResponseWriter, r *http.Request, c *ent.Connector) error {
	limit := c.RateLimitPerMinute
	if limit <= 0 {
		limit = defaultRateLimit
	}
	r = r.WithContext(httprate.WithRequestLimit(r.Context(), limit))
	if !limiter.OnLimit(w, r, c.ID.String()) {
		return nil
	}
	now := time.Now().UTC()
	wait := now.Truncate(rateWindow).Add(rateWindow).Sub(now).Round(time.Second) + time.Second
	return &apperr.Error{Code: apperr.RateLimited, Message: "connector rate limit exceeded; retry later", RetryAfter: wait}
}

// readBody reads at most limit bytes; a larger body is refused whole.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, ingest.TooLarge(limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, ingest.TooLarge(limit)
	case err != nil:
		return nil, apperr.Invalid("", "could not read the request body: %v", err)
	}
	return body, nil
}
