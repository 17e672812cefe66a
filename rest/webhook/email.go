package webhook

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/seliq/seliq/ingest/mailin"
	"github.com/seliq/seliq/rest"
)

// InboundEmail serves POST /webhooks/email/inbound/{url_token}: the token
// selects the organisation's email connector (404 when unknown), then the
// token's rate limit, the body limit (413), and mailin reads and files the
// message. Every answer is JSON, errors included. Success is 202 even when
// the loop guard ignored the message, so the mail service does not retry it.
func InboundEmail(rcv *mailin.Receiver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			rest.WriteJSON(w, http.StatusMethodNotAllowed, map[string]any{"detail": "use POST"})
			return
		}
		ctx, c, err := rcv.Authenticate(r.Context(), chi.URLParam(r, "url_token"))
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		body, err := readBody(w, r, rcv.MaxBytes())
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		res, err := rcv.Receive(ctx, c, r.Header.Get("Content-Type"), body)
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		rest.WriteJSON(w, http.StatusAccepted, res)
	})
}
