package catalogue

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzMap runs every type's mapper on arbitrary bytes: it must never panic,
// fail only with *FieldError or *Unmappable (and then return no alert), and
// every alert it returns must satisfy the Alert invariants.
func FuzzMap(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.json")
	for _, file := range files {
		rel, _ := filepath.Rel("testdata", file)
		f.Add(readSample(f, rel))
	}
	for _, c := range errCases {
		f.Add([]byte(c.payload))
	}
	types := Types()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range types {
			alerts, err := typ.Map(data)
			if err != nil {
				switch e := err.(type) {
				case *FieldError:
					if e.Reason == "" {
						t.Fatalf("%s: FieldError without reason", typ.Key)
					}
				case *Unmappable:
					if e.Reason == "" {
						t.Fatalf("%s: Unmappable without reason", typ.Key)
					}
				default:
					t.Fatalf("%s: error of type %T: %v", typ.Key, err, err)
				}
				if len(alerts) != 0 {
					t.Fatalf("%s: %d alerts returned with an error", typ.Key, len(alerts))
				}
				continue
			}
			for i, a := range alerts {
				checkAlert(t, typ.Key, i, a, data)
			}
			// Deterministic: the same bytes map to the same alerts.
			again, err := typ.Map(data)
			if err != nil || !reflect.DeepEqual(alerts, again) {
				t.Fatalf("%s: second run differs (err %v)", typ.Key, err)
			}
		}
	})
}

func checkAlert(t *testing.T, key string, i int, a Alert, data []byte) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s alert %d: "+format, append([]any{key, i}, args...)...)
	}
	if a.Title == "" || utf8.RuneCountInString(a.Title) > maxTitle || !utf8.ValidString(a.Title) {
		fail("bad title %q", a.Title)
	}
	if a.Title != string(bytes.TrimSpace([]byte(a.Title))) || containsControl(a.Title) {
		fail("title not trimmed to one line: %q", a.Title)
	}
	if !a.Severity.Valid() {
		fail("invalid severity %q", a.Severity)
	}
	if a.Source == "" {
		fail("empty source")
	}
	if len(a.Raw) == 0 || !json.Valid(a.Raw) || a.Raw[0] != '{' {
		fail("raw is not a JSON object: %.80q", a.Raw)
	}
	if !bytes.Contains(data, a.Raw) {
		fail("raw is not a byte-identical part of the payload")
	}
	for k, v := range a.Attributes {
		if !IsAttributeKey(k) || v == "" {
			fail("bad attribute %q=%q", k, v)
		}
	}
	for _, m := range a.Mitre {
		if id, ok := normTechnique(m); !ok || id != m {
			fail("bad technique %q", m)
		}
	}
	for _, tag := range a.Tags {
		if tag == "" {
			fail("empty tag")
		}
	}
	if a.EventTime != nil && (a.EventTime.Location().String() != "UTC" || a.EventTime.Year() < 1 || a.EventTime.Year() > 9999) {
		fail("bad event time %v", a.EventTime)
	}
	if _, err := json.Marshal(a); err != nil {
		fail("does not marshal: %v", err)
	}
}

func containsControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
