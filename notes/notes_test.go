package notes

import (
	"slices"
	"strings"
	"testing"
)

func TestMentions(t *testing.T) {
	cases := []struct {
		body string
		want []string
	}{
		{"ping @ana and @Bob_2.", []string{"ana", "Bob_2"}},
		{"mail bob@example.com, not a mention", []string{}},
		{"@ana @ANA again @ana", []string{"ana"}},
		{"(@x.y) cc @first.last-name, thanks", []string{"x.y", "first.last-name"}},
		{"line one\n@carl: look", []string{"carl"}},
		{"a lone @ and @@double", []string{}},
		{"@" + strings.Repeat("a", 65) + " @" + strings.Repeat("b", 64), []string{strings.Repeat("b", 64)}},
		{"@ana...", []string{"ana"}},
	}
	for _, tc := range cases {
		if got := Mentions(tc.body); !slices.Equal(got, tc.want) {
			t.Errorf("mentions(%q) = %q, want %q", tc.body, got, tc.want)
		}
	}
}
