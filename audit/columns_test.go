package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/activity"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/storage"
)

// sampleEntries are entries whose values take every shape a caller passes:
// absent, a typed nil, text that JSON escapes, numbers, lists and objects.
func sampleEntries(entity uuid.UUID) []audit.Entry {
	var nilPtr *string
	odd := "quote \" backslash \\ tab \t <script>&amp; \u2028 é 🚨 \x01"
	values := []any{nil, nilPtr, "closed", odd, 42, 3.5, true, []string{"a", odd}, map[string]any{"k": odd, "n": nil}, json.RawMessage(`{"raw": [1, 2]}`)}
	var out []audit.Entry
	for i, before := range values {
		out = append(out, audit.Entry{EntityType: "alert", EntityID: entity, Action: "update", Field: fmt.Sprintf("f%d", i),
			Before: before, After: values[len(values)-1-i]})
	}
	return append(out, audit.Entry{EntityType: "incident", EntityID: entity, Action: "link_alert"})
}

// row is what an activity records, without its id and time.
type row struct {
	ActorID                              *uuid.UUID
	Org                                  uuid.UUID
	ActorName, EntityType, Action, Field string
	Before, After                        string
	HasV7ID                              bool
}

func rowsOf(t *testing.T, ctx context.Context, c *ent.Client, entity uuid.UUID) []row {
	t.Helper()
	got, err := c.Activity.Query().Where(activity.EntityID(entity)).Order(ent.Asc(activity.FieldField), ent.Asc(activity.FieldEntityType)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]row, len(got))
	for i, a := range got {
		out[i] = row{ActorID: a.ActorID, Org: a.OrganizationID, ActorName: a.ActorName, EntityType: a.EntityType,
			Action: a.Action, Field: a.Field, Before: normal(t, a.Before), After: normal(t, a.After),
			HasV7ID: a.ID.Version() == 7}
		if d := a.UpdatedAt.Sub(a.CreatedAt); d < 0 || d > time.Second {
			t.Errorf("activity %v: created %v, updated %v", a.ID, a.CreatedAt, a.UpdatedAt)
		}
	}
	return out
}

// normal is a JSON value re-encoded, so that PostgreSQL's jsonb key order
// and spacing compare equal; absent is "<null>".
func normal(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if raw == nil {
		return "<null>"
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("stored %q: %v", raw, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// The columnar write stores what ent stores, on PostgreSQL inside a
// transaction; elsewhere ent writes.
func TestRecordColumnarMatchesEnt(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db)
		ctx, _ := testenv.UserContext(t, db, org, enum.RoleAnalyst)
		viaEnt, viaTx := uuid.New(), uuid.New()
		if err := audit.Record(ctx, db.Client, sampleEntries(viaEnt)...); err != nil {
			t.Fatalf("outside a transaction: %v", err)
		}
		var columnar bool
		err := storage.InTx(ctx, db.Client, func(tx *ent.Tx) error {
			base := func() *ent.ActivityCreate {
				return tx.Client().Activity.Create().SetActorName("probe").SetOrganizationID(org.ID)
			}
			var err error
			if columnar, err = audit.RecordColumnar(ctx, tx.Client(), base, nil); err != nil {
				return err
			}
			return audit.Record(ctx, tx.Client(), sampleEntries(viaTx)...)
		})
		if err != nil {
			t.Fatalf("inside a transaction: %v", err)
		}
		if want := db.Dialect == dialect.Postgres; columnar != want {
			t.Fatalf("columnar write used: %v, want %v on %s", columnar, want, db.Dialect)
		}
		want, got := rowsOf(t, ctx, db.Client, viaEnt), rowsOf(t, ctx, db.Client, viaTx)
		if len(want) != len(sampleEntries(viaEnt)) || !slices.EqualFunc(want, got, func(a, b row) bool {
			return fmt.Sprint(a.ActorID) == fmt.Sprint(b.ActorID) && a.Org == b.Org && a.ActorName == b.ActorName &&
				a.EntityType == b.EntityType && a.Action == b.Action && a.Field == b.Field && a.Before == b.Before &&
				a.After == b.After && a.HasV7ID == b.HasV7ID
		}) {
			t.Fatalf("rows differ:\nent      %+v\ncolumnar %+v", want, got)
		}
		for _, r := range got {
			if r.Org != org.ID || r.ActorID == nil || !r.HasV7ID {
				t.Errorf("row %+v: want the acting organisation and user and a v7 id", r)
			}
		}
	})
}

// Whatever path writes, the same viewers are refused with the same errors
// and nothing is written; a batch larger than one statement is whole.
func TestRecordColumnarRefusesAsEnt(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db)
		ctx, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
		// A job reading a tree: naming its actor reads nothing, so only the
		// policy stands between it and a write.
		tree := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindJob, HomeOrgID: org.ID, OrgID: org.ID,
			VisibleOrgIDs: []uuid.UUID{org.ID}, Tree: []uuid.UUID{org.ID}})
		entity := uuid.New()
		cases := []struct {
			name    string
			ctx     context.Context
			entries []audit.Entry
			wantErr func(error) bool
			written int
		}{
			{"no viewer", context.Background(), sampleEntries(entity), func(err error) bool { return errors.Is(err, privacy.Deny) }, 0},
			{"tree-wide viewer", tree, sampleEntries(entity), func(err error) bool { return errors.Is(err, privacy.Deny) }, 0},
			{"empty action", ctx, append(sampleEntries(entity), audit.Entry{EntityType: "alert", EntityID: entity}), ent.IsValidationError, 0},
			{"empty entity type", ctx, append(sampleEntries(entity), audit.Entry{EntityID: entity, Action: "x"}), ent.IsValidationError, 0},
			{"more than one statement", ctx, manyEntries(entity, audit.ColumnarChunk+1), nil, audit.ColumnarChunk + 1},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				inTx := storage.InTx(tc.ctx, db.Client, func(tx *ent.Tx) error { return audit.Record(tc.ctx, tx.Client(), tc.entries...) })
				outside := audit.Record(tc.ctx, db.Client, tc.entries...)
				for what, err := range map[string]error{"in a transaction": inTx, "outside": outside} {
					switch {
					case tc.wantErr == nil && err != nil:
						t.Errorf("%s: %v", what, err)
					case tc.wantErr != nil && (err == nil || !tc.wantErr(err)):
						t.Errorf("%s: %v, want a refusal", what, err)
					}
				}
				if tc.wantErr != nil && inTx.Error() != outside.Error() {
					t.Errorf("errors differ: %q in a transaction, %q outside", inTx, outside)
				}
				n, err := db.Client.Activity.Query().Where(activity.EntityID(entity)).Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if want := 2 * tc.written; n != want {
					t.Errorf("%d entries written, want %d", n, want)
				}
				if _, err := db.Client.Activity.Delete().Where(activity.EntityID(entity)).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

func manyEntries(entity uuid.UUID, n int) []audit.Entry {
	out := make([]audit.Entry, n)
	for i := range out {
		out[i] = audit.Entry{EntityType: "alert", EntityID: entity, Action: "update", Field: "status", Before: "new", After: "closed"}
	}
	return out
}
