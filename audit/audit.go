package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/viewer"
)

// Entry is one recorded change. Action names what happened ("update",
// "create", "note", "merge"...); Field, Before and After describe a field
// change and are empty otherwise.
type Entry struct {
	EntityType string
	EntityID   uuid.UUID
	Action     string
	Field      string
	Before     any
	After      any
}

// batch bounds one multi-row INSERT (PostgreSQL allows 65535 parameters;
// an activity row has about ten).
const batch = 1000

// Record writes entries as the viewer of ctx. Pass the transaction's client
// so the record commits or rolls back with the change it describes.
func Record(ctx context.Context, client *ent.Client, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	actorID, actorName, err := Actor(ctx, client)
	if err != nil {
		return err
	}
	// Named rather than left to the tenant rule, so that a record made
	// where the rules are bypassed (credential code) still lands in the
	// acting organisation.
	v := viewer.FromContext(ctx)
	newActivity := func() *ent.ActivityCreate {
		b := client.Activity.Create().SetNillableActorID(actorID).SetActorName(actorName)
		if v != nil {
			b.SetOrganizationID(v.OrgID)
		}
		return b
	}
	if done, err := recordColumnar(ctx, client, newActivity, entries); done {
		return err
	}
	for start := 0; start < len(entries); start += batch {
		chunk := entries[start:min(start+batch, len(entries))]
		builders := make([]*ent.ActivityCreate, len(chunk))
		for i, e := range chunk {
			before, after, err := e.values()
			if err != nil {
				return err
			}
			b := newActivity().
				SetEntityType(e.EntityType).SetEntityID(e.EntityID).
				SetAction(e.Action).SetField(e.Field)
			if before != nil { // set, even to nil, ent would store JSON null
				b.SetBefore(before)
			}
			if after != nil {
				b.SetAfter(after)
			}
			builders[i] = b
		}
		if err := client.Activity.CreateBulk(builders...).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// values are e's Before and After as JSON, nil (NULL) for an absent one.
func (e Entry) values() (before, after json.RawMessage, err error) {
	if e.Before != nil {
		if before, err = json.Marshal(e.Before); err != nil {
			return nil, nil, fmt.Errorf("activity before: %w", err)
		}
	}
	if e.After != nil {
		if after, err = json.Marshal(e.After); err != nil {
			return nil, nil, fmt.Errorf("activity after: %w", err)
		}
	}
	return before, after, nil
}

// Actor names the viewer of ctx for a record: a user's id and name (or
// email when unnamed), "connector:<id>" for a connector, "system" for
// background work. The name is copied into records so that they survive
// the user's deletion.
func Actor(ctx context.Context, client *ent.Client) (*uuid.UUID, string, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return nil, "system", nil
	case v.Kind == viewer.KindConnector:
		return nil, "connector:" + v.ConnectorID.String(), nil
	case v.Kind == viewer.KindJob:
		if name, ok := ctx.Value(actorKey{}).(string); ok && name != "" {
			return nil, name, nil
		}
		return nil, "system", nil
	}
	u, err := client.User.Query().Where(user.ID(v.UserID)).Only(viewer.Home(ctx))
	if err != nil {
		return nil, "", fmt.Errorf("activity actor: %w", err)
	}
	name := u.Name
	if name == "" {
		name = u.Email
	}
	return &v.UserID, name, nil
}

type actorKey struct{}

// As returns ctx whose records name actor ("trigger:<name>") when the
// viewer is background work, the organisation's system principal: an
// automation's changes then read as done by it. A person keeps their name.
func As(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// Service searches the activity log.
type Service struct {
	client *ent.Client
}

// New returns the service over client.
func New(client *ent.Client) *Service {
	return &Service{client: client}
}

// Search pages through the acting organisation's activity, newest first
// unless ordered otherwise.
func (s *Service) Search(ctx context.Context, in *ActivitySearchInput, page paging.Page, orderBy *ent.ActivityOrder) (*ent.ActivityConnection, error) {
	if orderBy == nil {
		orderBy = &ent.ActivityOrder{Field: ent.ActivityOrderFieldCreatedAt, Direction: paging.Desc}
	}
	return paging.Paginate(ctx, page, s.client.Activity.Query().Where(predicates(in)...).Paginate, ent.WithActivityOrder(orderBy))
}

func predicates(in *ActivitySearchInput) []predicate.Activity {
	if in == nil {
		return nil
	}
	var ps []predicate.Activity
	if in.EntityType != nil {
		ps = append(ps, activity.EntityType(*in.EntityType))
	}
	if in.EntityID != nil {
		ps = append(ps, activity.EntityID(*in.EntityID))
	}
	if in.ActorID != nil {
		ps = append(ps, activity.ActorID(*in.ActorID))
	}
	if in.Action != nil {
		ps = append(ps, activity.Action(*in.Action))
	}
	if in.Field != nil {
		ps = append(ps, activity.Field(*in.Field))
	}
	if in.Since != nil {
		ps = append(ps, activity.CreatedAtGTE(in.Since.UTC()))
	}
	if in.Until != nil {
		ps = append(ps, activity.CreatedAtLT(in.Until.UTC()))
	}
	return ps
}

// ForEntity pages through one entity's activity, newest first. The caller
// has checked that the entity is visible.
func ForEntity(ctx context.Context, client *ent.Client, entityType string, id uuid.UUID, page paging.Page) (*ent.ActivityConnection, error) {
	page, err := page.ByTime()
	if err != nil {
		return nil, err
	}
	order := &ent.ActivityOrder{Field: ent.ActivityOrderFieldCreatedAt, Direction: paging.Desc}
	q := client.Activity.Query().Where(activity.EntityType(entityType), activity.EntityID(id))
	return paging.Paginate(ctx, page, q.Paginate, ent.WithActivityOrder(order))
}

// Opt is *p for an entry's Before or After, or an untyped nil when p is nil,
// so that an absent value is recorded as absent rather than as a typed nil
// pointer.
func Opt[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
