package gqlserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seliq/seliq/internal/apperr"
)

// GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/):
// POST with a JSON body and GET with the query string, answered in the
// media type the client's Accept header asks for (application/json when it
// names neither JSON type), with the statuses of the graphql-http audit:
//
//   - a request that is not a GraphQL request (a body that is not JSON, a
//     missing query, parameters of the wrong JSON type) is 400, whatever
//     the media type;
//   - a document that does not parse or validate, or variables that do
//     not coerce, is 200 under application/json (the errors are in the
//     body) and 400 without a data entry under
//     application/graphql-response+json;
//   - an executed operation is 200.
//
// A body larger than the limit is 413; POST without a JSON Content-Type
// finds no transport (400); GET refuses mutations with 405. Client
// mistakes are logged at debug level, without the request.

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// httpTransport serves POST (application/json bodies) and GET.
type httpTransport struct {
	method string // http.MethodPost or http.MethodGet
	log    *slog.Logger
}

var _ graphql.Transport = httpTransport{}

func (t httpTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" || r.Method != t.method {
		return false
	}
	if t.method == http.MethodGet {
		return true
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mediaType == mediaJSON
}

func (t httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media := responseMedia(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", media)
	start := graphql.Now()
	params, err := t.params(r)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Code == apperr.TooLarge {
			WriteError(w, err)
			return
		}
		t.refuse(r.Context(), w, http.StatusBadRequest, gqlerror.List{requestError(err)})
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	ctx := r.Context()
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		t.refuse(ctx, w, operationErrorStatus(media, resp.Errors), resp.Errors)
		return
	}
	if t.method == http.MethodGet {
		if op := rc.Doc.Operations.ForName(rc.OperationName); op != nil && op.Operation != ast.Query {
			// GET must not change anything (it may be cached, prefetched).
			w.Header().Set("Allow", http.MethodPost)
			w.WriteHeader(http.StatusMethodNotAllowed)
			writeResponse(w, &graphql.Response{Errors: gqlerror.List{requestError(
				apperr.New(apperr.BadRequest, "GET runs queries only; send %ss with POST", op.Operation))}})
			return
		}
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

// params reads the request's parameters. Their JSON types are checked here:
// gqlgen would echo a malformed body back in an uncoded error.
func (t httpTransport) params(r *http.Request) (*graphql.RawParams, error) {
	var raw map[string]json.RawMessage
	if t.method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, apperr.New(apperr.BadRequest, "malformed query string: %v", err)
		}
		raw = map[string]json.RawMessage{}
		for _, k := range []string{"query", "operationName"} {
			if v, ok := q[k]; ok {
				b, _ := json.Marshal(v[0])
				raw[k] = b
			}
		}
		for _, k := range []string{"variables", "extensions"} {
			if v := q.Get(k); v != "" {
				if !json.Valid([]byte(v)) {
					return nil, malformed(k, decodeJSON([]byte(v), new(any)))
				}
				raw[k] = json.RawMessage(v)
			}
		}
	} else {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, apperr.New(apperr.TooLarge, "request body exceeds %d bytes", tooBig.Limit)
			}
			return nil, apperr.New(apperr.BadRequest, "could not read the request body")
		}
		if err := decodeJSON(body, &raw); err != nil {
			return nil, malformed("the request body", err)
		}
	}
	p := &graphql.RawParams{}
	for _, f := range []struct {
		name   string
		into   any
		wanted string
	}{
		{"query", &p.Query, "a string"},
		{"operationName", &p.OperationName, "a string"},
		{"variables", &p.Variables, "an object"},
		{"extensions", &p.Extensions, "an object"},
	} {
		v, ok := raw[f.name]
		if !ok || string(v) == "null" {
			continue
		}
		if err := decodeJSON(v, f.into); err != nil {
			return nil, apperr.New(apperr.BadRequest, "%s must be %s or null", f.name, f.wanted)
		}
	}
	if strings.TrimSpace(p.Query) == "" && p.Extensions["persistedQuery"] == nil {
		return nil, apperr.New(apperr.BadRequest, `the query parameter is required: send {"query": "{ me { id } }"}`)
	}
	return p, nil
}

