package connectors_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/auth/credential"
	"github.com/seliq/seliq/connectors"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/ent/deadletter"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func ptr[T any](v T) *T { return &v }

// tenant is an organisation with an admin acting in it.
type tenant struct {
	org   *ent.Organization
	admin *ent.User
	ctx   context.Context
}

func newTenant(t *testing.T, db *storage.DB, slug string) tenant {
	t.Helper()
	org := testenv.Org(t, db, testenv.Slug(slug), testenv.Name(strings.ToUpper(slug)))
	u := testenv.User(t, db, org, enum.RoleAdmin, testenv.Handle("admin-"+slug), testenv.Email("admin@"+slug+".test"), testenv.FullName("Admin "+slug))
	return tenant{org: org, admin: u, ctx: testenv.As(u, org)}
}

func wantCode(t *testing.T, err error, code apperr.Code) *apperr.Error {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != code {
		t.Fatalf("got %v (%T), want %s", err, err, code)
	}
	return e
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if e := wantCode(t, err, apperr.BadInput); e.Field != field {
		t.Fatalf("got field %q (%v), want %q", e.Field, e, field)
	}
}

// activities returns the activity of one connector, keyed "action" or
// "action field".
func activities(t *testing.T, ctx context.Context, db *storage.DB, id uuid.UUID) map[string]*ent.Activity {
	t.Helper()
	rows, err := db.Client.Activity.Query().Where(activity.EntityType("connector"), activity.EntityID(id)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]*ent.Activity, len(rows))
	for _, r := range rows {
		key := strings.TrimSpace(r.Action + " " + r.Field)
		if _, dup := out[key]; dup {
			t.Fatalf("two activity rows %q", key)
		}
		out[key] = r
	}
	return out
}

