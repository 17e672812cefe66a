// Package dashboard owns dashboards: named grids of widgets, each a metric
// of the metrics service, a query of the query language (saved or inline)
// or the SLA figures; who may see and change them; their data, computed
// for every widget of a dashboard at once; and their export and import as
// a versioned JSON document carrying the saved queries they use.
package dashboard

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/board"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/metrics"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/storage"
)

// Entity names dashboards in the activity log.
const Entity = "dashboard"

// Limits of a dashboard's texts.
const (
	maxName        = 200
	maxDescription = 4000
)

// SLAFigures answers an sla widget: the SLA figures of the acting
// organisation (or, with organization "all", a provider's tree) over
// [since, until), as a JSON document. The SLA engine provides it; until a
// server is given one, sla widgets are refused.
type SLAFigures interface {
	SLAFigures(ctx context.Context, since, until time.Time, organization *string) (json.RawMessage, error)
}

// Service keeps the acting organisation's dashboards and computes their
// widgets' data.
type Service struct {
	client  *ent.Client
	metrics *metrics.Service
	query   *query.Service
	sla     SLAFigures
	now     func() time.Time
	// parallel bounds the widgets of one dashboard computed at once.
	parallel int
}

// DefaultParallel is how many widgets of a dashboard are computed at once:
// enough to hide each query's latency, few enough that one dashboard does
// not take the whole connection pool.
const DefaultParallel = 4

// New returns the service; sla may be nil (sla widgets are then refused).
func New(client *ent.Client, m *metrics.Service, q *query.Service, sla SLAFigures) *Service {
	return &Service{client: client, metrics: m, query: q, sla: sla, now: time.Now, parallel: DefaultParallel}
}

// WithClock sets the clock widget periods end at, and returns s.
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	return s
}

// CreateInput is a new dashboard.
type CreateInput struct {
	Name        string
	Description *string
	Visibility  *enum.Visibility
	Widgets     []*schematype.Widget
}

// UpdateInput changes a dashboard; nil fields keep their value, and
// Widgets, when given, replaces the whole grid.
type UpdateInput struct {
	Name        *string
	Description *string
	Visibility  *enum.Visibility
	Widgets     []*schematype.Widget
}

// writer is a user who may change dashboards at all.
func writer(ctx context.Context) (*viewer.Viewer, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	if !v.CanWrite() {
		return nil, apperr.New(apperr.Forbidden, "read-only users cannot change dashboards")
	}
	return v, nil
}

// visibleTo is the caller's own dashboards and the organisation's shared
// ones; the tenant rule adds the organisation.
func visibleTo(v *viewer.Viewer) predicate.Board {
	return board.Or(board.VisibilityEQ(enum.VisibilityShared), board.AuthorID(v.UserID))
}

func find(ctx context.Context, c *ent.Client, v *viewer.Viewer, id uuid.UUID) (*ent.Board, error) {
	b, err := c.Board.Query().Where(board.ID(id), visibleTo(v)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("dashboard %s not found", id)
	}
	return b, err
}

// checkEdit lets the author change a dashboard, and an admin a shared one.
func checkEdit(v *viewer.Viewer, b *ent.Board) error {
	if b.AuthorID != nil && *b.AuthorID == v.UserID {
		return nil
	}
	if b.Visibility == enum.VisibilityShared && v.IsAdmin() {
		return nil
	}
	return apperr.New(apperr.Forbidden, "only the author or an admin may change a shared dashboard")
}

// Dashboards lists the caller's own and the shared dashboards, by name.
func (s *Service) Dashboards(ctx context.Context, page paging.Page) (*ent.DashboardConnection, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	order := &ent.DashboardOrder{Direction: paging.Asc, Field: ent.BoardOrderFieldName}
	return paging.Paginate(ctx, page, s.client.Board.Query().Where(visibleTo(v)).Paginate, ent.WithDashboardOrder(order))
}

// Dashboard returns one dashboard the caller may see.
func (s *Service) Dashboard(ctx context.Context, id uuid.UUID) (*ent.Board, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	return find(ctx, s.client, v, id)
}

// snapshot is a dashboard as the activity log records it.
type snapshot struct {
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Visibility  string              `json:"visibility"`
	Widgets     []schematype.Widget `json:"widgets"`
}

func snapshotOf(b *ent.Board) snapshot {
	return snapshot{Name: b.Name, Description: b.Description, Visibility: string(b.Visibility), Widgets: b.Widgets}
}

