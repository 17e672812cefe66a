package gql

import (
	"github.com/google/uuid"
	"github.com/seliq/seliq/paging"

	"entgo.io/contrib/entgql"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/graph"
)

// listGuess is the assumed length of an unpaginated list edge (a group's
// members, an organisation's children) when scoring complexity.
const listGuess = 20

type cursor = *entgql.Cursor[uuid.UUID]

// page scores a connection: each requested item costs its selection.
func page(child int, first, last *int) int {
	n := paging.Default
	if first != nil {
		n = *first
	} else if last != nil {
		n = *last
	}
	return 1 + max(n, 1)*child
}

func list(child int) int { return 1 + listGuess*child }

// complexity makes lists cost what they fetch, so the limit bounds the
// rows a single operation can pull rather than the number of fields named.
func complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	c.Query.Users = func(child int, _ cursor, first *int, _ cursor, last *int, _ *ent.UserOrder) int {
		return page(child, first, last)
	}
	c.Query.Groups = func(child int, _ cursor, first *int, _ cursor, last *int, _ *ent.GroupOrder) int {
		return page(child, first, last)
	}
	c.Query.Organizations = func(child int, _ cursor, first *int, _ cursor, last *int, _ *ent.OrganizationOrder) int {
		return page(child, first, last)
	}
	c.Query.Contacts = func(child int, _ uuid.UUID, _ cursor, first *int, _ cursor, last *int, _ *ent.ContactOrder) int {
		return page(child, first, last)
	}
	c.Group.Members = list
	c.User.Groups = list
	c.Organization.Children = list
	return c
}
