package render

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	mdtext "github.com/yuin/goldmark/text"
)

// Page geometry, in millimetres (A4 portrait).
const (
	pageWidth     = 210.0
	pageHeight    = 297.0
	marginX       = 18.0
	marginTop     = 24.0
	marginBottom  = 20.0
	contentWidth  = pageWidth - 2*marginX
	contentBottom = pageHeight - marginBottom

	bodySize    = 10.0 // points
	leading     = 1.45 // line height as a multiple of the font size
	listIndent  = 6.5
	quoteIndent = 5.0
)

// pageCountAlias is replaced by fpdf with the page count when the document
// is closed. It is made of characters that cleaned text never contains, so
// a value such as "{nb}" in an alert title is printed as typed.
const pageCountAlias = "{\u0001nb}"

// Colours of text and rules; the accent colour comes from the branding.
const (
	inkColor   = 0x1f2328
	mutedColor = 0x5b6470
	ruleColor  = 0xd0d7de
	codeFill   = 0xf1f3f5
	whiteColor = 0xffffff
)

func hexColor(v uint32) rgb { return rgb{int(v >> 16 & 0xff), int(v >> 8 & 0xff), int(v & 0xff)} }

// lineHeight is the height of a line of text at size points.
func lineHeight(size float64) float64 { return size * ptToMM * leading }

type fontState struct {
	face int
	size float64
}

// pdfRenderer draws the Markdown produced by a template onto A4 pages,
// walking goldmark's syntax tree. It breaks pages itself (fpdf's automatic
// page break is off) so that table headers can be repeated and headings
// kept with what follows.
type pdfRenderer struct {
	ctx     context.Context
	pdf     *fpdf.Fpdf
	doc     Document
	src     []byte
	accent  rgb
	faces   []*face
	decoder *textDecoder

	// font and color mirror fpdf's current state: SetFont writes to the page
	// each time it is called, so calls are skipped when nothing changes.
	font  fontState
	color rgb
	// registered says which faces fpdf has loaded. Loading a font costs
	// fpdf a few milliseconds, so faces are loaded when first drawn.
	registered []bool

	left      float64 // indentation of the current block from the margin
	quote     int     // blockquote depth
	marker    string  // list marker waiting for the first line of its item
	bookmarks int     // bookmarks added so far, to nest h2 under h1
}

func renderPDF(ctx context.Context, doc Document, markdown []byte) ([]byte, error) {
	r, err := newPDFRenderer(ctx, doc, markdown)
	if err != nil {
		return nil, err
	}
	root := newMarkdown().Parser().Parse(mdtext.NewReader(markdown))
	r.newPage()
	if err := r.blocks(root); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := r.pdf.Output(&out); err != nil {
		return nil, fmt.Errorf("write pdf: %w", err)
	}
	return out.Bytes(), nil
}

func newPDFRenderer(ctx context.Context, doc Document, markdown []byte) (*pdfRenderer, error) {
	accent, err := parseColor(doc.Branding.AccentColor)
	if err != nil {
		return nil, fmt.Errorf("accent colour: %w", err)
	}
	r := &pdfRenderer{
		ctx: ctx, doc: doc, src: markdown, accent: accent,
		decoder: newTextDecoder(),
		font:    fontState{face: -1},
	}
	p := fpdf.New("P", "mm", "A4", "")
	// The alias must be known before fonts are added: it changes how fpdf
	// subsets them.
	p.AliasNbPages(pageCountAlias)
	for _, f := range fontFiles() {
		fc, err := newFace(f)
		if err != nil {
			return nil, err
		}
		r.faces = append(r.faces, fc)
	}
	r.registered = make([]bool, len(r.faces))
	p.SetMargins(marginX, marginTop, marginX)
	p.SetAutoPageBreak(false, marginBottom)
	p.SetCellMargin(0)
	r.setMetadata(p)
	p.SetHeaderFuncMode(r.header, true)
	p.SetFooterFunc(r.footer)
	if err := p.Error(); err != nil {
		return nil, fmt.Errorf("set up pdf: %w", err)
	}
	r.pdf = p
	return r, nil
}

