package render

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// pageCount reads the page count that pdfinfo reports, which also checks
// that poppler accepts the file.
func pageCount(t *testing.T, pdf []byte) int {
	t.Helper()
	info := runTool(t, pdf, "pdfinfo", pdfArg)
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("pdfinfo gives no page count:\n%s", info)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

var wordBox = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)

// checkWordsOnPage asserts that every word pdftotext finds lies within the
// page margins: nothing runs off the page.
func checkWordsOnPage(t *testing.T, pdf []byte) {
	t.Helper()
	const mm = 72 / 25.4
	const tolerance = 1.0 // points
	boxes := runTool(t, pdf, "pdftotext", "-bbox", pdfArg, "-")
	words := wordBox.FindAllStringSubmatch(boxes, -1)
	if len(words) == 0 {
		t.Fatalf("pdftotext found no words")
	}
	for _, w := range words {
		xMin, _ := strconv.ParseFloat(w[1], 64)
		xMax, _ := strconv.ParseFloat(w[3], 64)
		yMax, _ := strconv.ParseFloat(w[4], 64)
		if xMin < marginX*mm-tolerance || xMax > (pageWidth-marginX)*mm+tolerance || yMax > pageHeight*mm-5*mm {
			t.Errorf("word %q at x %.1f–%.1f, y %.1f is outside the margins", w[5], xMin, xMax, yMax)
		}
	}
}

func TestPDFReadableByPoppler(t *testing.T) {
	pdf := mustRender(t, nil, testDocument(), FormatPDF).Body
	pages := pageCount(t, pdf)
	if pages < 1 {
		t.Fatalf("pdfinfo: %d pages", pages)
	}
	info := runTool(t, pdf, "pdfinfo", pdfArg)
	for _, w := range []string{"Title:           Incident #4242 — Ransomware precursor", "Author:          Globex Security", "Page size:       595.28 x 841.89 pts (A4)"} {
		if !strings.Contains(info, w) {
			t.Errorf("pdfinfo lacks %q:\n%s", w, info)
		}
	}
	text := runTool(t, pdf, "pdftotext", "-enc", "UTF-8", "-layout", pdfArg, "-")
	for _, w := range []string{"Ransomware precursor", "Подозрительный вход администратора", "Page 1 of " + strconv.Itoa(pages), "TLP:AMBER", "Globex Security"} {
		if !strings.Contains(text, w) {
			t.Errorf("pdftotext lacks %q:\n%s", w, text)
		}
	}
	checkWordsOnPage(t, pdf)

	requireTool(t, "pdftoppm")
	prefix := filepath.Join(t.TempDir(), "page")
	runTool(t, pdf, "pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", pdfArg, prefix)
	png, err := os.ReadFile(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	if len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("pdftoppm made a %d-byte file that is not a PNG", len(png))
	}
}

func TestPDFThousandAlerts(t *testing.T) {
	pdf := mustRender(t, nil, bigDocument(1000), FormatPDF).Body
	pages := pageCount(t, pdf)
	if pages <= 10 {
		t.Fatalf("1,000 alerts fit on %d pages, want more than 10", pages)
	}
	text := runTool(t, pdf, "pdftotext", "-enc", "UTF-8", "-layout", pdfArg, "-")
	byPage := strings.Split(text, "\f")
	last := "Page " + strconv.Itoa(pages) + " of " + strconv.Itoa(pages)
	if !strings.Contains(byPage[pages-1], last) {
		t.Errorf("last page lacks %q", last)
	}
	for _, w := range []string{"Alert 0000:", "Alert 0999:", "кириллица"} {
		if !strings.Contains(text, w) {
			t.Errorf("PDF lacks %q", w)
		}
	}
	// Pages in the middle of the alerts table repeat its header.
	for _, p := range byPage[3 : pages-2] {
		if !strings.Contains(p, "Severity") || !strings.Contains(p, "First seen") {
			t.Errorf("a page of the alerts table lacks the repeated header:\n%.400s", p)
			break
		}
	}
}

func TestPDFUnusualText(t *testing.T) {
	doc := testDocument()
	doc.Branding.CompanyName = "Bad \xff\xfe UTF-8 \xf0\x9f"
	doc.Incident.Title = "Invalid \xff\xfe UTF-8, emoji 😀, CJK 漢字, private \uE000, max \U0010FFFF, controls \x00\x07\x1b, RTL שלום, zero\u200bwidth"
	doc.Alerts[0].Title = strings.Repeat("A", 400)
	doc.Alerts[1].Title = "https://example.test/" + strings.Repeat("very-long-path-segment/", 20) + "?q=" + strings.Repeat("x", 100)
	doc.Entities[0].Value = strings.Repeat("0123456789abcdef", 16)
	doc.Incident.Description = strings.Repeat("word ", 3000) // taller than a page
	doc.Timeline[0].Description = strings.Repeat("cell text that wraps ", 400)
	pdf := mustRender(t, nil, doc, FormatPDF).Body
	text := runTool(t, pdf, "pdftotext", "-enc", "UTF-8", pdfArg, "-")
	for _, w := range []string{"Invalid \uFFFD\uFFFD UTF-8", "emoji \uFFFD", "zerowidth", "\uFFFD\uFFFD"} {
		if !strings.Contains(text, w) {
			t.Errorf("PDF lacks %q", w)
		}
	}
	checkWordsOnPage(t, pdf)
}

func TestPDFMarkdownConstructs(t *testing.T) {
	tmpl, err := Parse([]byte(`# Heading one {{md .Incident.Title}}

Para with *italic*, **bold**, ***both***, ` + "`code span`" + `, [a link](https://example.test/x) and <https://auto.example.test>.
A soft break and a hard\
break.

## Lists

- bullet one
- bullet two
  - nested bullet
  - nested two
3. third item
4. fourth item

> A quoted line that is long enough to wrap across the width of the page, so that the bar is drawn next to every line of it.

---

` + "```" + `
code block line one
	tabbed line ` + strings.Repeat("0123456789", 20) + `
` + "```" + `

<div>raw html dropped</div>

| Left | Centre | Right |
| :--- | :---: | ---: |
| a | b | c |

### Level three
#### Level four
`))
	if err != nil {
		t.Fatal(err)
	}
	pdf := mustRender(t, tmpl, testDocument(), FormatPDF).Body
	text := strings.Join(strings.Fields(runTool(t, pdf, "pdftotext", "-enc", "UTF-8", pdfArg, "-")), " ")
	for _, w := range []string{
		"Heading one Ransomware", "italic, bold, both, code span, a link and https://auto.example.test.",
		"A soft break and a hard break.", "• bullet one", "– nested bullet", "3. third item", "4. fourth item",
		"A quoted line", "code block line one", "tabbed line", "Level three", "Level four",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("PDF lacks %q:\n%s", w, text)
		}
	}
	layout := runTool(t, pdf, "pdftotext", "-enc", "UTF-8", "-layout", pdfArg, "-")
	if !regexp.MustCompile(`Left +Centre +Right`).MatchString(layout) {
		t.Errorf("PDF lacks the table header row:\n%s", layout)
	}
	if strings.Contains(text, "raw html") {
		t.Errorf("raw HTML reached the PDF")
	}
	checkWordsOnPage(t, pdf)
}

func BenchmarkRender1000Alerts(b *testing.B) {
	doc := bigDocument(1000)
	for _, f := range allFormats {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render(context.Background(), nil, doc, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
