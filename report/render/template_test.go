package render

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantLine int
		wantCol  int
		wantMsg  string // substring of Message; empty means no error expected
	}{
		{name: "valid", src: "# Incident {{.Incident.Number}}\n\n{{md .Incident.Title}} {{date .GeneratedAt}}\n"},
		{name: "valid with define", src: "{{define \"row\"}}| {{md .Title}} |\n{{end}}# Alerts\n{{range .Alerts}}{{template \"row\" .}}{{end}}"},
		{name: "default template", src: string(Default().Source())},
		{
			name: "unclosed action", src: "# Report\n\nTitle: {{ .Incident.Title\n\nSome text after.\nMore text.\n",
			wantLine: 3, wantMsg: "unclosed action",
		},
		{
			name: "unclosed action at end", src: "a\nb\n{{ .Incident.Title",
			wantLine: 3, wantMsg: "unclosed action",
		},
		{
			name: "unexpected brace", src: "a\nb\nc\n{{ .Incident.Title }\n",
			wantLine: 4, wantMsg: `unexpected "}"`,
		},
		{
			name: "unknown field", src: "# Report\n\nline three\nline four\nSeverity: {{.Incident.Nope}}\n",
			wantLine: 5, wantCol: 22, wantMsg: "can't evaluate field Nope", // the column of .Nope
		},
		{
			name: "unknown field after multibyte text", src: "ok\nЖЖ {{.Nope}}",
			wantLine: 2, wantCol: 6, wantMsg: "can't evaluate field Nope",
		},
		{
			name: "unknown field in defined template", src: "{{define \"x\"}}\n\n{{.Missing}}{{end}}# T\n{{template \"x\" .}}",
			wantLine: 3, wantMsg: "can't evaluate field Missing",
		},
		{
			name: "unknown field only when a section is off", src: "# T\n{{if .Sections.Alerts}}ok{{else}}{{.Nope}}{{end}}",
			wantLine: 2, wantMsg: "can't evaluate field Nope",
		},
		{
			name: "nil pointer only in sparse document", src: "# T\n\n{{.Incident.ClosedAt.Year}}",
			wantLine: 3, wantMsg: "nil *Time pointer",
		},
		{
			name: "undefined function", src: "# T\n{{nope .Incident.Title}}",
			wantLine: 2, wantMsg: `function "nope" not defined`,
		},
		{
			name: "wrong function arguments", src: "# T\n\n{{date .Incident.Title}}",
			wantLine: 3, wantMsg: "error calling date: want a time, got string",
		},
		{
			name: "wrong argument count", src: "# T\n{{md}}",
			wantLine: 2, wantMsg: "wrong number of args for md",
		},
		{name: "empty", src: "", wantMsg: "template is empty"},
		{name: "blank", src: " \n\t\n", wantMsg: "template is empty"},
		{name: "too large", src: "# T\n" + strings.Repeat("x", MaxTemplateSize), wantMsg: "larger than 256 KiB"},
		{name: "invalid UTF-8", src: "# T\nok\nbad \xff byte", wantLine: 3, wantCol: 5, wantMsg: "not valid UTF-8"},
		{name: "empty output", src: "{{/* nothing */}}\n  \n", wantMsg: "produces no output"},
		{name: "output too large", src: "{{range 100}}{{range 1000}}{{printf \"%0100d\" 0}}{{end}}{{end}}", wantMsg: "exceeds 8 MiB"},
		{
			name: "silent runaway loop", src: "# T\n{{range 100000}}{{range 100000}}{{end}}{{end}}",
			wantLine: 2, wantMsg: "more than 250000 loop iterations",
		},
		{
			name: "recursion", src: "{{define \"a\"}}x\n{{template \"b\" .}}{{end}}{{define \"b\"}}{{template \"a\" .}}{{end}}{{template \"a\" .}}",
			wantMsg: "recursion is not allowed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			tmpl, err := Parse([]byte(tt.src))
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("Parse took %v", elapsed)
			}
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if !bytes.Equal(tmpl.Source(), []byte(tt.src)) {
					t.Errorf("Source() differs from the parsed text")
				}
				return
			}
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("Parse error = %v (%T), want *TemplateError", err, err)
			}
			if !strings.Contains(te.Message, tt.wantMsg) {
				t.Errorf("Message = %q, want it to contain %q", te.Message, tt.wantMsg)
			}
			if strings.Contains(te.Message, "template: ") {
				t.Errorf("Message %q keeps text/template's prefix", te.Message)
			}
			if tt.wantLine != 0 && te.Line != tt.wantLine {
				t.Errorf("Line = %d, want %d (%v)", te.Line, tt.wantLine, err)
			}
			if tt.wantCol != 0 && te.Column != tt.wantCol {
				t.Errorf("Column = %d, want %d (%v)", te.Column, tt.wantCol, err)
			}
		})
	}
}

