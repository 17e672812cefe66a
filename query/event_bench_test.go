package query_test

import (
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/query"
)

// benchAlert is an ingested alert as conditions read it.
func benchAlert() query.Record {
	now := time.Now()
	return query.AlertRecord(&ent.Alert{Source: "bench", Title: "Suspicious login on ingest-0042", Description: strings.Repeat("details ", 40),
		Severity: enum.Severity("high"), Status: enum.AlertStatus("new"), Tags: []string{"bench", "edr"}, Occurrences: 1,
		Attributes: map[string]string{"host": "ingest-0042", "user": "alice@example.com", "process": "sshd"},
		Entities:   []schematype.Entity{{Type: "ip", Value: "10.0.0.7"}, {Type: "host", Value: "ingest-0042"}},
		CreatedAt:  now, FirstSeenAt: now, LastSeenAt: now, Edges: ent.AlertEdges{Connector: &ent.Connector{Name: "bench", Type: "generic"}}})
}

// BenchmarkMatchesPrepared evaluates the harness's 50 trigger conditions
// on one prepared alert: the CPU an alert.created event costs.
func BenchmarkMatchesPrepared(b *testing.B) {
	src, _ := query.Lookup("alerts")
	now := time.Now()
	var conds []*query.Query
	for _, text := range testenv.TriggerConditions(50) {
		q, err := query.CompileEvent(src, "condition", text, now, false)
		if err != nil {
			b.Fatal(err)
		}
		conds = append(conds, q)
	}
	rec := benchAlert()
	b.ReportAllocs()
	for b.Loop() {
		p := src.Prepare(rec, now)
		for _, q := range conds {
			if _, err := q.MatchesPrepared(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}
