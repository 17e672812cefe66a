package analysis

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
)

// TestNewAlertDocument pins the one alert document the analysis prompt and
// the chat both send: its fields and its bounds.
func TestNewAlertDocument(t *testing.T) {
	inc := uuid.New()
	disp := enum.DispositionFalsePositive
	many := make([]schematype.Entity, maxEntities+10)
	for i := range many {
		many[i] = schematype.Entity{Type: "hostname", Value: strings.Repeat("h", 2*maxEntity)}
	}
	cases := []struct {
		name    string
		alert   ent.Alert
		withRaw bool
		check   func(t *testing.T, d AlertDocument)
	}{
		{"triage fields", ent.Alert{Title: "t", Severity: enum.SeverityHigh, Status: enum.AlertStatusClosed, Disposition: &disp,
			IncidentID: &inc, Mitre: []string{"T1003"}, Raw: json.RawMessage(`{"a": 1}`)}, false,
			func(t *testing.T, d AlertDocument) {
				if d.Disposition != "false_positive" || d.IncidentID == nil || *d.IncidentID != inc || d.Mitre[0] != "T1003" || d.RawExcerpt != "" {
					t.Fatalf("%+v", d)
				}
			}},
		{"payload only when asked for, compacted", ent.Alert{Raw: json.RawMessage(`{"a": 1}`)}, true,
			func(t *testing.T, d AlertDocument) {
				if d.RawExcerpt != `{"a":1}` || d.RawTruncated {
					t.Fatalf("raw %q truncated %v", d.RawExcerpt, d.RawTruncated)
				}
			}},
		{"free text bounded on rune boundaries", ent.Alert{Title: strings.Repeat("é", maxTitle), Description: strings.Repeat("ü", maxText),
			Tags: make([]string, maxTags+5), Entities: many, Raw: json.RawMessage(`"` + strings.Repeat("x", 2*maxRaw) + `"`)}, true,
			func(t *testing.T, d AlertDocument) {
				if len(d.Title) > maxTitle || len(d.Description) > maxText || !utf8.ValidString(d.Title) || !utf8.ValidString(d.Description) {
					t.Fatalf("title %d, description %d bytes", len(d.Title), len(d.Description))
				}
				if len(d.Tags) != maxTags || len(d.Entities) != maxEntities || len(d.Entities[0].Value) != maxEntity {
					t.Fatalf("%d tags, %d entities of %d bytes", len(d.Tags), len(d.Entities), len(d.Entities[0].Value))
				}
				if len(d.RawExcerpt) != maxRaw || !d.RawTruncated {
					t.Fatalf("raw %d bytes, truncated %v", len(d.RawExcerpt), d.RawTruncated)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.alert.ID = uuid.New()
			d := NewAlertDocument(&c.alert, c.withRaw)
			if d.ID != c.alert.ID {
				t.Fatalf("id %s", d.ID)
			}
			c.check(t, d)
		})
	}
}
