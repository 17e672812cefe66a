package connectors

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/internal/apperr"
)

const (
	push = enum.ConnectorModePush
	pull = enum.ConnectorModePull
)

func mustType(t testing.TB, key string) catalogue.Type {
	t.Helper()
	ct, ok := catalogue.Lookup(key)
	if !ok {
		t.Fatalf("catalogue has no type %q", key)
	}
	return ct
}

// wantInvalid fails unless err is a 422 naming field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.BadInput {
		t.Fatalf("got %v (%T), want BAD_USER_INPUT on %q", err, err, field)
	}
	if e.Field != field {
		t.Fatalf("got field %q (%v), want %q", e.Field, e, field)
	}
}

func TestValidateSettings(t *testing.T) {
	csPull := map[string]any{"base_url": "https://api.crowdstrike.com", "client_id": "cid", "client_secret": "s"}
	with := func(base map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	cases := []struct {
		name     string
		typ      string
		mode     enum.ConnectorMode
		settings map[string]any
		field    string         // "" = accepted
		want     map[string]any // canonical result when accepted (nil = no settings)
	}{
		{name: "nil settings", typ: "generic", mode: push},
		{name: "empty settings", typ: "generic", mode: push, settings: map[string]any{}},
		{name: "type without settings refuses any", typ: "generic", mode: push, settings: map[string]any{"x": 1}, field: "settings.x"},
		{name: "unknown property", typ: "crowdstrike", mode: push, settings: map[string]any{"client_id": "a", "clientid": "b"}, field: "settings.clientid"},
		{name: "top-level null means unset", typ: "crowdstrike", mode: push, settings: map[string]any{"client_id": nil, "filter": "x"}, want: map[string]any{"filter": "x"}},
		{name: "null of unknown property is unset too", typ: "generic", mode: push, settings: map[string]any{"x": nil}},
		{name: "pull settings complete", typ: "crowdstrike", mode: pull, settings: csPull, want: csPull},
		{name: "pull without settings", typ: "crowdstrike", mode: pull, field: "settings.base_url"},
		{name: "pull missing secret", typ: "crowdstrike", mode: pull, settings: with(csPull, "client_secret", nil), field: "settings.client_secret"},
		{name: "pull with empty required string", typ: "crowdstrike", mode: pull, settings: with(csPull, "client_id", ""), field: "settings.client_id"},
		{name: "push needs nothing", typ: "crowdstrike", mode: push, settings: map[string]any{"filter": ""}, want: map[string]any{"filter": ""}},
		{name: "splunk pull needs search", typ: "splunk", mode: pull, settings: map[string]any{"base_url": "https://s:8089", "token": "t"}, field: "settings.search"},
		{name: "wazuh pull needs password", typ: "wazuh", mode: pull, settings: map[string]any{"base_url": "https://w:9200", "username": "u"}, field: "settings.password"},
		{name: "string wrong type", typ: "crowdstrike", mode: push, settings: map[string]any{"client_id": 5}, field: "settings.client_id"},
		{name: "secret minLength", typ: "crowdstrike", mode: push, settings: map[string]any{"client_secret": ""}, field: "settings.client_secret"},
		{name: "url pattern", typ: "crowdstrike", mode: push, settings: map[string]any{"base_url": "ftp://x.example"}, field: "settings.base_url"},
		{name: "url without host", typ: "crowdstrike", mode: push, settings: map[string]any{"base_url": "https://"}, field: "settings.base_url"},
		{name: "url with space in host", typ: "crowdstrike", mode: push, settings: map[string]any{"base_url": "https://exa mple.com"}, field: "settings.base_url"},
		{name: "url relative", typ: "elastic", mode: push, settings: map[string]any{"base_url": "http:/es"}, field: "settings.base_url"},
		{name: "url with port and path", typ: "elastic", mode: push, settings: map[string]any{"base_url": "http://es.internal:9200/x"}, want: map[string]any{"base_url": "http://es.internal:9200/x"}},
		{name: "boolean", typ: "elastic", mode: push, settings: map[string]any{"verify_tls": true}, want: map[string]any{"verify_tls": true}},
		{name: "boolean as string", typ: "elastic", mode: push, settings: map[string]any{"verify_tls": "true"}, field: "settings.verify_tls"},
		{name: "retired interval setting", typ: "crowdstrike", mode: push, settings: map[string]any{"poll_interval_seconds": 60}, field: "settings.poll_interval_seconds"},
		{name: "retired event stream setting", typ: "crowdstrike", mode: push, settings: map[string]any{"use_event_stream": true}, field: "settings.use_event_stream"},
		{name: "integer at maximum", typ: "wazuh", mode: push, settings: map[string]any{"min_level": 15}, want: map[string]any{"min_level": int64(15)}},
		{name: "integer written as float", typ: "wazuh", mode: push, settings: map[string]any{"min_level": 6.0}, want: map[string]any{"min_level": int64(6)}},
		{name: "integer in exponent form", typ: "wazuh", mode: push, settings: map[string]any{"min_level": json.Number("6e0")}, want: map[string]any{"min_level": int64(6)}},
		{name: "fraction is not an integer", typ: "wazuh", mode: push, settings: map[string]any{"min_level": 6.5}, field: "settings.min_level"},
		{name: "huge number", typ: "wazuh", mode: push, settings: map[string]any{"min_level": json.Number("1e400")}, field: "settings.min_level"},
		{name: "integer as string", typ: "wazuh", mode: push, settings: map[string]any{"min_level": "6"}, field: "settings.min_level"},
		{name: "minimum zero", typ: "wazuh", mode: push, settings: map[string]any{"min_level": 0}, want: map[string]any{"min_level": int64(0)}},
		{name: "negative", typ: "wazuh", mode: push, settings: map[string]any{"min_level": -1}, field: "settings.min_level"},
		{name: "above level maximum", typ: "wazuh", mode: push, settings: map[string]any{"min_level": 16}, field: "settings.min_level"},
		{name: "string list", typ: "sentinelone", mode: push, settings: map[string]any{"site_ids": []string{"a", "b"}}, want: map[string]any{"site_ids": []any{"a", "b"}}},
		{name: "empty list", typ: "sentinelone", mode: push, settings: map[string]any{"site_ids": []any{}}, want: map[string]any{"site_ids": []any{}}},
		{name: "duplicate list element", typ: "sentinelone", mode: push, settings: map[string]any{"site_ids": []any{"a", "b", "a"}}, field: "settings.site_ids.2"},
		{name: "list element wrong type", typ: "sentinelone", mode: push, settings: map[string]any{"account_ids": []any{"a", 1}}, field: "settings.account_ids.1"},
		{name: "null list element", typ: "email", mode: push, settings: map[string]any{"allowed_senders": []any{nil}}, field: "settings.allowed_senders.0"},
		{name: "list as string", typ: "email", mode: push, settings: map[string]any{"allowed_senders": "@example.com"}, field: "settings.allowed_senders"},
		{name: "not JSON", typ: "crowdstrike", mode: push, settings: map[string]any{"poll_interval_seconds": math.NaN()}, field: "settings"},
		{name: "too large", typ: "crowdstrike", mode: push, settings: map[string]any{"filter": strings.Repeat("a", maxSettingsBytes)}, field: "settings"},
		{name: "unicode length counts characters", typ: "crowdstrike", mode: push, settings: map[string]any{"client_secret": "é"}, want: map[string]any{"client_secret": "é"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := validateSettings(mustType(t, tc.typ), tc.mode, tc.settings)
			if tc.field != "" {
				wantInvalid(t, err, tc.field)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestCheckValueKeywords covers keywords the catalogue declares support for
// but no type uses yet (enum, number).
func TestCheckValueKeywords(t *testing.T) {
	cases := []struct {
		name   string
		schema map[string]any
		value  any
		ok     bool
	}{
		{"string enum hit", map[string]any{"type": "string", "enum": []any{"a", "b"}}, "b", true},
		{"string enum miss", map[string]any{"type": "string", "enum": []any{"a", "b"}}, "c", false},
		{"Go string list enum", map[string]any{"type": "string", "enum": []string{"a"}}, "a", true},
		{"integer enum across Go types", map[string]any{"type": "integer", "enum": []any{1, 2}}, json.Number("2"), true},
		{"integer enum miss", map[string]any{"type": "integer", "enum": []any{1, 2}}, json.Number("3"), false},
		{"number in range", map[string]any{"type": "number", "minimum": 0.5, "maximum": 1}, json.Number("0.75"), true},
		{"number below", map[string]any{"type": "number", "minimum": 0.5}, json.Number("0.25"), false},
		{"number wrong type", map[string]any{"type": "number"}, "1", false},
		{"array without items schema", map[string]any{"type": "array", "uniqueItems": true}, []any{json.Number("1"), "1"}, true},
		{"unique objects compared by content", map[string]any{"type": "array", "uniqueItems": true}, []any{map[string]any{"a": "1", "b": "2"}, map[string]any{"b": "2", "a": "1"}}, false},
		{"nested object", map[string]any{"type": "object", "properties": map[string]any{"o": map[string]any{"type": "object", "properties": map[string]any{"x": map[string]any{"type": "boolean"}}}}},
			map[string]any{"o": map[string]any{"x": false}}, true},
		{"nested unknown", map[string]any{"type": "object", "properties": map[string]any{"o": map[string]any{"type": "object"}}},
			map[string]any{"o": map[string]any{"x": false}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkValue(tc.schema, "settings.v", tc.value)
			if tc.ok && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !tc.ok {
				e, isApp := apperr.As(err)
				if !isApp || e.Code != apperr.BadInput || !strings.HasPrefix(e.Field, "settings.v") {
					t.Fatalf("got %v, want BAD_USER_INPUT under settings.v", err)
				}
			}
		})
	}
	if _, err := checkValue(map[string]any{"type": "null"}, "settings.v", nil); err == nil {
		t.Fatal("an unsupported schema type must be an error")
	} else if _, isApp := apperr.As(err); isApp {
		t.Fatalf("a catalogue bug must not be reported as bad input: %v", err)
	}
}

// validatorKeywords is every schema keyword validateSettings understands
// (constraints) or knowingly ignores (annotations).
var validatorKeywords = map[string]bool{
	"$schema": true, "title": true, "description": true, "default": true, "writeOnly": true,
	"type": true, "properties": true, "x-required-for-pull": true, "enum": true,
	"minimum": true, "maximum": true, "minLength": true, "pattern": true, "format": true,
	"items": true, "uniqueItems": true,
}

// TestCatalogueSchemasUseKnownKeywords fails when a catalogue type starts
// using a keyword the validator would silently ignore.
func TestCatalogueSchemasUseKnownKeywords(t *testing.T) {
	var walk func(key, path string, s map[string]any)
	walk = func(key, path string, s map[string]any) {
		for k, v := range s {
			if !validatorKeywords[k] {
				t.Errorf("%s %s: keyword %q is not supported by the settings validator", key, path, k)
			}
			if k == "format" && v != "uri" {
				t.Errorf("%s %s: format %v is not supported", key, path, v)
			}
		}
		if items, ok := s["items"].(map[string]any); ok {
			walk(key, path+".items", items)
		}
		for name, p := range properties(s) {
			ps, ok := p.(map[string]any)
			if !ok {
				t.Errorf("%s %s.%s: property schema is %T", key, path, name, p)
				continue
			}
			walk(key, path+"."+name, ps)
		}
	}
	for _, ct := range catalogue.Types() {
		if ct.Settings["type"] != "object" {
			t.Errorf("%s: settings schema type %v, want object", ct.Key, ct.Settings["type"])
		}
		walk(ct.Key, "settings", ct.Settings)
		for _, name := range stringList(ct.Settings["x-required-for-pull"]) {
			if _, ok := properties(ct.Settings)[name]; !ok {
				t.Errorf("%s: x-required-for-pull names undeclared setting %q", ct.Key, name)
			}
		}
	}
}

func TestMaskedSettings(t *testing.T) {
	cases := []struct {
		name string
		c    *ent.Connector
		want map[string]any
	}{
		{"secret masked, others kept, retired ones dropped", &ent.Connector{Type: "crowdstrike", Settings: map[string]any{"client_id": "cid", "client_secret": "s3cret", "poll_interval_seconds": 60.0}},
			map[string]any{"client_id": "cid", "client_secret": Mask}},
		{"other secret names", &ent.Connector{Type: "wazuh", Settings: map[string]any{"username": "u", "password": "pw"}},
			map[string]any{"username": "u", "password": Mask}},
		{"type stored in another case", &ent.Connector{Type: "Splunk", Settings: map[string]any{"token": "t", "app": "search"}},
			map[string]any{"token": Mask, "app": "search"}},
		{"no settings", &ent.Connector{Type: "generic"}, map[string]any{}},
		{"unknown type masks everything", &ent.Connector{Type: "gone", Settings: map[string]any{"a": "1", "b": true}},
			map[string]any{"a": Mask, "b": Mask}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := MaskedSettings(tc.c); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestUnmask(t *testing.T) {
	cs := mustType(t, "crowdstrike")
	stored := map[string]any{"client_id": "cid", "client_secret": "s3cret"}
	cases := []struct {
		name   string
		in     map[string]any
		stored map[string]any
		want   map[string]any
		field  string
	}{
		{"echoed mask keeps stored secret", map[string]any{"client_id": "new", "client_secret": Mask}, stored,
			map[string]any{"client_id": "new", "client_secret": "s3cret"}, ""},
		{"new secret replaces", map[string]any{"client_secret": "other"}, stored, map[string]any{"client_secret": "other"}, ""},
		{"mask on a non-secret is a plain value", map[string]any{"client_id": Mask}, stored, map[string]any{"client_id": Mask}, ""},
		{"mask with nothing stored", map[string]any{"client_secret": Mask}, nil, nil, "settings.client_secret"},
		{"nil stays nil", nil, stored, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := unmask(cs, tc.in, tc.stored)
			if tc.field != "" {
				wantInvalid(t, err, tc.field)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
	if stored["client_secret"] != "s3cret" {
		t.Fatal("unmask modified the stored settings")
	}
}

func TestCatalogue(t *testing.T) {
	got, want := Catalogue(), catalogue.Types()
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("got %d types, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Key != want[i].Key {
			t.Errorf("position %d: got %s, want %s", i, got[i].Key, want[i].Key)
		}
		if i > 0 && got[i] == got[i-1] {
			t.Errorf("position %d aliases the previous element", i)
		}
	}
}

// FuzzValidateSettings feeds JSON objects to every catalogue type's schema:
// nothing panics, every refusal is a 422 under "settings", and accepted
// settings, stored and read back, validate again to the same value.
func FuzzValidateSettings(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"base_url":"https://api.crowdstrike.com","client_id":"c","client_secret":"s","poll_interval_seconds":60}`,
		`{"base_url":"http://h:1/p","api_key":"k","verify_tls":false,"poll_interval_seconds":6e1}`,
		`{"site_ids":["a","b"],"account_ids":[],"confidence_levels":["malicious"]}`,
		`{"site_ids":["a","a"]}`,
		`{"min_level":15,"password":"p","username":"u","base_url":"https://w:9200"}`,
		`{"allowed_senders":["@example.com",null]}`,
		`{"poll_interval_seconds":1e400,"client_id":null}`,
		`{"token":"********","search":"x"}`,
		`{"nope":{"deep":[1,2,{"x":true}]}}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, pullMode bool) {
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			return
		}
		mode := push
		if pullMode {
			mode = pull
		}
		for _, ct := range catalogue.Types() {
			got, err := validateSettings(ct, mode, doc)
			if err != nil {
				if e, ok := apperr.As(err); !ok || e.Code != apperr.BadInput || !strings.HasPrefix(e.Field, "settings") {
					t.Fatalf("%s: refusal %v (%T) is not a 422 under settings", ct.Key, err, err)
				}
				continue
			}
			stored := roundTrip(t, got)
			again, err := validateSettings(ct, mode, stored)
			if err != nil {
				t.Fatalf("%s: accepted %s, then refused it after storage: %v", ct.Key, data, err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Fatalf("%s: canonical form unstable: %#v then %#v", ct.Key, got, again)
			}
		}
	})
}

// roundTrip mimics the JSON column: marshal, then decode into plain Go values.
func roundTrip(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
