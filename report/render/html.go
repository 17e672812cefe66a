package render

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// newMarkdown is the one Markdown dialect of reports, shared by the HTML and
// PDF renderers so that both read a template the same way. Raw HTML is not
// enabled: goldmark omits it, so nothing a template or a value smuggles in
// as HTML reaches the page.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(goldmark.WithExtensions(extension.Table))
}

func renderHTML(_ context.Context, doc Document, markdown []byte) ([]byte, error) {
	var body bytes.Buffer
	if err := newMarkdown().Convert(markdown, &body); err != nil {
		return nil, fmt.Errorf("convert markdown: %w", err)
	}
	accent, err := parseColor(doc.Branding.AccentColor)
	if err != nil {
		return nil, fmt.Errorf("accent colour: %w", err)
	}
	var out bytes.Buffer
	out.Grow(body.Len() + 4096)
	fmt.Fprintf(&out, htmlHead, escapeHTML(documentTitle(doc)), accent, accent.mix(0.92))
	fmt.Fprintf(&out, "<header class=\"brand\"><span class=\"company\">%s</span><span class=\"label\">%s</span></header>\n",
		escapeHTML(doc.Branding.CompanyName), escapeHTML(doc.Branding.Confidentiality))
	out.WriteString("<main>\n")
	out.Write(body.Bytes())
	out.WriteString("</main>\n")
	fmt.Fprintf(&out, "<footer>%s · %s report · %s</footer>\n</body>\n</html>\n",
		escapeHTML(doc.Branding.Confidentiality), escapeHTML(doc.Kind.Label()), escapeHTML(doc.Branding.CompanyName))
	return out.Bytes(), nil
}

// escapeHTML escapes text for HTML, making it valid UTF-8 first.
func escapeHTML(s string) string {
	return html.EscapeString(strings.ToValidUTF8(s, string(replacementChar)))
}

// documentTitle names the report in the browser tab and PDF metadata.
func documentTitle(doc Document) string {
	return fmt.Sprintf("Incident #%d — %s", doc.Incident.Number, doc.Incident.Title)
}

// htmlHead takes the escaped title, the accent colour and its light tint.
// Everything is embedded: a report must open offline and print alike.
const htmlHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Seliq">
<title>%s</title>
<style>
:root { --accent: %s; --tint: %s; --ink: #1f2328; --muted: #5b6470; --rule: #d0d7de; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 60rem; padding: 1.5rem 2rem 3rem; color: var(--ink);
  font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header.brand { display: flex; justify-content: space-between; align-items: baseline;
  border-bottom: 3px solid var(--accent); padding-bottom: .4rem; margin-bottom: 1.5rem; }
header.brand .company { font-weight: 700; color: var(--accent); font-size: 1.05rem; }
header.brand .label, footer { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; }
footer { border-top: 1px solid var(--rule); margin-top: 2.5rem; padding-top: .5rem; }
h1 { font-size: 1.75rem; line-height: 1.25; margin: 0 0 .5rem; }
h2 { font-size: 1.25rem; color: var(--accent); border-bottom: 1px solid var(--rule); padding-bottom: .2rem; margin: 2rem 0 .75rem; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; }
h2, h3 { break-after: avoid; page-break-after: avoid; }
p, ul, ol { margin: 0 0 .75rem; }
a { color: var(--accent); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; background: #f3f4f6; border-radius: 3px; }
code { padding: .1em .3em; }
pre { padding: .75rem; white-space: pre-wrap; overflow-wrap: anywhere; }
blockquote { margin: 0 0 .75rem; padding: .1rem 1rem; border-left: 3px solid var(--accent); color: var(--muted); }
hr { border: 0; border-top: 1px solid var(--rule); margin: 1.5rem 0; }
table { width: 100%%; border-collapse: collapse; margin: 0 0 1rem; font-size: .85rem; }
th { background: var(--accent); color: #fff; text-align: left; font-weight: 600; }
th, td { padding: .35rem .5rem; border-bottom: 1px solid var(--rule); vertical-align: top; overflow-wrap: anywhere; }
tbody tr:nth-child(even) td { background: var(--tint); }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
@page { size: A4; margin: 18mm 16mm; }
@media print { body { max-width: none; padding: 0; font-size: 11pt; } a { color: inherit; text-decoration: none; } }
</style>
</head>
<body>
`