func TestTemplateErrorString(t *testing.T) {
	tests := []struct {
		err  TemplateError
		want string
	}{
		{TemplateError{Line: 3, Message: "unclosed action"}, "line 3: unclosed action"},
		{TemplateError{Line: 5, Column: 13, Message: "bad"}, "line 5, column 13: bad"},
		{TemplateError{Message: "template is empty"}, "template is empty"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestSourceIsACopy(t *testing.T) {
	src := []byte("# {{.Incident.Title}}")
	tmpl, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	src[0] = 'X'
	got := tmpl.Source()
	got[1] = 'Y'
	if string(tmpl.Source()) != "# {{.Incident.Title}}" {
		t.Errorf("Source() = %q, changed through the caller's slices", tmpl.Source())
	}
}

func TestRenderStopsWhenContextIsDone(t *testing.T) {
	// A loop nested three deep over the alerts is refused at upload since
	// the large sample; one level is enough to show cancellation.
	tmpl, err := Parse([]byte("# {{.Incident.Title}}\n{{range .Alerts}}{{md .Title}}{{end}}"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, f := range []Format{FormatMarkdown, FormatPDF} {
		_, err := Render(ctx, tmpl, testDocument(), f)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Render(%s) with a cancelled context = %v, want context.Canceled", f, err)
		}
	}
}

func TestRenderReportsTemplateErrorsOnRealData(t *testing.T) {
	// Valid against the samples, but the real document has more tags than
	// the index reaches for.
	tmpl, err := Parse([]byte("# T\n\n{{if gt (len .Incident.Tags) 2}}{{index .Incident.Tags 5}}{{end}}"))
	if err != nil {
		t.Fatal(err)
	}
	doc := testDocument()
	doc.Incident.Tags = []string{"a", "b", "c"}
	_, err = Render(context.Background(), tmpl, doc, FormatMarkdown)
	var te *TemplateError
	if !errors.As(err, &te) || te.Line != 3 || !strings.Contains(te.Message, "index out of range") {
		t.Fatalf("Render error = %v, want a *TemplateError on line 3 about the index", err)
	}
}

// TestGuideExampleParses keeps the first example of TEMPLATES.md valid.
func TestGuideExampleParses(t *testing.T) {
	guide, err := os.ReadFile("TEMPLATES.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(guide, []byte("```\n"))
	example, _, ok2 := bytes.Cut(rest, []byte("```\n"))
	if !ok || !ok2 {
		t.Fatal("TEMPLATES.md has no example block")
	}
	tmpl, err := Parse(example)
	if err != nil {
		t.Fatalf("the guide's example does not parse: %v", err)
	}
	md := string(mustRender(t, tmpl, testDocument(), FormatMarkdown).Body)
	if !strings.Contains(md, "| Critical | Beacon to known C2 | 2025-06-02 14:05 UTC |") {
		t.Errorf("the guide's example renders:\n%s", md)
	}
}
