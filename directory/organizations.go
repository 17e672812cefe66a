package directory

import (
	"context"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/viewer"
)

// CreateOrganizationInput creates a client organisation.
type CreateOrganizationInput struct {
	Name         string
	Slug         string
	ParentID     *uuid.UUID
	Timezone     *string
	ContactEmail *string
	Region       *string
	Plan         *string
	UserQuota    *int
	// MfaEnabled is read-only: it mirrors MfaEnforced (see checkMfaEnabled).
	MfaEnabled  *bool
	MfaEnforced *bool
}

// UpdateOrganizationInput changes an organisation.
type UpdateOrganizationInput struct {
	Name         *string
	Slug         *string
	Timezone     *string
	ContactEmail *string
	Region       *string
	Plan         *string
	UserQuota    *int
	// MfaEnabled is read-only: it mirrors MfaEnforced (see checkMfaEnabled).
	MfaEnabled  *bool
	MfaEnforced *bool
}

// checkMfaEnabled refuses a value of the read-only mfa_enabled other than
// the one it will have. It is true exactly when the organisation requires
// MFA (mfa_enforced, the security settings' mfa_required): every user may
// enrol their own MFA anyway, so "may use MFA" could not be a setting.
// Sending the value it has is accepted, so a read-modify-write round trip
// of the organisation works.
func checkMfaEnabled(given *bool, enforced bool) error {
	if given != nil && *given != enforced {
		return apperr.Invalid("mfa_enabled", "is read-only: it is true exactly when the organisation requires multi-factor authentication; set mfa_enforced instead")
	}
	return nil
}

type orgCommon struct {
	timezone, contactEmail *string
	userQuota              *int
}

func (c orgCommon) validate() error {
	if c.timezone != nil {
		if err := validateTimezone("timezone", *c.timezone); err != nil {
			return err
		}
	}
	if c.contactEmail != nil && *c.contactEmail != "" {
		if _, err := validateEmail("contact_email", *c.contactEmail); err != nil {
			return err
		}
	}
	if c.userQuota != nil && *c.userQuota < 0 {
		return apperr.Invalid("user_quota", "must be zero (unlimited) or more")
	}
	return nil
}

// Organization returns an organisation within scope.
func (d *Directory) Organization(ctx context.Context, id uuid.UUID) (*ent.Organization, error) {
	o, err := d.client.Organization.Get(ctx, id)
	return o, notFound(err, "organization", id)
}

// Organizations pages through the organisations within the caller's scope.
func (d *Directory) Organizations(ctx context.Context, page paging.Page, orderBy *ent.OrganizationOrder) (*ent.OrganizationConnection, error) {
	return paging.Paginate(ctx, page, d.client.Organization.Query().Paginate, ent.WithOrganizationOrder(orderBy))
}

// OrganizationBySlug returns an organisation within scope by slug.
func (d *Directory) OrganizationBySlug(ctx context.Context, slug string) (*ent.Organization, error) {
	o, err := d.client.Organization.Query().Where(organization.Slug(slug)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("organization %q not found", slug)
	}
	return o, err
}

// CreateOrganization adds a client organisation below the acting one (or
// below ParentID, which must be within scope). Only provider admins may.
func (d *Directory) CreateOrganization(ctx context.Context, in CreateOrganizationInput) (*ent.Organization, error) {
	v := viewer.FromContext(ctx)
	if v == nil || !v.IsProviderAdmin() {
		return nil, apperr.New(apperr.Forbidden, "only provider admins create organisations")
	}
	name, err := required("name", in.Name, 200)
	if err != nil {
		return nil, err
	}
	if err := validateSlug(in.Slug); err != nil {
		return nil, err
	}
	if err := (orgCommon{in.Timezone, in.ContactEmail, in.UserQuota}).validate(); err != nil {
		return nil, err
	}
	enforced := in.MfaEnforced != nil && *in.MfaEnforced
	if err := checkMfaEnabled(in.MfaEnabled, enforced); err != nil {
		return nil, err
	}
	parent := v.OrgID
	if in.ParentID != nil {
		if !v.CanSee(*in.ParentID) {
			return nil, apperr.Invalid("parent_id", "organisation %s is not within your scope", *in.ParentID)
		}
		parent = *in.ParentID
	}
	o, err := d.client.Organization.Create().
		SetName(name).SetSlug(in.Slug).SetParentID(parent).
		SetNillableTimezone(in.Timezone).SetNillableContactEmail(in.ContactEmail).
		SetNillableRegion(in.Region).SetNillablePlan(in.Plan).SetNillableUserQuota(in.UserQuota).
		SetMfaEnforced(enforced).SetMfaEnabled(enforced).
		Save(ctx)
	return o, conflict(err, "slug", "an organisation with this slug already exists")
}

// UpdateOrganization changes an organisation within scope. Slug, plan and
// seat quota belong to the provider: only provider admins change them.
func (d *Directory) UpdateOrganization(ctx context.Context, id uuid.UUID, in UpdateOrganizationInput) (*ent.Organization, error) {
	v := viewer.FromContext(ctx)
	if !v.IsProviderAdmin() {
		switch {
		case in.Slug != nil:
			return nil, apperr.New(apperr.Forbidden, "only provider admins change an organisation's slug")
		case in.Plan != nil, in.UserQuota != nil:
			return nil, apperr.New(apperr.Forbidden, "only provider admins change plan and user quota")
		}
	}
	name, err := optional("name", in.Name, 200)
	if err != nil {
		return nil, err
	}
	if in.Slug != nil {
		if err := validateSlug(*in.Slug); err != nil {
			return nil, err
		}
	}
	if err := (orgCommon{in.Timezone, in.ContactEmail, in.UserQuota}).validate(); err != nil {
		return nil, err
	}
	if in.MfaEnabled != nil {
		enforced := in.MfaEnforced
		if enforced == nil {
			cur, err := d.client.Organization.Get(ctx, id)
			if err != nil {
				return nil, notFound(err, "organization", id)
			}
			enforced = &cur.MfaEnforced
		}
		if err := checkMfaEnabled(in.MfaEnabled, *enforced); err != nil {
			return nil, err
		}
	}
	o, err := d.client.Organization.UpdateOneID(id).
		SetNillableName(name).SetNillableSlug(in.Slug).SetNillableTimezone(in.Timezone).
		SetNillableContactEmail(in.ContactEmail).SetNillableRegion(in.Region).SetNillablePlan(in.Plan).
		SetNillableUserQuota(in.UserQuota).SetNillableMfaEnforced(in.MfaEnforced).SetNillableMfaEnabled(in.MfaEnforced).
		Save(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("organization %s not found", id)
	}
	return o, conflict(err, "slug", "an organisation with this slug already exists")
}
