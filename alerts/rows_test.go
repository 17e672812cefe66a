package alerts_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// detachedSpecs are alerts with every field set and unset, and the JSON
// columns' strings plain (the decoders' own path) and escaped, in other
// scripts, or otherwise left to encoding/json.
func detachedSpecs(o *queueOrg, db *storage.DB) []*ent.AlertCreate {
	at := func(h int) time.Time { return queueBase.Add(time.Duration(h)*time.Hour + 123456*time.Microsecond) }
	odd := []string{"plain", `quo"te`, `back\slash`, "ctl\x01", "tab\tnew\nline", "<b>&amp;</b>", "line\u2028sep", "emoji 🛡", "é", ""}
	statuses, severities := enum.AlertStatus("").Values(), enum.Severity("").Values()
	var out []*ent.AlertCreate
	for i := range 24 {
		s := odd[i%len(odd)]
		b := db.Client.Alert.Create().
			SetTitle("title " + s).SetDescription(s).SetSource("src").SetExternalID(fmt.Sprintf("ext-%d", i)).
			SetStatus(enum.AlertStatus(statuses[i%len(statuses)])).
			SetSeverity(enum.Severity(severities[i%len(severities)])).
			SetLastSeenAt(at(i)).SetFirstSeenAt(at(-i)).SetCreatedAt(at(-i)).SetUpdatedAt(at(i)).
			SetOccurrences(i + 1).SetFingerprint(fmt.Sprintf("fp%d", i))
		switch i % 4 {
		case 0: // every optional field set
			b.SetTags([]string{"edr", s}).SetMitre([]string{"T1059", s}).
				SetEntities([]schematype.Entity{{Type: "hostname", Value: "h" + s}, {Type: "ipv4", Value: "10.0.0.1"}}).
				SetAttributes(map[string]string{"rule": s, "host": "h", s + "k": "v"}).
				SetRaw(json.RawMessage(fmt.Sprintf(`{"n": %d, "s": %q}`, i, s))).
				SetConnectorID(o.connectors[i%3].ID).SetAssigneeID(o.users[i%3].ID).SetIncidentID(o.incident.ID).
				SetDisposition(enum.DispositionTruePositive).SetDedupKey(fmt.Sprintf("dk%d", i)).
				SetEventTime(at(-2 * i)).SetAcknowledgedAt(at(1)).SetResolvedAt(at(2)).
				SetSuppressed(true).SetSuppressionReason("because " + s)
		case 1: // empty collections
			b.SetTags([]string{}).SetMitre([]string{}).SetEntities([]schematype.Entity{}).SetAttributes(map[string]string{})
		case 2: // JSON null where the column allows it
			b.SetTags(nil).SetEntities(nil)
		}
		out = append(out, b)
	}
	return out
}

// exported returns an alert's exported fields, which ent's alerts and the
// detached ones must hold alike (the client config is the difference).
func exported(a *ent.Alert) map[string]any {
	v := reflect.ValueOf(a).Elem()
	out := map[string]any{}
	for i := range v.NumField() {
		if f := v.Type().Field(i); f.IsExported() {
			out[f.Name] = v.Field(i).Interface()
		}
	}
	return out
}