// jsonOf decodes an activity before/after value (nil when absent).
func jsonOf(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

const secret = "s3cret-falcon"

// falconPull is a valid pull connector with a secret setting.
func falconPull() connectors.CreateConnectorInput {
	return connectors.CreateConnectorInput{
		Name: "Falcon", Type: "crowdstrike", Mode: ptr(enum.ConnectorModePull),
		Settings: map[string]any{
			"base_url": "https://api.crowdstrike.com", "client_id": "cid", "client_secret": secret, "filter": "status:'new'",
		},
		DedupFields: []string{"source", "host"},
	}
}

func TestCreate(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a := newTenant(t, db, "acme")
		box := testenv.Box(t)
		svc := connectors.New(db.Client, box)
		_ = box
		authn := auth.New(db.Client, auth.Config{})
		cases := []struct {
			name  string
			in    connectors.CreateConnectorInput
			field string // "" = created
			check func(t *testing.T, c *ent.Connector)
		}{
			{name: "defaults", in: connectors.CreateConnectorInput{Name: "  Webhook  ", Type: "generic"},
				check: func(t *testing.T, c *ent.Connector) {
					if c.Name != "Webhook" || c.Type != "generic" || c.Mode != enum.ConnectorModePush || !c.Enabled {
						t.Errorf("got name %q type %q mode %s enabled %v", c.Name, c.Type, c.Mode, c.Enabled)
					}
					if c.Settings != nil || c.DedupFields != nil {
						t.Errorf("got settings %v dedup %v, want none stored", c.Settings, c.DedupFields)
					}
					if c.DedupWindowSeconds != 600 || c.PollIntervalSeconds != 60 || c.RateLimitPerMinute != 300 {
						t.Errorf("got limits %d/%d/%d, want schema defaults", c.DedupWindowSeconds, c.PollIntervalSeconds, c.RateLimitPerMinute)
					}
				}},
			{name: "pull with secret and overrides", in: falconPull(), check: func(t *testing.T, c *ent.Connector) {
				if c.Mode != enum.ConnectorModePull || c.Settings["client_secret"] == secret || opened(t, box, c)["client_secret"] != secret {
					t.Errorf("got mode %s settings %v, want the secret sealed", c.Mode, c.Settings)
				}
				if !slices.Equal(c.DedupFields, []string{"source", "host"}) {
					t.Errorf("got dedup fields %v", c.DedupFields)
				}
			}},
			{name: "type key normalised, all limits", in: connectors.CreateConnectorInput{
				Name: strings.Repeat("é", 100), Type: " Wazuh ", Enabled: ptr(false),
				Settings:           map[string]any{"min_level": json.Number("7"), "verify_tls": false},
				DedupWindowSeconds: ptr(1), PollIntervalSeconds: ptr(86400), RateLimitPerMinute: ptr(100000),
			}, check: func(t *testing.T, c *ent.Connector) {
				if c.Type != "wazuh" || c.Enabled || c.DedupWindowSeconds != 1 || c.PollIntervalSeconds != 86400 || c.RateLimitPerMinute != 100000 {
					t.Errorf("got %+v", c)
				}
				if c.Settings["min_level"] != 7.0 || c.Settings["verify_tls"] != false {
					t.Errorf("got settings %#v", c.Settings)
				}
			}},
			{name: "unknown type", in: connectors.CreateConnectorInput{Name: "x", Type: "qradar"}, field: "type"},
			{name: "empty type", in: connectors.CreateConnectorInput{Name: "x"}, field: "type"},
			{name: "pull on push-only type", in: connectors.CreateConnectorInput{Name: "x", Type: "generic", Mode: ptr(enum.ConnectorModePull)}, field: "mode"},
			{name: "unknown mode", in: connectors.CreateConnectorInput{Name: "x", Type: "splunk", Mode: ptr(enum.ConnectorMode("sideways"))}, field: "mode"},
			{name: "blank name", in: connectors.CreateConnectorInput{Name: "   ", Type: "generic"}, field: "name"},
			{name: "name too long", in: connectors.CreateConnectorInput{Name: strings.Repeat("n", 201), Type: "generic"}, field: "name"},
			{name: "name too long in UTF-8", in: connectors.CreateConnectorInput{Name: strings.Repeat("é", 101), Type: "generic"}, field: "name"},
			{name: "name not UTF-8", in: connectors.CreateConnectorInput{Name: "bad\xff", Type: "generic"}, field: "name"},
			{name: "unknown setting", in: connectors.CreateConnectorInput{Name: "x", Type: "generic", Settings: map[string]any{"url": "https://x"}}, field: "settings.url"},
			{name: "setting wrong type", in: connectors.CreateConnectorInput{Name: "x", Type: "splunk", Settings: map[string]any{"verify_tls": "yes"}}, field: "settings.verify_tls"},
			{name: "pull without required settings", in: connectors.CreateConnectorInput{Name: "x", Type: "elastic", Mode: ptr(enum.ConnectorModePull),
				Settings: map[string]any{"base_url": "https://es:9200"}}, field: "settings.api_key"},
			{name: "masked secret on create", in: connectors.CreateConnectorInput{Name: "x", Type: "elastic", Settings: map[string]any{"api_key": connectors.Mask}}, field: "settings.api_key"},
			{name: "unknown dedup field", in: connectors.CreateConnectorInput{Name: "x", Type: "generic", DedupFields: []string{"hostname"}}, field: "dedup_fields"},
			{name: "duplicate dedup field", in: connectors.CreateConnectorInput{Name: "x", Type: "generic", DedupFields: []string{"host", "user", "host"}}, field: "dedup_fields"},
			{name: "too many dedup fields", in: connectors.CreateConnectorInput{Name: "x", Type: "generic", DedupFields: slices.Repeat([]string{"host"}, 21)}, field: "dedup_fields"},
			{name: "dedup window zero", in: connectors.CreateConnectorInput{Name: "x", Type: "generic", DedupWindowSeconds: ptr(0)}, field: "dedup_window_seconds"},
			{name: "dedup window above a day", in: connectors.CreateConnectorInput{Name: "x", Type: "generic", DedupWindowSeconds: ptr(86401)}, field: "dedup_window_seconds"},
			{name: "poll interval too short", in: connectors.CreateConnectorInput{Name: "x", Type: "generic", PollIntervalSeconds: ptr(14)}, field: "poll_interval_seconds"},
			{name: "poll interval too long", in: connectors.CreateConnectorInput{Name: "x", Type: "generic", PollIntervalSeconds: ptr(86401)}, field: "poll_interval_seconds"},
			{name: "rate limit zero", in: connectors.CreateConnectorInput{Name: "x", Type: "generic", RateLimitPerMinute: ptr(0)}, field: "rate_limit_per_minute"},
			{name: "rate limit too high", in: connectors.CreateConnectorInput{Name: "x", Type: "generic", RateLimitPerMinute: ptr(100001)}, field: "rate_limit_per_minute"},
		}
		created := 0
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := svc.Create(a.ctx, tc.in)
				if tc.field != "" {
					wantInvalid(t, err, tc.field)
					return
				}
				if err != nil {
					t.Fatalf("create: %v", err)
				}
				created++
				c, err := db.Client.Connector.Get(a.ctx, got.Connector.ID)
				if err != nil {
					t.Fatal(err)
				}
				if c.OrganizationID != a.org.ID {
					t.Errorf("organisation %s, want %s", c.OrganizationID, a.org.ID)
				}
				if !strings.HasPrefix(got.APIKey, credential.PrefixConnector) || c.KeyPrefix != credential.DisplayPrefix(got.APIKey) ||
					string(c.KeyHash) != string(credential.HashSecret(got.APIKey)) {
					t.Errorf("key %q stored as prefix %q", got.APIKey, c.KeyPrefix)
				}
				if v, err := authn.AuthenticateConnector(context.Background(), got.APIKey); c.Enabled && (err != nil || v.ConnectorID != c.ID) {
					t.Errorf("new key does not authenticate: %v", err)
				}
				tc.check(t, c)
				acts := activities(t, a.ctx, db, c.ID)
				act, ok := acts["create"]
				if !ok || len(acts) != 1 {
					t.Fatalf("got activity %v, want one create", acts)
				}
				if act.ActorID == nil || *act.ActorID != a.admin.ID {
					t.Errorf("actor %v, want %s", act.ActorID, a.admin.ID)
				}
				if strings.Contains(string(act.After), got.APIKey) || strings.Contains(string(act.After), secret) {
					t.Errorf("activity leaks a secret: %s", act.After)
				}
			})
		}
		if n := db.Client.Connector.Query().CountX(a.ctx); n != created {
			t.Fatalf("%d connectors stored, want %d (refused inputs must write nothing)", n, created)
		}
		if _, err := svc.Create(context.Background(), connectors.CreateConnectorInput{Name: "x", Type: "generic"}); err == nil {
			t.Fatal("create without a viewer succeeded")
		}
	})
}

