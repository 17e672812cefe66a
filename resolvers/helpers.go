package resolvers

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/graph/model"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/query"
)

// page is a connection field's paging arguments.
func page(after *ent.Cursor, first *int, before *ent.Cursor, last *int) paging.Page {
	return paging.Page{After: after, First: first, Before: before, Last: last}
}

// deleted is the payload of a successful delete.
func deleted(id uuid.UUID, err error) (*model.DeletePayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.DeletePayload{DeletedID: id}, nil
}

// alertSelection reports which parts of the alert connection being
// resolved the query reads, and how to hide the counted ones from ent's
// Paginate; nil outside a GraphQL field.
func alertSelection(ctx context.Context) *alerts.Selection {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return nil
	}
	sel := &alerts.Selection{}
	var kept ast.SelectionSet
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, nil) {
		switch f.Name {
		case "totalCount":
			sel.TotalCount = true
			continue
		case "pageInfo":
			sel.PageInfo = true
			continue
		case "edges":
			sel.Edges = true
		}
		kept = append(kept, f.Field)
	}
	copyFC := *fc
	field := *fc.Field.Field
	// Nested objects come from the loaders (nestedByLoaders).
	field.SelectionSet = connectionForLoaders(graphql.GetOperationContext(ctx), kept)
	copyFC.Field.Field = &field
	copyFC.Field.Selections = field.SelectionSet
	sel.Uncounted = func(ctx context.Context) context.Context {
		return graphql.WithFieldContext(ctx, &copyFC)
	}
	return sel
}

// runInput gathers runQuery's arguments (one of which, "query", hides the
// package of the same name in the resolver).
func runInput(source, text string, fields []string, sort *string, limit *int, cursor *string, since, until *time.Time,
	groupBy []string, interval *string, top *int,
) query.RunInput {
	in := query.RunInput{Source: source, Query: text, Fields: fields, Limit: limit, Cursor: cursor, Since: since, Until: until, GroupBy: groupBy, Top: top}
	if sort != nil {
		in.Sort = *sort
	}
	if interval != nil {
		in.Interval = *interval
	}
	return in
}

// lookupInput gathers queryLookups' arguments.
func lookupInput(source, field string, prefix *string, limit *int) query.LookupInput {
	in := query.LookupInput{Source: source, Field: field, Limit: limit}
	if prefix != nil {
		in.Prefix = *prefix
	}
	return in
}

// stringMap is a map of strings as the Map scalar writes it; nil stays null
// (an alert stored before attributes were kept, until the backfill).
func stringMap(m map[string]string) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// loginPayload answers login and completeMFALogin alike: a session, or
// the MFA token a user with MFA completes the login with.
func loginPayload(s *auth.Session) *model.LoginPayload {
	if s.MFAToken != "" {
		return &model.LoginPayload{MfaRequired: true, MfaToken: &s.MFAToken, ExpiresAt: &s.ExpiresAt}
	}
	bearer := "bearer"
	return &model.LoginPayload{AccessToken: &s.Token, TokenType: &bearer, ExpiresAt: &s.ExpiresAt, User: s.User, EnrolOnly: s.EnrolOnly}
}