func validVisibility(p *enum.Visibility) (enum.Visibility, error) {
	if p == nil {
		return enum.VisibilityPrivate, nil
	}
	if !p.Valid() {
		return "", apperr.Invalid("visibility", "must be private or shared")
	}
	return *p, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Create saves a dashboard authored by the caller; every widget must be
// valid (see validateWidgets).
func (s *Service) Create(ctx context.Context, in CreateInput) (*ent.Board, error) {
	if _, err := writer(ctx); err != nil {
		return nil, err
	}
	var created *ent.Board
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		var err error
		created, err = s.create(ctx, tx.Client(), in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return created.Unwrap(), nil
}

// create validates and writes in with its activity, in tx.
func (s *Service) create(ctx context.Context, tx *ent.Client, in CreateInput) (*ent.Board, error) {
	v, err := writer(ctx)
	if err != nil {
		return nil, err
	}
	name, err := textfield.Required("name", in.Name, maxName)
	if err != nil {
		return nil, err
	}
	desc, err := textfield.Optional("description", deref(in.Description), maxDescription)
	if err != nil {
		return nil, err
	}
	vis, err := validVisibility(in.Visibility)
	if err != nil {
		return nil, err
	}
	widgets, err := s.validateWidgets(ctx, tx, in.Widgets, vis)
	if err != nil {
		return nil, err
	}
	created, err := tx.Board.Create().SetName(name).SetDescription(desc).SetVisibility(vis).
		SetAuthorID(v.UserID).SetWidgets(widgets).Save(ctx)
	if err != nil {
		return nil, err
	}
	return created, audit.Record(ctx, tx, audit.Entry{EntityType: Entity, EntityID: created.ID, Action: "create", After: snapshotOf(created)})
}

// Update changes a dashboard the caller may edit; the grid, when given,
// is validated whole, and so is the kept one when the visibility changes
// (a shared dashboard cannot show its author's private queries).
func (s *Service) Update(ctx context.Context, id uuid.UUID, in UpdateInput) (*ent.Board, error) {
	v, err := writer(ctx)
	if err != nil {
		return nil, err
	}
	var updated *ent.Board
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		b, err := find(ctx, tx.Client(), v, id)
		if err != nil {
			return err
		}
		if err := checkEdit(v, b); err != nil {
			return err
		}
		upd := tx.Board.UpdateOne(b)
		var changes []audit.Entry
		changed := func(field string, before, after any) {
			changes = append(changes, audit.Entry{EntityType: Entity, EntityID: b.ID, Action: "update", Field: field, Before: before, After: after})
		}
		if in.Name != nil {
			name, err := textfield.Required("name", *in.Name, maxName)
			if err != nil {
				return err
			}
			if name != b.Name {
				upd.SetName(name)
				changed("name", b.Name, name)
			}
		}
		if in.Description != nil {
			desc, err := textfield.Optional("description", *in.Description, maxDescription)
			if err != nil {
				return err
			}
			if desc != b.Description {
				upd.SetDescription(desc)
				changed("description", b.Description, desc)
			}
		}
		vis := b.Visibility
		if in.Visibility != nil {
			if vis, err = validVisibility(in.Visibility); err != nil {
				return err
			}
			if vis != b.Visibility {
				upd.SetVisibility(vis)
				changed("visibility", string(b.Visibility), string(vis))
			}
		}
		if in.Widgets != nil || vis != b.Visibility {
			widgets := in.Widgets
			if widgets == nil {
				widgets = pointers(b.Widgets)
			}
			checked, err := s.validateWidgets(ctx, tx.Client(), widgets, vis)
			if err != nil {
				return err
			}
			if in.Widgets != nil {
				upd.SetWidgets(checked)
				changed("widgets", b.Widgets, checked)
			}
		}
		if len(changes) == 0 {
			updated = b
			return nil
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

func pointers(ws []schematype.Widget) []*schematype.Widget {
	out := make([]*schematype.Widget, len(ws))
	for i := range ws {
		out[i] = &ws[i]
	}
	return out
}

// Delete deletes a dashboard the caller may edit (its saved queries stay).
func (s *Service) Delete(ctx context.Context, id uuid.UUID) error {
	v, err := writer(ctx)
	if err != nil {
		return err
	}
	return storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		b, err := find(ctx, tx.Client(), v, id)
		if err != nil {
			return err
		}
		if err := checkEdit(v, b); err != nil {
			return err
		}
		if err := tx.Board.DeleteOne(b).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{EntityType: Entity, EntityID: b.ID, Action: "delete", Before: snapshotOf(b)})
	})
}
