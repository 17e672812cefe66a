package dashboard_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/seliq/seliq/dashboard"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/storage"
)

// An export imported into another organisation shows the same widget data
// there for the same data, with its saved queries recreated there.
func TestExportImportRoundTrip(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := setup(t, db, nil)
		f.alerts(t, f.a)
		f.alerts(t, f.b)
		sq, err := f.q.CreateSavedQuery(f.a.author, query.CreateSavedQueryInput{Name: "critical", Source: "alerts", Query: `severity == "critical"`,
			GroupBy: []string{"status"}, Visibility: ptr(enum.VisibilityShared)})
		if err != nil {
			t.Fatal(err)
		}
		vol := metricWidget("vol", "alerts/volume", 4, 0)
		vol.Params = &schematype.WidgetParams{Period: "24h", Interval: "1h"}
		src, err := f.svc.Create(f.a.author, dashboard.CreateInput{Name: "SOC", Description: ptr("morning"), Visibility: ptr(enum.VisibilityShared),
			Widgets: []*schematype.Widget{metricWidget("mttr", "alerts/mttr", 0, 0), vol, inlineWidget("pie", "", 8, 0), savedWidget("saved", sq.ID)}})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := f.svc.Export(f.a.analyst, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		var head struct {
			Version      int `json:"version"`
			SavedQueries []struct {
				ID, Query string
			} `json:"saved_queries"`
		}
		if err := json.Unmarshal(doc, &head); err != nil || head.Version != 1 || len(head.SavedQueries) != 1 || head.SavedQueries[0].ID != sq.ID.String() {
			t.Fatalf("document %s (%v)", doc, err)
		}
		// Twice: two dashboards, each with its own copy of the query.
		for i := range 2 {
			got, err := f.svc.Import(f.b.analyst, doc)
			if err != nil {
				t.Fatal(err)
			}
			if got.OrganizationID != f.b.org.ID || got.Name != "SOC" || got.Description != "morning" || len(got.Widgets) != 4 {
				t.Fatalf("imported %+v", got)
			}
			copied := got.Widgets[3].SavedQueryID
			if *copied == sq.ID {
				t.Fatal("the widget still names the exporting organisation's query")
			}
			if _, err := f.q.SavedQuery(f.b.analyst, *copied); err != nil {
				t.Fatalf("the recreated saved query: %v", err)
			}
			want, errsA := data(t, f.a.analyst, f.svc, src)
			have, errsB := data(t, f.b.analyst, f.svc, got)
			for w := range want {
				if errsA[w] != nil || errsB[w] != nil || want[w] != have[w] {
					t.Errorf("import %d widget %d: exported %s (%v), imported %s (%v)", i, w, want[w], errsA[w], have[w], errsB[w])
				}
			}
		}
		if n := db.Client.StoredQuery.Query().CountX(f.b.admin); n != 2 {
			t.Fatalf("%d saved queries in the target, want 2", n)
		}
	})
}

// A bad widget in the middle of a document writes nothing: neither the
// dashboard nor the saved queries created before it was found bad.
func TestImportIsAllOrNothing(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := setup(t, db, nil)
		good := `{"id":"00000000-0000-0000-0000-00000000000a","name":"q","description":"","source":"alerts","query":"","sort":"","group_by":null,"interval":""}`
		widget := func(id, metric string, y int) string {
			return `{"id":"` + id + `","title":"t","kind":"metric","visualization":"number","metric":"` + metric + `","x":0,"y":` + string(rune('0'+y)) + `,"w":1,"h":1}`
		}
		saved := `{"id":"s","title":"t","kind":"query","visualization":"table","saved_query_id":"00000000-0000-0000-0000-00000000000a","x":1,"y":0,"w":1,"h":1}`
		doc := func(version string, widgets ...string) string {
			return `{"version":` + version + `,"name":"D","description":"","visibility":"private","widgets":[` + strings.Join(widgets, ",") +
				`],"saved_queries":[` + good + `]}`
		}
		cases := []struct {
			name, doc string
			field     string
		}{
			{"bad widget in the middle", doc("1", widget("a", "summary", 0), widget("b", "alerts/nope", 1), saved), "widgets[1].metric"},
			{"unknown version", doc("2", widget("a", "summary", 0)), "version"},
			{"no version", `{"name":"D"}`, "version"},
			{"unknown key", `{"version":1,"name":"D","colour":"red"}`, "document"},
			{"widget naming no embedded query", `{"version":1,"name":"D","widgets":[` + strings.Replace(saved, "0000000a", "0000000b", 1) + `]}`, "widgets[0].saved_query_id"},
			{"bad embedded query", strings.Replace(doc("1", saved), `"query":""`, `"query":"nope =="`, 1), "saved_queries[0].query"},
			{"not JSON", `{"version":1,`, "document"},
		}
		for _, c := range cases {
			_, err := f.svc.Import(f.b.admin, json.RawMessage(c.doc))
			e, _ := apperr.As(err)
			if e == nil || e.Code != apperr.BadInput || e.Field != c.field {
				t.Errorf("%s: %v, want a 422 on %s", c.name, err, c.field)
			}
		}
		if n := db.Client.Board.Query().CountX(f.b.admin); n != 0 {
			t.Fatalf("%d dashboards written", n)
		}
		if n := db.Client.StoredQuery.Query().CountX(f.b.admin); n != 0 {
			t.Fatalf("%d saved queries written by refused imports", n)
		}
		if _, err := f.svc.Import(f.b.admin, json.RawMessage(doc("1", widget("a", "summary", 0), saved))); err != nil {
			t.Fatalf("the good document: %v", err)
		}
		if _, err := f.svc.Import(f.b.readOnly, json.RawMessage(doc("1"))); code(err) != apperr.Forbidden {
			t.Fatalf("read-only import: %v", err)
		}
	})
}

func FuzzParseDocument(f *testing.F) {
	for _, s := range []string{
		`{"version":1,"name":"D","widgets":[{"id":"a","kind":"metric","metric":"summary","x":0,"y":0,"w":1,"h":1}],"saved_queries":[]}`,
		`{"version":2}`, `{"version":"1"}`, `[]`, `null`, `{"version":1} {}`,
		`{"version":1,"widgets":[null],"saved_queries":[null]}`,
		`{"version":1,"widgets":[{"saved_query_id":"00000000-0000-0000-0000-00000000000a"}],"saved_queries":[{"id":"00000000-0000-0000-0000-00000000000a"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		doc, err := dashboard.ParseDocument(raw)
		if err != nil {
			if e, ok := apperr.As(err); !ok || e.Code != apperr.BadInput || e.Field == "" {
				t.Fatalf("%q: %v is not a 422 naming a field", raw, err)
			}
			return
		}
		if doc.Version != dashboard.DocumentVersion {
			t.Fatalf("%q: accepted version %d", raw, doc.Version)
		}
		// An accepted document's widgets name only embedded queries.
		ids := map[string]bool{}
		for _, q := range doc.SavedQueries {
			ids[q.ID.String()] = true
		}
		for _, w := range doc.Widgets {
			if w != nil && w.SavedQueryID != nil && !ids[w.SavedQueryID.String()] {
				t.Fatalf("%q: widget names a query the document lacks", raw)
			}
		}
	})
}
