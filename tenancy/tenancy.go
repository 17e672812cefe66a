// Package tenancy works out which organisations a request may reach: the
// acting organisation (home, or picked with X-Seliq-Org) and its subtree.
package tenancy

import (
	"context"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
)

// HeaderOrg is the request header that picks the acting organisation.
const HeaderOrg = "X-Seliq-Org"

// system lets tenancy read the organisation tree before a scope exists.
func system(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}

// Subtree returns id followed by every organisation below it. The tree is
// walked level by level: MSSP trees are shallow, and this stays portable
// across SQLite and PostgreSQL.
func Subtree(ctx context.Context, client *ent.Client, id uuid.UUID) ([]uuid.UUID, error) {
	ctx = system(ctx)
	all := []uuid.UUID{id}
	seen := map[uuid.UUID]bool{id: true}
	frontier := []uuid.UUID{id}
	for len(frontier) > 0 {
		children, err := client.Organization.Query().Where(organization.ParentIDIn(frontier...)).IDs(ctx)
		if err != nil {
			return nil, err
		}
		frontier = frontier[:0]
		for _, c := range children {
			if !seen[c] { // a cycle cannot be created through the API; guard anyway
				seen[c] = true
				all = append(all, c)
				frontier = append(frontier, c)
			}
		}
	}
	return all, nil
}

// lookup finds an organisation by id or slug, ignoring scope.
func lookup(ctx context.Context, client *ent.Client, ref string) (*ent.Organization, error) {
	q := client.Organization.Query()
	if id, err := uuid.Parse(ref); err == nil {
		q = q.Where(organization.ID(id))
	} else {
		q = q.Where(organization.Slug(ref))
	}
	return q.Only(system(ctx))
}

// Apply sets v's acting organisation from the X-Seliq-Org value target (empty:
// the home organisation). Naming an organisation outside the home subtree,
// or one that does not exist, is refused with 403 either way.
func Apply(ctx context.Context, client *ent.Client, v *viewer.Viewer, target string) error {
	home, err := Subtree(ctx, client, v.HomeOrgID)
	if err != nil {
		return err
	}
	if target == "" {
		v.OrgID, v.VisibleOrgIDs = v.HomeOrgID, home
		return nil
	}
	org, err := lookup(ctx, client, target)
	if ent.IsNotFound(err) {
		return apperr.New(apperr.Forbidden, "organisation %q is not within your scope", target)
	}
	if err != nil {
		return err
	}
	v.VisibleOrgIDs, v.Picked = home, true
	if !v.CanSee(org.ID) {
		return apperr.New(apperr.Forbidden, "organisation %q is not within your scope", target)
	}
	return actIn(ctx, client, v, org.ID)
}

func actIn(ctx context.Context, client *ent.Client, v *viewer.Viewer, orgID uuid.UUID) error {
	sub, err := Subtree(ctx, client, orgID)
	if err != nil {
		return err
	}
	v.OrgID, v.VisibleOrgIDs = orgID, sub
	return nil
}

// ActIn returns a context whose viewer acts in orgID, which must be within
// the current scope (e.g. a provider admin managing a client's contacts).
// Out-of-scope organisations are reported as not found.
func ActIn(ctx context.Context, client *ent.Client, orgID uuid.UUID) (context.Context, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if !v.CanSee(orgID) {
		return nil, apperr.NotFoundf("organization %s not found", orgID)
	}
	if orgID == v.OrgID {
		return ctx, nil
	}
	scoped := *v
	if err := actIn(ctx, client, &scoped, orgID); err != nil {
		return nil, err
	}
	return viewer.NewContext(ctx, &scoped), nil
}

// Root returns the top-level organisation of id's tree: the provider
// organisation for a client, id itself for a top-level organisation.
func Root(ctx context.Context, client *ent.Client, id uuid.UUID) (*ent.Organization, error) {
	ctx = system(ctx)
	seen := map[uuid.UUID]bool{}
	for {
		org, err := client.Organization.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if org.ParentID == nil || seen[*org.ParentID] {
			return org, nil
		}
		seen[org.ID] = true
		id = *org.ParentID
	}
}