func TestUpdate(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a := newTenant(t, db, "acme")
		box := testenv.Box(t)
		svc := connectors.New(db.Client, box)
		_ = box
		pushEmpty := connectors.CreateConnectorInput{Name: "Falcon", Type: "crowdstrike"}
		// change is one activity row: field, before, after (JSON-decoded).
		type change struct {
			field         string
			before, after any
		}
		cases := []struct {
			name    string
			base    *connectors.CreateConnectorInput // nil = falconPull
			in      connectors.UpdateConnectorInput
			field   string // "" = accepted
			changes []change
			check   func(t *testing.T, c *ent.Connector)
		}{
			{name: "rename, trimmed", in: connectors.UpdateConnectorInput{Name: ptr("  Falcon EU ")},
				changes: []change{{"name", "Falcon", "Falcon EU"}}},
			{name: "echo of what was read changes nothing", in: connectors.UpdateConnectorInput{
				Name: ptr("Falcon"), Enabled: ptr(true), Mode: ptr(enum.ConnectorModePull), DedupFields: []string{"source", "host"},
				Settings: map[string]any{"base_url": "https://api.crowdstrike.com", "client_id": "cid", "client_secret": connectors.Mask, "filter": "status:'new'"},
			}},
			{name: "echoed mask keeps the secret; settings replaced as a whole", in: connectors.UpdateConnectorInput{
				Settings: map[string]any{"base_url": "https://api.crowdstrike.com", "client_id": "cid2", "client_secret": connectors.Mask},
			}, changes: []change{
				{"settings.client_id", "cid", "cid2"},
				{"settings.filter", "status:'new'", nil},
			}, check: func(t *testing.T, c *ent.Connector) {
				if opened(t, box, c)["client_secret"] != secret || c.Settings["filter"] != nil {
					t.Errorf("got settings %#v", c.Settings)
				}
			}},
			{name: "a new base URL needs the secret again", in: connectors.UpdateConnectorInput{
				Settings: map[string]any{"base_url": "https://api.eu-1.crowdstrike.com", "client_id": "cid", "client_secret": connectors.Mask},
			}, field: "settings.client_secret"},
			{name: "a new base URL with the secret", in: connectors.UpdateConnectorInput{
				Settings: map[string]any{"base_url": "https://api.eu-1.crowdstrike.com", "client_id": "cid", "client_secret": secret},
			}, changes: []change{
				{"settings.base_url", "https://api.crowdstrike.com", "https://api.eu-1.crowdstrike.com"},
				{"settings.client_secret", connectors.Mask, connectors.Mask},
				{"settings.filter", "status:'new'", nil},
			}},
			{name: "a retired setting is refused", in: connectors.UpdateConnectorInput{
				Settings: map[string]any{"base_url": "https://api.crowdstrike.com", "client_id": "cid", "client_secret": connectors.Mask, "use_event_stream": true},
			}, field: "settings.use_event_stream"},
			{name: "new secret is recorded masked", in: connectors.UpdateConnectorInput{
				Settings: map[string]any{"base_url": "https://api.crowdstrike.com", "client_id": "cid", "client_secret": "s3cret-rotated", "filter": "status:'new'"},
			}, changes: []change{{"settings.client_secret", connectors.Mask, connectors.Mask}},
				check: func(t *testing.T, c *ent.Connector) {
					if opened(t, box, c)["client_secret"] != "s3cret-rotated" {
						t.Errorf("secret %v not replaced", c.Settings["client_secret"])
					}
				}},
			{name: "clearing settings in pull mode", in: connectors.UpdateConnectorInput{Settings: map[string]any{}}, field: "settings.base_url"},
			{name: "to push and clear settings", in: connectors.UpdateConnectorInput{Mode: ptr(enum.ConnectorModePush), Settings: map[string]any{}},
				changes: []change{
					{"mode", "pull", "push"},
					{"settings.base_url", "https://api.crowdstrike.com", nil},
					{"settings.client_id", "cid", nil},
					{"settings.client_secret", connectors.Mask, nil},
					{"settings.filter", "status:'new'", nil},
				}, check: func(t *testing.T, c *ent.Connector) {
					if c.Settings != nil {
						t.Errorf("settings %v, want none", c.Settings)
					}
				}},
			{name: "to pull without the settings pull needs", base: &pushEmpty, in: connectors.UpdateConnectorInput{Mode: ptr(enum.ConnectorModePull)}, field: "settings.base_url"},
			{name: "to pull with settings", base: &pushEmpty, in: connectors.UpdateConnectorInput{
				Mode: ptr(enum.ConnectorModePull), Settings: map[string]any{"base_url": "https://api.crowdstrike.com", "client_id": "c", "client_secret": "k"},
			}, changes: []change{
				{"mode", "push", "pull"},
				{"settings.base_url", nil, "https://api.crowdstrike.com"},
				{"settings.client_id", nil, "c"},
				{"settings.client_secret", nil, connectors.Mask},
			}},
			{name: "unknown mode", in: connectors.UpdateConnectorInput{Mode: ptr(enum.ConnectorMode("poll"))}, field: "mode"},
			{name: "masked secret never stored", base: &pushEmpty, in: connectors.UpdateConnectorInput{Settings: map[string]any{"client_secret": connectors.Mask}}, field: "settings.client_secret"},
			{name: "unknown setting", in: connectors.UpdateConnectorInput{Settings: map[string]any{"base_url": "https://x.example", "secret": "x"}}, field: "settings.secret"},
			{name: "blank name", in: connectors.UpdateConnectorInput{Name: ptr(" ")}, field: "name"},
			{name: "disable", in: connectors.UpdateConnectorInput{Enabled: ptr(false)}, changes: []change{{"enabled", true, false}}},
			{name: "empty dedup fields restore the default", in: connectors.UpdateConnectorInput{DedupFields: []string{}},
				changes: []change{{"dedup_fields", []any{"source", "host"}, nil}},
				check: func(t *testing.T, c *ent.Connector) {
					if c.DedupFields != nil {
						t.Errorf("dedup fields %v, want none", c.DedupFields)
					}
				}},
			{name: "dedup fields override", in: connectors.UpdateConnectorInput{DedupFields: []string{"rule", "host", "user"}},
				changes: []change{{"dedup_fields", []any{"source", "host"}, []any{"rule", "host", "user"}}}},
			{name: "bad dedup field", in: connectors.UpdateConnectorInput{DedupFields: []string{"title", "title"}}, field: "dedup_fields"},
			{name: "limits", in: connectors.UpdateConnectorInput{DedupWindowSeconds: ptr(3600), PollIntervalSeconds: ptr(30), RateLimitPerMinute: ptr(600)},
				changes: []change{{"dedup_window_seconds", 600.0, 3600.0}, {"poll_interval_seconds", 60.0, 30.0}, {"rate_limit_per_minute", 300.0, 600.0}}},
			{name: "dedup window too long", in: connectors.UpdateConnectorInput{DedupWindowSeconds: ptr(86401)}, field: "dedup_window_seconds"},
			{name: "poll interval too short", in: connectors.UpdateConnectorInput{PollIntervalSeconds: ptr(10)}, field: "poll_interval_seconds"},
			{name: "rate limit negative", in: connectors.UpdateConnectorInput{Name: ptr("ok"), RateLimitPerMinute: ptr(-1)}, field: "rate_limit_per_minute"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				base := falconPull()
				if tc.base != nil {
					base = *tc.base
				}
				created, err := svc.Create(a.ctx, base)
				if err != nil {
					t.Fatal(err)
				}
				// Read back: PostgreSQL keeps microseconds, the returned entity nanoseconds.
				before, err := db.Client.Connector.Get(a.ctx, created.Connector.ID)
				if err != nil {
					t.Fatal(err)
				}
				got, err := svc.Update(a.ctx, before.ID, tc.in)
				stored, gerr := db.Client.Connector.Get(a.ctx, before.ID)
				if gerr != nil {
					t.Fatal(gerr)
				}
				acts := activities(t, a.ctx, db, before.ID)
				delete(acts, "create")
				if tc.field != "" {
					wantInvalid(t, err, tc.field)
					if !reflect.DeepEqual(stored.Settings, before.Settings) || stored.Name != before.Name || stored.Mode != before.Mode ||
						!stored.UpdatedAt.Equal(before.UpdatedAt) {
						t.Errorf("refused update changed the connector: %+v", stored)
					}
					if len(acts) != 0 {
						t.Errorf("refused update wrote activity %v", acts)
					}
					return
				}
				if err != nil {
					t.Fatalf("update: %v", err)
				}
				if got.ID != before.ID || got.Name != stored.Name || got.Mode != stored.Mode {
					t.Errorf("returned %+v, stored %+v", got, stored)
				}
				if len(tc.changes) == 0 && !stored.UpdatedAt.Equal(before.UpdatedAt) {
					t.Errorf("an update without changes was written")
				}
				for _, ch := range tc.changes {
					act, ok := acts["update "+ch.field]
					if !ok {
						t.Errorf("no activity for %s (have %v)", ch.field, keys(acts))
						continue
					}
					if b, a := jsonOf(t, act.Before), jsonOf(t, act.After); !reflect.DeepEqual(b, ch.before) || !reflect.DeepEqual(a, ch.after) {
						t.Errorf("%s: activity %v → %v, want %v → %v", ch.field, b, a, ch.before, ch.after)
					}
					delete(acts, "update "+ch.field)
				}
				if len(acts) != 0 {
					t.Errorf("unexpected activity %v", keys(acts))
				}
				if tc.check != nil {
					tc.check(t, stored)
				}
			})
		}
		rows := db.Client.Activity.Query().Where(activity.EntityType("connector")).AllX(a.ctx)
		for _, r := range rows {
			if strings.Contains(string(r.Before)+string(r.After), "s3cret") {
				t.Errorf("activity %s %s leaks a secret: %s → %s", r.Action, r.Field, r.Before, r.After)
			}
		}
	})
}

