package gqlserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/ent/rule"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/resolvers"
	"github.com/seliq/seliq/storage"
)

func TestSnakeCase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"organizationID", "organization_id"},
		{"userIDs", "user_ids"},
		{"APIToken", "api_token"},
		{"apiToken", "api_token"},
		{"mfaEnabled", "mfa_enabled"},
		{"createdAt", "created_at"},
		{"id", "id"},
		{"ID", "id"},
		{"HTTPStatus", "http_status"},
		{"deletedID", "deleted_id"},
		{"memberIDs", "member_ids"},
		{"contactEmail", "contact_email"},
		{"URLs", "urls"},
		{"userQuota", "user_quota"},
		{"already_snake", "already_snake"},
		{"a", "a"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := SnakeCase(tt.in); got != tt.want {
			t.Errorf("SnakeCase(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		sys := privacy.DecisionContext(context.Background(), privacy.Allow)
		c := db.Client
		if err := c.Organization.Create().SetName("Acme").SetSlug("acme").Exec(sys); err != nil {
			t.Fatal(err)
		}
		_, notFound := c.User.Get(sys, uuid.New())
		_, invalid := c.Organization.Create().SetName("").SetSlug("empty-name").Save(sys)
		_, negative := c.Organization.Create().SetName("N").SetSlug("neg").SetUserQuota(-1).Save(sys)
		_, duplicate := c.Organization.Create().SetName("Acme 2").SetSlug("acme").Save(sys)
		_, noViewer := c.User.Query().All(context.Background())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		secret := errors.New("dial tcp 10.0.0.5:5432: password authentication failed for user seliq")

		tests := []struct {
			name    string
			err     error
			code    apperr.Code
			message string // exact when set
			field   string
		}{
			{"apperr passes through", apperr.Invalid("email", "is taken"), apperr.BadInput, "is taken", "email"},
			{"wrapped apperr", fmt.Errorf("create: %w", apperr.NotFoundf("group g not found")), apperr.NotFound, "group g not found", ""},
			{"ent not found", notFound, apperr.NotFound, "user not found", ""},
			{"wrapped ent not found", fmt.Errorf("load: %w", notFound), apperr.NotFound, "user not found", ""},
			{"ent validation", invalid, apperr.BadInput, "", "name"},
			{"ent validation snake_case", negative, apperr.BadInput, "", "user_quota"},
			{"ent constraint", duplicate, apperr.Conflict, "conflicts with an existing record", ""},
			{"no viewer (real query)", noViewer, apperr.Unauthenticated, "authentication required", ""},
			{"no viewer", privacy.Denyf("%w", rule.ErrNoViewer), apperr.Unauthenticated, "authentication required", ""},
			{"read only", privacy.Denyf("%w", rule.ErrReadOnly), apperr.Forbidden, "read-only users cannot change data", ""},
			{"tenant", privacy.Denyf("%w", rule.ErrTenant), apperr.Forbidden, "not allowed", ""},
			{"privacy deny", privacy.Denyf("only admins create organisations"), apperr.Forbidden, "not allowed", ""},
			{"bare privacy deny", privacy.Deny, apperr.Forbidden, "not allowed", ""},
			{"cancelled", ctx.Err(), apperr.Internal, "request cancelled or timed out", ""},
			{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), apperr.Internal, "request cancelled or timed out", ""},
			{"unknown", secret, apperr.Internal, "internal error", ""},
			{"wrapped unknown", fmt.Errorf("x: %w", secret), apperr.Internal, "internal error", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.err == nil {
					t.Fatal("the operation meant to fail succeeded")
				}
				e := Classify(tt.err)
				if e == nil {
					t.Fatal("Classify returned nil")
				}
				if e.Code != tt.code {
					t.Errorf("code = %s (%v), want %s", e.Code, tt.err, tt.code)
				}
				if tt.message != "" && e.Message != tt.message {
					t.Errorf("message = %q, want %q", e.Message, tt.message)
				}
				if e.Message == "" {
					t.Error("empty message")
				}
				if e.Field != tt.field {
					t.Errorf("field = %q, want %q", e.Field, tt.field)
				}
				if tt.code == apperr.Internal || tt.code == apperr.Conflict {
					for _, leak := range []string{"10.0.0.5", "password", "UNIQUE", "duplicate key", "ent:"} {
						if strings.Contains(e.Message, leak) {
							t.Errorf("message %q leaks %q", e.Message, leak)
						}
					}
				}
			})
		}
	})
}

var (
	execSchema = NewSchema(&resolvers.Resolver{})
	schema     = execSchema.Schema()
)

// depthOf validates q against the schema and measures its operation.
func depthOf(t *testing.T, q string) int {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(schema, q, nil)
	if errs != nil {
		t.Fatalf("invalid query %q: %v", q, errs)
	}
	return selectionDepth(doc.Operations[0].SelectionSet, doc.Fragments, 0)
}

