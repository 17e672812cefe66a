package action

import (
	"strings"
	"testing"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
)

func TestParseRefusesNamingTheField(t *testing.T) {
	long := `[` + strings.Repeat(`{"type":"analyze"},`, MaxActions) + `{"type":"analyze"}]`
	cases := []struct {
		name, raw, field string
		target           enum.AutomationTarget
	}{
		{"not a list", `{"type":"analyze"}`, "actions", ""},
		{"too many", long, "actions", ""},
		{"not an object", `[1]`, "actions[0]", ""},
		{"no type", `[{}]`, "actions[0].type", ""},
		{"unknown type", `[{"type":"analyze"},{"type":"explode"}]`, "actions[1].type", ""},
		{"unknown parameter", `[{"type":"set_severity","severity":"high","colour":"red"}]`, "actions[0].colour", ""},
		{"missing severity", `[{"type":"analyze"},{"type":"analyze"},{"type":"set_severity"}]`, "actions[2].severity", ""},
		{"bad severity", `[{"type":"set_severity","severity":"dire"}]`, "actions[0].severity", ""},
		{"severity not a string", `[{"type":"set_severity","severity":3}]`, "actions[0].severity", ""},
		{"add_tags without tags", `[{"type":"add_tags"}]`, "actions[0].tags", ""},
		{"bad tag", `[{"type":"add_tags","tags":[""]}]`, "actions[0].tags", ""},
		{"close without disposition", `[{"type":"set_status","status":"closed"}]`, "actions[0].disposition", ""},
		{"disposition when not closing", `[{"type":"set_status","status":"in_progress","disposition":"benign"}]`, "actions[0].disposition", ""},
		{"incident status on alerts", `[{"type":"set_status","status":"pending"}]`, "actions[0].status", enum.AutomationTargetAlert},
		{"alert status on incidents", `[{"type":"set_status","status":"resolved"}]`, "actions[0].status", enum.AutomationTargetIncident},
		{"assign neither", `[{"type":"assign"}]`, "actions[0].user_id", ""},
		{"assign both", `[{"type":"assign","user_id":"0190a0d0-0000-7000-8000-000000000001","group_id":"0190a0d0-0000-7000-8000-000000000002"}]`, "actions[0].user_id", ""},
		{"assign bad id", `[{"type":"assign","user_id":"nope"}]`, "actions[0].user_id", ""},
		{"link neither", `[{"type":"link_incident"}]`, "actions[0].incident_id", ""},
		{"link bad key", `[{"type":"link_incident","incident_key":"entities.hots[0]"}]`, "actions[0].incident_key", ""},
		{"link key not a value", `[{"type":"link_incident","incident_key":"severity == \"high\""}]`, "actions[0].incident_key", ""},
		{"link bad window", `[{"type":"link_incident","incident_key":"source","window":"5s"}]`, "actions[0].window", ""},
		{"link on incidents", `[{"type":"link_incident","incident_key":"source"}]`, "actions[0].type", enum.AutomationTargetIncident},
		{"notify nobody", `[{"type":"notify"}]`, "actions[0].user_ids", ""},
		{"notify bad channel", `[{"type":"notify","user_ids":["0190a0d0-0000-7000-8000-000000000001"],"channels":["sms"]}]`, "actions[0].channels", ""},
		{"notify contacts in app", `[{"type":"notify","contact_ids":["0190a0d0-0000-7000-8000-000000000001"],"channels":["in_app"]}]`, "actions[0].channels", ""},
		{"webhook no url", `[{"type":"webhook","secret":"s"}]`, "actions[0].url", ""},
		{"webhook bad url", `[{"type":"webhook","url":"ftp://x","secret":"s"}]`, "actions[0].url", ""},
		{"webhook credentials", `[{"type":"webhook","url":"https://u:p@x.example","secret":"s"}]`, "actions[0].url", ""},
		{"webhook no secret", `[{"type":"webhook","url":"https://x.example"}]`, "actions[0].secret", ""},
		{"webhook sealed from client", `[{"type":"webhook","url":"https://x.example","secret_sealed":"x"}]`, "actions[0].secret_sealed", ""},
		{"macro no id", `[{"type":"apply_macro"}]`, "actions[0].macro_id", ""},
		{"suppress no reason", `[{"type":"suppress","disposition":"benign"}]`, "actions[0].reason", ""},
		{"suppress no disposition", `[{"type":"suppress","reason":"window"}]`, "actions[0].disposition", ""},
		{"suppress incidents", `[{"type":"suppress","disposition":"benign","reason":"w"}]`, "actions[0].type", enum.AutomationTargetIncident},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.raw), ParseOptions{Target: c.target})
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.BadInput || e.Field != c.field {
				t.Fatalf("Parse(%s) = %v, want a validation error on %s", c.raw, err, c.field)
			}
		})
	}
}

func TestParseAcceptsTheVocabulary(t *testing.T) {
	raw := `[{"type":"set_severity","severity":"critical"},{"type":"add_tags","tags":["edr"," edr2 "]},{"type":"remove_tags"},
	{"type":"set_status","status":"closed","disposition":"false_positive"},{"type":"assign","group_id":"0190a0d0-0000-7000-8000-000000000002"},
	{"type":"link_incident","incident_key":"entities.host[0]","window":"30m"},{"type":"link_incident","incident_id":"0190a0d0-0000-7000-8000-000000000003"},
	{"type":"notify","user_ids":["0190a0d0-0000-7000-8000-000000000001"],"channels":["in_app","email"]},
	{"type":"webhook","url":"https://chat.example/hook","secret":"s3cret"},{"type":"analyze"},
	{"type":"apply_macro","macro_id":"0190a0d0-0000-7000-8000-000000000004"},{"type":"suppress","disposition":"benign","reason":"Sunday maintenance"}]`
	list, err := Parse([]byte(raw), ParseOptions{Target: enum.AutomationTargetAlert})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 12 || list[1].Tags[1] != "edr2" || list[5].IncidentKey != "entities.host[0]" {
		t.Fatalf("parsed %+v", list)
	}
	if red := Redact(list); red[8].Secret != "" || list[8].Secret != "s3cret" {
		t.Fatalf("Redact: %+v, original %+v", red[8], list[8])
	}
	if d, err := ParseWindow("w", "1d"); err != nil || d.Hours() != 24 {
		t.Fatalf("ParseWindow(1d) = %v, %v", d, err)
	}
	if empty, err := Parse([]byte(` null `), ParseOptions{}); err != nil || len(empty) != 0 {
		t.Fatalf("null list: %v, %v", empty, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`[]`, `[{"type":"set_severity","severity":"high"}]`, `[{"type":"link_incident","incident_key":"entities.host[0]","window":"2h"}]`,
		`[{"type":"notify","user_ids":["0190a0d0-0000-7000-8000-000000000001"]}]`, `[{"type":"webhook","url":"https://a.example","secret":"x"}]`, `{"x":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		list, err := Parse(raw, ParseOptions{})
		if err != nil {
			if e, ok := apperr.As(err); !ok || (e.Code != apperr.BadInput && e.Code != apperr.TooLarge && e.Code != apperr.QueryTooExpensive) {
				t.Fatalf("Parse(%q): unexpected error %v", raw, err)
			}
			return
		}
		// What Parse accepts, Validate accepts again (stored lists are re-checked).
		if err := Validate(list, ParseOptions{}); err != nil {
			t.Fatalf("Validate after Parse(%q): %v", raw, err)
		}
	})
}