// refuse answers a request that runs no operation with status and errs.
func (t httpTransport) refuse(ctx context.Context, w http.ResponseWriter, status int, errs gqlerror.List) {
	if t.log != nil && t.log.Enabled(ctx, slog.LevelDebug) {
		code, _ := errs[0].Extensions["code"].(string)
		t.log.DebugContext(ctx, "graphql request refused", "code", code, "status", status, "errors", len(errs))
	}
	if retry, ok := errs[0].Extensions["retryAfter"].(int); ok {
		(&apperr.Error{RetryAfter: time.Duration(retry) * time.Second}).SetRetryAfter(w.Header())
	}
	w.WriteHeader(status)
	writeResponse(w, &graphql.Response{Errors: errs})
}

// operationErrorStatus is the status of a document that does not parse or
// validate, or of variables that do not coerce: 200 under application/json,
// 400 under application/graphql-response+json, unless the refusal is not
// about the request itself (a rate limit, the database down).
func operationErrorStatus(media string, errs gqlerror.List) int {
	if media != mediaGraphQLResponse {
		return http.StatusOK
	}
	status := http.StatusBadRequest
	for _, e := range errs {
		code, _ := e.Extensions["code"].(string)
		if s := apperr.Code(code).HTTPStatus(); keepStatus[s] {
			status = s
		}
	}
	return status
}

// keepStatus are the statuses of codes a request error answers with as they
// are under graphql-response+json; the others are 400.
var keepStatus = map[int]bool{
	http.StatusUnauthorized: true, http.StatusForbidden: true, http.StatusRequestEntityTooLarge: true,
	http.StatusTooManyRequests: true, http.StatusServiceUnavailable: true, http.StatusGatewayTimeout: true,
}

// requestError is an error found before execution, coded.
func requestError(err error) *gqlerror.Error {
	e := Classify(err)
	return &gqlerror.Error{Message: e.Message, Extensions: map[string]any{"code": string(e.Code)}}
}

// writeResponse writes a response; a response without data (a request
// error) has no data entry at all, as graphql-response+json requires.
func writeResponse(w io.Writer, resp *graphql.Response) {
	var b []byte
	switch {
	case resp.Data == nil:
		b, _ = json.Marshal(struct {
			Errors     gqlerror.List  `json:"errors,omitempty"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Errors, resp.Extensions})
	case dataOnly(resp):
		b = appendDataResponse(make([]byte, 0, len(resp.Data)+len(`{"data":}`)+64), resp.Data)
	default:
		b, _ = json.Marshal(resp)
	}
	_, _ = w.Write(b)
}

// dataOnly reports whether resp carries its data and nothing else, the
// answer to nearly every query.
func dataOnly(resp *graphql.Response) bool {
	return len(resp.Errors) == 0 && resp.Label == "" && resp.Path == nil && resp.HasNext == nil && len(resp.Extensions) == 0
}

// appendDataResponse appends {"data":data} as json.Marshal writes it for a
// response holding data alone, without its validating and re-compacting
// pass over gqlgen's bytes, which are compact JSON already: only the HTML
// escapes remain to apply. <, >, & and U+2028/U+2029 can occur in JSON only
// inside strings, so escaping them wherever they are is what Marshal does.
func appendDataResponse(dst, data []byte) []byte {
	dst = append(dst, `{"data":`...)
	start := 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '<' || c == '>' || c == '&':
		case c == 0xE2 && i+2 < len(data) && data[i+1] == 0x80 && data[i+2]&^1 == 0xA8:
			// U+2028 and U+2029, which JavaScript reads as line ends.
		default:
			continue
		}
		dst = append(dst, data[start:i]...)
		if c == 0xE2 {
			dst = append(dst, `\u202`...)
			dst = append(dst, hex[data[i+2]&0xF])
			i += 2
		} else {
			dst = append(dst, `\u00`...)
			dst = append(dst, hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, data[start:]...)
	return append(dst, '}')
}

const hex = "0123456789abcdef"

// responseMedia picks the response's media type from Accept: the first of
// the two GraphQL JSON types it lists (by preference, then order);
// application/json when it lists neither, as the spec's default.
func responseMedia(accept string) string {
	best, bestQ := mediaJSON, -1.0
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		var media string
		switch mt {
		case mediaGraphQLResponse:
			media = mediaGraphQLResponse
		case mediaJSON, "application/*", "*/*":
			media = mediaJSON
		default:
			continue
		}
		if q > bestQ && q > 0 {
			best, bestQ = media, q
		}
	}
	return best
}
