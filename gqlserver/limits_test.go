package gqlserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

func testExecutor() *executor.Executor {
	return NewExecutor(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, execSchema)
}

// prepare parses, validates and checks an operation as every transport and
// the REST layer do, without running it.
func prepare(exec *executor.Executor, query string, vars map[string]any) gqlerror.List {
	ctx := graphql.StartOperationTrace(context.Background())
	_, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query, Variables: vars})
	return errs
}

// repeat joins n copies of s, numbered where s holds %d.
func repeat(s string, n int) string {
	var b strings.Builder
	for i := range n {
		if strings.Contains(s, "%d") {
			fmt.Fprintf(&b, s, i)
		} else {
			b.WriteString(s)
		}
		b.WriteByte(' ')
	}
	return b.String()
}

// fanout is a short document whose fragments each spread the next one
// width times, levels deep: width^levels selections once spread.
func fanout(levels, width int) string {
	var b strings.Builder
	b.WriteString("query { me { ...F0 } }\n")
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on User { id %s}\n", i, repeat(fmt.Sprintf("...F%d", i+1), width))
	}
	fmt.Fprintf(&b, "fragment F%d on User { id }\n", levels)
	return b.String()
}

func ids(n int) string {
	q := make([]string, n)
	for i := range q {
		q[i] = `"` + uuid.NewString() + `"`
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// Cost attacks, and the shapes next to them, are
// refused before validation or execution with BAD_USER_INPUT naming the
// limit (COMPLEXITY_LIMIT_EXCEEDED for the cost); ordinary documents pass.
func TestOperationLimits(t *testing.T) {
	exec := testExecutor()
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		code  string // "" when accepted
		msg   string // in the message
		field string
	}{
		// Parser and validation cost.
		{name: "typename flood", query: "{" + repeat("__typename", 8000) + "}", code: "BAD_USER_INPUT", msg: "the document selects 8000 fields and fragments; the limit is 1000"},
		{name: "email flood", query: "{ me {" + repeat("email", 50000) + "} }", code: "BAD_USER_INPUT", msg: "more than 10000 tokens; the limit is 10000"},
		{name: "repeated field", query: "{ me {" + repeat("email", MaxRepeats+1) + "} }", code: "BAD_USER_INPUT", msg: `"email" is selected 11 times in one selection set; the limit is 10`},
		{name: "repeated through inline fragments", query: "{ me {" + repeat("... on User { email }", MaxRepeats+1) + "} }", code: "BAD_USER_INPUT", msg: `"email" is selected 11 times`},
		{name: "repeated spread", query: "{ me {" + repeat("...F", MaxRepeats+1) + "} } fragment F on User { email }", code: "BAD_USER_INPUT", msg: `"...F" is selected 11 times`},
		{name: "fragments fanning out twelve levels", query: fanout(12, MaxRepeats), code: "BAD_USER_INPUT", msg: "expands to more than 10000 fields and fragments"},
		{name: "fragments fanning out within the limit", query: fanout(3, MaxRepeats)},
		{name: "repeats at the limit", query: "{ me {" + repeat("email", MaxRepeats) + "} }"},
		// Aliases, root fields, page sizes, cost.
		{name: "50 aliases of alerts(first: 500)", query: "{" + repeat("a%d: alerts(first: 500) { edges { node { raw } } }", 50) + "}", code: "BAD_USER_INPUT", msg: "an operation selects 50 root fields; the limit is 20"},
		{name: "6000 aliases", query: "{" + repeat("a%d: alerts(first: 500) { edges { node { raw } } }", 6000) + "}", code: "BAD_USER_INPUT", msg: "tokens; the limit is 10000"},
		{name: "aliases below the root", query: "{ me {" + repeat("a%d: email", MaxAliases+1) + "} }", code: "BAD_USER_INPUT", msg: "the document has 101 aliases; the limit is 100"},
		{name: "root fields through a fragment", query: "{ ...Q } fragment Q on Query {" + repeat("a%d: me { id }", MaxRootFields+1) + "}", code: "BAD_USER_INPUT", msg: "an operation selects 21 root fields; the limit is 20"},
		{name: "root fields at the limit", query: "{" + repeat("a%d: me { id }", MaxRootFields) + "}"},
		{name: "first: huge", query: "{ alerts(first: 100000) { totalCount } }", code: "BAD_USER_INPUT", msg: "must be between 0 and 500", field: "first"},
		{name: "last: huge in a variable", query: "query($n: Int) { users(last: $n) { totalCount } }", vars: map[string]any{"n": 501}, code: "BAD_USER_INPUT", msg: "must be between 0 and 500", field: "last"},
		{name: "nested page too large", query: `{ incident(id: "` + uuid.NewString() + `") { alerts(first: 501) { totalCount } } }`, code: "BAD_USER_INPUT", field: "first"},
		{name: "negative first", query: "{ groups(first: -1) { totalCount } }", code: "BAD_USER_INPUT", field: "first"},
		{name: "nodes with 1000 ids", query: "{ nodes(ids: " + ids(1000) + ") { id } }", code: "BAD_USER_INPUT", msg: "asks for 1000 nodes; the limit is 100", field: "ids"},
		{name: "nodes at the limit", query: "{ nodes(ids: " + ids(MaxNodeIDs) + ") { id } }"},
		{name: "alerts page of 500", query: "{ alerts(first: 500) { edges { node { id title raw entities { type value } } } } }"},
		{name: "ten full pages of alerts", query: "{" + repeat("a%d: alerts(first: 500) { edges { node { id title description raw tags entities { type value } connector { id name } assignee { id email } } } }", 10) + "}", code: "COMPLEXITY_LIMIT_EXCEEDED", msg: "exceeds the limit of 200000"},
		{name: "nested lists multiply", query: "{ organizations(first: 500) { edges { node { children { children { id } } } } } }", code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "group members of a full page", query: "{ groups(first: 500) { edges { node { members { groups { id } } } } } }", code: "COMPLEXITY_LIMIT_EXCEEDED"},
		// Documents that must keep working.
		{name: "standard introspection query", query: introspection.Query},
		{name: "fragment cycle is left to validation", query: "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "syntax error is left to the parser", query: "{ me { ", code: "GRAPHQL_PARSE_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := prepare(exec, tt.query, tt.vars)
			if tt.code == "" {
				if errs != nil {
					t.Fatalf("refused: %v", errs)
				}
				return
			}
			if len(errs) == 0 {
				t.Fatal("accepted, want refused")
			}
			e := errs[0]
			if got := e.Extensions["code"]; got != tt.code {
				t.Errorf("code = %v, want %s (%s)", got, tt.code, e.Message)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message = %q, want it to contain %q", e.Message, tt.msg)
			}
			if tt.field != "" && e.Extensions["field"] != tt.field {
				t.Errorf("field = %v, want %s", e.Extensions["field"], tt.field)
			}
		})
	}
}

// A document refused once is refused again; one accepted is cached and
// not measured again.
func TestDocumentLimitsSkipCachedDocuments(t *testing.T) {
	exec := testExecutor()
	ok := "{ me { id } }"
	if errs := prepare(exec, ok, nil); errs != nil {
		t.Fatal(errs)
	}
	flood := "{" + repeat("__typename", 2000) + "}"
	for range 2 {
		if errs := prepare(exec, flood, nil); len(errs) == 0 || errs[0].Extensions["code"] != "BAD_USER_INPUT" {
			t.Fatalf("flood: %v", errs)
		}
	}
}

// atTheLimits is the costliest document to validate that the limits let
// through: ten copies of one field at the root, each with 90 repeated
// fields below, so the overlapping-fields rule compares every pair.
func atTheLimits() string {
	fields := []string{"id", "email", "name", "handle", "role", "active", "timezone", "createdAt", "updatedAt"}
	var inner strings.Builder
	for _, f := range fields {
		inner.WriteString(repeat(f, MaxRepeats))
	}
	return "{" + repeat("me { "+inner.String()+"}", MaxRepeats) + "}"
}

func TestAtTheLimitsIsAccepted(t *testing.T) {
	if errs := prepare(testExecutor(), atTheLimits(), nil); errs != nil {
		t.Fatal(errs)
	}
}

// Timing of the refusals and of the worst accepted document (run with
// go test ./gql -run '^$' -bench Refuse|Limits). Before the limits the
// typename flood took 17.6 s and the email flood 15 minutes.
func BenchmarkRefuseTypenameFlood(b *testing.B) {
	benchmarkPrepare(b, "{"+repeat("__typename", 8000)+"}", true)
}

func BenchmarkRefuseEmailFlood(b *testing.B) {
	benchmarkPrepare(b, "{ me {"+repeat("email", 50000)+"} }", true)
}

func BenchmarkRefuse6000Aliases(b *testing.B) {
	benchmarkPrepare(b, "{"+repeat("a%d: alerts(first: 500) { edges { node { raw } } }", 6000)+"}", true)
}

func BenchmarkRefuseFragmentFanout(b *testing.B) {
	benchmarkPrepare(b, fanout(12, MaxRepeats), true)
}

func BenchmarkValidateAtTheLimits(b *testing.B) {
	benchmarkPrepare(b, atTheLimits(), false)
}

func benchmarkPrepare(b *testing.B, query string, refused bool) {
	// A fresh executor: the query cache would otherwise skip the work.
	for b.Loop() {
		if errs := prepare(testExecutor(), query, nil); (errs != nil) != refused {
			b.Fatalf("refused %v, want %v: %v", errs != nil, refused, errs)
		}
	}
}
