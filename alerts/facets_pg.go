package alerts

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"golang.org/x/sync/errgroup"

	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/schematype"
)

// On PostgreSQL the five single-column facets are one scan instead of
// five: the WHERE clause keeps only the filter's conditions that no facet
// ignores, GROUPING SETS groups the rows by each column in turn, and each
// facet's count is an aggregate with a FILTER clause holding the rest of the
// filter minus that facet's own field — exactly the WHERE clause of its
// former query, so the counts are the same (a group whose FILTER matched no
// row has count 0 and is dropped, as the former query would not have
// produced it). Tags expand an array per row, so they keep their own
// query, run beside the scan.

// scanFacets are the facets answered by the grouped scan, in GROUPING SETS
// order (tags are the last facet and excluded).
var scanFacets = facets[:len(facets)-1]

// scanRow is one row of the grouped scan: for the grouping set of facet i,
// G[i] is 0 and V[i], C[i] are its value and count.
type scanRow struct {
	G0, G1, G2, G3, G4 int
	V0, V1, V2, V3, V4 *string
	C0, C1, C2, C3, C4 int
}

func (r *scanRow) facet(i int) (grouped bool, value *string, count int) {
	g := [...]int{r.G0, r.G1, r.G2, r.G3, r.G4}
	v := [...]*string{r.V0, r.V1, r.V2, r.V3, r.V4}
	c := [...]int{r.C0, r.C1, r.C2, r.C3, r.C4}
	return g[i] == 0, v[i], c[i]
}

// facetsOnePass computes the facets with the grouped scan and the tag query.
func (s *Service) facetsOnePass(ctx context.Context, f *schematype.AlertFilter) (*AlertFacets, error) {
	var common schematype.AlertFilter
	if f != nil {
		common = *f
	}
	for _, fc := range scanFacets {
		fc.without(&common)
	}
	// Each facet's FILTER condition: the filter without the facet's own
	// field, as a predicate rendered on a throwaway selector over alerts
	// (the predicates only add WHERE conditions qualified by the table).
	conds := make([]*sql.Predicate, len(scanFacets))
	for i, fc := range scanFacets {
		var others schematype.AlertFilter
		if f != nil {
			others = *f
		}
		fc.without(&others)
		scratch := sql.Dialect(dialect.Postgres).Select().From(sql.Table(alert.Table))
		for _, p := range Predicates(&others) {
			p(scratch)
		}
		conds[i] = scratch.P()
	}
	out := &AlertFacets{}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		values, err := s.countFacet(gctx, f, facets[len(facets)-1])
		out.Tags = values
		return err
	})
	g.Go(func() error {
		var rows []scanRow
		err := s.client.Alert.Query().Where(Predicates(&common)...).
			Modify(func(sel *sql.Selector) { groupingSets(sel, conds) }).
			Scan(gctx, &rows)
		if err != nil {
			return err
		}
		for i, fc := range scanFacets {
			*fc.out(out) = facetValues(rows, i, fc.limit)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// groupingSets turns sel into the grouped scan.
func groupingSets(sel *sql.Selector, conds []*sql.Predicate) {
	cols := make([]string, len(scanFacets))
	sets := make([]string, len(scanFacets))
	for i, fc := range scanFacets {
		cols[i] = fc.group(sel)
		sets[i] = "(" + cols[i] + ")"
	}
	exprs := make([]sql.Querier, 0, 3*len(cols))
	for i, col := range cols {
		exprs = append(exprs,
			sql.Expr(fmt.Sprintf("GROUPING(%s) AS g%d", col, i)),
			sql.Expr(fmt.Sprintf("CAST(%s AS TEXT) AS v%d", col, i)))
		cond := conds[i]
		exprs = append(exprs, sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("COUNT(*)")
			if cond != nil {
				b.WriteString(" FILTER (WHERE ").Join(cond).WriteString(")")
			}
			b.WriteString(fmt.Sprintf(" AS c%d", i))
		}))
	}
	sel.SelectExpr(exprs...).GroupBy("GROUPING SETS (" + strings.Join(sets, ", ") + ")")
}

// facetValues picks facet i's groups out of rows, in the order countFacet's
// SQL gives: count descending, then value in byte order, a missing value
// last among its ties; at most limit values when limit > 0.
func facetValues(rows []scanRow, i, limit int) []*FacetValue {
	values := []*FacetValue{}
	for r := range rows {
		grouped, v, c := rows[r].facet(i)
		if grouped && c > 0 {
			values = append(values, &FacetValue{Value: v, Count: c})
		}
	}
	slices.SortFunc(values, func(a, b *FacetValue) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		switch {
		case a.Value == nil && b.Value == nil:
			return 0
		case a.Value == nil:
			return 1
		case b.Value == nil:
			return -1
		}
		return strings.Compare(*a.Value, *b.Value)
	})
	if limit > 0 && len(values) > limit {
		values = values[:limit]
	}
	return values
}
