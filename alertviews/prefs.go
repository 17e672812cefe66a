package alertviews

import (
	"context"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alertview"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// A user's choices (default view, hidden views) are stored on the user row,
// which lives in the user's home organisation, while the views are rows of
// the acting organisation. User rows are therefore written with
// viewer.Home(ctx) and views read with ctx.

// hiddenBy selects the views v's user hid.
func hiddenBy(v *viewer.Viewer) predicate.AlertView {
	return alertview.HasHiddenByWith(user.ID(v.UserID))
}

// pickedBy selects the view v's user chose as default. It reads the user row
// in SQL, not through the tenant rule, which would hide it whenever the
// caller acts outside its home organisation.
func pickedBy(v *viewer.Viewer) predicate.AlertView {
	return func(s *sql.Selector) {
		users := sql.Table(user.Table)
		chosen := sql.Select(users.C(user.FieldDefaultViewID)).From(users).
			Where(sql.EQ(users.C(user.FieldID), v.UserID))
		s.Where(sql.In(s.C(alertview.FieldID), chosen))
	}
}

// defaultOf selects v's default view while it is still usable: visible to v
// in the acting organisation and not hidden. A default in another
// organisation, or one that was made personal by its owner, yields none.
func defaultOf(v *viewer.Viewer) []predicate.AlertView {
	return []predicate.AlertView{pickedBy(v), visibleTo(v), alertview.Not(hiddenBy(v))}
}

// Default returns the caller's default view, or nil when there is none.
func (s *Service) Default(ctx context.Context) (*ent.AlertView, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	view, err := s.client.AlertView.Query().Where(defaultOf(v)...).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return view, err
}

// SetDefault makes a view the caller may see its default; nil clears it.
// A hidden view cannot be the default: the queue would open on a view its
// list does not show.
func (s *Service) SetDefault(ctx context.Context, viewID *uuid.UUID) (*ent.AlertView, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	defer forget(ctx)
	home := viewer.Home(ctx)
	if viewID == nil {
		return nil, s.client.User.UpdateOneID(v.UserID).ClearDefaultViewID().Exec(home)
	}
	var view *ent.AlertView
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		var err error
		if view, err = find(ctx, tx.Client(), v, *viewID); err != nil {
			return err
		}
		hidden, err := tx.AlertView.Query().Where(alertview.ID(view.ID), hiddenBy(v)).Exist(ctx)
		if err != nil {
			return err
		}
		if hidden {
			return apperr.Invalid("view_id", "a hidden view cannot be the default; unhide it first")
		}
		return tx.User.UpdateOneID(v.UserID).SetDefaultViewID(view.ID).Exec(home)
	})
	if err != nil {
		return nil, err
	}
	return view.Unwrap(), nil
}

// Hide removes a shared view from the caller's list (it stays in the API
// result, flagged). Hiding the caller's default clears the default. Hiding
// twice is not an error.
func (s *Service) Hide(ctx context.Context, id uuid.UUID) (*ent.AlertView, error) {
	return s.setHidden(ctx, id, true)
}

// Unhide brings a hidden shared view back. Unhiding a visible one is not an
// error.
func (s *Service) Unhide(ctx context.Context, id uuid.UUID) (*ent.AlertView, error) {
	return s.setHidden(ctx, id, false)
}

func (s *Service) setHidden(ctx context.Context, id uuid.UUID, hide bool) (*ent.AlertView, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	defer forget(ctx)
	home := viewer.Home(ctx)
	var view *ent.AlertView
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		var err error
		if view, err = find(ctx, tx.Client(), v, id); err != nil {
			return err
		}
		if !view.Shared {
			return apperr.Invalid("view_id", "only shared views can be hidden")
		}
		hidden, err := tx.AlertView.Query().Where(alertview.ID(id), hiddenBy(v)).Exist(ctx)
		if err != nil || hidden == hide {
			return err
		}
		if !hide {
			return tx.User.UpdateOneID(v.UserID).RemoveHiddenViewIDs(id).Exec(home)
		}
		if err := tx.User.UpdateOneID(v.UserID).AddHiddenViewIDs(id).Exec(home); err != nil {
			return err
		}
		return tx.User.Update().Where(user.ID(v.UserID), user.DefaultViewID(id)).ClearDefaultViewID().Exec(home)
	})
	if err != nil {
		return nil, err
	}
	return view.Unwrap(), nil
}

// Hidden reports whether the caller hid view. With WithCache in ctx, all
// views of a request share one lookup; otherwise each call is one query.
func (s *Service) Hidden(ctx context.Context, view *ent.AlertView) (bool, error) {
	if !view.Shared {
		return false, nil // only shared views can be hidden
	}
	v, err := viewer.User(ctx)
	if err != nil {
		return false, err
	}
	if c := cacheFrom(ctx); c != nil {
		p, err := c.get(ctx, v, s.loadPrefs)
		return p.hidden[view.ID], err
	}
	return s.client.AlertView.Query().Where(alertview.ID(view.ID), hiddenBy(v)).Exist(ctx)
}

// IsDefault reports whether view is the caller's default, as Default
// returns it. With WithCache in ctx, all views of a request share one
// lookup; otherwise each call is one query.
func (s *Service) IsDefault(ctx context.Context, view *ent.AlertView) (bool, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return false, err
	}
	if c := cacheFrom(ctx); c != nil {
		p, err := c.get(ctx, v, s.loadPrefs)
		return p.defaultID == view.ID, err
	}
	return s.client.AlertView.Query().Where(alertview.ID(view.ID)).Where(defaultOf(v)...).Exist(ctx)
}

// loadPrefs reads v's hidden views of the acting organisation and its
// usable default.
func (s *Service) loadPrefs(ctx context.Context, v *viewer.Viewer) (*prefs, error) {
	hidden, err := s.client.AlertView.Query().Where(hiddenBy(v)).IDs(ctx)
	if err != nil {
		return nil, err
	}
	p := &prefs{hidden: make(map[uuid.UUID]bool, len(hidden))}
	for _, id := range hidden {
		p.hidden[id] = true
	}
	p.defaultID, err = s.client.AlertView.Query().Where(defaultOf(v)...).OnlyID(ctx)
	if ent.IsNotFound(err) {
		return p, nil
	}
	return p, err
}
