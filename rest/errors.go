package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/seliq/seliq/gqlserver"
	"github.com/seliq/seliq/internal/apperr"
)

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

// WriteJSON answers v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeJSONBody answers body, JSON already, as WriteJSON would encode it:
// with <, > and & escaped (so a body is inert if a browser ever sniffs it
// as HTML) and a final newline.
func writeJSONBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if !needsHTMLEscape(body) { // most bodies: escaping would copy them unchanged
		_, _ = w.Write(body)
		_, _ = w.Write(newline)
		return
	}
	escaped := getBuffer()
	defer putBuffer(escaped)
	json.HTMLEscape(escaped, body)
	escaped.WriteByte('\n')
	_, _ = w.Write(escaped.Bytes())
}

var newline = []byte{'\n'}

// needsHTMLEscape reports whether json.HTMLEscape would change b: it
// rewrites <, >, & and U+2028/U+2029, whose UTF-8 starts with 0xE2.
func needsHTMLEscape(b []byte) bool {
	for _, c := range []byte{'<', '>', '&', 0xE2} {
		if bytes.IndexByte(b, c) >= 0 {
			return true
		}
	}
	return false
}

// Response bodies are built in pooled buffers; one that grew past
// maxPooledBuffer (an export, say) is left to the collector rather than
// kept for every later request.
const maxPooledBuffer = 1 << 20

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return buffers.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		b.Reset()
		buffers.Put(b)
	}
}

// validationDetail is one entry of a 422 body, in the shape FastAPI-style
// clients of the reference API parse: {"loc": ["body", "email"], "msg", "type"}.
type validationDetail struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
	// Ctx carries the error's details: a query's line, column and suggestion.
	Ctx map[string]any `json:"ctx,omitempty"`
}

// WriteError answers with the status of err's code and a {"detail": ...}
// body; 422 names the offending field.
func WriteError(w http.ResponseWriter, err error) { writeError(w, err, nil) }

// writeError answers err; c (when known) tells whether a 422's field came
// from the path, the query string or the body.
func writeError(w http.ResponseWriter, err error, c *compiled) {
	e, ok := apperr.As(err)
	if !ok {
		e = gqlserver.Classify(err)
	}
	status := e.Code.HTTPStatus()
	e.SetRetryAfter(w.Header())
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="seliq"`)
	}
	// A query refused for its cost is invalid input of another kind: the
	// same 422 body, its own code.
	if e.Code != apperr.BadInput && e.Code != apperr.QueryTooExpensive {
		WriteJSON(w, status, map[string]any{"detail": e.Message, "code": e.Code})
		return
	}
	loc := []string{c.location(e.Field)}
	if errors.As(err, new(*bodyError)) {
		loc[0] = "body"
	}
	if e.Field != "" {
		loc = append(loc, strings.Split(e.Field, ".")...)
	}
	WriteJSON(w, status, map[string]any{
		"detail": []validationDetail{{Loc: loc, Msg: e.Message, Type: "value_error", Ctx: e.Details}},
		"code":   e.Code,
	})
}

// listParams are the query parameters every list route accepts.
var listParams = map[string]bool{"limit": true, "cursor": true, "sort": true}

// location names where a REST field came from: "path", "query" or "body".
func (c *compiled) location(field string) string {
	if c == nil {
		return "body"
	}
	head, _, _ := strings.Cut(field, ".")
	if _, ok := c.PathArgs[head]; ok {
		return "path"
	}
	if c.reservedParam(head) || c.filterParam(head) {
		return "query"
	}
	return "body"
}

// bodyError marks an error found in the request body, whose field names can
// coincide with path parameters (organization_id).
type bodyError struct{ err error }

func (b *bodyError) Error() string { return b.err.Error() }
func (b *bodyError) Unwrap() error { return b.err }

func inBody(err error) error { return &bodyError{err} }
