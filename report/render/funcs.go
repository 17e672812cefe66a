package render

import (
	"fmt"
	"maps"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"
)

// dash stands for a missing value (no date yet, no duration yet).
const dash = "—"

// dateLayout is the one date format of reports; always UTC so that a report
// reads the same wherever it is opened.
const dateLayout = "2006-01-02 15:04 UTC"

// templateFuncs is the FuncMap documented in doc.go and TEMPLATES.md, with
// every function that builds text spending from b.
func templateFuncs(b *budget) template.FuncMap {
	funcs := template.FuncMap{
		"date":     formatDate,
		"duration": formatDuration,
		"md":       b.counted(escapeInline),
		"mdblock":  b.counted(escapeBlock),
		"upper":    b.counted(func(v any) string { return strings.ToUpper(text(v)) }),
		"lower":    b.counted(func(v any) string { return strings.ToLower(text(v)) }),
		"label":    b.counted(label),
		"severity": b.counted(severity),
	}
	maps.Copy(funcs, b.funcs())
	return funcs
}

// text turns a template value into a string; nil (an absent value) is empty.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

func formatDate(v any) (string, error) {
	var t time.Time
	switch v := v.(type) {
	case nil:
		return dash, nil
	case time.Time:
		t = v
	case *time.Time:
		if v == nil {
			return dash, nil
		}
		t = *v
	default:
		return "", fmt.Errorf("want a time, got %T", v)
	}
	if t.IsZero() {
		return dash, nil
	}
	return t.UTC().Format(dateLayout), nil
}

func formatDuration(v any) (string, error) {
	var d time.Duration
	switch v := v.(type) {
	case nil:
		return dash, nil
	case time.Duration:
		d = v
	case *time.Duration:
		if v == nil {
			return dash, nil
		}
		d = *v
	default:
		return "", fmt.Errorf("want a duration, got %T", v)
	}
	return humanDuration(d), nil
}

// humanDuration shows the two most significant units, as a person would
// say it: "45s", "12m 05s", "1h 05m", "3d 04h".
func humanDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	d = d.Round(time.Second)
	days, hours := int64(d/(24*time.Hour)), int64(d/time.Hour)%24
	mins, secs := int64(d/time.Minute)%60, int64(d/time.Second)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%s%dd %02dh", sign, days, hours)
	case hours > 0:
		return fmt.Sprintf("%s%dh %02dm", sign, hours, mins)
	case mins > 0:
		return fmt.Sprintf("%s%dm %02ds", sign, mins, secs)
	}
	return fmt.Sprintf("%s%ds", sign, secs)
}

// label humanises an enum value: "true_positive" → "True positive".
// Empty is shown as a dash so that table cells never collapse.
func label(v any) string {
	s := strings.TrimSpace(strings.NewReplacer("_", " ", "-", " ").Replace(text(v)))
	if s == "" {
		return dash
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + strings.ToLower(s[size:])
}

// severity is label for severities, where empty means not yet assessed.
func severity(v any) string {
	if strings.TrimSpace(text(v)) == "" {
		return "Unknown"
	}
	return label(v)
}

// inlineSpecial are the characters that start inline Markdown constructs
// anywhere in a line: emphasis, code, links, autolinks and raw HTML,
// entities, strikethrough, table cells, and the closing #s of a heading.
const inlineSpecial = "\\`*_[]<>|&~#"

// escapeInline makes a value safe to place anywhere inside a line of
// Markdown, table cells included: it can neither format nor break the line.
func escapeInline(v any) string {
	return escapeLine(flatten(text(v)))
}

// flatten puts text on one line: line breaks and other controls become
// spaces, so a value cannot end a table row or start a block.
func flatten(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// escapeLine escapes one line of text. Besides the inline constructs it
// neutralises what would make a block of the line if it started one: list
// markers, thematic breaks and setext underlines; leading spaces, which
// could make indented code, are trimmed.
func escapeLine(s string) string {
	s = strings.TrimSpace(s)
	marker := blockMarkerEnd(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, r := range s {
		if strings.ContainsRune(inlineSpecial, r) || i == marker {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// blockMarkerEnd returns the index of the character that would make s a
// list item, thematic break or setext underline, or -1.
func blockMarkerEnd(s string) int {
	if s == "" {
		return -1
	}
	followedBySpace := len(s) == 1 || s[1] == ' '
	switch c := s[0]; {
	case c == '+' && followedBySpace:
		return 0
	case c == '-' || c == '=':
		if followedBySpace || strings.Trim(s, string(c)+" ") == "" {
			return 0
		}
		return -1
	}
	// An ordered list marker is one to nine digits, then '.' or ')', then a
	// space or the end of the line.
	n := leadingDigits(s)
	if n == 0 || n > 9 || n == len(s) || (s[n] != '.' && s[n] != ')') {
		return -1
	}
	if n+1 == len(s) || s[n+1] == ' ' {
		return n
	}
	return -1
}

func leadingDigits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// escapeBlock escapes multi-line text placed on lines of its own: it keeps
// paragraphs (blank lines) and line breaks, and nothing else.
func escapeBlock(v any) string {
	var paragraphs, lines []string
	endParagraph := func() {
		if len(lines) > 0 {
			// A backslash before the newline is a hard line break.
			paragraphs = append(paragraphs, strings.Join(lines, "\\\n"))
			lines = nil
		}
	}
	for _, line := range strings.Split(text(v), "\n") {
		if line = escapeLine(flatten(line)); line == "" {
			endParagraph()
			continue
		}
		lines = append(lines, line)
	}
	endParagraph()
	return strings.Join(paragraphs, "\n\n")
}
