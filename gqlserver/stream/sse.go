package stream

import (
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/seliq/seliq/internal/apperr"
)

// SSE is gqlgen's server-sent events transport with its streams held to
// the same rules as WebSockets: each counts towards its user's cap in
// Conns, and it ends (its operation is cancelled, the stream completes)
// when the user's principal no longer holds.
type SSE struct {
	transport.SSE
	Conns *Conns
	// Principal returns who the request acts for; false leaves the stream
	// untracked (an anonymous request, which the schema refuses anyway).
	Principal func(r *http.Request) (Principal, bool)
}

// Do serves one stream.
func (t SSE) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if t.Conns == nil || t.Principal == nil {
		t.SSE.Do(w, r, exec)
		return
	}
	p, ok := t.Principal(r)
	if !ok {
		t.SSE.Do(w, r, exec)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	remove, err := t.Conns.Add(p, func(int, string) { cancel() })
	if err != nil {
		msg := err.Error()
		if e, ok := apperr.As(err); ok {
			msg = e.Message
			e.SetRetryAfter(w.Header())
		}
		transport.SendErrorf(w, http.StatusTooManyRequests, "%s", msg)
		return
	}
	defer remove()
	t.SSE.Do(w, r.WithContext(ctx), exec)
}