// setMetadata fills the document information. Dates come from the document
// so that the same report renders to the same bytes. Text is cleaned like
// page text: fpdf's UTF-16 conversion panics on invalid UTF-8 and mangles
// characters beyond the BMP.
func (r *pdfRenderer) setMetadata(p *fpdf.Fpdf) {
	doc, clean := r.doc, r.faces[faceRegular].clean
	created := doc.GeneratedAt
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	p.SetCreationDate(created.UTC())
	p.SetModificationDate(created.UTC())
	p.SetCatalogSort(true)
	p.SetTitle(clean(documentTitle(doc)), true)
	p.SetAuthor(clean(doc.Branding.CompanyName), true)
	p.SetSubject(doc.Kind.Label()+" incident report", true)
	p.SetCreator("Seliq", true)
	p.SetProducer("Seliq", true)
}

func (r *pdfRenderer) newPage() {
	r.pdf.AddPage()
	// AddPage restores fpdf's font and colour behind our back.
	r.font = fontState{face: -1}
	r.color = rgb{-1, -1, -1}
}

// ensureSpace starts a new page unless h millimetres fit on this one.
func (r *pdfRenderer) ensureSpace(h float64) {
	if r.pdf.GetY()+h > contentBottom && r.pdf.GetY() > marginTop {
		r.newPage()
	}
}

func (r *pdfRenderer) atPageTop() bool { return r.pdf.GetY() <= marginTop+0.01 }

func (r *pdfRenderer) setFont(face int, size float64) {
	if r.font == (fontState{face, size}) {
		return
	}
	f := r.faces[face]
	if !r.registered[face] {
		r.pdf.AddUTF8FontFromBytes(f.family, f.style, f.ttf)
		r.registered[face] = true
	}
	r.pdf.SetFont(f.family, f.style, size)
	r.font = fontState{face, size}
}

func (r *pdfRenderer) setTextColor(c rgb) {
	if r.color == c {
		return
	}
	r.pdf.SetTextColor(c.r, c.g, c.b)
	r.color = c
}

func (r *pdfRenderer) fillRect(x, y, w, h float64, c rgb) {
	r.pdf.SetFillColor(c.r, c.g, c.b)
	r.pdf.Rect(x, y, w, h, "F")
}

func (r *pdfRenderer) rule(x1, x2, y, width float64, c rgb) {
	r.pdf.SetDrawColor(c.r, c.g, c.b)
	r.pdf.SetLineWidth(width)
	r.pdf.Line(x1, y, x2, y)
}

// fitLabel makes s drawable in face and cuts it with an ellipsis to fit
// maxW, for the one-line texts of page headers and footers.
func (r *pdfRenderer) fitLabel(face int, size float64, s string, maxW float64) string {
	f := r.faces[face]
	s = f.clean(s)
	if f.width(s, size) <= maxW {
		return s
	}
	n, _ := fitPrefix(f, s, maxW-f.width("…", size), size)
	return strings.TrimRight(s[:n], " ") + "…"
}

func (r *pdfRenderer) drawText(x, baseline float64, face int, size float64, c rgb, s string) {
	r.setFont(face, size)
	r.setTextColor(c)
	r.pdf.Text(x, baseline, s)
}

func (r *pdfRenderer) header() {
	const baseline = 13.0
	company := r.fitLabel(faceBold, 9, r.doc.Branding.CompanyName, contentWidth*0.55)
	r.drawText(marginX, baseline, faceBold, 9, r.accent, company)
	about := fmt.Sprintf("Incident #%d · %s report", r.doc.Incident.Number, r.doc.Kind.Label())
	about = r.fitLabel(faceRegular, 8, about, contentWidth*0.4)
	x := pageWidth - marginX - r.faces[faceRegular].width(about, 8)
	r.drawText(x, baseline, faceRegular, 8, hexColor(mutedColor), about)
	r.rule(marginX, pageWidth-marginX, baseline+2.5, 0.6, r.accent)
}

func (r *pdfRenderer) footer() {
	const top, size = pageHeight - 13, 7.5
	muted := hexColor(mutedColor)
	r.rule(marginX, pageWidth-marginX, top, 0.2, hexColor(ruleColor))
	label := r.fitLabel(faceBold, size, strings.ToUpper(r.doc.Branding.Confidentiality), contentWidth*0.6)
	r.drawText(marginX, top+4.5, faceBold, size, muted, label)
	// The alias is wider than the number it stands for; allowing for two
	// digits keeps the right edge close to the margin. It is drawn as is:
	// cleaning would remove the control character that makes it unique.
	page := r.pdf.PageNo()
	w := r.faces[faceRegular].width(fmt.Sprintf("Page %d of 00", page), size)
	r.drawText(pageWidth-marginX-w, top+4.5, faceRegular, size, muted, fmt.Sprintf("Page %d of %s", page, pageCountAlias))
}

