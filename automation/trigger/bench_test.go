package trigger_test

import (
	"fmt"
	"testing"

	"github.com/seliq/seliq/automation/trigger"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
)

// BenchmarkIngestTriggers ingests 100-alert payloads with no triggers and
// with 50 enabled ones of realistic conditions (none matching), on SQLite:
// what evaluating triggers adds to one ingest transaction.
func BenchmarkIngestTriggers(b *testing.B) {
	conds := []string{
		`source == "crowdstrike" && severity == "critical"`,
		`source == "sentinelone" && severity >= "high" && !("triaged" in tags)`,
		`attributes.host.startsWith("web-prod-") && title.contains("NodeDown")`,
		`title.matches("(?i)ransom|encrypt") && severity >= "medium"`,
		`"vip" in tags || attributes.user.endsWith("@board.example")`,
		`entities.ip.exists(i, i.startsWith("198.51.100."))`,
		`connector.type == "wazuh" && attributes.rule == "5710"`,
		`title.contains("Impossible travel") && assignee == null`,
	}
	for _, n := range []int{0, 50} {
		b.Run(fmt.Sprint(n, "triggers"), func(b *testing.B) {
			db := testenv.Open(b, testenv.SQLite)
			t := &testing.T{}
			f := newFixture(t, db, "acme", newInstance(db, trigger.Limits{}))
			for i := range n {
				c := conds[i%len(conds)]
				if _, err := f.triggers.Create(f.admin, trigger.CreateInput{Name: fmt.Sprint("t", i), Event: enum.TriggerEventAlertCreated, Condition: &c,
					Actions: actions(`[{"type":"add_tags","tags":["x"]}]`)}); err != nil {
					b.Fatal(err)
				}
			}
			seq := 0
			b.ResetTimer()
			for range b.N {
				items := make([]map[string]any, 100)
				for i := range items {
					seq++
					items[i] = payload(fmt.Sprint("Bench ", seq), "high", fmt.Sprintf("ingest-%04d", seq%5000))
				}
				f.ingestAlerts(t, items...)
			}
		})
	}
}
