package gqlserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seliq/seliq/internal/apperr"
)

// gqlgen's transports answer a request they cannot decode with an uncoded
// error (which the presenter turns into INTERNAL) or none at all, echo the
// body back and log it. jsonBody decodes first and refuses a malformed
// request as the client's mistake: 400 BAD_REQUEST (413 when too large).
// The plain HTTP transports, POST and GET, are served by httpTransport.

// jsonBody wraps a transport reading a JSON body (SSE).
type jsonBody struct{ graphql.Transport }

func (t jsonBody) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeReadError(w, err)
		return
	}
	var params graphql.RawParams
	if err := decodeJSON(body, &params); err != nil {
		WriteError(w, malformed("the request body", err))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	t.Transport.Do(w, r, exec)
}

func writeReadError(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		WriteError(w, apperr.New(apperr.TooLarge, "request body exceeds %d bytes", tooBig.Limit))
		return
	}
	WriteError(w, apperr.New(apperr.BadRequest, "could not read the request body"))
}

// decodeJSON decodes as gqlgen's transports do (numbers kept exact).
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// malformed describes a decoding error without echoing the input.
func malformed(what string, err error) *apperr.Error {
	var (
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		solution = `; send a JSON object such as {"query": "{ me { id } }"}`
	)
	switch {
	case errors.Is(err, io.EOF):
		return apperr.New(apperr.BadRequest, "%s is empty%s", what, solution)
	case errors.As(err, &syntax):
		return apperr.New(apperr.BadRequest, "%s is not valid JSON (at byte %d: %v)", what, syntax.Offset, err)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return apperr.New(apperr.BadRequest, "%s is malformed: %q cannot be a JSON %s", what, typeErr.Field, typeErr.Value)
	case errors.As(err, &typeErr):
		return apperr.New(apperr.BadRequest, "%s must be a JSON object, not %s", what, typeErr.Value)
	}
	return apperr.New(apperr.BadRequest, "%s is not valid JSON (%s)", what, shortError(err))
}

// shortError keeps an unexpected decoder message to a sane length.
func shortError(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// WriteError refuses an HTTP request before any operation runs: the status
// of the error's code and a GraphQL-shaped body, so that GraphQL clients
// find extensions.code where they look for it.
func WriteError(w http.ResponseWriter, err error) {
	e := Classify(err)
	ext := map[string]any{"code": e.Code}
	if e.Field != "" {
		ext["field"] = e.Field
	}
	body, _ := json.Marshal(map[string]any{
		"errors": []map[string]any{{"message": e.Message, "extensions": ext}},
	})
	w.Header().Set("Content-Type", "application/json")
	e.SetRetryAfter(w.Header())
	w.WriteHeader(e.Code.HTTPStatus())
	_, _ = w.Write(body)
}

// sseGET serves a subscription over GET with Accept: text/event-stream, the
// request a browser's EventSource makes: the parameters come from the query
// string, as for GET queries, and the stream is the SSE transport's.
// EventSource itself cannot send an Authorization header; clients use an
// EventSource that can (the graphql-sse client, fetch-event-source). Tokens
// are not taken from the URL, where logs and Referer headers would keep them.
type sseGET struct{ sse graphql.Transport }

func (t sseGET) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == "" &&
		strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

func (t sseGET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	params, err := httpTransport{method: http.MethodGet}.params(r)
	if err != nil {
		WriteError(w, err)
		return
	}
	body, err := json.Marshal(params)
	if err != nil {
		WriteError(w, apperr.New(apperr.BadRequest, "unusable parameters"))
		return
	}
	post := r.Clone(r.Context())
	post.Method = http.MethodPost
	post.Body = io.NopCloser(bytes.NewReader(body))
	post.ContentLength = int64(len(body))
	post.Header.Set("Content-Type", mediaJSON)
	t.sse.Do(w, post, exec)
}

// noSingleConnection answers graphql-sse's single connection mode, which
// starts by reserving a stream with PUT, with 405 and what to use instead.
// The mode keeps a reserved stream on the replica that took the PUT, and
// the operations posted later must reach that same replica: behind a load
// balancer that needs sticky sessions. Distinct connections mode (one
// request per subscription, multiplexed over one HTTP/2 connection) needs
// no server state; so does graphql-ws over a WebSocket.
type noSingleConnection struct{}

func (noSingleConnection) Supports(r *http.Request) bool { return r.Method == http.MethodPut }

func (noSingleConnection) Do(w http.ResponseWriter, _ *http.Request, _ graphql.GraphExecutor) {
	w.Header().Set("Allow", "GET, POST")
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(http.StatusMethodNotAllowed)
	writeResponse(w, &graphql.Response{Errors: gqlerror.List{requestError(apperr.New(apperr.BadRequest,
		"graphql-sse single connection mode is not supported: use distinct connections mode (POST or GET with Accept: text/event-stream, one request per subscription) or graphql-ws over a WebSocket"))}})
}
