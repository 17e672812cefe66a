package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"entgo.io/ent/dialect"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/internal/textfield"
)

// IngestPolled ingests the records a poller read, each mapped as if it had
// been pushed alone, and runs commit (which saves the poller's checkpoint)
// in the same transaction: the alerts and the position they were read up
// to commit together or not at all. A record that cannot be mapped becomes
// a dead letter instead of stopping the connector on it.
func (s *Service) IngestPolled(ctx context.Context, c *ent.Connector, records []json.RawMessage, commit func(context.Context, *ent.Tx) error) (*Result, error) {
	if err := checkCaller(ctx, c); err != nil {
		return nil, err
	}
	now := stamp(s.now())
	var (
		mapped []catalogue.Alert
		dead   []*ent.DeadLetterCreate
	)
	letter := func(tx *ent.Tx, raw json.RawMessage, reason string) *ent.DeadLetterCreate {
		payload := string(raw)
		if s.db.Dialect == dialect.Postgres {
			payload = textfield.Sanitize(payload)
		}
		return tx.DeadLetter.Create().SetConnectorID(c.ID).SetReason(reason).SetPayload(payload)
	}
	var rejected []struct {
		raw    json.RawMessage
		reason string
	}
	for i, raw := range records {
		var reason string
		if int64(len(raw)) > s.maxBody {
			reason = fmt.Sprintf("record exceeds %d bytes", s.maxBody)
		} else {
			alerts, err := catalogue.Map(c.Type, raw)
			var (
				fieldErr   *catalogue.FieldError
				unmappable *catalogue.Unmappable
			)
			switch {
			case err == nil:
				mapped = append(mapped, alerts...)
				continue
			case errors.As(err, &fieldErr), errors.As(err, &unmappable):
				reason = err.Error()
			default:
				return nil, fmt.Errorf("map polled record %d: %w", i, err)
			}
		}
		rejected = append(rejected, struct {
			raw    json.RawMessage
			reason string
		}{raw, reason})
	}
	items, err := s.prepare(c, mapped)
	if err != nil {
		return nil, err
	}
	res, err := s.store(ctx, c, items, now, func(ctx context.Context, tx *ent.Tx) error {
		dead = dead[:0]
		for _, r := range rejected {
			dead = append(dead, letter(tx, r.raw, r.reason))
		}
		if len(dead) > 0 {
			if err := tx.DeadLetter.CreateBulk(dead...).Exec(ctx); err != nil {
				return err
			}
		}
		return commit(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	res.DeadLettered = len(rejected)
	return res, nil
}
