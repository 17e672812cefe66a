package render

import (
	"bytes"
	"html"
	"strings"
	"testing"
	"time"
)

// nastyValues try to escape from a Markdown line in every way we know of.
var nastyValues = []string{
	"plain text",
	"<script>alert(1)</script> | # x",
	"# heading", "## closing #", "> quote", "- item", "+ item", "* item", "1. first", "12) twelfth",
	"---", "===", "- - -", "***", "___", "```go", "~~~", "    indented code",
	"**bold** _it_ `code` ~~strike~~", "[link](https://evil.test) ![img](x.png)", "<https://auto.test>",
	"a | b | c", "&amp; &lt;b&gt; &#60;", "trailing backslash \\", "line\nbreak\r\nand\ttab",
	"<!-- comment -->", "<div onclick=x>html block</div>", "[ref]: https://evil.test",
	"203.0.113.7", "2025. A year", "-5 degrees", "a_b_c", "Привет *мир*", "emoji 😀 ✓",
}

// renderInline renders src with goldmark as the HTML renderer does.
func renderInline(t testing.TB, src string) string {
	t.Helper()
	var out bytes.Buffer
	if err := newMarkdown().Convert([]byte(src), &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// checkLiteral asserts that escapeInline(v) reads back as v's text, both as
// a paragraph of its own and inside a table cell.
func checkLiteral(t testing.TB, v string) {
	t.Helper()
	want := strings.TrimSpace(flatten(v))
	if want == "" {
		return
	}
	para := renderInline(t, escapeInline(v))
	if !isLiteral(para, "<p>", "</p>\n", want) {
		t.Errorf("md(%q) renders as %q, want the literal text", v, para)
	}
	table := renderInline(t, "| h | x |\n| --- | --- |\n| "+escapeInline(v)+" | end |\n")
	if !isLiteral(table, "<tbody>\n<tr>\n<td>", "</td>\n<td>end</td>\n</tr>\n</tbody>\n</table>\n", want) {
		t.Errorf("md(%q) in a table renders as %q, want one cell with the literal text", v, table)
	}
}

// isLiteral says whether the HTML between prefix and suffix is want as
// plain text: no tag at all, only escaped characters.
func isLiteral(page, prefix, suffix, want string) bool {
	start := strings.Index(page, prefix)
	if start < 0 || !strings.HasSuffix(page, suffix) {
		return false
	}
	inner := page[start+len(prefix) : len(page)-len(suffix)]
	return !strings.Contains(inner, "<") && html.UnescapeString(inner) == want
}

func TestEscapeInlineIsLiteral(t *testing.T) {
	for _, v := range nastyValues {
		checkLiteral(t, v)
	}
}

func TestEscapeInlineReadable(t *testing.T) {
	// Escaping what is harmless would make Markdown reports hard to read.
	tests := map[string]string{
		"203.0.113.7":      "203.0.113.7",
		"user@example.com": "user@example.com",
		"-5 degrees":       "-5 degrees",
		"1. first":         "1\\. first",
		"- item":           "\\- item",
		"a | b":            "a \\| b",
	}
	for in, want := range tests {
		if got := escapeInline(in); got != want {
			t.Errorf("md(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscapeBlock(t *testing.T) {
	got := renderInline(t, escapeBlock("First *line*\nsecond # line\n\n\n  - third\r\n\n<b>x</b>"))
	want := "<p>First *line*<br>\nsecond # line</p>\n<p>- third</p>\n<p>&lt;b&gt;x&lt;/b&gt;</p>\n"
	if got != want {
		t.Errorf("mdblock renders as %q, want %q", got, want)
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{45 * time.Second, "45s"},
		{12*time.Minute + 5*time.Second, "12m 05s"},
		{65 * time.Minute, "1h 05m"},
		{3*24*time.Hour + 4*time.Hour + 59*time.Minute, "3d 04h"},
		{-90 * time.Second, "-1m 30s"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestFormatFuncs(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	d := 65 * time.Minute
	var nilTime *time.Time
	var nilDuration *time.Duration
	tests := []struct {
		name    string
		got     func() (string, error)
		want    string
		wantErr bool
	}{
		{"date in UTC", func() (string, error) { return formatDate(at) }, "2025-01-02 02:04 UTC", false},
		{"date pointer", func() (string, error) { return formatDate(&at) }, "2025-01-02 02:04 UTC", false},
		{"date nil pointer", func() (string, error) { return formatDate(nilTime) }, dash, false},
		{"date zero", func() (string, error) { return formatDate(time.Time{}) }, dash, false},
		{"date of a string", func() (string, error) { return formatDate("today") }, "", true},
		{"duration", func() (string, error) { return formatDuration(d) }, "1h 05m", false},
		{"duration pointer", func() (string, error) { return formatDuration(&d) }, "1h 05m", false},
		{"duration nil", func() (string, error) { return formatDuration(nilDuration) }, dash, false},
		{"duration of an int", func() (string, error) { return formatDuration(5) }, "", true},
		{"label", func() (string, error) { return label("true_positive"), nil }, "True positive", false},
		{"label empty", func() (string, error) { return label(""), nil }, dash, false},
		{"severity", func() (string, error) { return severity("CRITICAL"), nil }, "Critical", false},
		{"severity empty", func() (string, error) { return severity(""), nil }, "Unknown", false},
	}
	for _, tt := range tests {
		got, err := tt.got()
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%s = %q, %v; want %q, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzEscapeInline(f *testing.F) {
	for _, v := range nastyValues {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		checkLiteral(t, v)
	})
}