func (r *pdfRenderer) blocks(parent ast.Node) error {
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if err := r.block(n); err != nil {
			return err
		}
	}
	return nil
}

func (r *pdfRenderer) block(n ast.Node) error {
	switch n := n.(type) {
	case *ast.Heading:
		r.heading(n)
	case *ast.Paragraph:
		r.paragraph(n, lineHeight(bodySize)*0.5)
	case *ast.TextBlock:
		r.paragraph(n, lineHeight(bodySize)*0.15)
	case *ast.List:
		return r.list(n)
	case *ast.ThematicBreak:
		r.thematicBreak()
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		r.codeBlock(n)
	case *ast.Blockquote:
		return r.blockquote(n)
	case *east.Table:
		return r.table(n)
	case *ast.HTMLBlock:
		// Dropped, as in the HTML output.
	default:
		return r.blocks(n)
	}
	return nil
}

type headingStyle struct {
	size, before, after float64
	accent              bool
	rule                float64 // thickness of the rule under it; 0 for none
}

func headingStyleOf(level int) headingStyle {
	switch level {
	case 1:
		return headingStyle{size: 19, before: 2, after: 3.5, rule: 0.8}
	case 2:
		return headingStyle{size: 13.5, before: 6, after: 2.5, accent: true, rule: 0.25}
	case 3:
		return headingStyle{size: 11.5, before: 4, after: 1.5}
	}
	return headingStyle{size: bodySize + 0.5, before: 3, after: 1}
}

func (r *pdfRenderer) heading(n *ast.Heading) {
	hs := headingStyleOf(n.Level)
	width := contentWidth - r.left
	lines := r.layout(r.spans(n, style{bold: true}, nil), width, hs.size)
	lh := hs.size * ptToMM * 1.3
	r.ensureSpace(hs.before + float64(len(lines))*lh + hs.after + r.keepHeight(n.NextSibling()))
	if !r.atPageTop() {
		r.pdf.SetY(r.pdf.GetY() + hs.before)
	}
	r.bookmark(n, lines)
	c := hexColor(inkColor)
	if hs.accent {
		c = r.accent
	}
	r.drawLines(lines, marginX+r.left, hs.size, lh, c)
	if hs.rule > 0 {
		ruleC := hexColor(ruleColor)
		if n.Level == 1 {
			ruleC = r.accent
		}
		y := r.pdf.GetY() + 0.8
		r.rule(marginX+r.left, pageWidth-marginX, y, hs.rule, ruleC)
		r.pdf.SetY(y + hs.rule)
	}
	r.pdf.SetY(r.pdf.GetY() + hs.after)
}

// keepHeight is how much of the block after a heading must fit on the
// heading's page: a table's header and first row, or two lines of text.
func (r *pdfRenderer) keepHeight(next ast.Node) float64 {
	if t, ok := next.(*east.Table); ok {
		return r.tableStartHeight(t)
	}
	return 2 * lineHeight(bodySize)
}

// bookmark adds h1 and h2 headings to the PDF outline.
func (r *pdfRenderer) bookmark(n *ast.Heading, lines []textLine) {
	if n.Level > 2 || len(lines) == 0 {
		return
	}
	var title strings.Builder
	for _, ln := range lines {
		for _, p := range ln.pieces {
			title.WriteString(p.text)
		}
		title.WriteByte(' ')
	}
	level := n.Level - 1
	if r.bookmarks == 0 {
		// An outline cannot start below its top level.
		level = 0
	}
	r.pdf.Bookmark(strings.TrimSpace(title.String()), level, -1)
	r.bookmarks++
}

func (r *pdfRenderer) paragraph(n ast.Node, after float64) {
	color := hexColor(inkColor)
	if r.quote > 0 {
		color = hexColor(mutedColor)
	}
	lines := r.layout(r.spans(n, style{}, nil), contentWidth-r.left, bodySize)
	r.drawLines(lines, marginX+r.left, bodySize, lineHeight(bodySize), color)
	r.pdf.SetY(r.pdf.GetY() + after)
}

// drawLines draws lines one under the other from the current position,
// breaking pages between lines.
func (r *pdfRenderer) drawLines(lines []textLine, x, size, lh float64, c rgb) {
	for _, ln := range lines {
		r.ensureSpace(lh)
		y := r.pdf.GetY()
		r.drawDecorations(x, y, lh)
		r.drawLine(ln, x, y, size, lh, c)
		r.pdf.SetY(y + lh)
	}
}

