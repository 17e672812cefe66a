// Package rule holds the privacy rules that enforce authentication and
// tenancy in the data layer.
//
// Code that must act before any viewer or organisation exists opts out
// explicitly with privacy.DecisionContext(ctx, privacy.Allow). These are
// the only places, each confined by its own predicate:
//
//   - auth.System: credential checks (sessions, API tokens, connector keys,
//     inbound email tokens, login), the e-mail uniqueness check of user
//     creation, and bootstrap (directory.EnsureBootstrap);
//   - tenancy: reading the organisation tree to work out a request's scope;
//   - notify's ownRow: a user's writes to rows they read as theirs;
//   - jobs.ForEachOrganization: the ids of organisations, to re-queue work
//     at start.
//
// Background jobs never bypass: they act as viewer.ForJob(ctx, orgID), the
// system principal of one organisation, which these rules confine to it.
package rule

import (
	"context"
	"errors"

	"entgo.io/ent/entql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/viewer"
)

// Errors returned by the rules; the API layer maps them to 401 and 403.
var (
	ErrNoViewer = errors.New("authentication required")
	ErrReadOnly = errors.New("read-only users cannot change data")
	ErrTenant   = errors.New("organisation outside the caller's scope")
)

// DenyIfNoViewer fails closed when the context carries no viewer, or a job
// viewer that is not confined to exactly one organisation.
func DenyIfNoViewer() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		v := viewer.FromContext(ctx)
		if v == nil {
			return privacy.Denyf("%w", ErrNoViewer)
		}
		if v.Kind == viewer.KindJob && !jobConfined(v) {
			return privacy.Denyf("%w: a job acts in one organisation only", ErrTenant)
		}
		if v.Tree != nil && !treeConfined(v) {
			return privacy.Denyf("%w: a tree read reaches outside the caller's tree", ErrTenant)
		}
		return privacy.Skip
	})
}

// treeConfined reports whether a tree-reading viewer (viewer.ForTree) is
// what ForTree builds: a read-only user of a top-level organisation acting
// in it, reading organisations of its own subtree only.
func treeConfined(v *viewer.Viewer) bool {
	if v.Kind != viewer.KindUser || !v.TopLevel || v.Role != enum.RoleReadOnly || v.OrgID != v.HomeOrgID {
		return false
	}
	for _, id := range v.Tree {
		if !v.CanSee(id) {
			return false
		}
	}
	return true
}

// ReadableOrgs is the organisations whose alerts and incidents ctx's
// viewer reads, checked as the rules check every query (no viewer, a job
// reaching further than its organisation, a tree outside the caller's
// subtree: refused). Hand-written reads of the alert counters, which are
// outside ent's policies, take their organisations from here.
func ReadableOrgs(ctx context.Context) ([]uuid.UUID, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return nil, privacy.Denyf("%w", ErrNoViewer)
	case v.Kind == viewer.KindJob && !jobConfined(v):
		return nil, privacy.Denyf("%w: a job acts in one organisation only", ErrTenant)
	case v.Tree != nil && !treeConfined(v):
		return nil, privacy.Denyf("%w: a tree read reaches outside the caller's tree", ErrTenant)
	case v.Tree != nil:
		return append([]uuid.UUID(nil), v.Tree...), nil
	}
	return []uuid.UUID{v.OrgID}, nil
}

// DenyTreeWrites refuses every mutation by a tree-reading viewer: the
// roll-up across a provider's tree is read-only, whatever the role it was
// taken from.
func DenyTreeWrites() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
		if v := viewer.FromContext(ctx); v != nil && v.Tree != nil {
			return privacy.Denyf("%w: a tree-wide read cannot change data", ErrReadOnly)
		}
		return privacy.Skip
	})
}