func TestDetachedRowsMatchEnt(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newQueueOrg(t, db, "detached")
		other := newQueueOrg(t, db, "detached-other")
		if err := db.Client.Alert.CreateBulk(detachedSpecs(o, db)...).Exec(o.ctx); err != nil {
			t.Fatalf("seed: %v", err)
		}
		other.seed(t, db, []alertSpec{{title: "other org's"}})
		svc := alerts.New(db.Client, db.Dialect)
		sev := ent.AlertOrderFieldSeverityRank
		cases := []struct {
			name   string
			filter *schematype.AlertFilter
			order  *ent.AlertOrder
			first  int
		}{
			{name: "default order", first: 50},
			{name: "by severity, a page of 5", order: &ent.AlertOrder{Direction: paging.Desc, Field: sev}, first: 5},
			{name: "tag filter", filter: &schematype.AlertFilter{Tag: []string{"edr"}}, first: 50},
			{name: "status filter", filter: &schematype.AlertFilter{Status: []enum.AlertStatus{enum.AlertStatusNew, enum.AlertStatusAcknowledged}}, first: 3},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var after *ent.Cursor
				for pageNo := 0; ; pageNo++ {
					first := c.first
					page := paging.Page{First: &first, After: after}
					want, err := svc.List(o.ctx, c.filter, page, c.order, nil)
					if err != nil {
						t.Fatalf("ent's page: %v", err)
					}
					before := alerts.DetachedPages()
					got, err := svc.List(alerts.DetachedRows(o.ctx), c.filter, page, c.order, nil)
					if err != nil {
						t.Fatalf("detached page: %v", err)
					}
					if decoded := alerts.DetachedPages() - before; (db.Dialect == "postgres") != (decoded == 1) {
						t.Errorf("%s: %d pages decoded by alertRows", db.Dialect, decoded)
					}
					if got.TotalCount != want.TotalCount || !reflect.DeepEqual(got.PageInfo, want.PageInfo) || len(got.Edges) != len(want.Edges) {
						t.Fatalf("page %d: total %d, info %+v, %d edges; ent: %d, %+v, %d", pageNo,
							got.TotalCount, got.PageInfo, len(got.Edges), want.TotalCount, want.PageInfo, len(want.Edges))
					}
					for i := range want.Edges {
						if g, w := exported(got.Edges[i].Node), exported(want.Edges[i].Node); !reflect.DeepEqual(g, w) {
							for k := range w {
								if !reflect.DeepEqual(g[k], w[k]) {
									t.Errorf("page %d alert %d: %s = %#v, ent: %#v", pageNo, i, k, g[k], w[k])
								}
							}
						}
						if got.Edges[i].Node.OrganizationID != o.org.ID {
							t.Fatalf("another organisation's alert %s in the page", got.Edges[i].Node.ID)
						}
					}
					if !want.PageInfo.HasNextPage {
						break
					}
					after = want.PageInfo.EndCursor
				}
			})
		}
	})
}

// FuzzJSONColumns holds the JSON columns' decoders to encoding/json's
// result for any input: the same value, or an error from both.
func FuzzJSONColumns(f *testing.F) {
	for _, s := range []string{`["edr"]`, `[]`, `null`, `["a", "b"]`, `["a\"b"]`, `["é", "🛡"]`, "[\"\xff\"]",
		`{"host": "k8s", "rule": "DNS"}`, `{}`, `{"a": 1}`, `{"a": "b", "a": "c"}`, `{"A": "b"}`,
		`[{"type": "ipv4", "value": "10.0.0.1"}]`, `[{"Type": "x", "value": "y"}]`, `[{"type": "x"}]`, `[null]`,
		`[{"type": "x", "value": "y", "extra": "z"}]`, ` [ "a" , "b" ] `, `["a",]`, `[`, `"s"`, `{"a": null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		same := func(name string, got, want any, gotErr, wantErr error) {
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("%s(%q): error %v, encoding/json's %v", name, b, gotErr, wantErr)
			}
			if gotErr == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("%s(%q) = %#v, encoding/json: %#v", name, b, got, want)
			}
		}
		// got and want are pointers: the decoders fill them after the call's
		// other arguments are evaluated.
		var s1, s2 []string
		same("strings", &s1, &s2, alerts.DecodeStrings(b, &s1), json.Unmarshal(b, &s2))
		var m1, m2 map[string]string
		same("string map", &m1, &m2, alerts.DecodeStringMap(b, &m1), json.Unmarshal(b, &m2))
		var e1, e2 []schematype.Entity
		same("entities", &e1, &e2, alerts.DecodeEntities(b, &e1), json.Unmarshal(b, &e2))
	})
}
