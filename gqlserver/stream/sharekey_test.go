package stream_test

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/gqlserver/stream"
	"github.com/seliq/seliq/graph"
	"github.com/seliq/seliq/internal/viewer"
)

var schema = graph.NewExecutableSchema(graph.Config{}).Schema()

// TestShareAuditCoversTheSchema: every field reachable from a shared
// subscription is in the audit table, and the table names no field the
// schema lacks. A field added to Alert, Incident or anything they reach
// fails here until it is audited (see stream.ShareKey): a field that depends
// on the viewer must not be shared, or must be keyed by what it depends on.
func TestShareAuditCoversTheSchema(t *testing.T) {
	reached := map[string]map[string]bool{}
	var walk func(*ast.Definition)
	walk = func(d *ast.Definition) {
		if reached[d.Name] != nil {
			return
		}
		switch d.Kind {
		case ast.Object:
		case ast.Interface, ast.Union:
			t.Errorf("%s is abstract: audit its fields on each possible type, and teach ShareKey's audit to resolve them", d.Name)
			return
		default:
			return
		}
		reached[d.Name] = map[string]bool{}
		for _, f := range d.Fields {
			if f.Name == "__typename" || f.Name == "__schema" || f.Name == "__type" {
				continue
			}
			reached[d.Name][f.Name] = true
			if !stream.SharedFields[d.Name][f.Name] {
				t.Errorf("%s.%s is reachable from a shared subscription but not audited", d.Name, f.Name)
			}
			walk(schema.Types[f.Type.Name()])
		}
	}
	for _, root := range []string{"alertEvents", "incidentEvents"} {
		f := schema.Subscription.Fields.ForName(root)
		if f == nil {
			t.Fatalf("no Subscription.%s", root)
		}
		walk(schema.Types[f.Type.Name()])
	}
	for typ, fields := range stream.SharedFields {
		for f := range fields {
			if !reached[typ][f] {
				t.Errorf("the audit lists %s.%s, which no shared subscription reaches", typ, f)
			}
		}
	}
}

func shareOperation(t *testing.T, query string, vars map[string]any) *graphql.OperationContext {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(schema, query, nil) // nil: the default rules
	if errs != nil {
		t.Fatalf("%s: %v", query, errs)
	}
	return &graphql.OperationContext{RawQuery: query, Doc: doc, Operation: doc.Operations[0], Variables: vars}
}

func TestShareKey(t *testing.T) {
	home, acme := uuid.New(), uuid.New()
	user := func(org uuid.UUID, role enum.Role) context.Context {
		return viewer.NewContext(context.Background(), &viewer.Viewer{
			Kind: viewer.KindUser, UserID: uuid.New(), Role: role, HomeOrgID: home, TopLevel: true,
			OrgID: org, VisibleOrgIDs: []uuid.UUID{org},
		})
	}
	const alerts = `subscription { alertEvents { kind cursor alert { id title assignee { email } incident { alerts { edges { node { id } } } } } } }`
	const withVars = `subscription($f: AlertFilter, $after: String) { alertEvents(filter: $f, after: $after) { alert { ...A } } } fragment A on Alert { id __typename ... on Alert { title } }`
	key := func(ctx context.Context, query string, vars map[string]any) string {
		t.Helper()
		k, ok := stream.ShareKey(ctx, shareOperation(t, query, vars))
		if !ok {
			t.Fatalf("%s is not shared", query)
		}
		return k
	}
	notShared := func(name string, ctx context.Context, query string, vars map[string]any) {
		t.Helper()
		if k, ok := stream.ShareKey(ctx, shareOperation(t, query, vars)); ok {
			t.Errorf("%s: shared under %s", name, k)
		}
	}

	admin := key(user(home, enum.RoleAdmin), alerts, nil)
	if other := key(user(home, enum.RoleAdmin), alerts, nil); other != admin {
		t.Error("two admins of one organisation do not share: nothing in the selection depends on the user")
	}
	for name, k := range map[string]string{
		"another role":         key(user(home, enum.RoleAnalyst), alerts, nil),
		"another organisation": key(user(acme, enum.RoleAdmin), alerts, nil),
		"another document":     key(user(home, enum.RoleAdmin), `subscription { alertEvents { kind } }`, nil),
		"a filter":             key(user(home, enum.RoleAdmin), withVars, map[string]any{"f": map[string]any{"severity": []any{"HIGH"}}}),
	} {
		if k == admin {
			t.Errorf("%s shares the admin's key", name)
		}
	}
	if key(user(home, enum.RoleAdmin), withVars, map[string]any{"after": nil}) == key(user(home, enum.RoleAdmin), withVars, map[string]any{"f": map[string]any{"severity": []any{"HIGH"}}}) {
		t.Error("different filters share a key")
	}

	notShared("after in the document", user(home, enum.RoleAdmin), `subscription { alertEvents(after: "7") { kind } }`, nil)
	notShared("after in a variable", user(home, enum.RoleAdmin), withVars, map[string]any{"after": "7"})
	notShared("per-user notifications", user(home, enum.RoleAdmin), `subscription { notificationAdded { cursor } }`, nil)
	notShared("metrics", user(home, enum.RoleAdmin), `subscription { metricsTick { openIncidents } }`, nil)
	notShared("a query", user(home, enum.RoleAdmin), `{ me { email } }`, nil)
	notShared("two root fields", user(home, enum.RoleAdmin), `subscription { alertEvents { kind } b: alertEvents { cursor } }`, nil)
	notShared("no viewer", context.Background(), alerts, nil)
	connector := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindConnector, OrgID: home})
	notShared("a connector", connector, alerts, nil)
}
