package trigger

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/seliq/seliq/automation/action"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/automationtrigger"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/storage"
)

// SealStoredSecrets seals the clear webhook secrets of triggers saved
// before the vocabulary sealed them, so that every secret is encrypted at
// rest and those webhooks can be signed again. ctx must read every
// organisation's triggers (the server's bootstrap context). Each changed
// trigger is announced like an edit, so every replica's engine drops the
// clear copy it may have cached. It returns how many triggers it sealed;
// a second run seals none.
func SealStoredSecrets(ctx context.Context, c *ent.Client, box *secrets.Box) (int, error) {
	rows, err := c.AutomationTrigger.Query().
		Select(automationtrigger.FieldID, automationtrigger.FieldOrganizationID, automationtrigger.FieldActions).All(ctx)
	if err != nil {
		return 0, fmt.Errorf("trigger: reading stored secrets: %w", err)
	}
	sealed := 0
	for _, t := range rows {
		list := storedList(t.Actions)
		if !slices.ContainsFunc(list, clearSecret) {
			continue
		}
		if err := action.SealSecrets(box, list); err != nil {
			return sealed, fmt.Errorf("trigger %s: %w", t.ID, err)
		}
		raw, err := json.Marshal(list)
		if err != nil {
			return sealed, err
		}
		err = storage.InTx(ctx, c, func(tx *ent.Tx) error {
			if err := tx.AutomationTrigger.UpdateOneID(t.ID).SetActions(raw).Exec(ctx); err != nil {
				return err
			}
			return hub.Record(ctx, tx.Client(), hub.Event{OrganizationID: t.OrganizationID, Topic: hub.TopicAutomation,
				Kind: hub.KindUpdated, EntityID: t.ID})
		})
		if err != nil {
			return sealed, fmt.Errorf("trigger %s: sealing its webhook secret: %w", t.ID, err)
		}
		sealed++
	}
	return sealed, nil
}

func clearSecret(a action.Action) bool { return a.Type == action.TypeWebhook && a.Secret != "" }
