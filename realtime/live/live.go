// Package live serves the GraphQL subscriptions. Each subscription is a
// hub subscription confined to the subscriber's organisation (and, for
// notifications, to the subscriber); every event is turned back into the
// object it names by loading it as the subscriber, so the privacy rules of
// the data layer decide what is sent, and a filter is applied by the same
// predicates as the queue. An event whose object the subscriber may not
// see, or that its filter excludes, is skipped.
package live

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/notification"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/realtime/hub"
)

// EventKind is what happened to an object, UPPER_CASE in GraphQL.
type EventKind string

// The kinds.
const (
	Created EventKind = "CREATED"
	Updated EventKind = "UPDATED"
	Merged  EventKind = "MERGED"
	Deleted EventKind = "DELETED"
)

var kinds = map[string]EventKind{hub.KindCreated: Created, hub.KindUpdated: Updated, hub.KindMerged: Merged, hub.KindDeleted: Deleted}

// MarshalGQL writes the kind as a GraphQL enum value.
func (k EventKind) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(k))) }

// UnmarshalGQL reads a GraphQL enum value.
func (k *EventKind) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("event kind must be a string")
	}
	switch EventKind(s) {
	case Created, Updated, Merged, Deleted:
		*k = EventKind(s)
		return nil
	}
	return fmt.Errorf("%q is not an event kind", s)
}

// AlertEvent is a change to an alert.
type AlertEvent struct {
	Kind   EventKind  `json:"kind"`
	Alert  *ent.Alert `json:"alert"`
	Cursor string     `json:"cursor"`
}

// IncidentEvent is a change to an incident.
type IncidentEvent struct {
	Kind     EventKind     `json:"kind"`
	Incident *ent.Incident `json:"incident"`
	Cursor   string        `json:"cursor"`
}

// NotificationEvent is a new notification for the subscriber.
type NotificationEvent struct {
	Notification *ent.Notification `json:"notification"`
	Cursor       string            `json:"cursor"`
}

// Service serves subscriptions from a hub.
type Service struct {
	client *ent.Client
	hub    *hub.Hub
	log    *slog.Logger
	shared *shared
}

// New returns the service.
func New(client *ent.Client, h *hub.Hub, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{client: client, hub: h, log: log, shared: newShared()}
}

// subscriber is the viewer of a subscription: a user.
func subscriber(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	return v, nil
}

// parseCursor reads an event cursor: the outbox id of the last event the
// client received.
func parseCursor(after *string) (int64, error) {
	if after == nil || *after == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(*after, 10, 64)
	if err != nil || id < 0 {
		return 0, apperr.Invalid("after", "is not a cursor of this subscription")
	}
	return id, nil
}

func cursor(e hub.Event) string { return strconv.FormatInt(e.ID, 10) }

