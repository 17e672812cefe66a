package alerts

import (
	"context"

	"github.com/seliq/seliq/ent/schematype"
)

// FacetsOnePass and FacetsPerField expose both facet paths to the
// comparison test.
func (s *Service) FacetsOnePass(ctx context.Context, f *schematype.AlertFilter) (*AlertFacets, error) {
	return s.facetsOnePass(ctx, f)
}

func (s *Service) FacetsPerField(ctx context.Context, f *schematype.AlertFilter) (*AlertFacets, error) {
	return s.facetsPerField(ctx, f)
}
