package render

import (
	"math"
	"slices"

	east "github.com/yuin/goldmark/extension/ast"
)

// Table geometry, in millimetres unless noted.
const (
	tableSize      = 8.5 // points
	tableLeading   = 1.3
	cellPadX       = 1.8
	cellPadY       = 1.4
	minColumnWidth = 11.0
	// A column's longest word is kept whole up to this width; beyond it
	// (hashes, URLs) the word is cut rather than starving other columns.
	maxWordWidth = 32.0
)

func tableLineHeight() float64 { return tableSize * ptToMM * tableLeading }

// tableRow is the inline content of each cell of a row.
type tableRow struct {
	cells  [][]span
	header bool
}

// rowLayout is a row broken into lines at the column widths.
type rowLayout struct {
	cells  [][]textLine
	height float64
}

func (r *pdfRenderer) table(t *east.Table) error {
	rows := r.tableRows(t, math.MaxInt)
	if len(rows) == 0 {
		return nil
	}
	x, avail := marginX+r.left, contentWidth-r.left
	widths := r.columnWidths(rows, columnCount(t, rows), avail)
	var header *rowLayout
	if rows[0].header {
		h := r.layoutRow(rows[0], widths)
		header = &h
		rows = rows[1:]
	}
	// Keep the header with the first row.
	need := 0.0
	if header != nil {
		need += header.height
	}
	if len(rows) > 0 {
		need += r.layoutRow(rows[0], widths).height
	}
	r.ensureSpace(need)
	if header != nil {
		r.drawRow(*header, x, widths, t.Alignments, true, false)
	}
	for i, row := range rows {
		if i%64 == 0 {
			if err := r.ctx.Err(); err != nil {
				return err
			}
		}
		lay := r.fitRowToPage(r.layoutRow(row, widths), header)
		if r.pdf.GetY()+lay.height > contentBottom {
			r.newPage()
			if header != nil {
				r.drawRow(*header, x, widths, t.Alignments, true, false)
			}
		}
		r.drawRow(lay, x, widths, t.Alignments, false, i%2 == 1)
	}
	r.pdf.SetY(r.pdf.GetY() + lineHeight(bodySize)*0.7)
	return nil
}

// tableStartHeight is the height of the table's header and first row,
// which a heading above the table is kept with.
func (r *pdfRenderer) tableStartHeight(t *east.Table) float64 {
	rows := r.tableRows(t, 2)
	widths := r.columnWidths(rows, columnCount(t, rows), contentWidth-r.left)
	h := 0.0
	for _, row := range rows {
		h += r.layoutRow(row, widths).height
	}
	return h
}

// columnCount allows for rows with more cells than the delimiter row.
func columnCount(t *east.Table, rows []tableRow) int {
	cols := len(t.Alignments)
	for _, row := range rows {
		cols = max(cols, len(row.cells))
	}
	return cols
}

// tableRows collects the cells of the first maxRows rows, header included.
func (r *pdfRenderer) tableRows(t *east.Table, maxRows int) []tableRow {
	var rows []tableRow
	for n := t.FirstChild(); n != nil && len(rows) < maxRows; n = n.NextSibling() {
		_, header := n.(*east.TableHeader)
		row := tableRow{header: header}
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			row.cells = append(row.cells, r.spans(c, style{bold: header}, nil))
		}
		rows = append(rows, row)
	}
	return rows
}

// columnWidths shares avail between columns according to their content.
// Every column gets a minimum that keeps its words whole; then the widths
// are chosen so that the longest cells need as few lines as possible, as a
// row is as tall as its tallest cell.
func (r *pdfRenderer) columnWidths(rows []tableRow, cols int, avail float64) []float64 {
	natural := make([]float64, cols)
	minimum := make([]float64, cols)
	for i := range cols {
		minimum[i] = minColumnWidth
	}
	for _, row := range rows {
		for i, cell := range row.cells {
			nat, word := r.measureCell(cell)
			natural[i] = max(natural[i], nat+2*cellPadX)
			minimum[i] = max(minimum[i], min(word, maxWordWidth)+2*cellPadX)
		}
	}
	for i := range cols {
		natural[i] = max(natural[i], minimum[i])
	}
	return shareWidths(natural, minimum, avail)
}

// wrapSlack allows for words not filling lines exactly when estimating
// the width that holds a text in a given number of lines.
const wrapSlack = 1.15

