package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Output is a rendered report.
type Output struct {
	Body        []byte
	ContentType string
	// Extension includes the dot: ".pdf", ".html", ".md".
	Extension string
}

type formatSpec struct {
	contentType string
	extension   string
	render      func(ctx context.Context, doc Document, markdown []byte) ([]byte, error)
}

func specOf(f Format) (formatSpec, bool) {
	switch f {
	case FormatPDF:
		return formatSpec{"application/pdf", ".pdf", renderPDF}, true
	case FormatHTML:
		return formatSpec{"text/html; charset=utf-8", ".html", renderHTML}, true
	case FormatMarkdown:
		return formatSpec{"text/markdown; charset=utf-8", ".md", renderMarkdown}, true
	}
	return formatSpec{}, false
}

// Render executes t on doc and converts the Markdown it produces to f. A nil
// t means Default(). Template failures are *TemplateError; an invalid kind,
// format or branding is an ordinary error. Output is the same bytes for the
// same input: the PDF creation date is doc.GeneratedAt.
func Render(ctx context.Context, t *Template, doc Document, f Format) (Output, error) {
	spec, ok := specOf(f)
	if !ok {
		return Output{}, fmt.Errorf("render: unknown format %q", f)
	}
	if t == nil {
		t = Default()
	}
	doc, err := prepare(doc)
	if err != nil {
		return Output{}, fmt.Errorf("render: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, renderTimeout)
	defer cancel()
	out, err := convert(rctx, t, doc, spec)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		// Our deadline, not the caller's: the template is too slow.
		err = errRenderTimeout
	}
	if err != nil {
		return Output{}, fmt.Errorf("render: %w", err)
	}
	return out, nil
}

// convert executes t on doc and converts the Markdown to spec's format.
func convert(ctx context.Context, t *Template, doc Document, spec formatSpec) (Output, error) {
	markdown, err := execute(ctx, t.src, doc)
	if err != nil {
		return Output{}, err
	}
	// Values from alerts may be any bytes; every output is declared UTF-8.
	markdown = bytes.ToValidUTF8(markdown, []byte(string(replacementChar)))
	body, err := spec.render(ctx, doc, markdown)
	if err != nil {
		return Output{}, fmt.Errorf("convert to %s: %w", spec.extension, err)
	}
	return Output{Body: body, ContentType: spec.contentType, Extension: spec.extension}, nil
}

func renderMarkdown(_ context.Context, _ Document, markdown []byte) ([]byte, error) {
	return markdown, nil
}

// FileName is a download name for the report, such as
// "incident-42-client-report.pdf": ASCII only, so it is safe in a
// Content-Disposition header without encoding.
func FileName(doc Document, f Format) string {
	kind := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, strings.ToLower(string(doc.Kind)))
	name := "incident-" + strconv.Itoa(doc.Incident.Number)
	if kind != "" {
		name += "-" + kind
	}
	spec, _ := specOf(f)
	return name + "-report" + spec.extension
}
