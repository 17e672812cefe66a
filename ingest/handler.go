package ingest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/go-chi/httprate"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/rest"
)

// ConnectorAuthenticator turns an X-API-Key into the connector's viewer
// (auth.Service implements it).
type ConnectorAuthenticator interface {
	AuthenticateConnector(ctx context.Context, key string) (*viewer.Viewer, error)
}

// Rate limiting: each connector may post its rate_limit_per_minute times
// per sliding minute (per replica).
const (
	defaultRateLimit = 300
	rateWindow       = time.Minute
)

// Handler serves POST /api/v1/alerts/ingest: it authenticates the
// connector by its X-API-Key, applies the connector's rate limit and the
// body limit, ingests the payload and answers 202 with the Result.
func (s *Service) Handler(authn ConnectorAuthenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			rest.WriteJSON(w, http.StatusMethodNotAllowed, map[string]any{"detail": "use POST"})
			return
		}
		ctx, c, err := s.connector(r.Context(), authn, r.Header.Get("X-API-Key"))
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		if err := s.allow(w, r.WithContext(ctx), c); err != nil {
			rest.WriteError(w, err)
			return
		}
		body, err := s.readBody(w, r)
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

// connector authenticates the key and loads the connector as itself.
func (s *Service) connector(ctx context.Context, authn ConnectorAuthenticator, key string) (context.Context, *ent.Connector, error) {
	v, err := authn.AuthenticateConnector(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	if v == nil || v.Kind != viewer.KindConnector {
		return nil, nil, apperr.New(apperr.Unauthenticated, "invalid connector key")
	}
	ctx = viewer.NewContext(ctx, v)
	c, err := s.db.Client.Connector.Get(ctx, v.ConnectorID)
	if ent.IsNotFound(err) {
		// Deleted between the key check and now.
		return nil, nil, apperr.New(apperr.Unauthenticated, "invalid connector key")
	}
	if err != nil {
		return nil, nil, err
	}
	return ctx, c, nil
}

// allow counts one post against the connector's limit.
func (s *Service) allow(w http.ResponseWriter, r *http.Request, c *ent.Connector) error {
	limit := c.RateLimitPerMinute
	if limit <= 0 {
		limit = defaultRateLimit
	}
	r = r.WithContext(httprate.WithRequestLimit(r.Context(), limit))
	if !s.limiter.OnLimit(w, r, c.ID.String()) {
		return nil
	}
	now := time.Now().UTC()
	wait := now.Truncate(rateWindow).Add(rateWindow).Sub(now).Round(time.Second) + time.Second
	return &apperr.Error{Code: apperr.RateLimited, Message: "connector rate limit exceeded; retry later", RetryAfter: wait}
}

// readBody reads at most the body limit; a larger body is refused whole.
func (s *Service) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > s.maxBody {
		return nil, tooLarge(s.maxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, tooLarge(s.maxBody)
	case err != nil:
		return nil, apperr.Invalid("", "could not read the request body: %v", err)
	}
	return body, nil
}
