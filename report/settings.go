package report

import (
	"context"
	"strings"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/setting"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/report/render"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/storage/settingstore"
)

// Setting keys: the settings document, and the uploaded template (its
// source in the row's blob).
const (
	keySettings = "report"
	keyTemplate = "report_template"
)

// maxBrandingText bounds each branding text, in characters.
const maxBrandingText = 200

// defaults are the settings of an organisation that never changed them.
func defaults() Settings {
	return Settings{
		AccentColor:     render.DefaultAccentColor,
		Confidentiality: render.DefaultConfidentiality,
		DefaultKind:     enum.ReportKindInternal,
		DefaultFormat:   enum.ReportFormatPdf,
		Sections:        Sections{Summary: true, Timeline: true, Alerts: true, Entities: true, Notes: true, Disposition: true, Timings: true},
	}
}

// Settings returns the acting organisation's report settings.
func (s *Service) Settings(ctx context.Context) (*Settings, error) {
	return settings(ctx, s.client)
}

func settings(ctx context.Context, c *ent.Client) (*Settings, error) {
	out := defaults()
	if _, err := settingstore.Load(ctx, c, keySettings, &out); err != nil {
		return nil, err
	}
	custom, err := c.Setting.Query().Where(setting.Key(keyTemplate)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	out.CustomTemplate = custom
	return &out, nil
}

// UpdateSettings patches the settings (admins only).
func (s *Service) UpdateSettings(ctx context.Context, in UpdateSettingsInput) (*Settings, error) {
	if err := RequireAdmin(ctx); err != nil {
		return nil, err
	}
	var out *Settings
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c := tx.Client()
		cur, err := settings(ctx, c)
		if err != nil {
			return err
		}
		next, err := apply(*cur, in)
		if err != nil {
			return err
		}
		next.CustomTemplate = false // derived, not stored
		if err := settingstore.Save(ctx, c, keySettings, next); err != nil {
			return err
		}
		next.CustomTemplate = cur.CustomTemplate
		out = &next
		return recordSetting(ctx, c, "update", cur, &next)
	})
	return out, err
}

// apply validates a patch and returns the patched settings.
func apply(cur Settings, in UpdateSettingsInput) (Settings, error) {
	texts := []struct {
		field string
		in    *string
		out   *string
	}{
		{"company_name", in.CompanyName, &cur.CompanyName},
		{"footer", in.Footer, &cur.Footer},
		{"confidentiality", in.Confidentiality, &cur.Confidentiality},
	}
	for _, t := range texts {
		if t.in == nil {
			continue
		}
		v, err := textfield.Optional(t.field, *t.in, maxBrandingText)
		if err != nil {
			return cur, err
		}
		*t.out = v
	}
	if in.AccentColor != nil {
		c := strings.TrimSpace(*in.AccentColor)
		if err := (render.Branding{AccentColor: c}).Validate(); err != nil || c == "" {
			return cur, apperr.Invalid("accent_color", "must be a colour written #RRGGBB")
		}
		cur.AccentColor = strings.ToUpper(c)
	}
	if in.DefaultKind != nil {
		if !in.DefaultKind.Valid() {
			return cur, apperr.Invalid("default_kind", "%q is not a report kind", *in.DefaultKind)
		}
		cur.DefaultKind = *in.DefaultKind
	}
	if in.DefaultFormat != nil {
		if !in.DefaultFormat.Valid() {
			return cur, apperr.Invalid("default_format", "%q is not a report format", *in.DefaultFormat)
		}
		cur.DefaultFormat = *in.DefaultFormat
	}
	if p := in.Sections; p != nil {
		for _, f := range []struct {
			in  *bool
			out *bool
		}{
			{p.Summary, &cur.Sections.Summary}, {p.Timeline, &cur.Sections.Timeline}, {p.Alerts, &cur.Sections.Alerts},
			{p.Entities, &cur.Sections.Entities}, {p.Notes, &cur.Sections.Notes}, {p.Disposition, &cur.Sections.Disposition},
			{p.Timings, &cur.Sections.Timings},
		} {
			if f.in != nil {
				*f.out = *f.in
			}
		}
	}
	return cur, nil
}

// RequireAdmin refuses anyone but an admin of the acting organisation; the
// GraphQL directive says the same, this guards the hand-written routes.
func RequireAdmin(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return apperr.New(apperr.Unauthenticated, "authentication required")
	case v.Kind != viewer.KindUser || !v.IsAdmin():
		return apperr.New(apperr.Forbidden, "only administrators change report settings")
	}
	return nil
}
