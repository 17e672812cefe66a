// Package nodes resolves the Relay Node interface: any GraphQL-visible
// object by id. The privacy rules apply, so an object outside the caller's
// scope is simply not found.
package nodes

import (
	"context"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/apitoken"
	"github.com/seliq/seliq/ent/board"
	"github.com/seliq/seliq/ent/chatmessage"
	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/ent/contact"
	"github.com/seliq/seliq/ent/group"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/ent/report"
	"github.com/seliq/seliq/ent/timelineevent"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
)

// Service looks nodes up.
type Service struct {
	client *ent.Client
}

// New returns the service over client.
func New(client *ent.Client) *Service {
	return &Service{client: client}
}

// Node returns the object with id.
func (s *Service) Node(ctx context.Context, id uuid.UUID) (ent.Noder, error) {
	return s.client.Noder(ctx, id, ent.WithNodeType(s.nodeType))
}

// Nodes returns the objects with ids, in order.
func (s *Service) Nodes(ctx context.Context, ids []uuid.UUID) ([]ent.Noder, error) {
	return s.client.Noders(ctx, ids, ent.WithNodeType(s.nodeType))
}

// nodeType finds which table holds id. UUIDs carry no type, so each
// GraphQL-visible table is asked in turn.
func (s *Service) nodeType(ctx context.Context, id uuid.UUID) (string, error) {
	c := s.client
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
		{board.Table, func() (bool, error) {
			// Dashboards: the organisation's shared ones and the caller's
			// own private ones, as package dashboard shows them.
			v := viewer.FromContext(ctx)
			if v == nil {
				return false, nil
			}
			return c.Board.Query().Where(board.ID(id), board.Or(board.VisibilityEQ(enum.VisibilityShared), board.AuthorID(v.UserID))).Exist(ctx)
		}},
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
