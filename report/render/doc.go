// Package render turns an incident report Document into Markdown, HTML or
// PDF through an organisation's template.
//
// It knows nothing of the database: callers fill a Document (including,
// for client reports, leaving notes out; Render drops them again anyway).
//
// # Templates
//
// A template is Go text/template source that produces Markdown (CommonMark
// with GFM tables). The dot is the Document, so {{.Incident.Title}},
// {{range .Alerts}}…{{end}}, {{if .Sections.Timeline}}…{{end}} and so on
// reach its fields. Besides text/template's built-ins (and, or, not, eq,
// ne, lt, le, gt, ge, len, index, slice, print, printf, println, html, js,
// urlquery, call), templates have these functions:
//
//	date T        a time.Time or *time.Time as "2006-01-02 15:04 UTC"; "—" when nil or zero
//	duration D    a time.Duration or *time.Duration as "45s", "12m 05s", "1h 05m", "3d 04h"; "—" when nil
//	md V          V escaped to be literal text anywhere in a line, table cells included
//	mdblock V     multi-line V escaped, keeping paragraphs and line breaks; on lines of its own
//	upper V       V in upper case
//	lower V       V in lower case
//	join SEP LIST a []string joined with SEP: {{join ", " .Incident.Tags | md}}
//	label V       an enum value for people: "true_positive" → "True positive"; "—" when empty
//	severity V    like label; "Unknown" when empty
//
// Every value that a person typed or an alert carried must go through md or
// mdblock: otherwise an alert titled "<script>…" or "| # x" adds markup or
// breaks a table. The HTML renderer drops raw HTML whatever the template
// does, so a missing md can spoil the layout but not inject script.
// Kind has a Label method: {{.Kind.Label}} is "Internal" or "Client".
//
// Parse validates a template when it is uploaded: beyond syntax errors it
// executes the template on sample documents (everything present, then
// everything empty or absent, then every section off) so that unknown
// fields, wrong function arguments and nil dereferences are reported with
// their line before any report is due. It refuses empty templates,
// templates over MaxTemplateSize or not UTF-8, templates whose output is
// empty, templates that call themselves, and runaway templates: output is
// limited to MaxOutputSize, loop iterations plus template calls to
// MaxSteps, each string a function builds to MaxValueSize and all of them
// to MaxBuilt per execution, and a Render to RenderTimeout; a failure
// caused by a limit matches ErrResourceLimit (retrying cannot help), and
// a large sample incident makes limits that only many alerts reach show
// at upload. Errors are *TemplateError with a 1-based line
// (and column when known). Default returns the built-in template, which is
// also the best example; TEMPLATES.md is the guide for users.
//
// # Output
//
// Markdown is the template output as is. HTML is a complete HTML5 page
// with embedded CSS in the accent colour, made for screen and print. PDF
// is drawn with fpdf on A4 pages from goldmark's syntax tree, with the Go
// fonts embedded (Latin, Greek, Cyrillic; other characters print as "�"),
// a header with the company name, a footer with the confidentiality label
// and "Page N of M", tables whose header repeats on each page, and long
// words cut to stay on the page. Output is deterministic: the PDF dates
// are Document.GeneratedAt.
package render
