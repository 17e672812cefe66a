package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/loaders"
)

// The nested objects of alerts and incidents come from the request's
// loaders (package loaders) rather than from ent's eager loading: a list
// reads its page, then one query per relation primes the loaders, and
// every row's field is answered from them.

// loadedEdges are the nested objects the loaders supply, each with the
// foreign key it is loaded by.
var loadedEdges = map[string]string{
	"connector": "connectorID",
	"assignee":  "assigneeID",
	"incident":  "incidentID",
	"group":     "groupID",
}

// nestedByLoaders returns ctx as ent's Paginate reads it: the connection's
// nodes ask for the foreign keys of loadedEdges instead of the objects, so
// Paginate reads those columns and eager-loads nothing.
func nestedByLoaders(ctx context.Context) context.Context {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return ctx
	}
	copyFC := *fc
	field := *fc.Field.Field
	field.SelectionSet = connectionForLoaders(graphql.GetOperationContext(ctx), fc.Field.Selections)
	copyFC.Field.Field = &field
	copyFC.Field.Selections = field.SelectionSet
	return graphql.WithFieldContext(ctx, &copyFC)
}

// connectionForLoaders rewrites a connection's selection: edges { node {
// connector { … } } } becomes edges { node { connectorID } }.
func connectionForLoaders(oc *graphql.OperationContext, sel ast.SelectionSet) ast.SelectionSet {
	var out ast.SelectionSet
	for _, f := range graphql.CollectFields(oc, sel, nil) {
		if f.Name != "edges" {
			out = append(out, f.Field)
			continue
		}
		edges := *f.Field
		edges.SelectionSet = nil
		for _, e := range graphql.CollectFields(oc, f.Selections, nil) {
			if e.Name != "node" {
				edges.SelectionSet = append(edges.SelectionSet, e.Field)
				continue
			}
			node := *e.Field
			node.SelectionSet = nil
			for _, n := range graphql.CollectFields(oc, e.Selections, nil) {
				if fk, ok := loadedEdges[n.Name]; ok {
					node.SelectionSet = append(node.SelectionSet, &ast.Field{Alias: fk, Name: fk})
					continue
				}
				node.SelectionSet = append(node.SelectionSet, n.Field)
			}
			edges.SelectionSet = append(edges.SelectionSet, &node)
		}
		out = append(out, &edges)
	}
	return out
}

// primeAlerts returns a function that primes the request's loaders with
// what the query reads of the page's nested objects, then passes the page
// on.
func primeAlerts(ctx context.Context) func(*ent.AlertConnection, error) (*ent.AlertConnection, error) {
	return func(conn *ent.AlertConnection, err error) (*ent.AlertConnection, error) {
		if err != nil || conn == nil {
			return conn, err
		}
		oc, node := graphql.GetOperationContext(ctx), nodeSelection(ctx)
		if node == nil {
			return conn, nil
		}
		rows := make([]*ent.Alert, 0, len(conn.Edges))
		for _, e := range conn.Edges {
			if e != nil {
				rows = append(rows, e.Node)
			}
		}
		return conn, loaders.PrimeAlerts(ctx, rows, alertRelations(oc, node))
	}
}

// primeIncidents is primeAlerts for a page of incidents.
func primeIncidents(ctx context.Context) func(*ent.IncidentConnection, error) (*ent.IncidentConnection, error) {
	return func(conn *ent.IncidentConnection, err error) (*ent.IncidentConnection, error) {
		if err != nil || conn == nil {
			return conn, err
		}
		oc, node := graphql.GetOperationContext(ctx), nodeSelection(ctx)
		if node == nil {
			return conn, nil
		}
		rows := make([]*ent.Incident, 0, len(conn.Edges))
		for _, e := range conn.Edges {
			if e != nil {
				rows = append(rows, e.Node)
			}
		}
		return conn, loaders.PrimeIncidents(ctx, rows, incidentRelations(oc, node))
	}
}

// nodeSelection is the selection of the connection's edges { node }, nil
// when the query reads no nodes.
func nodeSelection(ctx context.Context) ast.SelectionSet {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return nil
	}
	oc := graphql.GetOperationContext(ctx)
	var out ast.SelectionSet
	for _, f := range graphql.CollectFields(oc, fc.Field.Selections, nil) {
		if f.Name != "edges" {
			continue
		}
		for _, e := range graphql.CollectFields(oc, f.Selections, nil) {
			if e.Name == "node" {
				out = append(out, e.Selections...)
			}
		}
	}
	return out
}

func alertRelations(oc *graphql.OperationContext, sel ast.SelectionSet) loaders.AlertRelations {
	var want loaders.AlertRelations
	for _, f := range graphql.CollectFields(oc, sel, nil) {
		switch f.Name {
		case "connector":
			want.Connector = true
		case "assignee":
			want.Assignee = true
		case "incident":
			inc := incidentRelations(oc, f.Selections)
			if want.Incident != nil {
				// The same edge under two aliases: read what either asks.
				inc.Assignee = inc.Assignee || want.Incident.Assignee
				inc.Group = inc.Group || want.Incident.Group
				inc.Severities = inc.Severities || want.Incident.Severities
			}
			want.Incident = &inc
		}
	}
	return want
}

func incidentRelations(oc *graphql.OperationContext, sel ast.SelectionSet) loaders.IncidentRelations {
	var want loaders.IncidentRelations
	for _, f := range graphql.CollectFields(oc, sel, nil) {
		switch f.Name {
		case "assignee":
			want.Assignee = true
		case "group":
			want.Group = true
		case "alertSeverities":
			want.Severities = true
		}
	}
	return want
}
