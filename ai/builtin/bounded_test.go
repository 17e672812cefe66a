package builtin

import (
	"strings"
	"testing"
	"time"
)

// TestAnalyzeAlertBoundedWork feeds inputs built to make every scanner
// work hardest; the size caps must keep each analysis fast.
func TestAnalyzeAlertBoundedWork(t *testing.T) {
	cases := map[string]string{
		"encoded powershell": strings.Repeat("powershell -e x ", 4000),
		"phishing pattern":   strings.Repeat("phishing ", 4000),
		"near keyword":       strings.Repeat("lsassx ", 4000),
		"office parent":      strings.Repeat("winword.exe a ", 4000),
		"technique ids":      strings.Repeat("t1234.", 8000),
		"net user":           strings.Repeat("net user x ", 4000),
	}
	for name, d := range cases {
		t.Run(name, func(t *testing.T) {
			a := Alert{Title: d, Description: d, Raw: []byte(`{"commandline":"` + d + `","message":"` + d + `"}`)}
			start := time.Now()
			checkAnalysis(t, AnalyzeAlert(a, Context{}))
			if took := time.Since(start); took > 250*time.Millisecond {
				t.Errorf("took %v", took)
			}
		})
	}
}
