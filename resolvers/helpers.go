package resolvers

import (
	"context"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/apitoken"
	"github.com/seliq/seliq/ent/chatmessage"
	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/ent/contact"
	"github.com/seliq/seliq/ent/group"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/ent/report"
	"github.com/seliq/seliq/ent/timelineevent"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/graph/model"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
)

// nodeType finds which table holds id. UUIDs carry no type, so each
// GraphQL-visible table is asked in turn; the privacy rules apply, so an
// object outside the caller's scope is simply not found.
func nodeType(c *ent.Client) func(context.Context, uuid.UUID) (string, error) {
	return func(ctx context.Context, id uuid.UUID) (string, error) {
		probes := []struct {
			table string
			exist func() (bool, error)
		}{
			{user.Table, func() (bool, error) { return c.User.Query().Where(user.ID(id)).Exist(ctx) }},
			{organization.Table, func() (bool, error) { return c.Organization.Query().Where(organization.ID(id)).Exist(ctx) }},
			{group.Table, func() (bool, error) { return c.Group.Query().Where(group.ID(id)).Exist(ctx) }},
			{contact.Table, func() (bool, error) { return c.Contact.Query().Where(contact.ID(id)).Exist(ctx) }},
			{alert.Table, func() (bool, error) { return c.Alert.Query().Where(alert.ID(id)).Exist(ctx) }},
			{connector.Table, func() (bool, error) { return c.Connector.Query().Where(connector.ID(id)).Exist(ctx) }},
			{incident.Table, func() (bool, error) { return c.Incident.Query().Where(incident.ID(id)).Exist(ctx) }},
			{timelineevent.Table, func() (bool, error) { return c.TimelineEvent.Query().Where(timelineevent.ID(id)).Exist(ctx) }},
			{report.Table, func() (bool, error) { return c.Report.Query().Where(report.ID(id)).Exist(ctx) }},
			{chatmessage.Table, func() (bool, error) { return c.ChatMessage.Query().Where(chatmessage.ID(id)).Exist(ctx) }},
			{apitoken.Table, func() (bool, error) {
				// Tokens are personal: only their owner resolves them.
				v := viewer.FromContext(ctx)
				if v == nil {
					return false, nil
				}
				return c.APIToken.Query().Where(apitoken.ID(id), apitoken.UserID(v.UserID)).Exist(viewer.Home(ctx))
			}},
		}
		for _, p := range probes {
			ok, err := p.exist()
			if err != nil {
				return "", err
			}
			if ok {
				return p.table, nil
			}
		}
		return "", apperr.NotFoundf("node %s not found", id)
	}
}

// deleted is the payload of a successful delete.
func deleted(id uuid.UUID, err error) (*model.DeletePayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.DeletePayload{DeletedID: id}, nil
}

// allowBulk applies the per-user rate limit of bulk alert actions.
func (r *Resolver) allowBulk(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	if v == nil {
		return apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if ok, retry := r.BulkLimit.Allow(v.UserID.String()); !ok {
		return &apperr.Error{Code: apperr.RateLimited, Message: "too many bulk actions; retry later", RetryAfter: retry}
	}
	return nil
}
