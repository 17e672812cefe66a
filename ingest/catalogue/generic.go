package catalogue

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seliq/seliq/enum"
)

func genericType() Type {
	s := spec{key: "generic", expand: genericExpand, one: genericOne}
	return Type{
		Key:         "generic",
		Name:        "Generic (Seliq schema)",
		Vendor:      "Seliq",
		Description: "Seliq's own alert schema, for scripts and tools without a dedicated connector. Strictly validated: a wrong field is rejected with 422 naming it.",
		Modes:       []enum.ConnectorMode{enum.ConnectorModePush},
		SeverityScale: "critical | high | medium | low | info (case-insensitive; \"informational\" = info), or a number 1–5: " +
			"5 critical, 4 high, 3 medium, 2 low, 1 info. Missing → medium; anything else is rejected (422, field \"severity\").",
		DedupFields: []string{"source", "title", "external_id", "host"},
		Mapping: []FieldMapping{
			{"title", "title", "Required non-empty string; truncated to 1000 characters."},
			{"description", "description", "String."},
			{"severity", "severity", "See the severity scale."},
			{"external_id", "external_id", "String or number."},
			{"source", "source", "Optional string; defaults to \"generic\"."},
			{"tags", "tags", "Array of strings."},
			{"mitre", "mitre", "Array of ATT&CK technique ids (T1059, T1059.001)."},
			{"event_time", "event_time", "RFC 3339 timestamp."},
			{"attributes.*", "attributes", "Object of scalar values; keys among rule, host, user, src_ip, dst_ip, domain, url, process, command_line, file_hash, file_name, email_from, email_to, category."},
			{"raw", "(whole object)", "Unknown top-level fields are kept in raw only. A batch may be an array or {\"alerts\": [...]}."},
		},
		Settings: settingsSchema("Generic connector settings", nil),
		Map:      s.run,
	}
}

// genericExpand accepts Seliq's own envelope {"alerts": [...]} (an object without a title).
func genericExpand(r record) ([]record, error) {
	if _, hasTitle := r.obj["title"]; !hasTitle {
		if recs, ok, err := children(r, "alerts"); ok || err != nil {
			return recs, err
		}
	}
	return []record{r}, nil
}

func genericOne(r record) (Alert, error) {
	o := r.obj
	var a Alert
	var err error

	switch t := o["title"].(type) {
	case nil:
		return a, &FieldError{Field: "title", Reason: "required"}
	case string:
		if a.Title = oneLine(t); a.Title == "" {
			return a, &FieldError{Field: "title", Reason: "must not be empty"}
		}
	default:
		return a, &FieldError{Field: "title", Reason: "must be a string"}
	}
	if a.Description, err = optString(o, "description"); err != nil {
		return a, err
	}
	if a.Source, err = optString(o, "source"); err != nil {
		return a, err
	}
	switch id := o["external_id"].(type) {
	case nil:
	case string:
		a.ExternalID = id
	case json.Number:
		a.ExternalID = id.String()
	default:
		return a, &FieldError{Field: "external_id", Reason: "must be a string or a number"}
	}
	if a.Severity, err = genericSeverity(o["severity"]); err != nil {
		return a, err
	}
	if a.Tags, err = stringList(o, "tags", nil); err != nil {
		return a, err
	}
	if a.Mitre, err = stringList(o, "mitre", func(s string) string {
		if _, ok := normTechnique(s); !ok {
			return "must be an ATT&CK technique id like T1059 or T1059.001"
		}
		return ""
	}); err != nil {
		return a, err
	}
	switch t := o["event_time"].(type) {
	case nil:
	case string:
		ts, perr := time.Parse(time.RFC3339Nano, strings.TrimSpace(t))
		if perr != nil || ts.Year() < 1 || ts.Year() > 9999 {
			return a, &FieldError{Field: "event_time", Reason: "must be an RFC 3339 timestamp like 2024-05-14T09:21:07Z"}
		}
		a.EventTime = &ts
	default:
		return a, &FieldError{Field: "event_time", Reason: "must be an RFC 3339 timestamp string"}
	}
	a.Attributes = map[string]string{}
	switch m := o["attributes"].(type) {
	case nil:
	case map[string]any:
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys) // deterministic error for several bad keys
		for _, k := range keys {
			if !IsAttributeKey(k) {
				return a, &FieldError{Field: "attributes." + k, Reason: "unknown attribute; use one of " + strings.Join(attributeKeys, ", ")}
			}
			switch v := m[k].(type) {
			case nil:
			case string:
				a.Attributes[k] = v
			case json.Number:
				a.Attributes[k] = v.String()
			case bool:
				a.Attributes[k] = strconv.FormatBool(v)
			default:
				return a, &FieldError{Field: "attributes." + k, Reason: "must be a string, number or boolean"}
			}
		}
	default:
		return a, &FieldError{Field: "attributes", Reason: "must be an object"}
	}
	return a, nil
}

// genericSeverity is the strict reading of genericScale: missing → medium, unknown → 422.
func genericSeverity(v any) (enum.Severity, error) {
	switch x := v.(type) {
	case nil:
		return sevMedium, nil
	case string, json.Number:
		if sev, ok := genericScale.lookup(x); ok {
			return sev, nil
		}
		return "", &FieldError{Field: "severity", Reason: fmt.Sprintf("unknown severity %q: use critical, high, medium, low, info or 1–5", fmt.Sprint(x))}
	default:
		return "", &FieldError{Field: "severity", Reason: "must be a string (critical, high, medium, low, info) or a number 1–5"}
	}
}

func optString(o map[string]any, key string) (string, error) {
	switch v := o[key].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", &FieldError{Field: key, Reason: "must be a string"}
	}
}

// stringList reads an optional array of strings; check returns a reason to reject an element.
func stringList(o map[string]any, key string, check func(string) string) ([]string, error) {
	switch v := o[key].(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, &FieldError{Field: fmt.Sprintf("%s.%d", key, i), Reason: "must be a string"}
			}
			if check != nil {
				if reason := check(s); reason != "" {
					return nil, &FieldError{Field: fmt.Sprintf("%s.%d", key, i), Reason: reason}
				}
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, &FieldError{Field: key, Reason: "must be an array of strings"}
	}
}
