package render

import (
	"bufio"
	"bytes"
	"html"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	mdhtml "github.com/yuin/goldmark/renderer/html"
)

// style is how a run of inline text is drawn.
type style struct {
	bold, italic, mono bool
	// link is a URL the text points to, when it is one a reader may follow.
	link string
}

func (s style) face() int {
	switch {
	case s.mono && s.bold:
		return faceMonoBold
	case s.mono:
		return faceMono
	case s.bold && s.italic:
		return faceBoldItalic
	case s.bold:
		return faceBold
	case s.italic:
		return faceItalic
	}
	return faceRegular
}

// span is inline text in one style; "\n" alone is a hard line break.
type span struct {
	text  string
	style style
}

const hardBreak = "\n"

// textDecoder turns Markdown text into plain text exactly as goldmark's
// HTML renderer does (backslash escapes, entities), by letting goldmark
// write HTML and unescaping that.
type textDecoder struct {
	writer mdhtml.Writer
	buf    bytes.Buffer
	out    *bufio.Writer
}

func newTextDecoder() *textDecoder {
	d := &textDecoder{writer: mdhtml.NewWriter()}
	d.out = bufio.NewWriter(&d.buf)
	return d
}

func (d *textDecoder) decode(markdown []byte) string {
	d.buf.Reset()
	d.out.Reset(&d.buf)
	d.writer.Write(d.out, markdown)
	_ = d.out.Flush() // writes to a bytes.Buffer cannot fail
	return html.UnescapeString(d.buf.String())
}

// spans collects the inline content of n.
func (r *pdfRenderer) spans(n ast.Node, st style, out []span) []span {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		out = r.inline(c, st, out)
	}
	return out
}

func (r *pdfRenderer) inline(n ast.Node, st style, out []span) []span {
	switch n := n.(type) {
	case *ast.Text:
		out = r.appendText(out, r.decoder.decode(n.Segment.Value(r.src)), st)
		switch {
		case n.HardLineBreak():
			out = append(out, span{hardBreak, st})
		case n.SoftLineBreak():
			out = append(out, span{" ", st})
		}
	case *ast.String:
		out = r.appendText(out, string(n.Value), st)
	case *ast.CodeSpan:
		st.mono = true
		out = r.appendText(out, codeSpanText(n, r.src), st)
	case *ast.Emphasis:
		if n.Level >= 2 {
			st.bold = true
		} else {
			st.italic = true
		}
		out = r.spans(n, st, out)
	case *ast.Link:
		st.link = followable(string(n.Destination))
		out = r.spans(n, st, out)
	case *ast.AutoLink:
		url := string(n.URL(r.src))
		st.link = followable(url)
		out = r.appendText(out, string(n.Label(r.src)), st)
	case *ast.RawHTML:
		// Dropped, as in the HTML output.
	default:
		out = r.spans(n, st, out)
	}
	return out
}

func (r *pdfRenderer) appendText(out []span, s string, st style) []span {
	if s == "" {
		return out
	}
	return append(out, span{r.faces[st.face()].clean(s), st})
}

func codeSpanText(n *ast.CodeSpan, src []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok {
			b.Write(t.Segment.Value(src))
		}
	}
	return strings.ReplaceAll(b.String(), "\n", " ")
}

// followable keeps the URLs a PDF reader may open; anything else (a
// javascript: URL, a relative path) stays plain text.
func followable(url string) string {
	lower := strings.ToLower(url)
	for _, scheme := range []string{"https://", "http://", "mailto:"} {
		if strings.HasPrefix(lower, scheme) {
			return url
		}
	}
	return ""
}

// placed is text positioned on a line, x relative to the line start.
type placed struct {
	x, w  float64
	text  string
	style style
}

type textLine struct {
	pieces []placed
	width  float64
}

// word is text between spaces; it may mix styles ("**bold**tail").
type word struct {
	parts []span
	// breaks counts hard line breaks before the word.
	breaks int
	// space says a space precedes the word, drawn in spaceStyle.
	space      bool
	spaceStyle style
}

