package connectors

import (
	"context"

	"github.com/seliq/seliq/auth/credential"
	"github.com/seliq/seliq/internal/paging"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/ent/deadletter"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/storage"
)

// Service manages the connectors of the viewer's acting organisation. The
// privacy rules confine every query to that organisation, so a connector of
// another one is simply not found.
type Service struct {
	client      *ent.Client
	box         *secrets.Box
	scheduler   Scheduler
	inboundBase string // public base URL of inbound email URLs
}

// Scheduler is told of a connector whose polling may have to start or
// change (pull.Service), after the change committed.
type Scheduler interface {
	Schedule(ctx context.Context, c *ent.Connector) error
}

// New returns a Service over client; box seals the secret settings.
func New(client *ent.Client, box *secrets.Box) *Service { return &Service{client: client, box: box} }

// WithScheduler makes changes to pull connectors reach the poller.
func (s *Service) WithScheduler(sch Scheduler) *Service {
	s.scheduler = sch
	return s
}

// schedule tells the scheduler, if any, of c.
func (s *Service) schedule(ctx context.Context, c *ent.Connector) error {
	if s.scheduler == nil {
		return nil
	}
	return s.scheduler.Schedule(ctx, c)
}

// List pages through the acting organisation's connectors.
func (s *Service) List(ctx context.Context, page paging.Page, orderBy *ent.ConnectorOrder) (*ent.ConnectorConnection, error) {
	return paging.Paginate(ctx, page, s.client.Connector.Query().Paginate, ent.WithConnectorOrder(orderBy))
}

// Get returns a connector of the acting organisation; one of another
// organisation is an ent NotFound error, like one that does not exist.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*ent.Connector, error) {
	return s.client.Connector.Get(ctx, id)
}

// Create validates in, stores the connector with a fresh key and returns the
// key; only its hash is kept, so this is the one time it is shown.
func (s *Service) Create(ctx context.Context, in CreateConnectorInput) (*ConnectorKeyPayload, error) {
	v, err := checkCreate(in)
	if err != nil {
		return nil, err
	}
	key := credential.NewSecret(credential.PrefixConnector)
	id := uuid.Must(uuid.NewV7())
	if v.settings, _, err = s.seal(v.typ, id, v.settings, nil); err != nil {
		return nil, err
	}
	var c *ent.Connector
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		create := tx.Connector.Create().SetID(id).
			SetName(v.name).SetType(v.typ.Key).SetMode(v.mode).
			SetNillableEnabled(in.Enabled).
			SetNillableDedupWindowSeconds(in.DedupWindowSeconds).
			SetNillablePollIntervalSeconds(in.PollIntervalSeconds).
			SetNillableRateLimitPerMinute(in.RateLimitPerMinute).
			SetKeyHash(credential.HashSecret(key)).SetKeyPrefix(credential.DisplayPrefix(key))
		if v.settings != nil {
			create.SetSettings(v.settings)
		}
		if v.dedupFields != nil {
			create.SetDedupFields(v.dedupFields)
		}
		var err error
		if c, err = create.Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{
			EntityType: entityTypeConnector, EntityID: c.ID, Action: "create",
			After: map[string]any{"name": c.Name, "type": c.Type, "mode": c.Mode},
		})
	})
	if err != nil {
		return nil, err
	}
	if err := s.schedule(ctx, c); err != nil {
		return nil, err
	}
	return &ConnectorKeyPayload{Connector: c.Unwrap(), APIKey: key}, nil
}

// Update changes the fields that in sets (nil leaves a field alone). Settings replace the stored ones as a
// whole, except that a secret sent back as Mask keeps its stored value.
// An update that changes nothing writes nothing.
func (s *Service) Update(ctx context.Context, id uuid.UUID, in UpdateConnectorInput) (*ent.Connector, error) {
	var out *ent.Connector
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c, err := load(ctx, tx.Client(), id)
		if err != nil {
			return err
		}
		u := c.Update()
		entries, err := s.planUpdate(c, in, u)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			out = c
			return nil
		}
		if out, err = u.Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), entries...)
	})
	if err != nil {
		return nil, err
	}
	if err := s.schedule(ctx, out); err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// Delete removes the connector. Its alerts stay (their connector_id becomes
// null); its dead letters go with it. Both are foreign-key actions, so they
// happen in the same statement.
func (s *Service) Delete(ctx context.Context, id uuid.UUID) error {
	return storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c, err := load(ctx, tx.Client(), id)
		if err != nil {
			return err
		}
		if err := tx.Connector.DeleteOne(c).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{
			EntityType: entityTypeConnector, EntityID: c.ID, Action: "delete",
			Before: map[string]any{"name": c.Name, "type": c.Type, "mode": c.Mode},
		})
	})
}

// RotateKey replaces the connector's key; the old key stops authenticating
// when the transaction commits.
func (s *Service) RotateKey(ctx context.Context, id uuid.UUID) (*ConnectorKeyPayload, error) {
	key := credential.NewSecret(credential.PrefixConnector)
	var out *ent.Connector
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c, err := load(ctx, tx.Client(), id)
		if err != nil {
			return err
		}
		out, err = c.Update().SetKeyHash(credential.HashSecret(key)).SetKeyPrefix(credential.DisplayPrefix(key)).Save(ctx)
		if err != nil {
			return err
		}
		// Neither key nor prefix is recorded: the log is readable by every
		// admin of the organisation, long after the key was shown.
		return audit.Record(ctx, tx.Client(), audit.Entry{EntityType: entityTypeConnector, EntityID: c.ID, Action: "rotate_key"})
	})
	if err != nil {
		return nil, err
	}
	return &ConnectorKeyPayload{Connector: out.Unwrap(), APIKey: key}, nil
}

// DeadLetters pages through the payloads of a connector that could not be
// mapped, newest first.
func (s *Service) DeadLetters(ctx context.Context, connectorID uuid.UUID, page paging.Page) (*ent.DeadLetterConnection, error) {
	page, err := page.Normalize()
	if err != nil {
		return nil, err
	}
	visible, err := s.client.Connector.Query().Where(connector.ID(connectorID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !visible {
		return nil, notFound(connectorID)
	}
	order := &ent.DeadLetterOrder{Field: ent.DeadLetterOrderFieldCreatedAt, Direction: paging.Desc}
	return paging.Paginate(ctx, page, s.client.DeadLetter.Query().Where(deadletter.ConnectorID(connectorID)).Paginate,
		ent.WithDeadLetterOrder(order))
}

// load returns the connector if the viewer's organisation owns it.
func load(ctx context.Context, client *ent.Client, id uuid.UUID) (*ent.Connector, error) {
	c, err := client.Connector.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, notFound(id)
	}
	return c, err
}

func notFound(id uuid.UUID) error { return apperr.NotFoundf("connector %s not found", id) }
