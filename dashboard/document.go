package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/ent/storedquery"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/storage"
)

// DocumentVersion is the version of the export document this server
// writes and the only one it imports.
const DocumentVersion = 1

// maxDocument bounds an import document's size.
const maxDocument = 1 << 20

// Document is a dashboard as exported: portable between organisations and
// servers, with the saved queries its widgets use embedded, each widget's
// saved_query_id naming one of them by the id it had where exported.
type Document struct {
	Version      int                  `json:"version"`
	Name         string               `json:"name"`
	Description  string               `json:"description"`
	Visibility   enum.Visibility      `json:"visibility"`
	Widgets      []*schematype.Widget `json:"widgets"`
	SavedQueries []*DocumentQuery     `json:"saved_queries"`
}

// DocumentQuery is a saved query embedded in a document.
type DocumentQuery struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Source      string    `json:"source"`
	Query       string    `json:"query"`
	Sort        string    `json:"sort"`
	GroupBy     []string  `json:"group_by"`
	Interval    string    `json:"interval"`
}

// Export returns a dashboard the caller may see as a document.
func (s *Service) Export(ctx context.Context, id uuid.UUID) (json.RawMessage, error) {
	b, err := s.Dashboard(ctx, id)
	if err != nil {
		return nil, err
	}
	doc := Document{Version: DocumentVersion, Name: b.Name, Description: b.Description, Visibility: b.Visibility,
		Widgets: pointers(b.Widgets), SavedQueries: []*DocumentQuery{}}
	var ids []uuid.UUID
	for _, w := range b.Widgets {
		if w.SavedQueryID != nil {
			ids = append(ids, *w.SavedQueryID)
		}
	}
	if len(ids) > 0 {
		// Read as the caller: a query it may not see is not exported, and
		// the document's widget then fails its import with a clear 422.
		v, _ := viewer.User(ctx)
		sqs, err := s.client.StoredQuery.Query().Where(storedquery.IDIn(ids...),
			storedquery.Or(storedquery.VisibilityEQ(enum.VisibilityShared), storedquery.AuthorID(v.UserID))).
			Order(ent.Asc(storedquery.FieldName)).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, sq := range sqs {
			doc.SavedQueries = append(doc.SavedQueries, &DocumentQuery{ID: sq.ID, Name: sq.Name, Description: sq.Description,
				Source: sq.Source, Query: sq.Query, Sort: sq.Sort, GroupBy: sq.GroupBy, Interval: sq.Interval})
		}
	}
	return json.Marshal(doc)
}

// ParseDocument reads an import document strictly: unknown keys, a second
// value and an unknown version are refused, in 422s naming the place.
func ParseDocument(raw []byte) (*Document, error) {
	if len(raw) > maxDocument {
		return nil, apperr.Invalid("document", "is over %d bytes", maxDocument)
	}
	// The version first, alone: a document of another version may have
	// any shape, and should be refused for its version, not its keys.
	var head struct {
		Version *json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, apperr.Invalid("document", "must be a JSON object: %s", jsonProblem(err))
	}
	if head.Version == nil {
		return nil, apperr.Invalid("version", "is required (this server imports version %d)", DocumentVersion)
	}
	if v := strings.TrimSpace(string(*head.Version)); v != fmt.Sprint(DocumentVersion) {
		return nil, apperr.Invalid("version", "unknown document version %s; this server imports version %d", textfield.Truncate(v, 20), DocumentVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var doc Document
	if err := dec.Decode(&doc); err != nil {
		return nil, apperr.Invalid("document", "%s", jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, apperr.Invalid("document", "must hold one JSON object")
	}
	if len(doc.SavedQueries) > MaxWidgets {
		return nil, apperr.Invalid("saved_queries", "at most %d", MaxWidgets)
	}
	seen := map[uuid.UUID]bool{}
	for i, q := range doc.SavedQueries {
		if q == nil {
			return nil, apperr.Invalid(fmt.Sprintf("saved_queries[%d]", i), "must be an object")
		}
		if seen[q.ID] {
			return nil, apperr.Invalid(fmt.Sprintf("saved_queries[%d].id", i), "appears twice")
		}
		seen[q.ID] = true
	}
	for i, w := range doc.Widgets {
		if w != nil && w.SavedQueryID != nil && !seen[*w.SavedQueryID] {
			return nil, apperr.Invalid(fmt.Sprintf("widgets[%d].saved_query_id", i), "names no saved query of the document")
		}
	}
	return &doc, nil
}

// jsonProblem says where a document's JSON went wrong, without echoing it.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s must be a %s", typ.Field, typ.Type)
	}
	return textfield.Truncate(err.Error(), 200)
}

// Import recreates a document's dashboard in the acting organisation,
// authored by the caller: its saved queries are created anew and the
// widgets point at the new ones. Everything is written in one transaction,
// so an import is whole or absent; importing twice makes two dashboards.
func (s *Service) Import(ctx context.Context, raw json.RawMessage) (*ent.Board, error) {
	if _, err := writer(ctx); err != nil {
		return nil, err
	}
	doc, err := ParseDocument(raw)
	if err != nil {
		return nil, err
	}
	vis := doc.Visibility
	if vis == "" {
		vis = enum.VisibilityPrivate
	}
	if !vis.Valid() {
		return nil, apperr.Invalid("visibility", "must be private or shared")
	}
	var created *ent.Board
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		remap := make(map[uuid.UUID]uuid.UUID, len(doc.SavedQueries))
		for i, q := range doc.SavedQueries {
			desc, sort, interval := q.Description, q.Sort, q.Interval
			sq, err := s.query.CreateSavedQueryIn(ctx, tx.Client(), query.CreateSavedQueryInput{Name: q.Name, Description: &desc,
				Source: q.Source, Query: q.Query, Sort: &sort, GroupBy: q.GroupBy, Interval: &interval, Visibility: &vis})
			if err != nil {
				return renamedField(err, fmt.Sprintf("saved_queries[%d]", i))
			}
			remap[q.ID] = sq.ID
		}
		widgets := make([]*schematype.Widget, len(doc.Widgets))
		for i, w := range doc.Widgets {
			if w == nil {
				continue
			}
			cw := *w
			if cw.SavedQueryID != nil {
				id := remap[*cw.SavedQueryID]
				cw.SavedQueryID = &id
			}
			widgets[i] = &cw
		}
		var err error
		created, err = s.create(ctx, tx.Client(), CreateInput{Name: doc.Name, Description: &doc.Description, Visibility: &vis, Widgets: widgets})
		return err
	})
	if err != nil {
		return nil, err
	}
	return created.Unwrap(), nil
}

// renamedField puts a saved query's 422 under its place in the document.
func renamedField(err error, prefix string) error {
	if e, ok := apperr.As(err); ok && e.Field != "" {
		moved := *e
		moved.Field = prefix + "." + e.Field
		return &moved
	}
	return err
}
