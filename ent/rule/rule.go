// Package rule holds the privacy rules that enforce authentication and
// tenancy in the data layer. Code that must act without a viewer (bootstrap,
// credential lookups) opts out explicitly with privacy.DecisionContext.
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
	"github.com/seliq/seliq/viewer"
)

// Errors returned by the rules; the API layer maps them to 401 and 403.
var (
	ErrNoViewer = errors.New("authentication required")
	ErrReadOnly = errors.New("read-only users cannot change data")
	ErrTenant   = errors.New("organisation outside the caller's scope")
)

// DenyIfNoViewer fails closed when the context carries no viewer.
func DenyIfNoViewer() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx) == nil {
			return privacy.Denyf("%w", ErrNoViewer)
		}
		return privacy.Skip
	})
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
