package gqlserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/resolvers"
)

// A request that cannot be decoded is the client's mistake: 400 with code
// BAD_REQUEST (for a client accepting application/graphql-response+json;
// see TestGraphQLOverHTTP for application/json) and a message saying what
// is wrong, on every HTTP transport, never INTERNAL. The body is not echoed
// back.
func TestMalformedRequests(t *testing.T) {
	srv := NewServer(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, NewSchema(&resolvers.Resolver{}))
	// As server.limitBody does, with a small limit.
	hs := httptest.NewServer(http.MaxBytesHandler(srv, 64))
	t.Cleanup(hs.Close)
	tests := []struct {
		name   string
		method string
		query  string // URL query for GET
		body   string
		sse    bool
		status int
		code   string
		msg    string
	}{
		{name: "POST truncated JSON", method: "POST", body: `{"query": "{ me { id } }", "secret-token-abc`, status: 400, code: "BAD_REQUEST", msg: "the request body is not valid JSON"},
		{name: "POST not JSON", method: "POST", body: `query { me { id } }`, status: 400, code: "BAD_REQUEST", msg: "not valid JSON"},
		{name: "POST wrong type", method: "POST", body: `{"query": 5}`, status: 400, code: "BAD_REQUEST", msg: `query must be a string`},
		{name: "POST variables not an object", method: "POST", body: `{"query": "{ me { id } }", "variables": [1]}`, status: 400, code: "BAD_REQUEST", msg: `variables must be an object`},
		{name: "POST array", method: "POST", body: `[{"query": "{ me { id } }"}]`, status: 400, code: "BAD_REQUEST", msg: "must be a JSON object, not array"},
		{name: "POST empty", method: "POST", body: ``, status: 400, code: "BAD_REQUEST", msg: "the request body is empty"},
		{name: "POST too large", method: "POST", body: `{"query": "{` + strings.Repeat(" __typename", 20) + ` }"}`, status: 413, code: "PAYLOAD_TOO_LARGE", msg: "exceeds 64 bytes"},
		{name: "SSE truncated JSON", method: "POST", sse: true, body: `{"query": `, status: 400, code: "BAD_REQUEST", msg: "not valid JSON"},
		{name: "GET bad variables", method: "GET", query: "query=" + url.QueryEscape("{ __typename }") + "&variables=" + url.QueryEscape(`{"a":`), status: 400, code: "BAD_REQUEST", msg: "variables is not valid JSON"},
		{name: "GET variables not an object", method: "GET", query: "query=" + url.QueryEscape("{ __typename }") + "&variables=5", status: 400, code: "BAD_REQUEST", msg: "variables must be an object"},
		{name: "GET bad extensions", method: "GET", query: "query=" + url.QueryEscape("{ __typename }") + "&extensions=" + url.QueryEscape(`{x}`), status: 400, code: "BAD_REQUEST", msg: "extensions is not valid JSON"},
		{name: "GET bad query string", method: "GET", query: "query=%zz", status: 400, code: "BAD_REQUEST", msg: "malformed query string"},
		{name: "POST well formed", method: "POST", body: `{"query": "{ __typename }"}`, status: 200},
		{name: "GET well formed", method: "GET", query: "query=" + url.QueryEscape("{ __typename }") + "&variables=" + url.QueryEscape(`{}`), status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, hs.URL+"?"+tt.query, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.method == "POST" {
				req.Header.Set("Content-Type", "application/json")
				// Chunked, so that only the read notices the size.
				req.ContentLength = -1
			}
			req.Header.Set("Accept", mediaGraphQLResponse)
			if tt.sse {
				req.Header.Set("Accept", "text/event-stream")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, raw)
			}
			if tt.code == "" {
				return
			}
			var body struct {
				Errors []struct {
					Message    string         `json:"message"`
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(raw, &body); err != nil || len(body.Errors) != 1 {
				t.Fatalf("body %s: %v", raw, err)
			}
			e := body.Errors[0]
			if e.Extensions["code"] != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error %q %v, want %s containing %q", e.Message, e.Extensions, tt.code, tt.msg)
			}
			if strings.Contains(string(raw), "secret-token-abc") {
				t.Errorf("the body is echoed back: %s", raw)
			}
		})
	}
}

