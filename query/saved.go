package query

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/storedquery"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// SavedQueryEntity names saved queries in the activity log.
const SavedQueryEntity = "saved_query"

// Limits of a saved query's texts.
const (
	maxName        = 200
	maxDescription = 4000
)

// CreateSavedQueryInput is a new saved query.
type CreateSavedQueryInput struct {
	Name        string
	Description *string
	Source      string
	Query       string
	Sort        *string
	GroupBy     []string
	Interval    *string
	Visibility  *enum.Visibility
}

// UpdateSavedQueryInput changes a saved query; nil fields keep their value.
type UpdateSavedQueryInput struct {
	Name        *string
	Description *string
	Source      *string
	Query       *string
	Sort        *string
	GroupBy     []string
	Interval    *string
	Visibility  *enum.Visibility
}

// RunSavedQueryInput overrides what a saved query runs with.
type RunSavedQueryInput struct {
	Fields       []string
	Limit        *int
	Cursor       *string
	Since, Until *time.Time
	Top          *int
}

// visibleTo is the caller's own queries and the organisation's shared ones;
// the tenant rule adds the organisation.
func visibleTo(v *viewer.Viewer) predicate.StoredQuery {
	return storedquery.Or(storedquery.VisibilityEQ(enum.VisibilityShared), storedquery.AuthorID(v.UserID))
}

func findSaved(ctx context.Context, c *ent.Client, v *viewer.Viewer, id uuid.UUID) (*ent.StoredQuery, error) {
	sq, err := c.StoredQuery.Query().Where(storedquery.ID(id), visibleTo(v)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("saved query %s not found", id)
	}
	return sq, err
}

// checkEdit lets the author change a query, and an admin a shared one.
func checkEdit(v *viewer.Viewer, sq *ent.StoredQuery) error {
	if sq.AuthorID != nil && *sq.AuthorID == v.UserID {
		return nil
	}
	if sq.Visibility == enum.VisibilityShared && v.IsAdmin() {
		return nil
	}
	return apperr.New(apperr.Forbidden, "only the author or an admin may change a shared query")
}

// SavedQueries lists the caller's own and the shared queries, by name.
func (s *Service) SavedQueries(ctx context.Context, page paging.Page) (*ent.SavedQueryConnection, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	order := &ent.SavedQueryOrder{Direction: paging.Asc, Field: ent.StoredQueryOrderFieldName}
	return paging.Paginate(ctx, page, s.client.StoredQuery.Query().Where(visibleTo(v)).Paginate, ent.WithSavedQueryOrder(order))
}

// SavedQuery returns one query the caller may see.
func (s *Service) SavedQuery(ctx context.Context, id uuid.UUID) (*ent.StoredQuery, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	return findSaved(ctx, s.client, v, id)
}

// savedSnapshot is a saved query as the activity log records it.
type savedSnapshot struct {
	Name       string   `json:"name"`
	Source     string   `json:"source"`
	Query      string   `json:"query"`
	Sort       string   `json:"sort"`
	GroupBy    []string `json:"group_by"`
	Interval   string   `json:"interval"`
	Visibility string   `json:"visibility"`
}

func snapshotOf(sq *ent.StoredQuery) savedSnapshot {
	return savedSnapshot{Name: sq.Name, Source: sq.Source, Query: sq.Query, Sort: sq.Sort, GroupBy: sq.GroupBy,
		Interval: sq.Interval, Visibility: string(sq.Visibility)}
}

// definition is what a saved query runs: validated together, since the
// query, sort and grouping are checked against the source.
type definition struct {
	source, query, sort, interval string
	groupBy                       []string
}