// drawDecorations draws what sits left of a line: the pending list marker
// and the bar of a blockquote.
func (r *pdfRenderer) drawDecorations(x, y, lh float64) {
	if r.marker != "" {
		w := r.faces[faceRegular].width(r.marker, bodySize)
		r.drawText(x-1.8-w, baselineOf(y, lh, bodySize), faceRegular, bodySize, hexColor(mutedColor), r.marker)
		r.marker = ""
	}
	if r.quote > 0 {
		r.fillRect(x-quoteIndent+1, y, 0.9, lh, r.accent.mix(0.45))
	}
}

// baselineOf centres text of size points in a line box, as fpdf cells do.
func baselineOf(top, lh, size float64) float64 {
	return top + lh/2 + 0.3*size*ptToMM
}

func (r *pdfRenderer) drawLine(ln textLine, x, y, size, lh float64, c rgb) {
	baseline := baselineOf(y, lh, size)
	em := size * ptToMM
	for _, p := range ln.pieces {
		px := x + p.x
		color := c
		if p.style.mono {
			r.fillRect(px-0.4, baseline-0.8*em, p.w+0.8, 1.05*em, hexColor(codeFill))
		}
		if p.style.link != "" {
			color = r.accent
			r.pdf.LinkString(px, y, p.w, lh, p.style.link)
		}
		r.drawText(px, baseline, p.style.face(), size, color, p.text)
	}
}

func (r *pdfRenderer) list(l *ast.List) error {
	number := l.Start
	bullet := "•"
	if r.left >= listIndent {
		bullet = "–"
	}
	r.left += listIndent
	defer func() { r.left -= listIndent }()
	for item := l.FirstChild(); item != nil; item = item.NextSibling() {
		r.marker = bullet
		if l.IsOrdered() {
			r.marker = fmt.Sprintf("%d%c", number, l.Marker)
			number++
		}
		if err := r.blocks(item); err != nil {
			return err
		}
		r.marker = ""
	}
	r.pdf.SetY(r.pdf.GetY() + lineHeight(bodySize)*0.4)
	return nil
}

func (r *pdfRenderer) blockquote(n *ast.Blockquote) error {
	r.left += quoteIndent
	r.quote++
	defer func() {
		r.left -= quoteIndent
		r.quote--
	}()
	return r.blocks(n)
}

func (r *pdfRenderer) thematicBreak() {
	r.ensureSpace(8)
	y := r.pdf.GetY() + 3
	r.rule(marginX+r.left, pageWidth-marginX, y, 0.3, hexColor(ruleColor))
	r.pdf.SetY(y + 4)
}

// codeBlock draws preformatted lines on a tinted band, keeping spaces and
// cutting lines too long for the page.
func (r *pdfRenderer) codeBlock(n ast.Node) {
	const size, pad = 8.5, 2.0
	lh := size * ptToMM * 1.35
	x, w := marginX+r.left, contentWidth-r.left
	mono := style{mono: true}
	var lines []textLine
	segments := n.Lines()
	for i := range segments.Len() {
		seg := segments.At(i)
		s := strings.TrimRight(string(seg.Value(r.src)), "\r\n")
		s = r.faces[faceMono].clean(strings.ReplaceAll(s, "\t", "    "))
		lines = append(lines, r.preformatted(s, mono, w-2*pad, size)...)
	}
	fill := hexColor(codeFill)
	r.ensureSpace(lh + 2*pad)
	r.fillRect(x, r.pdf.GetY(), w, pad, fill)
	r.pdf.SetY(r.pdf.GetY() + pad)
	for _, ln := range lines {
		r.ensureSpace(lh)
		y := r.pdf.GetY()
		r.fillRect(x, y, w, lh, fill)
		r.drawDecorations(x, y, lh)
		for _, p := range ln.pieces {
			r.drawText(x+pad+p.x, baselineOf(y, lh, size), faceMono, size, hexColor(inkColor), p.text)
		}
		r.pdf.SetY(y + lh)
	}
	r.fillRect(x, r.pdf.GetY(), w, pad, fill)
	r.pdf.SetY(r.pdf.GetY() + pad + lineHeight(bodySize)*0.5)
}

// preformatted breaks one line of code by width only, keeping its spaces.
func (r *pdfRenderer) preformatted(s string, st style, maxW, size float64) []textLine {
	if s == "" {
		return []textLine{{}}
	}
	lb := &lineBreaker{r: r, size: size, maxW: maxW}
	lb.cut(span{s, st}, 0)
	lb.newLine()
	return lb.lines
}
