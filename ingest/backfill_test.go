package ingest

import (
	"os"
	"testing"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// TestBackfillAttributes: alerts stored before alerts kept attributes get
// them from their raw payload, mapped again with their connector's type;
// an alert whose payload no longer maps gets none, so each is visited once.
func TestBackfillAttributes(t *testing.T) {
	raw, err := os.ReadFile("catalogue/testdata/alertmanager/single_alert.json")
	if err != nil {
		t.Fatal(err)
	}
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db)
		other := testenv.Org(t, db)
		ctx, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
		otherCtx, _ := testenv.UserContext(t, db, other, enum.RoleAdmin)
		conn, _ := testenv.Connector(t, db, org, "alertmanager")
		old := db.Client.Alert.Create().SetOrganizationID(org.ID).SetConnectorID(conn.ID).SetSource("alertmanager").
			SetTitle("FalcoCriticalRule").SetRaw(raw).SaveX(ctx)
		unmappable := db.Client.Alert.Create().SetOrganizationID(org.ID).SetSource("no-such-type").
			SetTitle("x").SetRaw([]byte(`{"a":1}`)).SaveX(ctx)
		theirs := db.Client.Alert.Create().SetOrganizationID(other.ID).SetSource("alertmanager").
			SetTitle("theirs").SetRaw(raw).SaveX(otherCtx)

		if err := BackfillAttributes(ctx, db.Client); err != nil {
			t.Fatal(err)
		}
		got := db.Client.Alert.GetX(ctx, old.ID)
		if got.Attributes["rule"] != "FalcoCriticalRule" || got.Attributes["host"] != "k8s-node-3" {
			t.Fatalf("backfilled attributes %v", got.Attributes)
		}
		if a := db.Client.Alert.GetX(ctx, unmappable.ID); a.Attributes == nil || len(a.Attributes) != 0 {
			t.Fatalf("unmappable alert: %v", a.Attributes)
		}
		if a := db.Client.Alert.GetX(otherCtx, theirs.ID); a.Attributes != nil {
			t.Fatalf("another organisation's alert was touched: %v", a.Attributes)
		}
	})
}
