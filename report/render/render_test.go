package render

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

var allFormats = []Format{FormatMarkdown, FormatHTML, FormatPDF}

// textOf is what a reader sees, with runs of spaces and line breaks made
// one space since text wraps differently in each format. PDFs go through
// pdftotext; HTML and Markdown are checked as they are.
func textOf(t *testing.T, out Output) string {
	t.Helper()
	text := string(out.Body)
	if out.ContentType == "application/pdf" {
		text = runTool(t, out.Body, "pdftotext", "-enc", "UTF-8", pdfArg, "-")
	}
	return strings.Join(strings.Fields(text), " ")
}

func TestRenderDefaultTemplate(t *testing.T) {
	doc := testDocument()
	want := []string{
		"Incident #4242", "Ransomware precursor on FILESRV01", "Globex Security", "Critical",
		"In progress", "True positive", "Beacon contained before encryption.", "Cobalt Strike beacon observed.",
		"Dana Responder", "IR Team", "ransomware, cobalt-strike", "1h 05m",
		"Incident opened by rule", "Host isolated", "EDR network containment",
		"Beacon to known C2", "Подозрительный вход администратора",
		"FILESRV01", "9f86d081884c7d659a2feaa0c55ad015", "SECRET-NOTE", "TLP:AMBER",
		"2025-06-02 14:05 UTC", "Internal",
	}
	for _, f := range allFormats {
		t.Run(string(f), func(t *testing.T) {
			out := mustRender(t, nil, doc, f)
			text := textOf(t, out)
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("%s output lacks %q", f, w)
				}
			}
		})
	}
}

func TestRenderOutputMetadata(t *testing.T) {
	tests := []struct {
		format      Format
		contentType string
		ext         string
		magic       string
	}{
		{FormatPDF, "application/pdf", ".pdf", "%PDF-"},
		{FormatHTML, "text/html; charset=utf-8", ".html", "<!DOCTYPE html>"},
		{FormatMarkdown, "text/markdown; charset=utf-8", ".md", "# Incident #4242"},
	}
	for _, tt := range tests {
		out := mustRender(t, Default(), testDocument(), tt.format)
		if out.ContentType != tt.contentType || out.Extension != tt.ext || !bytes.HasPrefix(out.Body, []byte(tt.magic)) {
			t.Errorf("%s: got %q %q %.20q", tt.format, out.ContentType, out.Extension, out.Body)
		}
	}
}

