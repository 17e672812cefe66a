package render

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

var testTime = time.Date(2025, time.June, 2, 14, 5, 0, 0, time.UTC)

// testDocument is an internal report with every section on and values
// that are easy to look for in the output.
func testDocument() Document {
	ack := testTime.Add(65 * time.Minute)
	tta := 65 * time.Minute
	return Document{
		Kind:         KindInternal,
		GeneratedAt:  testTime.Add(48 * time.Hour),
		Organization: "Globex",
		Branding: Branding{
			CompanyName:     "Globex Security",
			AccentColor:     "#8A1538",
			Footer:          "Globex SOC — soc@globex.test",
			Confidentiality: "TLP:AMBER",
		},
		Sections: AllSections(),
		Incident: Incident{
			Number:         4242,
			Title:          "Ransomware precursor on FILESRV01",
			Description:    "Cobalt Strike beacon observed.\nLateral movement suspected.",
			Summary:        "Beacon contained before encryption.",
			Severity:       "critical",
			Status:         "in_progress",
			Disposition:    "true_positive",
			Assignee:       "Dana Responder",
			Group:          "IR Team",
			Tags:           []string{"ransomware", "cobalt-strike"},
			CreatedAt:      testTime,
			AcknowledgedAt: &ack,
		},
		Timings: Timings{TimeToAcknowledge: &tta},
		Timeline: []Event{
			{OccurredAt: testTime, Kind: "created", Title: "Incident opened by rule", Actor: "Detection engine"},
			{OccurredAt: ack, Kind: "comment", Title: "Host isolated", Description: "EDR network containment", Actor: "Dana Responder"},
		},
		Alerts: []Alert{
			{Title: "Beacon to known C2", Severity: "critical", Status: "open", Source: "EDR", FirstSeenAt: testTime, LastSeenAt: ack, Occurrences: 17},
			{Title: "Подозрительный вход администратора", Severity: "high", Status: "open", Source: "AD", FirstSeenAt: testTime, LastSeenAt: testTime, Occurrences: 2},
		},
		Entities: []Entity{
			{Type: "host", Value: "FILESRV01", Count: 2},
			{Type: "sha256", Value: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Count: 1},
		},
		Notes: []Note{{Author: "Dana Responder", CreatedAt: ack, Body: "SECRET-NOTE: keep the CFO out of the loop"}},
	}
}

// bigDocument has n alerts with long, varied titles.
func bigDocument(n int) Document {
	doc := testDocument()
	doc.Alerts = make([]Alert, n)
	severities := []string{"critical", "high", "medium", "low", "info"}
	for i := range doc.Alerts {
		doc.Alerts[i] = Alert{
			Title:       fmt.Sprintf("Alert %04d: suspicious process tree spawned by winword.exe on host WS-%03d (Ελληνικά, кириллица)", i, i%250),
			Severity:    severities[i%len(severities)],
			Source:      []string{"EDR", "Sysmon", "Proxy logs", "M365 Defender"}[i%4],
			FirstSeenAt: testTime.Add(time.Duration(i) * time.Minute),
			LastSeenAt:  testTime.Add(time.Duration(i+30) * time.Minute),
			Occurrences: i%13 + 1,
		}
	}
	return doc
}

func mustRender(t testing.TB, tmpl *Template, doc Document, f Format) Output {
	t.Helper()
	out, err := Render(context.Background(), tmpl, doc, f)
	if err != nil {
		t.Fatalf("Render(%s): %v", f, err)
	}
	return out
}

// requireTool skips the test when a poppler tool is missing; CI and the
// development machines have poppler-utils installed.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not found: install Debian's poppler-utils to check PDFs", name)
	}
	return path
}

// pdfArg stands for the PDF file in runTool arguments.
const pdfArg = "@pdf"

// runTool writes pdf to a temporary file and runs a poppler tool on it.
func runTool(t *testing.T, pdf []byte, name string, args ...string) string {
	t.Helper()
	path := requireTool(t, name)
	file := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	args = slices.Clone(args)
	for i, a := range args {
		if a == pdfArg {
			args[i] = file
		}
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return string(out)
}
