package directory

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
)

// CreateGroupInput creates a group.
type CreateGroupInput struct {
	Name        string
	Description *string
	MemberIDs   []uuid.UUID
}

// UpdateGroupInput changes a group.
type UpdateGroupInput struct {
	Name        *string
	Description *string
}

// Group returns a group of the acting organisation.
func (d *Directory) Group(ctx context.Context, id uuid.UUID) (*ent.Group, error) {
	g, err := d.client.Group.Get(ctx, id)
	return g, notFound(err, "group", id)
}

// Groups pages through the acting organisation's groups.
func (d *Directory) Groups(ctx context.Context, page paging.Page, orderBy *ent.GroupOrder) (*ent.GroupConnection, error) {
	return paging.Paginate(ctx, page, d.client.Group.Query().Paginate, ent.WithGroupOrder(orderBy))
}

// members checks that every id is a user of the acting organisation: the
// tenant filter hides the others, so a count mismatch names the culprits.
func members(ctx context.Context, c *ent.Client, field string, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	found, err := c.User.Query().Where(user.IDIn(ids...)).IDs(ctx)
	if err != nil {
		return err
	}
	seen := make(map[uuid.UUID]bool, len(found))
	for _, id := range found {
		seen[id] = true
	}
	for _, id := range ids {
		if !seen[id] {
			return apperr.Invalid(field, "user %s not found in this organisation", id)
		}
	}
	return nil
}

func groupName(err error) error {
	return conflict(err, "name", "a group with this name already exists")
}

func validateDescription(d *string) error {
	if d != nil && len([]rune(*d)) > 2000 {
		return apperr.Invalid("description", "must be at most 2000 characters")
	}
	return nil
}

// CreateGroup adds a group, with initial members, in one transaction.
func (d *Directory) CreateGroup(ctx context.Context, in CreateGroupInput) (*ent.Group, error) {
	name, err := required("name", in.Name, 200)
	if err != nil {
		return nil, err
	}
	if err := validateDescription(in.Description); err != nil {
		return nil, err
	}
	var g *ent.Group
	err = d.withTx(ctx, func(tx *ent.Tx) error {
		if err := members(ctx, tx.Client(), "member_ids", in.MemberIDs); err != nil {
			return err
		}
		g, err = tx.Group.Create().SetName(name).SetNillableDescription(in.Description).
			AddMemberIDs(in.MemberIDs...).Save(ctx)
		return groupName(err)
	})
	if err != nil {
		return nil, err
	}
	return g.Unwrap(), nil
}

// UpdateGroup renames or re-describes a group.
func (d *Directory) UpdateGroup(ctx context.Context, id uuid.UUID, in UpdateGroupInput) (*ent.Group, error) {
	name, err := optional("name", in.Name, 200)
	if err != nil {
		return nil, err
	}
	if err := validateDescription(in.Description); err != nil {
		return nil, err
	}
	g, err := d.client.Group.UpdateOneID(id).SetNillableName(name).SetNillableDescription(in.Description).Save(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound(err, "group", id)
	}
	return g, groupName(err)
}

// DeleteGroup removes a group (its members stay).
func (d *Directory) DeleteGroup(ctx context.Context, id uuid.UUID) error {
	return notFound(d.client.Group.DeleteOneID(id).Exec(ctx), "group", id)
}

// SetGroupMembers replaces a group's members in one transaction.
func (d *Directory) SetGroupMembers(ctx context.Context, id uuid.UUID, userIDs []uuid.UUID) (*ent.Group, error) {
	if len(userIDs) > 10000 {
		return nil, apperr.Invalid("user_ids", "at most 10000 members")
	}
	var g *ent.Group
	err := d.withTx(ctx, func(tx *ent.Tx) error {
		if err := members(ctx, tx.Client(), "user_ids", userIDs); err != nil {
			return err
		}
		var err error
		g, err = tx.Group.UpdateOneID(id).ClearMembers().AddMemberIDs(userIDs...).Save(ctx)
		if err != nil {
			return notFound(err, "group", id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("set members: %w", err)
	}
	return g.Unwrap(), nil
}
