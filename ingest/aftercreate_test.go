package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/storage"
)

// hookRecorder is an AfterCreate that records what it is told and whether
// its after-commit function ran.
type hookRecorder struct {
	calls     [][]uuid.UUID
	handed    []*ent.Alert
	inTx      []bool
	committed int
	fail      error
}

func (h *hookRecorder) OnCreated(_ context.Context, tx *ent.Tx, created []*ent.Alert) (func(context.Context), error) {
	h.calls = append(h.calls, storage.AlertIDs(created))
	h.handed = append(h.handed, created...)
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

// TestHooksAreHandedTheAlertsAsStored: what a hook is handed (the trigger
// conditions read it instead of the row) equals the stored alert, field by
// field and as conditions see it, for a payload with every mapped field,
// repeats folded into one alert, and values PostgreSQL's JSON must escape.
func TestHooksAreHandedTheAlertsAsStored(t *testing.T) {
	payload := testenv.GenericBatch(
		mustJSON(t, map[string]any{
			"title": "Beacon from ws-7", "severity": "critical", "source": "edr", "external_id": 42,
			"description": "nul \u0000 inside", "tags": []string{"c2", "beacon"}, "mitre": []string{"T1071.001"},
			"event_time": "2026-12-01T10:11:12.123456789Z",
			"attributes": map[string]string{"host": "ws-7", "src_ip": "198.51.100.4", "rule": "odd \u0000 rule", "user": "Alice"},
		}),
		testenv.GenericAlert("Repeat", "ws-1"), testenv.GenericAlert("Repeat", "ws-1"), testenv.GenericAlert("Repeat", "ws-1"),
		mustJSON(t, map[string]any{"title": "Bare", "severity": "low"}),
	)
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		h := &hookRecorder{}
		e := newEnv(t, db, Options{AfterCreate: h})
		c, key := testenv.Connector(t, db, e.org, "generic")
		res := e.ingest(t, c, key, payload)
		if res.Created != 3 || len(h.handed) != 3 {
			t.Fatalf("created %d, handed %d alerts; want 3", res.Created, len(h.handed))
		}
		for _, got := range h.handed {
			want, err := db.Client.Alert.Query().Where(alert.ID(got.ID)).WithConnector().Only(orgCtx(e.org))
			if err != nil {
				t.Fatal(err)
			}
			want.Raw = nil // hooks are not handed the original document
			if got.Edges.Connector == nil || got.Edges.Connector.ID != want.Edges.Connector.ID {
				t.Errorf("%s: connector %v, want %s", want.Title, got.Edges.Connector, want.Edges.Connector.ID)
			}
			if g, w := query.AlertRecord(got), query.AlertRecord(want); !sameRecord(g, w) {
				t.Errorf("%s: conditions would see\n%v\ninstead of\n%v", want.Title, g, w)
			}
			got.Edges, want.Edges = ent.AlertEdges{}, ent.AlertEdges{}
			gotJSON, wantJSON := mustJSON(t, got), mustJSON(t, want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("%s: handed\n%s\nstored\n%s", want.Title, gotJSON, wantJSON)
			}
		}
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameRecord compares records with times by instant (a time read back
// carries the connection's location).
func sameRecord(a, b query.Record) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if at, isTime := av.(time.Time); isTime {
			bt, ok := bv.(time.Time)
			if !ok || !at.Equal(bt) {
				return false
			}
			continue
		}
		if !ok || !reflect.DeepEqual(av, bv) {
			return false
		}
	}
	return true
}
