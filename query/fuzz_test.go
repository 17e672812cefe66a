package query_test

import (
	"context"
	"errors"
	"testing"

	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/query"
)

// FuzzCompile: any text is either refused with a 422 (BAD_USER_INPUT or
// QUERY_TOO_EXPENSIVE) or compiles to SQL that SQLite runs without error
// and a program that evaluates without panicking.
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		`severity >= "high"`, `"prod" in tags`, `entities.ip.exists(i, i.startsWith("10."))`, `attributes["x y"] == "1"`,
		`title.matches("(?i)a|b{2,3}")`, `size(tags) > 1 || assignee == null`, `created_at > now - duration("1h")`,
		`!(status in ["new"]) && incident.number >= 3`, `"a" + "b" == title`, `1/0 == 1`, `tags.all(t, t.endsWith("'"))`,
		"attributes.rule == \"\\u0000\"", `title.matches("\\")`, `[1,2][5] == 1`, `connector.name < "m"`,
	} {
		f.Add(seed)
	}
	w := buildWorld(f, testenv.Open(f, testenv.SQLite))
	f.Fuzz(func(t *testing.T, text string) {
		src, _ := query.Lookup("alerts")
		q, err := query.Compile(src, "query", text, fixtureNow)
		if err != nil {
			e, ok := apperr.As(err)
			if !ok || (e.Code != apperr.BadInput && e.Code != apperr.QueryTooExpensive) || e.Field != "query" {
				t.Fatalf("%q: refused with %v, want a 422 on query", text, err)
			}
			return
		}
		if _, err := w.db.Client.Alert.Query().Where(predicate.Alert(q.Where())).Count(w.ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("%q: SQL failed: %v", text, err)
		}
		for _, a := range w.alerts {
			_, _ = q.Matches(query.AlertRecord(a))
		}
	})
}