func keys(m map[string]*ent.Activity) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestRotateKey(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a := newTenant(t, db, "acme")
		box := testenv.Box(t)
		svc := connectors.New(db.Client, box)
		_ = box
		authn := auth.New(db.Client, auth.Config{})
		created, err := svc.Create(a.ctx, connectors.CreateConnectorInput{Name: "Splunk", Type: "splunk"})
		if err != nil {
			t.Fatal(err)
		}
		oldKey := created.APIKey
		rotated, err := svc.RotateKey(a.ctx, created.Connector.ID)
		if err != nil {
			t.Fatal(err)
		}
		newKey := rotated.APIKey
		if newKey == oldKey || !strings.HasPrefix(newKey, credential.PrefixConnector) {
			t.Fatalf("rotated key %q (old %q)", newKey, oldKey)
		}
		if rotated.Connector.KeyPrefix != credential.DisplayPrefix(newKey) {
			t.Errorf("prefix %q, want %q", rotated.Connector.KeyPrefix, credential.DisplayPrefix(newKey))
		}
		for _, tc := range []struct {
			name string
			key  string
			ok   bool
		}{{"old key refused", oldKey, false}, {"new key accepted", newKey, true}} {
			t.Run(tc.name, func(t *testing.T) {
				v, err := authn.AuthenticateConnector(context.Background(), tc.key)
				if !tc.ok {
					wantCode(t, err, apperr.Unauthenticated)
					return
				}
				if err != nil || v.ConnectorID != created.Connector.ID || v.OrgID != a.org.ID {
					t.Fatalf("got %+v, %v", v, err)
				}
			})
		}
		acts := activities(t, a.ctx, db, created.Connector.ID)
		act, ok := acts["rotate_key"]
		if !ok || len(act.Before) != 0 || len(act.After) != 0 {
			t.Fatalf("rotate activity %+v", act)
		}
		_, err = svc.RotateKey(a.ctx, uuid.New())
		wantCode(t, err, apperr.NotFound)
	})
}

