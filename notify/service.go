package notify

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/notification"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/viewer"
)

// Service is the calling user's notification feed and preferences.
type Service struct{ client *ent.Client }

// NewService returns the feed over client.
func NewService(client *ent.Client) *Service { return &Service{client: client} }

// MarkAllReadPayload says how many notifications were marked.
type MarkAllReadPayload struct {
	Updated int `json:"updated"`
}

// mine confines a query to the caller's own notifications in the acting
// organisation. The organisation is explicit, beside the privacy rules,
// because the writes below run with the rules bypassed (see ownRow).
func mine(ctx context.Context) (predicate.Notification, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	return notification.And(notification.UserID(v.UserID), notification.OrganizationID(v.OrgID)), nil
}

// newestFirst orders a feed.
var newestFirst = &ent.NotificationOrder{Field: ent.NotificationOrderFieldCreatedAt, Direction: paging.Desc}

// List pages through the caller's notifications, newest first; unread
// keeps only those not yet read.
func (s *Service) List(ctx context.Context, unread *bool, page paging.Page) (*ent.NotificationConnection, error) {
	own, err := mine(ctx)
	if err != nil {
		return nil, err
	}
	ps := []predicate.Notification{own}
	if unread != nil && *unread {
		ps = append(ps, notification.ReadAtIsNil())
	}
	return s.feed(ctx, ps, page)
}

// History pages through the caller's read notifications, newest first,
// created in [since, until).
func (s *Service) History(ctx context.Context, since, until *time.Time, page paging.Page) (*ent.NotificationConnection, error) {
	own, err := mine(ctx)
	if err != nil {
		return nil, err
	}
	ps := []predicate.Notification{own, notification.ReadAtNotNil()}
	if since != nil {
		ps = append(ps, notification.CreatedAtGTE(since.UTC()))
	}
	if until != nil {
		if since != nil && !since.Before(*until) {
			return nil, apperr.Invalid("until", "must be after since")
		}
		ps = append(ps, notification.CreatedAtLT(until.UTC()))
	}
	return s.feed(ctx, ps, page)
}

// feed pages through the caller's notifications that match ps.
func (s *Service) feed(ctx context.Context, ps []predicate.Notification, page paging.Page) (*ent.NotificationConnection, error) {
	page, err := page.ByTime()
	if err != nil {
		return nil, err
	}
	return paging.Paginate(ctx, page, s.client.Notification.Query().Where(ps...).Paginate, ent.WithNotificationOrder(newestFirst))
}

// MarkRead marks one of the caller's notifications read (again is a no-op).
// Another user's notification is not found.
func (s *Service) MarkRead(ctx context.Context, id uuid.UUID) (*ent.Notification, error) {
	own, err := mine(ctx)
	if err != nil {
		return nil, err
	}
	n, err := s.client.Notification.Query().Where(notification.ID(id), own).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("notification %s not found", id)
	}
	if err != nil || n.ReadAt != nil {
		return n, err
	}
	return s.client.Notification.UpdateOne(n).SetReadAt(time.Now().UTC()).Save(ownRow(ctx))
}

// MarkAllRead marks every unread notification of the caller read.
func (s *Service) MarkAllRead(ctx context.Context) (*MarkAllReadPayload, error) {
	own, err := mine(ctx)
	if err != nil {
		return nil, err
	}
	n, err := s.client.Notification.Update().Where(own, notification.ReadAtIsNil()).
		SetReadAt(time.Now().UTC()).Save(ownRow(ctx))
	if err != nil {
		return nil, err
	}
	return &MarkAllReadPayload{Updated: n}, nil
}

// ownRow lets a user change what is only theirs (their notifications' read
// state, their preferences) whatever their role, read-only included. It
// bypasses every privacy rule, so callers confine the write themselves:
// to one row they read under the rules, or with mine's predicate.
func ownRow(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}
