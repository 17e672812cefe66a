package analysis

import (
	"context"
	"testing"

	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestFlagAnalysis(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db, testenv.Slug("acme"), testenv.Name("Acme"))
		analyst, _ := testenv.UserContext(t, db, org, enum.RoleAnalyst, testenv.Handle("ada"))
		reader, _ := testenv.UserContext(t, db, org, enum.RoleReadOnly, testenv.Handle("rob"))
		a, err := db.Client.Alert.Create().SetTitle("x").SetSource("generic").SetSeverity(enum.SeverityLow).Save(analyst)
		if err != nil {
			t.Fatal(err)
		}
		q := &recorder{}
		s := New(db.Client, q, nil, nil)
		an, err := s.AnalyseAlert(analyst, a.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Flag(analyst, an.ID, FlagInput{Inaccurate: true})
		if err != nil || !got.FlaggedInaccurate {
			t.Fatalf("flag: %+v, %v", got, err)
		}
		if again, err := s.Flag(analyst, an.ID, FlagInput{Inaccurate: true}); err != nil || !again.FlaggedInaccurate {
			t.Fatalf("flag again: %v", err)
		}
		list, err := Flagged(analyst, db.Client)
		if err != nil || len(list) != 1 || list[0].AnalysisID != an.ID || list[0].Title != "x" || list[0].Source != "generic" {
			t.Fatalf("flagged list %+v, %v", list, err)
		}
		if got, err = s.Flag(analyst, an.ID, FlagInput{}); err != nil || got.FlaggedInaccurate {
			t.Fatalf("unflag: %+v, %v", got, err)
		}
		if list, err := Flagged(analyst, db.Client); err != nil || len(list) != 0 {
			t.Fatalf("flagged list after unflagging %+v, %v", list, err)
		}
		// Two changes, the repeated flag being none.
		if n, err := db.Client.Activity.Query().Where(activity.EntityType("analysis"), activity.Field("flagged_inaccurate")).Count(analyst); err != nil || n != 2 {
			t.Errorf("activity entries %d, %v, want 2", n, err)
		}
		if _, err := s.Flag(reader, an.ID, FlagInput{Inaccurate: true}); !isCode(err, apperr.Forbidden) {
			t.Errorf("reader: %v, want forbidden", err)
		}
		if _, err := s.Flag(context.Background(), an.ID, FlagInput{Inaccurate: true}); !isCode(err, apperr.Unauthenticated) {
			t.Errorf("anonymous: %v, want unauthenticated", err)
		}
		other := testenv.Org(t, db, testenv.Slug("globex"), testenv.Name("Globex"))
		theirs, _ := testenv.UserContext(t, db, other, enum.RoleAdmin, testenv.Handle("boss"))
		if _, err := s.Flag(theirs, an.ID, FlagInput{Inaccurate: true}); !isCode(err, apperr.NotFound) {
			t.Errorf("another organisation: %v, want not found", err)
		}
		if cur, _ := db.Client.Analysis.Get(analyst, an.ID); cur.FlaggedInaccurate {
			t.Error("a refused flag changed the analysis")
		}
	})
}
