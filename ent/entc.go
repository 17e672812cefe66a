//go:build ignore

// entc.go generates the ent client and entgql's GraphQL schema. It runs from
// the module root because entgql resolves gqlgen.yml relative to the working
// directory, and loses custom scalars when run from ent/.
package main

import (
	"log"
	"os"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"

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
		entgql.WithSchemaHook(upperCaseEnums),
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
func upperCaseEnums(_ *gen.Graph, s *ast.Schema) error {
	for _, def := range s.Types {
		if def.Kind != ast.Enum {
			continue
		}
		for _, v := range def.EnumValues {
			v.Name = enum.GraphQLName(v.Name)
		}
	}
	return nil
}
