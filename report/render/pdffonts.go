package render

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// ptToMM converts font sizes (points) to page units (millimetres).
const ptToMM = 25.4 / 72

// replacementChar stands for characters the fonts lack; the Go fonts have it.
const replacementChar = '\uFFFD'

// Face indexes; the Go fonts cover Latin, Greek and Cyrillic (WGL4).
const (
	faceRegular = iota
	faceBold
	faceItalic
	faceBoldItalic
	faceMono
	faceMonoBold
)

type fontFile struct {
	family, style string
	ttf           []byte
}

func fontFiles() []fontFile {
	return []fontFile{
		faceRegular:    {"go", "", goregular.TTF},
		faceBold:       {"go", "B", gobold.TTF},
		faceItalic:     {"go", "I", goitalic.TTF},
		faceBoldItalic: {"go", "BI", gobolditalic.TTF},
		faceMono:       {"gomono", "", gomono.TTF},
		faceMonoBold:   {"gomono", "B", gomonobold.TTF},
	}
}

// face measures text for one font. Measuring through fpdf would need
// SetFont, which writes to the page each time; measuring here keeps the
// layout pass free of side effects.
type face struct {
	family, style string
	ttf           []byte
	font          *sfnt.Font
	buf           sfnt.Buffer
	// advance holds each rune's width in ems, or -1 when the font lacks it.
	advance map[rune]float64
}

func newFace(f fontFile) (*face, error) {
	parsed, err := sfnt.Parse(f.ttf)
	if err != nil {
		return nil, fmt.Errorf("parse font %s%s: %w", f.family, f.style, err)
	}
	return &face{family: f.family, style: f.style, ttf: f.ttf, font: parsed, advance: map[rune]float64{}}, nil
}

// em returns the advance of r in ems, or -1 when the font cannot draw r.
// fpdf indexes a 64K table by rune, so anything beyond it counts as missing.
func (f *face) em(r rune) float64 {
	if w, ok := f.advance[r]; ok {
		return w
	}
	w := -1.0
	if r <= 0xFFFF {
		if idx, err := f.font.GlyphIndex(&f.buf, r); err == nil && idx != 0 {
			upem := fixed.Int26_6(f.font.UnitsPerEm())
			if adv, err := f.font.GlyphAdvance(&f.buf, idx, upem<<6, font.HintingNone); err == nil {
				w = float64(adv) / 64 / float64(upem)
			}
		}
	}
	f.advance[r] = w
	return w
}

// width is the width of s in millimetres at size points. s must be clean.
func (f *face) width(s string, size float64) float64 {
	var ems float64
	for _, r := range s {
		ems += max(f.em(r), 0)
	}
	return ems * size * ptToMM
}

func (f *face) runeWidth(r rune, size float64) float64 {
	return max(f.em(r), 0) * size * ptToMM
}

// clean makes s drawable: controls become spaces, invisible format
// characters go, and characters without a glyph become U+FFFD, which would
// otherwise print as nothing or, beyond the BMP, crash fpdf.
func (f *face) clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case unicode.Is(unicode.Cf, r):
			return -1
		case f.em(r) >= 0:
			return r
		}
		return replacementChar
	}, s)
}
