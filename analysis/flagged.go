package analysis

import (
	"context"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	entanalysis "github.com/seliq/seliq/ent/analysis"
)

// maxFlagged bounds the flagged analyses listed per organisation.
const maxFlagged = 200

// FlaggedAnalysis is an alert analysis an analyst flagged as inaccurate,
// with what the alert was: the cases the evaluation set is missing.
type FlaggedAnalysis struct {
	AnalysisID uuid.UUID
	AlertID    uuid.UUID
	Title      string
	Source     string
	Verdict    string
	Model      string
}

// Flagged lists the acting organisation's newest flagged alert analyses
// (at most 200), for the evaluation report.
func Flagged(ctx context.Context, c *ent.Client) ([]FlaggedAnalysis, error) {
	ans, err := c.Analysis.Query().Where(entanalysis.FlaggedInaccurate(true), entanalysis.AlertIDNotNil()).
		Order(ent.Desc(entanalysis.FieldUpdatedAt), ent.Desc(entanalysis.FieldID)).Limit(maxFlagged).All(ctx)
	if err != nil || len(ans) == 0 {
		return nil, err
	}
	ids := make([]uuid.UUID, len(ans))
	for i, a := range ans {
		ids[i] = *a.AlertID
	}
	alerts, err := c.Alert.Query().Where(alert.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[uuid.UUID]*ent.Alert, len(alerts))
	for _, a := range alerts {
		byID[a.ID] = a
	}
	out := make([]FlaggedAnalysis, 0, len(ans))
	for _, a := range ans {
		f := FlaggedAnalysis{AnalysisID: a.ID, AlertID: *a.AlertID, Verdict: a.Verdict, Model: a.Model}
		if al := byID[*a.AlertID]; al != nil {
			f.Title, f.Source = al.Title, al.Source
		}
		out = append(out, f)
	}
	return out, nil
}
