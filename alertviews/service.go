package alertviews

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alertview"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// EntityType names saved views in the activity log.
const EntityType = "alert_view"

// Service keeps the saved views of the acting organisation.
type Service struct {
	client *ent.Client
}

// New returns a Service over client.
func New(client *ent.Client) *Service { return &Service{client: client} }

// visibleTo selects the views v may see: its own and the shared ones. The
// tenant rule adds the acting organisation.
func visibleTo(v *viewer.Viewer) predicate.AlertView {
	return alertview.Or(alertview.Shared(true), alertview.OwnerID(v.UserID))
}

// find returns a view v may see. Another user's personal view is reported
// missing, like one that does not exist, so its existence does not leak.
func find(ctx context.Context, c *ent.Client, v *viewer.Viewer, id uuid.UUID) (*ent.AlertView, error) {
	view, err := c.AlertView.Query().Where(alertview.ID(id), visibleTo(v)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("alert view %s not found", id)
	}
	return view, err
}

// checkEdit lets the owner change a view, and an admin a shared one too. A
// personal view reaching here is the caller's own: find hides the others.
func checkEdit(v *viewer.Viewer, view *ent.AlertView) error {
	if view.OwnerID != nil && *view.OwnerID == v.UserID {
		return nil
	}
	if view.Shared && v.IsAdmin() {
		return nil
	}
	return apperr.New(apperr.Forbidden, "only the owner or an admin may change a shared view")
}

// List returns the caller's own views and the organisation's shared ones,
// hidden ones included, by name.
func (s *Service) List(ctx context.Context) ([]*ent.AlertView, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	return s.client.AlertView.Query().Where(visibleTo(v)).
		Order(alertview.ByName(), alertview.ByID()).All(ctx)
}

// Get returns one view the caller may see.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*ent.AlertView, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	return find(ctx, s.client, v, id)
}

// snapshot is a view as the activity log records it on create and delete.
type snapshot struct {
	Name    string                 `json:"name"`
	Shared  bool                   `json:"shared"`
	Filters schematype.AlertFilter `json:"filters"`
	Sort    string                 `json:"sort"`
	Columns []string               `json:"columns"`
}

func snapshotOf(v *ent.AlertView) snapshot {
	return snapshot{Name: v.Name, Shared: v.Shared, Filters: v.Filters, Sort: v.Sort, Columns: v.Columns}
}

// Create saves a view owned by the caller.
func (s *Service) Create(ctx context.Context, in CreateAlertViewInput) (*ent.AlertView, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	name, err := validateName(in.Name)
	if err != nil {
		return nil, err
	}
	var sort string
	if in.Sort != nil {
		sort = *in.Sort
	}
	if err := validateView(in.Filters, sort, in.Columns); err != nil {
		return nil, err
	}
	var created *ent.AlertView
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.AlertView.Create().SetName(name).SetOwnerID(v.UserID).
			SetNillableShared(in.Shared).SetSort(sort)
		if in.Filters != nil {
			c.SetFilters(normalizeFilter(*in.Filters))
		}
		if len(in.Columns) > 0 {
			c.SetColumns(in.Columns)
		}
		var err error
		if created, err = c.Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{
			EntityType: EntityType, EntityID: created.ID, Action: "create", After: snapshotOf(created),
		})
	})
	if err != nil {
		return nil, err
	}
	return created.Unwrap(), nil
}

// validateView checks the parts of a view other than its name.
func validateView(filters *schematype.AlertFilter, sort string, columns []string) error {
	if err := validateFilters(filters); err != nil {
		return err
	}
	if err := validateSort(sort); err != nil {
		return err
	}
	return validateColumns(columns)
}

// Update changes a view the caller may edit. Fields left nil keep their
// value; an empty column list restores the queue's default columns.
func (s *Service) Update(ctx context.Context, id uuid.UUID, in UpdateAlertViewInput) (*ent.AlertView, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		name, err := validateName(*in.Name)
		if err != nil {
			return nil, err
		}
		in.Name = &name
	}
	var sort string
	if in.Sort != nil {
		sort = *in.Sort
	}
	if err := validateView(in.Filters, sort, in.Columns); err != nil {
		return nil, err
	}
	// Sharing changes who sees the view, hence others' hidden flags and
	// defaults.
	defer forget(ctx)
	var updated *ent.AlertView
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		view, err := find(ctx, tx.Client(), v, id)
		if err != nil {
			return err
		}
		if err := checkEdit(v, view); err != nil {
			return err
		}
		upd := tx.AlertView.UpdateOne(view)
		changes, err := patch(upd, view, in)
		if err != nil || len(changes) == 0 {
			updated = view
			return err
		}
		if updated, err = upd.Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), changes...)
	})
	if err != nil {
		return nil, err
	}
	return updated.Unwrap(), nil
}

// patch sets on upd the fields of in that differ from view and returns an
// activity entry for each; none means there is nothing to write.
func patch(upd *ent.AlertViewUpdateOne, view *ent.AlertView, in UpdateAlertViewInput) ([]audit.Entry, error) {
	var changes []audit.Entry
	changed := func(field string, before, after any) {
		changes = append(changes, audit.Entry{
			EntityType: EntityType, EntityID: view.ID, Action: "update", Field: field, Before: before, After: after,
		})
	}
	if in.Name != nil && *in.Name != view.Name {
		upd.SetName(*in.Name)
		changed("name", view.Name, *in.Name)
	}
	if in.Shared != nil && *in.Shared != view.Shared {
		upd.SetShared(*in.Shared)
		changed("shared", view.Shared, *in.Shared)
	}
	if in.Filters != nil {
		f := normalizeFilter(*in.Filters)
		same, err := sameJSON(f, view.Filters)
		if err != nil {
			return nil, err
		}
		if !same {
			upd.SetFilters(f)
			changed("filters", view.Filters, f)
		}
	}
	if in.Sort != nil && *in.Sort != view.Sort {
		upd.SetSort(*in.Sort)
		changed("sort", view.Sort, *in.Sort)
	}
	if in.Columns != nil && !slices.Equal(in.Columns, view.Columns) {
		if len(in.Columns) == 0 {
			upd.ClearColumns()
		} else {
			upd.SetColumns(in.Columns)
		}
		changed("columns", view.Columns, in.Columns)
	}
	return changes, nil
}

// sameJSON compares filters as they are stored, so that an unchanged filter
// sent back by a client is not recorded as a change.
func sameJSON(a, b schematype.AlertFilter) (bool, error) {
	ja, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	jb, err := json.Marshal(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ja, jb), nil
}

// Delete removes a view the caller may edit, and with it every user's
// choice of it as default and every hidden flag on it.
func (s *Service) Delete(ctx context.Context, id uuid.UUID) error {
	v, err := viewer.User(ctx)
	if err != nil {
		return err
	}
	defer forget(ctx)
	return storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		view, err := find(ctx, tx.Client(), v, id)
		if err != nil {
			return err
		}
		if err := checkEdit(v, view); err != nil {
			return err
		}
		// Users whose home is another organisation (a provider's staff acting
		// here) may hold the view as default too, and the tenant rule on
		// users would hide their rows: the predicate alone bounds this write.
		err = tx.User.Update().Where(user.DefaultViewID(id)).ClearDefaultViewID().Exec(auth.System(ctx))
		if err != nil {
			return err
		}
		if err := tx.AlertView.UpdateOneID(id).ClearHiddenBy().Exec(ctx); err != nil {
			return err
		}
		if err := tx.AlertView.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{
			EntityType: EntityType, EntityID: id, Action: "delete", Before: snapshotOf(view),
		})
	})
}