func shareWidths(natural, minimum []float64, avail float64) []float64 {
	sumMin := sum(minimum)
	if sumMin >= avail {
		// Too many columns: shrink all minimums alike.
		return scale(minimum, avail/sumMin)
	}
	if sumNat := sum(natural); sumNat <= avail {
		// Everything fits on one line: widen alike, tables span the page.
		return scale(natural, avail/sumNat)
	}
	// Find the fewest lines per cell that the page width allows. The loop
	// ends: for lines large enough every width is its minimum, which fits.
	widths := make([]float64, len(natural))
	for lines := 2.0; ; lines++ {
		for i := range widths {
			widths[i] = min(max(natural[i]/lines*wrapSlack, minimum[i]), natural[i])
		}
		if sum(widths) <= avail {
			break
		}
	}
	// Give what is left to the columns that still wrap, to shorten them.
	left := avail - sum(widths)
	wanted := 0.0
	for i := range widths {
		wanted += natural[i] - widths[i]
	}
	for i := range widths {
		if wanted > 0 {
			widths[i] += min(left, wanted) * (natural[i] - widths[i]) / wanted
		}
	}
	if rest := avail - sum(widths); rest > 0.01 {
		return scale(widths, avail/sum(widths))
	}
	return widths
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

func scale(v []float64, k float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x * k
	}
	return out
}

// measureCell returns the width of the cell's text on one line and the
// width of its longest word.
func (r *pdfRenderer) measureCell(cell []span) (natural, longestWord float64) {
	for i, w := range splitWords(cell) {
		ww := 0.0
		for _, p := range w.parts {
			ww += r.faces[p.style.face()].width(p.text, tableSize)
		}
		longestWord = max(longestWord, ww)
		if w.space && i > 0 {
			natural += r.faces[w.spaceStyle.face()].width(" ", tableSize)
		}
		natural += ww
	}
	return natural, longestWord
}

func (r *pdfRenderer) layoutRow(row tableRow, widths []float64) rowLayout {
	lay := rowLayout{cells: make([][]textLine, len(widths))}
	lines := 1
	for i, w := range widths {
		if i < len(row.cells) {
			lay.cells[i] = r.layout(row.cells[i], w-2*cellPadX, tableSize)
			lines = max(lines, len(lay.cells[i]))
		}
	}
	lay.height = float64(lines)*tableLineHeight() + 2*cellPadY
	return lay
}

// fitRowToPage cuts a row taller than a page (a huge cell), ending the
// cut cells with an ellipsis, so that every row fits on one page.
func (r *pdfRenderer) fitRowToPage(lay rowLayout, header *rowLayout) rowLayout {
	room := contentBottom - marginTop
	if header != nil {
		room -= header.height
	}
	maxLines := int((room - 2*cellPadY) / tableLineHeight())
	if lay.height <= room || maxLines < 1 {
		return lay
	}
	for i, lines := range lay.cells {
		if len(lines) > maxLines {
			lines = lines[:maxLines]
			last := &lines[maxLines-1]
			last.pieces = append(slices.Clone(last.pieces), placed{x: last.width, text: "…", style: style{}})
			lay.cells[i] = lines
		}
	}
	lay.height = float64(maxLines)*tableLineHeight() + 2*cellPadY
	return lay
}

func (r *pdfRenderer) drawRow(lay rowLayout, x float64, widths []float64, aligns []east.Alignment, header, shaded bool) {
	y := r.pdf.GetY()
	total := sum(widths)
	textColor := hexColor(inkColor)
	switch {
	case header:
		r.fillRect(x, y, total, lay.height, r.accent)
		textColor = hexColor(whiteColor)
	case shaded:
		r.fillRect(x, y, total, lay.height, r.accent.mix(0.93))
	}
	lh := tableLineHeight()
	cx := x
	for i, lines := range lay.cells {
		inner := widths[i] - 2*cellPadX
		for j, ln := range lines {
			offset := alignOffset(alignmentOf(aligns, i), inner-ln.width)
			r.drawLine(ln, cx+cellPadX+offset, y+cellPadY+float64(j)*lh, tableSize, lh, textColor)
		}
		cx += widths[i]
	}
	if !header {
		r.rule(x, x+total, y+lay.height, 0.15, hexColor(ruleColor))
	}
	r.pdf.SetY(y + lay.height)
}

func alignmentOf(aligns []east.Alignment, i int) east.Alignment {
	if i < len(aligns) {
		return aligns[i]
	}
	return east.AlignNone
}

func alignOffset(a east.Alignment, slack float64) float64 {
	slack = max(slack, 0)
	switch a {
	case east.AlignRight:
		return slack
	case east.AlignCenter:
		return slack / 2
	}
	return 0
}