func TestClientReportsHaveNoNotes(t *testing.T) {
	doc := testDocument()
	doc.Kind = KindClient // Notes and Sections.Notes are still set
	// A template that prints notes unconditionally must not leak them either.
	leaky, err := Parse([]byte("# {{md .Incident.Title}}\n{{range .Notes}}{{md .Body}}{{end}}{{len .Notes}} notes"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tmpl := range []*Template{Default(), leaky} {
		for _, f := range allFormats {
			text := textOf(t, mustRender(t, tmpl, doc, f))
			if strings.Contains(text, "SECRET-NOTE") || strings.Contains(text, "Internal notes") {
				t.Errorf("client %s report shows internal notes", f)
			}
			if !strings.Contains(text, "Ransomware precursor") {
				t.Errorf("client %s report lacks the title", f)
			}
		}
	}
}

func TestSectionFlags(t *testing.T) {
	tests := []struct {
		name    string
		off     func(*Sections)
		missing []string
	}{
		{"summary", func(s *Sections) { s.Summary = false }, []string{"## Summary", "Beacon contained"}},
		{"timeline", func(s *Sections) { s.Timeline = false }, []string{"## Timeline", "Host isolated"}},
		{"alerts", func(s *Sections) { s.Alerts = false }, []string{"## Alerts", "Beacon to known C2"}},
		{"entities", func(s *Sections) { s.Entities = false }, []string{"## Entities", "9f86d081"}},
		{"notes", func(s *Sections) { s.Notes = false }, []string{"## Internal notes", "SECRET-NOTE"}},
		{"disposition", func(s *Sections) { s.Disposition = false }, []string{"Disposition", "True positive"}},
		{"timings", func(s *Sections) { s.Timings = false }, []string{"## Timings", "Time to acknowledge", "1h 05m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := testDocument()
			tt.off(&doc.Sections)
			md := string(mustRender(t, nil, doc, FormatMarkdown).Body)
			for _, m := range tt.missing {
				if strings.Contains(md, m) {
					t.Errorf("section %s is off but the report contains %q", tt.name, m)
				}
			}
			if !strings.Contains(md, "## Details") {
				t.Errorf("details must always be shown")
			}
		})
	}
}

func TestEmptySectionsSaySo(t *testing.T) {
	doc := testDocument()
	doc.Timeline, doc.Alerts, doc.Entities, doc.Notes = nil, nil, nil, nil
	md := string(mustRender(t, nil, doc, FormatMarkdown).Body)
	for _, w := range []string{"_No timeline events._", "_No alerts are linked", "_No entities", "_No notes._", "## Alerts (0)"} {
		if !strings.Contains(md, w) {
			t.Errorf("report lacks %q", w)
		}
	}
}

func TestInjectedMarkupStaysText(t *testing.T) {
	const evil = "<script>alert(1)</script> | # x"
	doc := testDocument()
	doc.Alerts[0].Title = evil
	doc.Incident.Title = "<img src=x onerror=alert(2)>"
	doc.Branding.CompanyName = "</style><script>alert(3)</script>"
	doc.Entities[0].Value = "[click](javascript:alert(4))"

	page := string(mustRender(t, nil, doc, FormatHTML).Body)
	for _, bad := range []string{"<script", "<img", "href=\"javascript", "</style><"} {
		if strings.Contains(page, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	if !strings.Contains(page, "<td>&lt;script&gt;alert(1)&lt;/script&gt; | # x</td>") {
		t.Errorf("the alert title is not one escaped table cell:\n%s", page)
	}

	md := string(mustRender(t, nil, doc, FormatMarkdown).Body)
	for _, line := range strings.Split(md, "\n") {
		if strings.Contains(line, "alert(1)") && strings.Count(line, " | ") != 5 {
			t.Errorf("alert row does not have 6 cells: %q", line)
		}
	}

	text := textOf(t, mustRender(t, nil, doc, FormatPDF))
	if !strings.Contains(text, "<script>alert(1)</script>") {
		t.Errorf("PDF does not show the alert title as typed:\n%s", text)
	}
}

func TestOutputIsValidUTF8(t *testing.T) {
	doc := testDocument()
	doc.Incident.Title = "bad \xff\xfe bytes"
	doc.Branding.CompanyName = "Globex \xc3"
	doc.Alerts[0].Title = "\xf0\x9f alert"
	for _, f := range []Format{FormatMarkdown, FormatHTML} {
		if out := mustRender(t, nil, doc, f); !utf8.Valid(out.Body) {
			t.Errorf("%s output is not valid UTF-8", f)
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	for _, f := range allFormats {
		a := mustRender(t, nil, testDocument(), f)
		b := mustRender(t, nil, testDocument(), f)
		if !bytes.Equal(a.Body, b.Body) {
			t.Errorf("%s: two renders of the same document differ", f)
		}
	}
}

func TestRenderRejectsBadInput(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Document)
		format Format
	}{
		{"unknown format", func(*Document) {}, "docx"},
		{"unknown kind", func(d *Document) { d.Kind = "public" }, FormatHTML},
		{"empty kind", func(d *Document) { d.Kind = "" }, FormatHTML},
		{"bad accent colour", func(d *Document) { d.Branding.AccentColor = "red;}</style>" }, FormatPDF},
		{"short accent colour", func(d *Document) { d.Branding.AccentColor = "#fff" }, FormatHTML},
	}
	for _, tt := range tests {
		doc := testDocument()
		tt.modify(&doc)
		_, err := Render(context.Background(), nil, doc, tt.format)
		var te *TemplateError
		if err == nil || errors.As(err, &te) {
			t.Errorf("%s: Render error = %v, want a non-template error", tt.name, err)
		}
	}
}

func TestBrandingDefaults(t *testing.T) {
	doc := testDocument()
	doc.Branding = Branding{}
	page := string(mustRender(t, nil, doc, FormatHTML).Body)
	for _, w := range []string{"--accent: #1f4e79", "Globex", DefaultConfidentiality} {
		if !strings.Contains(page, w) {
			t.Errorf("HTML lacks default %q", w)
		}
	}
	if err := (Branding{AccentColor: "#12AbEf"}).Validate(); err != nil {
		t.Errorf("Validate(#12AbEf) = %v", err)
	}
	if err := (Branding{AccentColor: "#12AbEg"}).Validate(); err == nil {
		t.Errorf("Validate(#12AbEg) accepted a bad colour")
	}
}

func TestHTMLIsACompleteDocument(t *testing.T) {
	page := string(mustRender(t, nil, testDocument(), FormatHTML).Body)
	for _, w := range []string{
		"<!DOCTYPE html>", "<meta charset=\"utf-8\">", "<title>Incident #4242 — Ransomware precursor on FILESRV01</title>",
		"--accent: #8a1538", "@media print", "<table>", "<th>Severity</th>", "</html>",
	} {
		if !strings.Contains(page, w) {
			t.Errorf("HTML lacks %q", w)
		}
	}
	for _, external := range []string{"<link", "src=", "@import", "url("} {
		if strings.Contains(page, external) {
			t.Errorf("HTML refers to an external asset: %q", external)
		}
	}
}

func TestFileName(t *testing.T) {
	doc := testDocument()
	doc.Incident.Number = 42
	tests := []struct {
		kind   Kind
		format Format
		want   string
	}{
		{KindClient, FormatPDF, "incident-42-client-report.pdf"},
		{KindInternal, FormatHTML, "incident-42-internal-report.html"},
		{KindInternal, FormatMarkdown, "incident-42-internal-report.md"},
		{`évil"; x=/..`, FormatPDF, "incident-42-vilx-report.pdf"},
	}
	for _, tt := range tests {
		doc.Kind = tt.kind
		if got := FileName(doc, tt.format); got != tt.want {
			t.Errorf("FileName(%q, %s) = %q, want %q", tt.kind, tt.format, got, tt.want)
		}
	}
}