func TestDelete(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a := newTenant(t, db, "acme")
		box := testenv.Box(t)
		svc := connectors.New(db.Client, box)
		_ = box
		doomed, err := svc.Create(a.ctx, connectors.CreateConnectorInput{Name: "Old EDR", Type: "sentinelone"})
		if err != nil {
			t.Fatal(err)
		}
		kept, err := svc.Create(a.ctx, connectors.CreateConnectorInput{Name: "New EDR", Type: "defender"})
		if err != nil {
			t.Fatal(err)
		}
		alert, err := db.Client.Alert.Create().SetConnectorID(doomed.Connector.ID).SetSource("sentinelone").
			SetTitle("Ransomware").SetSeverity(enum.SeverityHigh).Save(a.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*ent.Connector{doomed.Connector, kept.Connector, doomed.Connector} {
			if err := db.Client.DeadLetter.Create().SetConnectorID(c.ID).SetReason("no title").SetPayload("{}").Exec(a.ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := svc.Delete(a.ctx, doomed.Connector.ID); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			check func(t *testing.T)
		}{
			{"connector gone", func(t *testing.T) {
				_, err := db.Client.Connector.Get(a.ctx, doomed.Connector.ID)
				if !ent.IsNotFound(err) {
					t.Fatalf("got %v, want not found", err)
				}
			}},
			{"alert kept without connector", func(t *testing.T) {
				got, err := db.Client.Alert.Get(a.ctx, alert.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.ConnectorID != nil {
					t.Fatalf("connector_id %v, want null", got.ConnectorID)
				}
			}},
			{"its dead letters deleted, others kept", func(t *testing.T) {
				sys := auth.System(context.Background())
				if n := db.Client.DeadLetter.Query().Where(deadletter.ConnectorID(doomed.Connector.ID)).CountX(sys); n != 0 {
					t.Errorf("%d dead letters of the deleted connector remain", n)
				}
				if n := db.Client.DeadLetter.Query().Where(deadletter.ConnectorID(kept.Connector.ID)).CountX(sys); n != 1 {
					t.Errorf("%d dead letters of the other connector, want 1", n)
				}
			}},
			{"old key no longer authenticates", func(t *testing.T) {
				_, err := auth.New(db.Client, auth.Config{}).AuthenticateConnector(context.Background(), doomed.APIKey)
				wantCode(t, err, apperr.Unauthenticated)
			}},
			{"activity recorded", func(t *testing.T) {
				act, ok := activities(t, a.ctx, db, doomed.Connector.ID)["delete"]
				if !ok {
					t.Fatal("no delete activity")
				}
				if b, _ := jsonOf(t, act.Before).(map[string]any); b["name"] != "Old EDR" {
					t.Errorf("delete activity before %s", act.Before)
				}
			}},
			{"second delete is not found", func(t *testing.T) {
				wantCode(t, svc.Delete(a.ctx, doomed.Connector.ID), apperr.NotFound)
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, tc.check)
		}
	})
}

func TestDeadLetters(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a := newTenant(t, db, "acme")
		box := testenv.Box(t)
		svc := connectors.New(db.Client, box)
		_ = box
		mk := func(name string) *ent.Connector {
			p, err := svc.Create(a.ctx, connectors.CreateConnectorInput{Name: name, Type: "generic"})
			if err != nil {
				t.Fatal(err)
			}
			return p.Connector
		}
		c, other := mk("Scripts"), mk("Other")
		base := time.Date(2024, 5, 14, 9, 0, 0, 0, time.UTC)
		// Inserted out of order, so the order comes from created_at, not insertion.
		for _, i := range []int{3, 0, 6, 1, 5, 2, 4} {
			err := db.Client.DeadLetter.Create().SetConnectorID(c.ID).SetReason("r" + strconv.Itoa(i)).
				SetPayload(`{"n":` + strconv.Itoa(i) + `}`).SetCreatedAt(base.Add(time.Duration(i) * time.Minute)).Exec(a.ctx)
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Client.DeadLetter.Create().SetConnectorID(other.ID).SetReason("other").SetPayload("{}").
			SetCreatedAt(base.Add(time.Hour)).Exec(a.ctx); err != nil {
			t.Fatal(err)
		}
		reasons := func(conn *ent.DeadLetterConnection) []string {
			var out []string
			for _, e := range conn.Edges {
				out = append(out, e.Node.Reason)
			}
			return out
		}

		t.Run("forward pages, newest first", func(t *testing.T) {
			var got []string
			var after *ent.Cursor
			for pages := 0; ; pages++ {
				if pages > 3 {
					t.Fatal("paging does not end")
				}
				conn, err := svc.DeadLetters(a.ctx, c.ID, paging.Page{After: after, First: ptr(3)})
				if err != nil {
					t.Fatal(err)
				}
				if conn.TotalCount != 7 {
					t.Errorf("total %d, want 7", conn.TotalCount)
				}
				got = append(got, reasons(conn)...)
				if !conn.PageInfo.HasNextPage {
					break
				}
				after = conn.PageInfo.EndCursor
			}
			if want := []string{"r6", "r5", "r4", "r3", "r2", "r1", "r0"}; !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
		cases := []struct {
			name        string
			connector   uuid.UUID
			first, last *int
			want        []string
			code        apperr.Code
			field       string
		}{
			{name: "last page", connector: c.ID, last: ptr(2), want: []string{"r1", "r0"}},
			{name: "first zero", connector: c.ID, first: ptr(0), want: nil},
			{name: "other connector only its own", connector: other.ID, first: ptr(10), want: []string{"other"}},
			{name: "negative first", connector: c.ID, first: ptr(-1), code: apperr.BadInput, field: "first"},
			{name: "negative last", connector: c.ID, last: ptr(-1), code: apperr.BadInput, field: "last"},
			{name: "first and last", connector: c.ID, first: ptr(1), last: ptr(1), code: apperr.BadInput, field: "last"},
			{name: "unknown connector", connector: uuid.New(), first: ptr(1), code: apperr.NotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				conn, err := svc.DeadLetters(a.ctx, tc.connector, paging.Page{First: tc.first, Last: tc.last})
				if tc.code != "" {
					if e := wantCode(t, err, tc.code); e.Field != tc.field {
						t.Fatalf("field %q, want %q", e.Field, tc.field)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := reasons(conn); !slices.Equal(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			})
		}
	})
}

// TestOtherOrganisation: every method treats another organisation's
// connector as missing, and none changes it.
func TestOtherOrganisation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a, b := newTenant(t, db, "acme"), newTenant(t, db, "globex")
		box := testenv.Box(t)
		svc := connectors.New(db.Client, box)
		_ = box
		theirs, err := svc.Create(a.ctx, falconPull())
		if err != nil {
			t.Fatal(err)
		}
		id := theirs.Connector.ID
		original := db.Client.Connector.GetX(a.ctx, id)
		if err := db.Client.DeadLetter.Create().SetConnectorID(id).SetReason("x").SetPayload("{}").Exec(a.ctx); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			call func() error
		}{
			{"update", func() error {
				_, err := svc.Update(b.ctx, id, connectors.UpdateConnectorInput{Name: ptr("pwned")})
				return err
			}},
			{"update refused before validation", func() error {
				_, err := svc.Update(b.ctx, id, connectors.UpdateConnectorInput{Name: ptr("")})
				return err
			}},
			{"rotate", func() error {
				_, err := svc.RotateKey(b.ctx, id)
				return err
			}},
			{"dead letters", func() error {
				_, err := svc.DeadLetters(b.ctx, id, paging.Page{First: ptr(10)})
				return err
			}},
			{"delete", func() error { return svc.Delete(b.ctx, id) }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), apperr.NotFound) })
		}
		got, err := db.Client.Connector.Query().Where(connector.ID(id)).Only(a.ctx)
		if err != nil {
			t.Fatalf("connector of acme: %v", err)
		}
		if got.Name != "Falcon" || string(got.KeyHash) != string(credential.HashSecret(theirs.APIKey)) || !got.UpdatedAt.Equal(original.UpdatedAt) {
			t.Errorf("connector changed by another organisation: %+v", got)
		}
		if n := db.Client.Activity.Query().Where(activity.EntityID(id)).CountX(a.ctx); n != 1 {
			t.Errorf("%d activity rows, want only the create", n)
		}
		if n := db.Client.Activity.Query().CountX(b.ctx); n != 0 {
			t.Errorf("globex has %d activity rows, want 0", n)
		}
		mine, err := svc.Create(b.ctx, connectors.CreateConnectorInput{Name: "Mine", Type: "generic"})
		if err != nil {
			t.Fatal(err)
		}
		if mine.Connector.OrganizationID != b.org.ID {
			t.Errorf("created in %s, want %s", mine.Connector.OrganizationID, b.org.ID)
		}
	})
}

