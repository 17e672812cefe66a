// Package resolvers implements the GraphQL schema. Resolvers are thin: they
// translate arguments and call the domain packages.
package resolvers

import (
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/ent"
)

// Resolver holds the dependencies shared by all resolvers.
type Resolver struct {
	Client    *ent.Client
	Auth      *auth.Service
	Directory *directory.Directory
}