func splitWords(spans []span) []word {
	var words []word
	var cur word
	endWord := func() {
		if len(cur.parts) > 0 {
			words = append(words, cur)
			cur = word{}
		}
	}
	for _, s := range spans {
		if s.text == hardBreak {
			endWord()
			cur.breaks++
			cur.space = false
			continue
		}
		for text := s.text; text != ""; {
			i := strings.IndexByte(text, ' ')
			if i < 0 {
				cur.parts = append(cur.parts, span{text, s.style})
				break
			}
			if i > 0 {
				cur.parts = append(cur.parts, span{text[:i], s.style})
			}
			endWord()
			cur.space, cur.spaceStyle = true, s.style
			text = text[i+1:]
		}
	}
	endWord()
	return words
}

// lineBreaker fills lines greedily, cutting words wider than a line.
type lineBreaker struct {
	r     *pdfRenderer
	size  float64
	maxW  float64
	lines []textLine
	cur   textLine
}

// layout breaks spans into lines at most maxW wide.
func (r *pdfRenderer) layout(spans []span, maxW, size float64) []textLine {
	lb := &lineBreaker{r: r, size: size, maxW: maxW}
	for _, w := range splitWords(spans) {
		lb.add(w)
	}
	if len(lb.cur.pieces) > 0 {
		lb.newLine()
	}
	return lb.lines
}

func (lb *lineBreaker) newLine() {
	lb.lines = append(lb.lines, lb.cur)
	lb.cur = textLine{}
}

func (lb *lineBreaker) width(s span) float64 {
	return lb.r.faces[s.style.face()].width(s.text, lb.size)
}

func (lb *lineBreaker) add(w word) {
	for range w.breaks {
		lb.newLine()
	}
	total := 0.0
	for _, p := range w.parts {
		total += lb.width(p)
	}
	space := 0.0
	if w.space && len(lb.cur.pieces) > 0 {
		space = lb.width(span{" ", w.spaceStyle})
	}
	if len(lb.cur.pieces) > 0 && lb.cur.width+space+total > lb.maxW {
		lb.newLine()
		space = 0
	}
	for _, p := range w.parts {
		if lb.cur.width+space+lb.width(p) > lb.maxW {
			lb.cut(p, space)
		} else {
			lb.place(p, space, lb.width(p))
		}
		space = 0
	}
}

// place appends text to the current line, merging it into the previous
// piece when the style is the same so that fewer text objects are drawn.
func (lb *lineBreaker) place(p span, space, w float64) {
	pieces := lb.cur.pieces
	if n := len(pieces); n > 0 && pieces[n-1].style == p.style {
		if space > 0 {
			pieces[n-1].text += " "
		}
		pieces[n-1].text += p.text
		pieces[n-1].w += space + w
	} else {
		lb.cur.pieces = append(pieces, placed{x: lb.cur.width + space, w: w, text: p.text, style: p.style})
	}
	lb.cur.width += space + w
}

// cut spreads a word too long for the line (a hash, a URL) over several
// lines, preferring to cut after punctuation such as '/' or '.'.
func (lb *lineBreaker) cut(p span, space float64) {
	f := lb.r.faces[p.style.face()]
	rest := p.text
	for rest != "" {
		room := lb.maxW - lb.cur.width - space
		n, w := fitPrefix(f, rest, room, lb.size)
		if n == 0 && len(lb.cur.pieces) > 0 {
			lb.newLine()
			space = 0
			continue
		}
		if n == 0 {
			// Not even one character fits an empty line: draw it anyway.
			_, n = utf8.DecodeRuneInString(rest)
			w = f.width(rest[:n], lb.size)
		} else if n < len(rest) {
			if k := softBreak(rest[:n]); k > n/2 {
				n, w = k, f.width(rest[:k], lb.size)
			}
		}
		lb.place(span{rest[:n], p.style}, space, w)
		space = 0
		if rest = rest[n:]; rest != "" {
			lb.newLine()
		}
	}
}

// fitPrefix returns how many bytes of s fit in room, and their width.
func fitPrefix(f *face, s string, room, size float64) (int, float64) {
	w := 0.0
	for i, r := range s {
		rw := f.runeWidth(r, size)
		if w+rw > room {
			return i, w
		}
		w += rw
	}
	return len(s), w
}

// softBreak returns the byte index just after the last punctuation in s
// where a long token reads well when cut, or 0.
func softBreak(s string) int {
	if i := strings.LastIndexAny(s, "/-._?&=:,;@"); i >= 0 {
		return i + 1
	}
	return 0
}