// stream runs a hub subscription and sends what load makes of each event
// until the subscriber leaves or is dropped. load returns nil for events
// the subscriber is not to see.
//
// No goroutine waits on the subscription: the hub wakes it for each event,
// and a pump goroutine runs only while events are waiting (see pump), so an
// idle subscriber costs the connection no goroutine beyond the operation's
// own, which waits on out.
func stream[T any](ctx context.Context, s *Service, after *string, f hub.Filter, load func(context.Context, hub.Event) (*T, error)) (<-chan *T, error) {
	from, err := parseCursor(after)
	if err != nil {
		return nil, err
	}
	release, err := AcquireSubscription(ctx)
	if err != nil {
		return nil, err
	}
	p := &pump[T]{ctx: ctx, s: s, load: load, release: release, out: make(chan *T, 1), ready: make(chan struct{})}
	sub, err := s.hub.SubscribeWake(ctx, from, f, p.wake)
	if err != nil {
		release()
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	p.sub = sub
	close(p.ready)
	return p.out, nil
}

// pump carries one subscription's events to out. The hub calls wake once
// per event sent and once when the subscription ends; pending counts the
// calls not yet handled, and the goroutine that handles them runs from the
// call that raises it from 0 to the one that brings it back, receiving
// exactly once per call, so it never blocks on the hub and at most one runs
// at a time. A subscriber that does not keep up fills the hub's buffer and
// is dropped, as when a goroutine waited on it.
type pump[T any] struct {
	ctx     context.Context
	s       *Service
	load    func(context.Context, hub.Event) (*T, error)
	release func()
	out     chan *T
	sub     *hub.Subscription
	ready   chan struct{} // closed once sub is set
	pending atomic.Int64
}

func (p *pump[T]) wake() {
	if p.pending.Add(1) == 1 {
		go p.drain()
	}
}

func (p *pump[T]) drain() {
	<-p.ready
	for {
		e, ok := <-p.sub.C
		if !ok {
			p.end()
			return // the last call: pending stays up, no pump starts again
		}
		p.deliver(e)
		if p.pending.Add(-1) == 0 {
			return
		}
	}
}

// deliver loads e and sends it; once the subscriber has left, the events
// still buffered are only drained.
func (p *pump[T]) deliver(e hub.Event) {
	if p.ctx.Err() != nil {
		return
	}
	v, err := p.load(p.ctx, e)
	if err != nil {
		if p.ctx.Err() == nil {
			p.s.log.Warn("subscription: load event", "event", e.ID, "topic", e.Topic, "err", err)
		}
		return
	}
	if v == nil {
		return
	}
	select {
	case p.out <- v:
	case <-p.ctx.Done():
	}
}

func (p *pump[T]) end() {
	if err := p.sub.Err(); err != nil && p.ctx.Err() == nil {
		// A dropped subscriber sees the stream complete and resumes
		// from its last cursor: nothing is lost.
		p.s.log.Info("subscription ended", "reason", err)
	}
	p.release()
	close(p.out)
}

// AlertEvents streams changes to the alerts filter selects. The filter's
// query expression is evaluated in memory on the changed alert, which is
// loaded once per event for every subscriber whose other filter fields are
// empty; those fields, when set, are SQL conditions of the subscriber's own
// load.
func (s *Service) AlertEvents(ctx context.Context, filter *schematype.AlertFilter, after *string) (<-chan *AlertEvent, error) {
	v, err := subscriber(ctx)
	if err != nil {
		return nil, err
	}
	if err := alerts.ValidateFilter("filter", filter); err != nil {
		return nil, err
	}
	rest, program, err := splitAlertQuery(filter)
	if err != nil {
		return nil, err
	}
	f := hub.Filter{OrganizationID: v.OrgID, Topics: []string{hub.TopicAlert}}
	ps := alerts.Predicates(rest)
	return stream(ctx, s, after, f, func(ctx context.Context, e hub.Event) (*AlertEvent, error) {
		load := func(ctx context.Context) (any, error) {
			return s.client.Alert.Query().Where(alert.ID(e.EntityID)).Where(ps...).
				WithConnector().WithAssignee().WithIncident().Only(ctx)
		}
		a, err := s.load(ctx, e, len(ps) == 0, load)
		if a == nil || err != nil {
			return nil, err
		}
		if ok, err := matches(program, query.AlertRecord(a.(*ent.Alert))); !ok {
			return nil, err
		}
		return &AlertEvent{Kind: kinds[e.Kind], Alert: a.(*ent.Alert), Cursor: cursor(e)}, nil
	})
}

// splitAlertQuery separates a filter's query expression, compiled for
// in-memory evaluation, from its other fields.
func splitAlertQuery(filter *schematype.AlertFilter) (*schematype.AlertFilter, *query.Query, error) {
	if filter == nil || filter.Query == nil {
		return filter, nil, nil
	}
	src, _ := query.Lookup("alerts")
	program, err := query.Compile(src, "filter.query", *filter.Query, time.Now())
	if err != nil {
		return nil, nil, err
	}
	rest := *filter
	rest.Query = nil
	return &rest, program, nil
}

// matches evaluates program on r; no program matches everything. A record
// over the cost limit does not match, and the subscription goes on.
func matches(program *query.Query, r query.Record) (bool, error) {
	if program == nil {
		return true, nil
	}
	ok, _ := program.MatchesAt(r, time.Now())
	return ok, nil
}

// IncidentEvents streams changes to the incidents filter selects; its query
// expression is evaluated in memory, as for AlertEvents.
func (s *Service) IncidentEvents(ctx context.Context, filter *incidents.IncidentFilter, after *string) (<-chan *IncidentEvent, error) {
	v, err := subscriber(ctx)
	if err != nil {
		return nil, err
	}
	var program *query.Query
	if filter != nil && filter.Query != nil {
		if program, err = incidents.CompileQuery(*filter.Query); err != nil {
			return nil, err
		}
		rest := *filter
		rest.Query = nil
		filter = &rest
	}
	ps, err := incidents.Predicates(filter)
	if err != nil {
		return nil, err
	}
	f := hub.Filter{OrganizationID: v.OrgID, Topics: []string{hub.TopicIncident}}
	return stream(ctx, s, after, f, func(ctx context.Context, e hub.Event) (*IncidentEvent, error) {
		load := func(ctx context.Context) (any, error) {
			return s.client.Incident.Query().Where(incident.ID(e.EntityID)).Where(ps...).WithAssignee().Only(ctx)
		}
		inc, err := s.load(ctx, e, len(ps) == 0, load)
		if inc == nil || err != nil {
			return nil, err
		}
		if ok, err := matches(program, query.IncidentRecord(inc.(*ent.Incident))); !ok {
			return nil, err
		}
		return &IncidentEvent{Kind: kinds[e.Kind], Incident: inc.(*ent.Incident), Cursor: cursor(e)}, nil
	})
}

// load runs query for e: once for all unfiltered subscribers, or as this
// subscriber when it filters. It returns nil, nil when the object is gone
// or filtered out.
func (s *Service) load(ctx context.Context, e hub.Event, unfiltered bool, query func(context.Context) (any, error)) (any, error) {
	var (
		v   any
		err error
	)
	if unfiltered {
		v, err = s.shared.get(ctx, e, query)
	} else {
		v, err = query(ctx)
	}
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return v, err
}

// NotificationAdded streams the subscriber's new notifications; with
// after, the ones since that cursor first.
func (s *Service) NotificationAdded(ctx context.Context, after *string) (<-chan *NotificationEvent, error) {
	v, err := subscriber(ctx)
	if err != nil {
		return nil, err
	}
	me := v.UserID
	f := hub.Filter{OrganizationID: v.OrgID, Topics: []string{hub.TopicNotification}, UserID: &me}
	return stream(ctx, s, after, f, func(ctx context.Context, e hub.Event) (*NotificationEvent, error) {
		n, err := s.client.Notification.Query().Where(notification.ID(e.EntityID), notification.UserID(me)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &NotificationEvent{Notification: n, Cursor: cursor(e)}, nil
	})
}
