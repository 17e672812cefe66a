package gqlserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/99designs/gqlgen/graphql"

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
