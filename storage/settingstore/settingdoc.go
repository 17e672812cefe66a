// Package settingstore stores an organisation's settings documents (report
// branding, AI provider, …): each is one Setting row keyed by name whose
// JSON value a typed Go struct round-trips through.
package settingstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/setting"
)

// Load decodes the acting organisation's document key into v, which holds
// the defaults and keeps them when there is no row yet (found is false).
func Load(ctx context.Context, c *ent.Client, key string, v any) (found bool, err error) {
	row, err := c.Setting.Query().Where(setting.Key(key)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	}
	js, err := json.Marshal(row.Value)
	if err != nil {
		return true, err
	}
	if err := json.Unmarshal(js, v); err != nil {
		return true, fmt.Errorf("%s settings: %w", key, err)
	}
	return true, nil
}

// Save writes v as the acting organisation's document key, creating or
// replacing it.
func Save(ctx context.Context, c *ent.Client, key string, v any) error {
	m, err := ToMap(v)
	if err != nil {
		return err
	}
	return c.Setting.Create().SetKey(key).SetValue(m).
		OnConflictColumns(setting.FieldOrganizationID, setting.FieldKey).UpdateValue().Exec(ctx)
}

// ToMap turns a struct into the JSON object form ent's JSON map fields
// store.
func ToMap(v any) (map[string]any, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(js, &m)
}