func nest(field, leaf string, n int) string {
	return strings.Repeat(field+" { ", n) + leaf + strings.Repeat(" }", n)
}

func TestSelectionDepth(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"typename", `{ __typename }`, 1},
		{"scalar fields", `{ me { id email } }`, 2},
		{"two roots", `{ me { id } userQuota { used } apiTokens { id } }`, 2},
		{"deepest branch counts", `{ me { id groups { id members { id } } } userQuota { used } }`, 4},
		{"nested edges", `{ me { groups { members { groups { id } } } } }`, 5},
		{"parent chain", `{ organization(id: "x") { ` + nest("parent", "id", 5) + ` } }`, 7},
		{"inline fragment adds no level", `{ me { ... on User { groups { id } } } }`, 3},
		{"named fragment", `query { me { ...F } } fragment F on User { groups { ...G } } fragment G on Group { members { id } }`, 4},
		{"mutation", `mutation { createAPIToken(input: {name: "x"}) { token apiToken { id } } }`, 3},
		{"introspection ofType chain is free", `{ __schema { types { ofType { ofType { ofType { ofType { name } } } } } } }`, 3},
		{"introspection type", `{ __type(name: "User") { fields { type { ofType { name } } } } }`, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := depthOf(t, tt.query); got != tt.want {
				t.Errorf("depth = %d, want %d", got, tt.want)
			}
		})
	}
	t.Run("standard introspection query is within the limit", func(t *testing.T) {
		if d := depthOf(t, introspection.Query); d > MaxDepth {
			t.Errorf("introspection query depth %d exceeds MaxDepth %d", d, MaxDepth)
		}
	})
	t.Run("ofType outside __Type counts", func(t *testing.T) {
		// Without a validated document the field is not known to be
		// introspection, so it counts like any other.
		doc, err := parser.ParseQuery(&ast.Source{Input: `{ a { ofType { ofType { b } } } }`})
		if err != nil {
			t.Fatal(err)
		}
		if d := selectionDepth(doc.Operations[0].SelectionSet, doc.Fragments, 0); d != 4 {
			t.Errorf("depth = %d, want 4", d)
		}
	})
	t.Run("fragment cycle terminates", func(t *testing.T) {
		// Validation refuses cycles; the parser alone does not.
		doc, err := parser.ParseQuery(&ast.Source{Input: `{ me { ...A } }
			fragment A on User { groups { ...B } }
			fragment B on Group { members { ...A } }`})
		if err != nil {
			t.Fatal(err)
		}
		if d := selectionDepth(doc.Operations[0].SelectionSet, doc.Fragments, 0); d <= MaxDepth {
			t.Errorf("cyclic depth = %d, want above the limit", d)
		}
	})
	t.Run("unknown fragment", func(t *testing.T) {
		doc, err := parser.ParseQuery(&ast.Source{Input: `{ me { ...Missing id } }`})
		if err != nil {
			t.Fatal(err)
		}
		if d := selectionDepth(doc.Operations[0].SelectionSet, doc.Fragments, 0); d != 2 {
			t.Errorf("depth = %d, want 2", d)
		}
	})
}

func TestDepthLimit(t *testing.T) {
	tests := []struct {
		name  string
		query string
		fail  bool
	}{
		{"at the limit", `{ organization(id: "x") { ` + nest("parent", "id", MaxDepth-2) + ` } }`, false},
		{"one over", `{ organization(id: "x") { ` + nest("parent", "id", MaxDepth-1) + ` } }`, true},
		{"far over", `{ organization(id: "x") { ` + nest("parent", "id", 40) + ` } }`, true},
		{"deep through fragments", `{ me { ...U } } fragment U on User { groups { ...G } } fragment G on Group { members { groups { members { groups { members { groups { members { groups { members { groups { id } } } } } } } } } } }`, true},
	}
	ext := depthLimit{max: MaxDepth}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQueryWithRules(schema, tt.query, nil)
			if errs != nil {
				t.Fatal(errs)
			}
			oc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
			gerr := ext.MutateOperationContext(context.Background(), oc)
			if !tt.fail {
				if gerr != nil {
					t.Fatalf("refused: %v", gerr)
				}
				return
			}
			if gerr == nil {
				t.Fatal("accepted, want refused")
			}
			if gerr.Extensions["code"] != "BAD_USER_INPUT" || !strings.Contains(gerr.Message, fmt.Sprintf("the limit is %d", MaxDepth)) {
				t.Errorf("error = %v %v", gerr.Message, gerr.Extensions)
			}
		})
	}
	if gerr := ext.MutateOperationContext(context.Background(), &graphql.OperationContext{}); gerr != nil {
		t.Errorf("no operation: %v", gerr)
	}
}
