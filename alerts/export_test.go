package alerts

import (
	"context"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/internal/paging"
)

// FacetsOnePass and FacetsPerField expose both facet paths to the
// comparison test.
func (s *Service) FacetsOnePass(ctx context.Context, f *schematype.AlertFilter) (*AlertFacets, error) {
	return s.facetsOnePass(ctx, f)
}

func (s *Service) FacetsPerField(ctx context.Context, f *schematype.AlertFilter) (*AlertFacets, error) {
	return s.facetsPerField(ctx, f)
}

// FilteredTotal counts f's matches the way a GraphQL totalCount under a filter
// no index counts does when the page cannot tell.
func (s *Service) FilteredTotal(ctx context.Context, f *schematype.AlertFilter) (int, error) {
	return s.filteredTotal(ctx, &ent.AlertConnection{}, false, paging.Page{}, Predicates(f))
}

// FacetsFromCounters and FacetsExact expose the counter-backed and the
// exact facets, which Facets chooses between.
func (s *Service) FacetsFromCounters(ctx context.Context, f *schematype.AlertFilter) (*AlertFacets, error) {
	return s.facetsFromCounters(ctx, f)
}

func (s *Service) FacetsExact(ctx context.Context, f *schematype.AlertFilter) (*AlertFacets, error) {
	return s.facetsExact(ctx, f)
}

// DetachedPages is how many pages alertRows decoded.
func DetachedPages() int64 { return detachedPages.Load() }

// The JSON columns' decoders, for FuzzJSONColumns.
var (
	DecodeStrings   = decodeStrings
	DecodeStringMap = decodeStringMap
	DecodeEntities  = decodeEntities
)
