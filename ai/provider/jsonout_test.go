package provider

import (
	"testing"
)

func TestExtractJSONObject(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":1}`, `{"a":1}`},
		{"  {\"a\":1}\n", `{"a":1}`},
		{"```json\n{\"a\":{\"b\":[1]}}\n```", `{"a":{"b":[1]}}`},
		{"Here is the analysis: {\"verdict\":\"suspicious\"} Hope it helps.", `{"verdict":"suspicious"}`},
		{"no object here", "no object here"},
		{"{broken", "{broken"},
		{`[1,2]`, `[1,2]`},
	}
	for _, tt := range tests {
		if got := extractJSONObject(tt.in); got != tt.want {
			t.Errorf("extractJSONObject(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzExtractJSONObject checks the extractor returns either its input or a
// valid JSON object, never something in between.
func FuzzExtractJSONObject(f *testing.F) {
	for _, s := range []string{`{"a":1}`, "```json\n{}\n```", "x {\"a\": {} } y", "{{}", "}{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := extractJSONObject(in)
		if got != in && !isJSONObject(got) {
			t.Fatalf("extractJSONObject(%q) = %q", in, got)
		}
	})
}
