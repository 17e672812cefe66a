package report

import (
	"context"
	"errors"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/setting"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/report/render"
	"github.com/seliq/seliq/storage"
)

// Template returns the template in effect: the organisation's upload, or
// the built-in one.
func (s *Service) Template(ctx context.Context) (*Template, error) {
	row, err := s.client.Setting.Query().Where(setting.Key(keyTemplate)).Only(ctx)
	if ent.IsNotFound(err) {
		return &Template{Source: string(render.Default().Source())}, nil
	}
	if err != nil {
		return nil, err
	}
	at := row.UpdatedAt
	return &Template{Source: string(row.Blob), Custom: true, UpdatedAt: &at}, nil
}

// UploadTemplate validates src and makes it the organisation's template
// (admins only). A template that does not parse, or fails on a sample
// incident, is refused with the line of its first error.
func (s *Service) UploadTemplate(ctx context.Context, src []byte) (*Template, error) {
	if err := RequireAdmin(ctx); err != nil {
		return nil, err
	}
	if _, err := render.Parse(src); err != nil {
		return nil, templateError(err)
	}
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		if err := c.Setting.Create().SetKey(keyTemplate).SetValue(map[string]any{"bytes": len(src)}).SetBlob(src).
			OnConflictColumns(setting.FieldOrganizationID, setting.FieldKey).UpdateValue().UpdateBlob().UpdateUpdatedAt().
			Exec(ctx); err != nil {
			return err
		}
		return recordSetting(ctx, c, "template_upload", nil, map[string]any{"bytes": len(src)})
	})
	if err != nil {
		return nil, err
	}
	return s.Template(ctx)
}

// DeleteTemplate goes back to the built-in template (admins only).
func (s *Service) DeleteTemplate(ctx context.Context) (*Template, error) {
	if err := RequireAdmin(ctx); err != nil {
		return nil, err
	}
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		n, err := c.Setting.Delete().Where(setting.Key(keyTemplate)).Exec(ctx)
		if err != nil || n == 0 {
			return err
		}
		return recordSetting(ctx, c, "template_delete", nil, nil)
	})
	if err != nil {
		return nil, err
	}
	return s.Template(ctx)
}

// templateError turns a template's error into a 422 on "template" naming
// the line.
func templateError(err error) error {
	var te *render.TemplateError
	if errors.As(err, &te) {
		return apperr.Invalid("template", "%s", te.Error())
	}
	return apperr.Invalid("template", "%s", err.Error())
}

// parsedTemplate loads the organisation's template for rendering; an
// upload that no longer parses (the format changed) is an error the
// report shows.
func parsedTemplate(ctx context.Context, c *ent.Client) (*render.Template, error) {
	row, err := c.Setting.Query().Where(setting.Key(keyTemplate)).Only(ctx)
	if ent.IsNotFound(err) {
		return render.Default(), nil
	}
	if err != nil {
		return nil, err
	}
	return render.Parse(row.Blob)
}

// recordSetting writes a report-settings change to the activity log; the
// entity is the acting organisation.
func recordSetting(ctx context.Context, c *ent.Client, action string, before, after any) error {
	v := viewer.FromContext(ctx)
	return audit.Record(ctx, c, audit.Entry{EntityType: "report_settings", EntityID: v.OrgID, Action: action, Before: before, After: after})
}
