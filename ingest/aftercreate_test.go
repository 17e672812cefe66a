package ingest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// hookRecorder is an AfterCreate that records what it is told and whether
// its after-commit function ran.
type hookRecorder struct {
	calls     [][]uuid.UUID
	inTx      []bool
	committed int
	fail      error
}

func (h *hookRecorder) OnCreated(_ context.Context, tx *ent.Tx, ids []uuid.UUID) (func(context.Context), error) {
	h.calls = append(h.calls, slices.Clone(ids))
	h.inTx = append(h.inTx, tx != nil)
	if h.fail != nil {
		return nil, h.fail
	}
	return func(context.Context) { h.committed++ }, nil
}

func TestAfterCreateHearsOfCreatedAlertsOnly(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		h := &hookRecorder{}
		e := newEnv(t, db, Options{AfterCreate: h})
		c, key := testenv.Connector(t, db, e.org, "generic")

		first := e.ingest(t, c, key, testenv.GenericBatch(testenv.GenericAlert("A", "ws-1"), testenv.GenericAlert("B", "ws-2"), testenv.GenericAlert("A", "ws-1")))
		repeat := e.ingest(t, c, key, testenv.GenericAlert("A", "ws-1"))
		cases := []struct {
			name string
			got  bool
		}{
			{"the first post created two and merged one", first.Created == 2 && first.Merged == 1},
			{"the hook heard of the two created, in the transaction", len(h.calls) == 1 && len(h.calls[0]) == 2 && h.inTx[0] &&
				slices.Contains(h.calls[0], first.Results[0].ID) && slices.Contains(h.calls[0], first.Results[1].ID)},
			{"its after-commit function ran once", h.committed == 1},
			{"a post of repeats only does not call it", repeat.Merged == 1 && len(h.calls) == 1},
		}
		for _, c := range cases {
			if !c.got {
				t.Errorf("%s: calls %v, committed %d, first %+v", c.name, h.calls, h.committed, first)
			}
		}

		// A failing hook rolls the payload back.
		h.fail = errors.New("hook refused")
		before := len(alertsOf(t, db, e.org))
		if _, err := e.svc.Ingest(e.as(t, key), c, testenv.GenericAlert("C", "ws-3")); !errors.Is(err, h.fail) {
			t.Fatalf("ingest with a failing hook: %v", err)
		}
		if after := len(alertsOf(t, db, e.org)); after != before || h.committed != 1 {
			t.Fatalf("alerts %d → %d, after-commit runs %d", before, after, h.committed)
		}
	})
}