func (s *Service) validate(d definition) error {
	src, ok := Lookup(d.source)
	if !ok {
		return apperr.Invalid("source", "unknown source %q; the sources are %s", d.source, sourceNames())
	}
	if _, err := Compile(src, "query", d.query, s.now()); err != nil {
		return err
	}
	if d.sort != "" {
		if _, err := parseSort(src, d.sort); err != nil {
			return err
		}
	}
	if _, err := parseGroupBy(src, d.groupBy); err != nil {
		return err
	}
	if _, ok := intervals[d.interval]; d.interval != "" && !ok {
		return apperr.Invalid("interval", "must be one of %s", intervalNames())
	}
	return nil
}

func validateText(field, v string, maxLen int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		return "", apperr.Invalid(field, "must not be empty")
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		return "", apperr.Invalid(field, "must be valid UTF-8 without NUL characters")
	case utf8.RuneCountInString(v) > maxLen:
		return "", apperr.Invalid(field, "must be at most %d characters", maxLen)
	}
	return v, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// CreateSavedQuery saves a query authored by the caller; it must compile.
func (s *Service) CreateSavedQuery(ctx context.Context, in CreateSavedQueryInput) (*ent.StoredQuery, error) {
	var created *ent.StoredQuery
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		var err error
		created, err = s.CreateSavedQueryIn(ctx, tx.Client(), in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return created.Unwrap(), nil
}

// CreateSavedQueryIn is CreateSavedQuery inside the caller's transaction
// (tx's client), so that a dashboard import creates its queries and the
// dashboard together or not at all. The result is not yet unwrapped.
func (s *Service) CreateSavedQueryIn(ctx context.Context, tx *ent.Client, in CreateSavedQueryInput) (*ent.StoredQuery, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	name, err := validateText("name", in.Name, maxName, true)
	if err != nil {
		return nil, err
	}
	desc, err := validateText("description", deref(in.Description), maxDescription, false)
	if err != nil {
		return nil, err
	}
	d := definition{source: in.Source, query: in.Query, sort: deref(in.Sort), interval: deref(in.Interval), groupBy: in.GroupBy}
	if err := s.validate(d); err != nil {
		return nil, err
	}
	vis := enum.VisibilityPrivate
	if in.Visibility != nil {
		if !in.Visibility.Valid() {
			return nil, apperr.Invalid("visibility", "must be private or shared")
		}
		vis = *in.Visibility
	}
	c := tx.StoredQuery.Create().SetName(name).SetDescription(desc).SetSource(d.source).SetQuery(d.query).
		SetSort(d.sort).SetInterval(d.interval).SetVisibility(vis).SetAuthorID(v.UserID)
	if len(d.groupBy) > 0 {
		c.SetGroupBy(d.groupBy)
	}
	created, err := c.Save(ctx)
	if err != nil {
		return nil, err
	}
	err = audit.Record(ctx, tx, audit.Entry{
		EntityType: SavedQueryEntity, EntityID: created.ID, Action: "create", After: snapshotOf(created),
	})
	return created, err
}

// UpdateSavedQuery changes a query the caller may edit; the result must
// still compile.
func (s *Service) UpdateSavedQuery(ctx context.Context, id uuid.UUID, in UpdateSavedQueryInput) (*ent.StoredQuery, error) {
	v, err := viewer.User(ctx)
	if err != nil {
		return nil, err
	}
	var updated *ent.StoredQuery
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		sq, err := findSaved(ctx, tx.Client(), v, id)
		if err != nil {
			return err
		}
		if err := checkEdit(v, sq); err != nil {
			return err
		}
		upd := tx.StoredQuery.UpdateOne(sq)
		changes, err := s.patch(upd, sq, in)
		if err != nil || len(changes) == 0 {
			updated = sq
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

func (s *Service) patch(upd *ent.StoredQueryUpdateOne, sq *ent.StoredQuery, in UpdateSavedQueryInput) ([]audit.Entry, error) {
	var changes []audit.Entry
	changed := func(field string, before, after any) {
		changes = append(changes, audit.Entry{EntityType: SavedQueryEntity, EntityID: sq.ID, Action: "update", Field: field, Before: before, After: after})
	}
	if in.Name != nil {
		name, err := validateText("name", *in.Name, maxName, true)
		if err != nil {
			return nil, err
		}
		if name != sq.Name {
			upd.SetName(name)
			changed("name", sq.Name, name)
		}
	}
	if in.Description != nil {
		desc, err := validateText("description", *in.Description, maxDescription, false)
		if err != nil {
			return nil, err
		}
		if desc != sq.Description {
			upd.SetDescription(desc)
			changed("description", sq.Description, desc)
		}
	}
	d := definition{source: sq.Source, query: sq.Query, sort: sq.Sort, interval: sq.Interval, groupBy: sq.GroupBy}
	if in.Source != nil {
		d.source = *in.Source
	}
	if in.Query != nil {
		d.query = *in.Query
	}
	if in.Sort != nil {
		d.sort = *in.Sort
	}
	if in.Interval != nil {
		d.interval = *in.Interval
	}
	if in.GroupBy != nil {
		d.groupBy = in.GroupBy
	}
	if err := s.validate(d); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		field         string
		before, after string
		set           func(string) *ent.StoredQueryUpdateOne
	}{
		{"source", sq.Source, d.source, upd.SetSource},
		{"query", sq.Query, d.query, upd.SetQuery},
		{"sort", sq.Sort, d.sort, upd.SetSort},
		{"interval", sq.Interval, d.interval, upd.SetInterval},
	} {
		if c.before != c.after {
			c.set(c.after)
			changed(c.field, c.before, c.after)
		}
	}
	if in.GroupBy != nil && !slices.Equal(d.groupBy, sq.GroupBy) {
		if len(d.groupBy) == 0 {
			upd.ClearGroupBy()
		} else {
			upd.SetGroupBy(d.groupBy)
		}
		changed("group_by", sq.GroupBy, d.groupBy)
	}
	if in.Visibility != nil && *in.Visibility != sq.Visibility {
		if !in.Visibility.Valid() {
			return nil, apperr.Invalid("visibility", "must be private or shared")
		}
		upd.SetVisibility(*in.Visibility)
		changed("visibility", string(sq.Visibility), string(*in.Visibility))
	}
	return changes, nil
}

// DeleteSavedQuery deletes a query the caller may edit.
func (s *Service) DeleteSavedQuery(ctx context.Context, id uuid.UUID) error {
	v, err := viewer.User(ctx)
	if err != nil {
		return err
	}
	return storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		sq, err := findSaved(ctx, tx.Client(), v, id)
		if err != nil {
			return err
		}
		if err := checkEdit(v, sq); err != nil {
			return err
		}
		if err := tx.StoredQuery.DeleteOne(sq).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{
			EntityType: SavedQueryEntity, EntityID: sq.ID, Action: "delete", Before: snapshotOf(sq),
		})
	})
}

// RunSavedQuery runs a saved query the caller may see, with its sort,
// grouping and interval, and the page and range of in.
func (s *Service) RunSavedQuery(ctx context.Context, id uuid.UUID, in *RunSavedQueryInput) (*Result, error) {
	sq, err := s.SavedQuery(ctx, id)
	if err != nil {
		return nil, err
	}
	run := RunInput{Source: sq.Source, Query: sq.Query, Sort: sq.Sort, GroupBy: sq.GroupBy, Interval: sq.Interval}
	if in != nil {
		run.Fields, run.Limit, run.Cursor, run.Since, run.Until, run.Top = in.Fields, in.Limit, in.Cursor, in.Since, in.Until, in.Top
	}
	return s.Run(ctx, run)
}

// CheckDefinition validates a query's source, expression, sort, grouping
// and interval as a saved query's are, naming the fields as a saved query
// does (source, query, sort, group_by.N, interval): a dashboard's inline
// query widget is checked by the same rules.
func (s *Service) CheckDefinition(source, text, sort string, groupBy []string, interval string) error {
	return s.validate(definition{source: source, query: text, sort: sort, groupBy: groupBy, interval: interval})
}
