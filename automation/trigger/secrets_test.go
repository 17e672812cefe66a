package trigger_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/automation/action"
	"github.com/seliq/seliq/automation/trigger"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// Webhook secrets that older versions stored in clear are sealed at start,
// in every organisation, once: the stored list then holds only the sealed
// form, which opens to the same secret.
func TestSealStoredSecrets(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		box := testenv.Box(t)
		sys := auth.System(context.Background())
		clearSecrets := map[string]string{}
		for _, slug := range []string{"acme", "globex"} {
			f := newFixture(t, db, slug, newInstance(db, trigger.Limits{}))
			tr := f.create(t, trigger.CreateInput{Name: "Page the chat", Event: enum.TriggerEventAlertCreated,
				Actions: actions(`[{"type":"add_tags","tags":["x"]}]`)})
			secret := "s3cret-" + slug
			old := `[{"type":"add_tags","tags":["x"]},{"type":"webhook","url":"https://chat.example/hook","secret":"` + secret + `"}]`
			if err := db.Client.AutomationTrigger.UpdateOneID(tr.ID).SetActions(json.RawMessage(old)).Exec(sys); err != nil {
				t.Fatal(err)
			}
			clearSecrets[tr.ID.String()] = secret
		}
		for run, want := range []int{2, 0} {
			n, err := trigger.SealStoredSecrets(sys, db.Client, box)
			if err != nil || n != want {
				t.Fatalf("run %d: sealed %d (%v), want %d", run+1, n, err, want)
			}
		}
		rows, err := db.Client.AutomationTrigger.Query().All(sys)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range rows {
			secret := clearSecrets[tr.ID.String()]
			if strings.Contains(string(tr.Actions), secret) {
				t.Errorf("trigger %s still stores its secret in clear: %s", tr.ID, tr.Actions)
			}
			var list []action.Action
			if err := json.Unmarshal(tr.Actions, &list); err != nil || len(list) != 2 {
				t.Fatalf("stored actions %s: %v", tr.Actions, err)
			}
			got, err := box.Open(list[1].SecretSealed, action.SecretContext)
			if err != nil || got != secret {
				t.Errorf("trigger %s: sealed secret opens to %q (%v), want %q", tr.ID, got, err, secret)
			}
		}
	})
}