// jobConfined reports whether a job viewer acts in, and sees, its one
// organisation only, as viewer.ForJob builds it: a job cannot be widened
// to a subtree or moved to another organisation.
func jobConfined(v *viewer.Viewer) bool {
	return v.OrgID != uuid.Nil && v.HomeOrgID == v.OrgID &&
		len(v.VisibleOrgIDs) == 1 && v.VisibleOrgIDs[0] == v.OrgID
}

// DenyIfReadOnly refuses every mutation by a read-only user, except to
// their own API tokens (a read-only integration needs a credential) and the
// activity record that the server writes of it.
func DenyIfReadOnly() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if m.Type() == ent.TypeAPIToken || m.Type() == ent.TypeActivity {
			return privacy.Skip
		}
		if v := viewer.FromContext(ctx); v != nil && v.Role == enum.RoleReadOnly {
			return privacy.Denyf("%w", ErrReadOnly)
		}
		return privacy.Skip
	})
}

type tenantFilter interface {
	WhereOrganizationID(entql.ValueP)
}

// FilterTenant adds "organization_id = acting organisation" to every query
// and update/delete of a tenant-owned entity.
func FilterTenant() privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		if v == nil {
			return privacy.Denyf("%w", ErrNoViewer)
		}
		tf, ok := f.(tenantFilter)
		if !ok {
			return privacy.Denyf("unexpected filter type %T", f)
		}
		if v.Tree != nil {
			return filterTree(v, f, tf)
		}
		tf.WhereOrganizationID(entql.ValueEQ(v.OrgID))
		return privacy.Skip
	})
}

// FilterVisibleOrganizations limits organisation rows to the acting
// organisation and its descendants (a provider sees its clients).
func FilterVisibleOrganizations() privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		if v == nil {
			return privacy.Denyf("%w", ErrNoViewer)
		}
		if len(v.VisibleOrgIDs) == 0 {
			return privacy.Denyf("%w", ErrTenant)
		}
		ids := make([]any, len(v.VisibleOrgIDs))
		for i, id := range v.VisibleOrgIDs {
			ids[i] = id
		}
		f.Where(entql.FieldIn(organization.FieldID, ids...))
		return privacy.Skip
	})
}

// filterTree is FilterTenant for a tree-reading viewer: alerts and
// incidents (what the roll-ups aggregate) are read across the tree; every
// other entity stays confined to the acting organisation, so the widening
// reaches no user, credential or setting of a client organisation.
func filterTree(v *viewer.Viewer, f privacy.Filter, tf tenantFilter) error {
	switch f.(type) {
	case *ent.AlertFilter, *ent.IncidentFilter:
		ids := make([]any, len(v.Tree))
		for i, id := range v.Tree {
			ids[i] = id
		}
		f.Where(entql.FieldIn("organization_id", ids...))
	default:
		tf.WhereOrganizationID(entql.ValueEQ(v.OrgID))
	}
	return privacy.Skip
}

type tenantMutation interface {
	OrganizationID() (uuid.UUID, bool)
	SetOrganizationID(uuid.UUID)
}

// SetTenantOnCreate stamps new rows with the acting organisation, and refuses
// a create that names any other organisation.
func SetTenantOnCreate() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if !m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		v := viewer.FromContext(ctx)
		tm, ok := m.(tenantMutation)
		if v == nil || !ok {
			return privacy.Denyf("%w", ErrNoViewer)
		}
		if id, set := tm.OrganizationID(); set && id != v.OrgID {
			return privacy.Denyf("%w", ErrTenant)
		}
		tm.SetOrganizationID(v.OrgID)
		return privacy.Skip
	})
}

// AdminCreatesOrganizations refuses organisation creation to non-admins
// (that the parent is within scope is checked by the domain layer).
func AdminCreatesOrganizations() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if m.Op().Is(ent.OpCreate) {
			if v := viewer.FromContext(ctx); v != nil && v.IsAdmin() {
				return privacy.Skip
			}
			return privacy.Denyf("only admins create organisations")
		}
		return privacy.Skip
	})
}