// Queries and mutations run under a deadline; the presenter reports it as
// TIMEOUT whatever error the resolver made of the cancelled context.
func TestDeadlineOnQueries(t *testing.T) {
	for _, op := range []ast.Operation{ast.Query, ast.Mutation} {
		t.Run(string(op), func(t *testing.T) {
			ctx := operationContext(op)
			var got *gqlerror.Error
			deadline(20*time.Millisecond)(ctx, func(ctx context.Context) *graphql.Response {
				if _, ok := ctx.Deadline(); !ok {
					t.Error("no deadline")
				}
				<-ctx.Done()
				got = presentError(slog.New(slog.NewTextHandler(io.Discard, nil)))(ctx, errors.New("sql: statement interrupted"))
				return nil
			})
			assertTimeout(t, got)
		})
	}
}

// A subscription waits for its events without a deadline; each event's
// execution gets one from its first field on.
func TestDeadlineOnSubscriptionEvents(t *testing.T) {
	ctx := operationContext(ast.Subscription)
	var got *gqlerror.Error
	deadline(20*time.Millisecond)(ctx, func(ctx context.Context) *graphql.Response {
		if _, ok := ctx.Deadline(); ok || ctx.Err() != nil {
			t.Error("waiting for an event is under a deadline")
		}
		// The event arrived: its first field starts the clock.
		_, err := guardField(ctx, func(ctx context.Context) (any, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
		got = presentError(slog.New(slog.NewTextHandler(io.Discard, nil)))(ctx, err)
		return nil
	})
	assertTimeout(t, got)
}

func operationContext(op ast.Operation) context.Context {
	return graphql.WithOperationContext(context.Background(), &graphql.OperationContext{
		Operation: &ast.OperationDefinition{Operation: op},
	})
}

func assertTimeout(t *testing.T, err *gqlerror.Error) {
	t.Helper()
	if err == nil {
		t.Fatal("no error presented")
	}
	if err.Extensions["code"] != "TIMEOUT" || !strings.Contains(err.Message, "ran longer than 20ms") {
		t.Errorf("presented %q %v", err.Message, err.Extensions)
	}
}

// Only a subscription's root field and its event object's fields (through
// list elements) can be an event's first field, so only they look for the
// event's clock; every deeper field resolves after one of them.
func TestMayStartEvent(t *testing.T) {
	field := func(object string, parent *graphql.FieldContext) *graphql.FieldContext {
		return &graphql.FieldContext{Object: object, Parent: parent, Field: graphql.CollectedField{Field: &ast.Field{Name: "f"}}}
	}
	element := func(parent *graphql.FieldContext) *graphql.FieldContext {
		i := 0
		return &graphql.FieldContext{Parent: parent, Index: &i}
	}
	sub, query := field("Subscription", nil), field("Query", nil)
	event := field("AlertEvent", sub)
	for _, c := range []struct {
		name string
		fc   *graphql.FieldContext
		want bool
	}{
		{"subscription root field", sub, true},
		{"event object's field", event, true},
		{"field of a list element of the event", field("Alert", element(sub)), true},
		{"nested field of the event", field("Alert", event), false},
		{"nested field through a list", field("Connector", element(event)), false},
		{"query root field", query, false},
		{"query's nested field", field("AlertConnection", query), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := mayStartEvent(c.fc); got != c.want {
				t.Errorf("mayStartEvent = %v, want %v", got, c.want)
			}
		})
	}
}

// TestFieldGuardPerOperation: a query's and a mutation's fields run under
// guardQueryField, which still refuses an anonymous root field; a
// subscription keeps the chain with guardField, which starts the event
// clock.
func TestFieldGuardPerOperation(t *testing.T) {
	chain := func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) }
	for _, c := range []struct {
		op        ast.Operation
		wantGuard bool
	}{{ast.Query, true}, {ast.Mutation, true}, {ast.Subscription, false}} {
		oc := &graphql.OperationContext{Operation: &ast.OperationDefinition{Operation: c.op}, ResolverMiddleware: chain}
		if err := (fieldGuard{}).MutateOperationContext(context.Background(), oc); err != nil {
			t.Fatal(err)
		}
		got := reflect.ValueOf(oc.ResolverMiddleware).Pointer()
		if isGuard := got == reflect.ValueOf(guardQueryField).Pointer(); isGuard != c.wantGuard {
			t.Errorf("%s: guardQueryField installed %v, want %v", c.op, isGuard, c.wantGuard)
		}
	}
	root := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Object: "Query", Field: graphql.CollectedField{Field: &ast.Field{Name: "alerts"}}})
	ran := false
	_, err := guardQueryField(root, func(context.Context) (any, error) { ran = true; return nil, nil })
	if e, ok := apperr.As(err); !ok || e.Code != apperr.Unauthenticated || ran {
		t.Fatalf("anonymous alerts: err %v, resolver ran %v; want unauthenticated before the resolver", err, ran)
	}
}