// opened returns c's settings with the secrets decrypted by box.
func opened(t *testing.T, box *secrets.Box, c *ent.Connector) map[string]any {
	t.Helper()
	out, err := connectors.OpenSettings(box, c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSealStored: secrets stored in clear (before they were sealed) are
// sealed in place, once; sealed ones and other settings are left alone.
func TestSealStored(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		a, b := newTenant(t, db, "acme"), newTenant(t, db, "globex")
		box := testenv.Box(t)
		svc := connectors.New(db.Client, box)
		old, err := db.Client.Connector.Create().SetName("Old S1").SetType("sentinelone").SetMode(enum.ConnectorModePull).
			SetSettings(map[string]any{"base_url": "https://s1.example", "api_token": "plain-token"}).
			SetKeyHash([]byte("h1")).Save(a.ctx)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := db.Client.Connector.Create().SetName("Theirs").SetType("sentinelone").
			SetSettings(map[string]any{"api_token": "their-token"}).SetKeyHash([]byte("h2")).Save(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		sealedAlready, err := svc.Create(a.ctx, falconPull())
		if err != nil {
			t.Fatal(err)
		}
		before := db.Client.Connector.GetX(a.ctx, sealedAlready.Connector.ID).Settings["client_secret"]
		n, err := svc.SealStored(a.ctx)
		if err != nil || n != 1 {
			t.Fatalf("sealed %d, %v; want 1", n, err)
		}
		got := db.Client.Connector.GetX(a.ctx, old.ID)
		if got.Settings["api_token"] == "plain-token" || opened(t, box, got)["api_token"] != "plain-token" || got.Settings["base_url"] != "https://s1.example" {
			t.Fatalf("settings %v", got.Settings)
		}
		if after := db.Client.Connector.GetX(a.ctx, sealedAlready.Connector.ID).Settings["client_secret"]; after != before {
			t.Fatal("an already sealed secret was sealed again")
		}
		if db.Client.Connector.GetX(b.ctx, theirs.ID).Settings["api_token"] != "their-token" {
			t.Fatal("another organisation's connector was changed")
		}
		if n, err := svc.SealStored(a.ctx); err != nil || n != 0 {
			t.Fatalf("second pass sealed %d, %v", n, err)
		}
	})
}
