package directory

import (
	"context"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/tenancy"
)

// CreateContactInput creates a contact.
type CreateContactInput struct {
	Name            string
	Email           *string
	Phone           *string
	Role            *string
	NotifyReports   *bool
	NotifyIncidents *bool
}

// UpdateContactInput changes a contact.
type UpdateContactInput struct {
	Name            *string
	Email           *string
	Phone           *string
	Role            *string
	NotifyReports   *bool
	NotifyIncidents *bool
}

func validateContact(email, phone, role *string) error {
	if email != nil && *email != "" {
		if _, err := validateEmail("email", *email); err != nil {
			return err
		}
	}
	if _, err := optional("phone", phone, 50); phone != nil && *phone != "" && err != nil {
		return err
	}
	if _, err := optional("role", role, 100); role != nil && *role != "" && err != nil {
		return err
	}
	return nil
}

// contactsContext returns ctx acting in orgID (which must be within scope),
// for listing and changing that organisation's contacts.
func (d *Directory) contactsContext(ctx context.Context, orgID uuid.UUID) (context.Context, error) {
	return tenancy.ActIn(ctx, d.client, orgID)
}

// Contacts pages through the contacts of organisation orgID.
func (d *Directory) Contacts(ctx context.Context, orgID uuid.UUID, page paging.Page, orderBy *ent.ContactOrder) (*ent.ContactConnection, error) {
	ctx, err := d.contactsContext(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return paging.Paginate(ctx, page, d.client.Contact.Query().Paginate, ent.WithContactOrder(orderBy))
}

// CreateContact adds a contact to organisation orgID.
func (d *Directory) CreateContact(ctx context.Context, orgID uuid.UUID, in CreateContactInput) (*ent.Contact, error) {
	ctx, err := d.contactsContext(ctx, orgID)
	if err != nil {
		return nil, err
	}
	name, err := required("name", in.Name, 200)
	if err != nil {
		return nil, err
	}
	if err := validateContact(in.Email, in.Phone, in.Role); err != nil {
		return nil, err
	}
	return d.client.Contact.Create().SetName(name).SetNillableEmail(in.Email).SetNillablePhone(in.Phone).
		SetNillableRole(in.Role).SetNillableNotifyReports(in.NotifyReports).SetNillableNotifyIncidents(in.NotifyIncidents).
		Save(ctx)
}

// UpdateContact changes a contact of organisation orgID.
func (d *Directory) UpdateContact(ctx context.Context, orgID, id uuid.UUID, in UpdateContactInput) (*ent.Contact, error) {
	ctx, err := d.contactsContext(ctx, orgID)
	if err != nil {
		return nil, err
	}
	name, err := optional("name", in.Name, 200)
	if err != nil {
		return nil, err
	}
	if err := validateContact(in.Email, in.Phone, in.Role); err != nil {
		return nil, err
	}
	c, err := d.client.Contact.UpdateOneID(id).SetNillableName(name).SetNillableEmail(in.Email).
		SetNillablePhone(in.Phone).SetNillableRole(in.Role).
		SetNillableNotifyReports(in.NotifyReports).SetNillableNotifyIncidents(in.NotifyIncidents).Save(ctx)
	return c, notFound(err, "contact", id)
}

// DeleteContact removes a contact of organisation orgID.
func (d *Directory) DeleteContact(ctx context.Context, orgID, id uuid.UUID) error {
	ctx, err := d.contactsContext(ctx, orgID)
	if err != nil {
		return err
	}
	return notFound(d.client.Contact.DeleteOneID(id).Exec(ctx), "contact", id)
}
