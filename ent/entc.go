//go:build ignore

// entc.go generates the ent client and entgql's GraphQL schema. It runs from
// the module root because entgql resolves gqlgen.yml relative to the working
// directory, and loses custom scalars when run from ent/.
package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"log"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	gqlast "github.com/vektah/gqlparser/v2/ast"
	gqlparser "github.com/vektah/gqlparser/v2/parser"

	"github.com/seliq/seliq/enum"
)

func main() {
	if err := os.Chdir(".."); err != nil {
		log.Fatal(err)
	}
	ext, err := entgql.NewExtension(
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("graph/ent.graphql"),
		entgql.WithRelaySpec(true),
		entgql.WithSchemaHook(upperCaseEnums, describe, pruneUnusedOrders),
	)
	if err != nil {
		log.Fatalf("entgql: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:  "./ent",
		Package: "github.com/seliq/seliq/ent",
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureUpsert,
			gen.FeatureExecQuery,
			gen.FeatureModifier,
			gen.FeatureLock,
		},
	}, entc.Extensions(ext))
	if err != nil {
		log.Fatalf("entc: %v", err)
	}
}

// upperCaseEnums gives the GraphQL schema the conventional UPPER_CASE enum
// values; package enum translates at the boundary, ent keeps lower case.
// entgql's generated order-field enums are already upper case.
func upperCaseEnums(_ *gen.Graph, s *gqlast.Schema) error {
	for _, def := range s.Types {
		if def.Kind != gqlast.Enum {
			continue
		}
		for _, v := range def.EnumValues {
			v.Name = enum.GraphQLName(v.Name)
		}
	}
	return nil
}

// Descriptions of what every generated type shares; the rest come from
// the ent schema (field and edge comments, the types' doc comments) and
// package enum.
var (
	commonFields = map[string]string{
		"id":             "Unique identifier (a UUID).",
		"createdAt":      "When it was created.",
		"updatedAt":      "When it last changed.",
		"organizationID": "The organisation it belongs to.",
		"organization":   "The organisation it belongs to.",
	}
	rootTypes = map[string]string{
		"Query": "Every read, limited to the caller's organisations and role.",
	}
	pageArgs = map[string]string{
		"after":   "Returns the items after this cursor (the previous page's endCursor).",
		"first":   "Returns at most this many items from the start (default 50, at most 500).",
		"before":  "Returns the items before this cursor.",
		"last":    "Returns at most this many items from the end (at most 500).",
		"orderBy": "How to order the items.",
	}
)

// describe gives every generated type, field, argument and enum value a
// description (the playground and generated clients show them).
func describe(g *gen.Graph, s *gqlast.Schema) error {
	typeDocs, err := schemaTypeDocs("ent/schema")
	if err != nil {
		return err
	}
	// A type GraphQL names otherwise (entgql.Type) keeps its doc comment.
	for _, n := range g.Nodes {
		ann := &entgql.Annotation{}
		if raw, ok := n.Annotations[ann.Name()]; ok {
			if err := ann.Decode(raw); err == nil && ann.Type != "" {
				typeDocs[ann.Type] = typeDocs[n.Name]
			}
		}
	}
	for name, def := range s.Types {
		if def.Description == "" {
			def.Description = typeDocs[name] + rootTypes[name]
		}
		for _, f := range def.Fields {
			if f.Description == "" {
				f.Description = commonFields[f.Name]
			}
			for _, a := range f.Arguments {
				if a.Description == "" {
					a.Description = pageArgs[a.Name]
				}
			}
		}
		if def.Kind != gqlast.Enum {
			continue
		}
		if strings.HasSuffix(name, "OrderField") {
			for _, v := range def.EnumValues {
				if v.Description == "" {
					v.Description = "Order by " + strings.ToLower(strings.ReplaceAll(v.Name, "_", " ")) + "."
				}
			}
			continue
		}
		docs := enumDocs(def)
		if docs == nil {
			continue
		}
		if def.Description == "" {
			def.Description = docs[""]
		}
		for _, v := range def.EnumValues {
			if v.Description == "" {
				v.Description = docs[enum.StoredName(v.Name)]
			}
		}
	}
	return nil
}

// enumDocs finds package enum's descriptions of def by its set of values.
func enumDocs(def *gqlast.Definition) map[string]string {
	var values []string
	for _, v := range def.EnumValues {
		values = append(values, enum.StoredName(v.Name))
	}
	slices.Sort(values)
	for _, docs := range enum.Docs {
		known := slices.Sorted(maps.Keys(docs))
		known = slices.DeleteFunc(known, func(k string) bool { return k == "" })
		if slices.Equal(known, values) {
			return docs
		}
	}
	return nil
}

// schemaTypeDocs reads the doc comment of each ent schema type
// ("// Alert is one normalised detection from a connector.") as one line.
func schemaTypeDocs(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE || gd.Doc == nil || len(gd.Specs) != 1 {
				continue
			}
			ts := gd.Specs[0].(*ast.TypeSpec)
			doc := strings.Join(strings.Fields(gd.Doc.Text()), " ")
			// "Alert is one normalised detection..." → "One normalised detection...".
			doc = strings.TrimPrefix(doc, ts.Name.Name+" is ")
			doc = strings.TrimPrefix(doc, ts.Name.Name+" are ")
			if doc != "" {
				out[ts.Name.Name] = strings.ToUpper(doc[:1]) + doc[1:]
			}
		}
	}
	return out, nil
}

// pruneUnusedOrders drops the order inputs (and their field enums) that no
// field takes: entgql makes one for every connection type, and clients
// would see types they can never use.
func pruneUnusedOrders(_ *gen.Graph, s *gqlast.Schema) error {
	used := map[string]bool{}
	mark := func(t *gqlast.Type) {
		if t != nil {
			used[t.Name()] = true
		}
	}
	markDefs := func(defs []*gqlast.Definition) {
		for _, def := range defs {
			for _, f := range def.Fields {
				if strings.HasSuffix(def.Name, "Order") && f.Name == "field" {
					continue // an order's own field enum does not use it
				}
				mark(f.Type)
				for _, a := range f.Arguments {
					mark(a.Type)
				}
			}
		}
	}
	markDefs(slices.Collect(maps.Values(s.Types)))
	// The hand-written schema files (gqlgen.yml lists them) take orders too.
	files, err := filepath.Glob("*.graphql")
	if err != nil {
		return err
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		doc, err := gqlparser.ParseSchema(&gqlast.Source{Name: file, Input: string(src)})
		if err != nil {
			return err
		}
		markDefs(doc.Definitions)
		markDefs(doc.Extensions)
	}
	for name, def := range s.Types {
		if def.Kind == gqlast.InputObject && strings.HasSuffix(name, "Order") && !used[name] {
			delete(s.Types, name)
			if !used[name+"Field"] {
				delete(s.Types, name+"Field")
			}
		}
	}
	return nil
}
