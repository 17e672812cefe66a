package render

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// doubling grows a string in a variable without printing it: 40 doublings
// of 16 bytes is 16 TiB, which only a limit on values stops.
const doubling = `{{$s := "0123456789abcdef"}}{{range 40}}{{$s = printf "%s%s" $s $s}}{{end}}# done`

// allocated returns the bytes allocated while fn ran (the test runs alone,
// so the process-wide counter is fn's).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// maxRenderAlloc is what one refused render may allocate in this test:
// the budget (MaxBuilt) plus the sample documents and parsing, with room.
const maxRenderAlloc = 2*MaxBuilt + 64<<20

func TestParseRefusesMemoryBombs(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"printf doubling", doubling, "larger than 8 MiB"},
		{"print doubling", `{{$s := "0123456789abcdef"}}{{range 40}}{{$s = print $s $s}}{{end}}# x`, "larger than 8 MiB"},
		{"println doubling", `{{$s := "0123456789abcdef"}}{{range 40}}{{$s = println $s $s}}{{end}}# x`, "larger than 8 MiB"},
		{"html growth", `{{$s := "<<<<<<<<"}}{{range 40}}{{$s = html $s $s}}{{end}}# x`, "larger than 8 MiB"},
		{"js growth", `{{$s := "<<<<<<<<"}}{{range 40}}{{$s = js $s $s}}{{end}}# x`, "larger than 8 MiB"},
		{"urlquery growth", `{{$s := "%%%%%%%%"}}{{range 40}}{{$s = urlquery $s $s}}{{end}}# x`, "larger than 8 MiB"},
		{"join of a doubled separator", `{{$s := "0123456789abcdef"}}{{range 40}}{{$s = join $s $.Incident.Tags}}{{$s = printf "%s%s" $s $s}}{{end}}# x`, "larger than 8 MiB"},
		{"huge printf width", `{{range 100}}{{$s := printf "%999999d%999999d%999999d%999999d%999999d%999999d%999999d%999999d%999999d" 1 2 3 4 5 6 7 8 9}}{{end}}# x`, "larger than 8 MiB"},
		{"many verbs on the alert list", `{{$s := printf "` + strings.Repeat("%[1]v", 20000) + `" .Alerts}}# x`, "larger than 8 MiB"},
		{"many small values", `{{range 200000}}{{$s := printf "%0999d" 1}}{{end}}# x`, "builds more than 64 MiB"},
		{"upper of a doubled value", `{{$s := "ab"}}{{range 40}}{{$s = upper (printf "%s%s" $s $s)}}{{end}}# x`, "larger than 8 MiB"},
		{"guarded by alert count", `{{if gt (len .Alerts) 100}}` + doubling + `{{end}}# x`, "larger than 8 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			alloc := allocated(func() { _, err = Parse([]byte(tc.src)) })
			var te *TemplateError
			if !errors.As(err, &te) || !strings.Contains(te.Message, tc.want) {
				t.Fatalf("Parse = %v, want a TemplateError saying %q", err, tc.want)
			}
			if !errors.Is(err, ErrResourceLimit) {
				t.Errorf("%v is not a resource limit", err)
			}
			if te.Line == 0 {
				t.Errorf("%v names no line", err)
			}
			if alloc > maxRenderAlloc {
				t.Errorf("refusing it allocated %d MiB, want at most %d MiB", alloc>>20, maxRenderAlloc>>20)
			}
		})
	}
}

// A bomb behind a condition no sample meets passes upload; the render of
// the incident that meets it fails with a resource limit, within budget.
func TestRenderStopsGuardedBomb(t *testing.T) {
	tmpl, err := Parse([]byte(`{{if eq .Incident.Title "detonate"}}` + doubling + `{{end}}# {{md .Incident.Title}}`))
	if err != nil {
		t.Fatalf("guarded template refused at upload: %v", err)
	}
	doc := testDocument()
	doc.Incident.Title = "detonate"
	alloc := allocated(func() { _, err = Render(context.Background(), tmpl, doc, FormatMarkdown) })
	if !errors.Is(err, ErrResourceLimit) || !strings.Contains(err.Error(), "larger than 8 MiB") {
		t.Fatalf("Render = %v, want a resource limit", err)
	}
	if alloc > maxRenderAlloc {
		t.Errorf("the refused render allocated %d MiB, want at most %d MiB", alloc>>20, maxRenderAlloc>>20)
	}
}

// A render past its deadline fails on a resource limit (not retried),
// while a caller's own cancellation stays a cancellation.
func TestRenderDeadlineIsAResourceLimit(t *testing.T) {
	defer func(d time.Duration) { renderTimeout = d }(renderTimeout)
	renderTimeout = time.Nanosecond
	_, err := Render(context.Background(), Default(), testDocument(), FormatPDF)
	if !errors.Is(err, ErrResourceLimit) || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("Render past its deadline = %v, want a resource limit", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Render(ctx, Default(), testDocument(), FormatPDF); errors.Is(err, ErrResourceLimit) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Render cancelled by its caller = %v, want context.Canceled", err)
	}
}

// The bounded functions behave as the built-ins they replace.
func TestBoundedFunctionsKeepTheirMeaning(t *testing.T) {
	src := `# {{printf "%s-%03d" "a" 7}} {{print "x" 1}} {{html "<b>"}} {{js "'"}} {{urlquery "a b"}} {{join "+" .Incident.Tags}} {{upper "é"}}`
	out := mustRender(t, mustParse(t, src), testDocument(), FormatMarkdown)
	want := `# a-007 x1 &lt;b&gt; \' a+b ` + strings.Join(testDocument().Incident.Tags, "+") + ` É`
	if got := strings.TrimSpace(string(out.Body)); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func mustParse(t *testing.T, src string) *Template {
	t.Helper()
	tmpl, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}
