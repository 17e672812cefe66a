package query

import (
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"
)

// Limits on a pattern PostgreSQL runs.
const (
	maxPatternLength = 1000
	maxPGRepeat      = 255 // PostgreSQL's RE_DUP_MAX
)

// postgresPattern rewrites an RE2 pattern as a PostgreSQL advanced regular
// expression that matches exactly the same strings, or says which construct
// has no exact equivalent. It works from RE2's own parse, so classes (\d,
// \w, [[:alpha:]], \pL) arrive as explicit code point ranges and flags as
// node properties: nothing is left for the two engines to read differently.
func postgresPattern(pattern string) (string, error) {
	if len(pattern) > maxPatternLength {
		return "", fmt.Errorf("regular expressions are at most %d bytes", maxPatternLength)
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", fmt.Errorf("invalid regular expression (RE2 syntax): %v", err)
	}
	var b strings.Builder
	b.WriteString("(?:") // no leading flags or "***" director can follow
	if err := writeARE(&b, re.Simplify()); err != nil {
		return "", err
	}
	b.WriteString(")")
	return b.String(), nil
}

func writeARE(b *strings.Builder, re *syntax.Regexp) error {
	switch re.Op {
	case syntax.OpNoMatch:
		b.WriteString(`[^\U00000000-\U0010FFFF]`)
	case syntax.OpEmptyMatch:
		b.WriteString("(?:)")
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && hasFolds(r) {
				writeClass(b, foldRanges(r))
				continue
			}
			writeRune(b, r)
		}
	case syntax.OpCharClass:
		writeClass(b, re.Rune)
	case syntax.OpAnyCharNotNL:
		b.WriteString(`[^\n]`)
	case syntax.OpAnyChar:
		b.WriteString(`[\U00000000-\U0010FFFF]`)
	case syntax.OpBeginText:
		b.WriteString(`\A`)
	case syntax.OpEndText:
		b.WriteString(`\Z`) // RE2's $ without (?m) is the end of the text, as ARE's \Z
	case syntax.OpBeginLine, syntax.OpEndLine:
		return fmt.Errorf("line anchors ((?m)^ and $) are not supported in stored queries; match the whole text instead")
	case syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return fmt.Errorf(`word boundaries (\b, \B) are not supported in stored queries; use an explicit class such as [^a-zA-Z0-9_]`)
	case syntax.OpCapture:
		b.WriteString("(?:")
		if err := writeARE(b, re.Sub[0]); err != nil {
			return err
		}
		b.WriteString(")")
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		if err := writeGroup(b, re.Sub[0]); err != nil {
			return err
		}
		b.WriteString(map[syntax.Op]string{syntax.OpStar: "*", syntax.OpPlus: "+", syntax.OpQuest: "?"}[re.Op])
	case syntax.OpRepeat:
		if re.Max > maxPGRepeat || re.Min > maxPGRepeat {
			return fmt.Errorf("repetition counts above %d are not supported", maxPGRepeat)
		}
		if err := writeGroup(b, re.Sub[0]); err != nil {
			return err
		}
		switch {
		case re.Max == -1:
			fmt.Fprintf(b, "{%d,}", re.Min)
		case re.Min == re.Max:
			fmt.Fprintf(b, "{%d}", re.Min)
		default:
			fmt.Fprintf(b, "{%d,%d}", re.Min, re.Max)
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if err := writeGroup(b, sub); err != nil {
				return err
			}
		}
	case syntax.OpAlternate:
		b.WriteString("(?:")
		for i, sub := range re.Sub {
			if i > 0 {
				b.WriteString("|")
			}
			if err := writeARE(b, sub); err != nil {
				return err
			}
		}
		b.WriteString(")")
	default:
		return fmt.Errorf("this regular expression construct is not supported in stored queries")
	}
	return nil
}

// writeGroup writes sub as one atom, so a quantifier after it applies to all of it.
func writeGroup(b *strings.Builder, sub *syntax.Regexp) error {
	b.WriteString("(?:")
	if err := writeARE(b, sub); err != nil {
		return err
	}
	b.WriteString(")")
	return nil
}

// writeRune writes r as an escape that means r alone in an ARE.
func writeRune(b *strings.Builder, r rune) {
	switch {
	case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
		b.WriteRune(r)
	default:
		writeCodePoint(b, r)
	}
}

// writeClass writes pairs of inclusive ranges as a bracket expression of
// escaped code points, which ARE compares by code point under COLLATE "C".
func writeClass(b *strings.Builder, ranges []rune) {
	if len(ranges) == 0 {
		b.WriteString(`[^\U00000000-\U0010FFFF]`)
		return
	}
	b.WriteString("[")
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		writeCodePoint(b, lo)
		if hi != lo {
			b.WriteString("-")
			writeCodePoint(b, hi)
		}
	}
	b.WriteString("]")
}

func hasFolds(r rune) bool { return unicode.SimpleFold(r) != r }

// foldRanges is r and every rune it case-folds to, as ranges.
func foldRanges(r rune) []rune {
	out := []rune{r, r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		out = append(out, f, f)
	}
	return out
}

// writeCodePoint writes r as ARE's \Ustuvwxyz escape.
func writeCodePoint(b *strings.Builder, r rune) {
	fmt.Fprintf(b, `\U%08x`, r)
}
