package render

import (
	"context"
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	seeds := []string{
		string(Default().Source()),
		"# {{.Incident.Title}}",
		"{{range .Alerts}}| {{md .Title}} |\n{{end}}",
		"{{ .Incident.Title",
		"{{define \"a\"}}{{template \"a\"}}{{end}}{{template \"a\"}}",
		"{{range 1000000}}{{end}}",
		"{{block \"x\" .}}{{.Nope}}{{end}}",
		"{{date .Incident.ClosedAt}} {{duration .Timings.TimeToClose}} {{join \",\" .Incident.Tags}}",
		"\xff\xfe",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := Parse([]byte(src))
		if err != nil {
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("Parse(%q) error %v is a %T, not a *TemplateError", src, err, err)
			}
			if te.Line < 0 || te.Column < 0 || te.Message == "" {
				t.Fatalf("Parse(%q) gave a malformed error %#v", src, te)
			}
			return
		}
		// What Parse accepts renders the samples it was checked on.
		if _, err := Render(context.Background(), tmpl, richSample(), FormatMarkdown); err != nil {
			t.Fatalf("Render after a successful Parse(%q): %v", src, err)
		}
	})
}

func FuzzRenderPDF(f *testing.F) {
	seeds := []string{
		"plain", "<script>alert(1)</script> | # x", "**bold** _it_ `code` [l](http://x)",
		"Привет 😀 漢字 \x00\x1b\u200b\U0010FFFF", "```\ncode\n```\n> quote\n- list\n1. item\n---",
		"averyveryveryveryveryveryveryveryveryveryveryveryveryveryverylongwordwithoutanyspaces/and/slashes",
		"| a | b |\n| - | - |\n| c | d |",
	}
	for _, s := range seeds {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, title, description string) {
		doc := testDocument()
		doc.Alerts[0].Title = title
		doc.Alerts[1].Source = description
		doc.Incident.Title = title
		doc.Incident.Description = description
		doc.Notes[0].Body = description
		if _, err := Render(context.Background(), nil, doc, FormatPDF); err != nil {
			t.Fatalf("Render: %v", err)
		}
	})
}
