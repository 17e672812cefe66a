package jsonscan_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/seliq/seliq/internal/jsonscan"
)

// walk renders what a walk of in reads: keys decoded, strings as Text
// reads them or, for strings Text refuses, as written; literals as
// written.
func walk(s *jsonscan.Scanner) (string, error) {
	var b strings.Builder
	var value func() error
	value = func() error {
		switch s.Peek() {
		case '{':
			b.WriteString("{")
			err := s.Object(func(key, rawKey []byte) error {
				b.WriteString(string(key) + "|" + string(rawKey) + "=")
				return value()
			})
			b.WriteString("}")
			return err
		case '[':
			b.WriteString("[")
			err := s.Array(func() error { err := value(); b.WriteString(","); return err })
			b.WriteString("]")
			return err
		case '"':
			probe := *s
			if text, err := probe.Text(); err == nil {
				*s = probe
				b.WriteString("text:" + string(text))
				return nil
			}
			raw, err := s.Str()
			b.WriteString("str:" + string(raw))
			return err
		default:
			raw, err := s.Skip()
			b.WriteString(string(raw))
			return err
		}
	}
	err := value()
	if err == nil && !s.End() {
		err = errors.New("trailing input")
	}
	return b.String(), err
}

func TestWalk(t *testing.T) {
	cases := []struct {
		in, want  string
		malformed bool
	}{
		{in: `{"a": "b", "c": [1, true, null]}`, want: `{a|"a"=text:bc|"c"=[1,true,null,]}`},
		{in: ` [ ] `, want: `[]`},
		{in: `{}`, want: `{}`},
		{in: `{"k\u00e9y": "v\"q"}`, want: `{kéy|"k\u00e9y"=str:"v\"q"}`},
		{in: `["tab` + "\t" + `"]`, want: "[str:\"tab\t\",]"},
		{in: `{"a" "b"}`, malformed: true},
		{in: `{"a": "b",}`, malformed: true},
		{in: `["a" "b"]`, malformed: true},
		{in: `{a: 1}`, malformed: true},
		{in: `["unterminated]`, malformed: true},
		{in: `["ends in a backslash\`, malformed: true},
	}
	for _, tc := range cases {
		got, err := walk(jsonscan.New([]byte(tc.in)))
		switch {
		case tc.malformed && !errors.Is(err, jsonscan.ErrMalformed):
			t.Errorf("%s: %q, %v; want ErrMalformed", tc.in, got, err)
		case !tc.malformed && (err != nil || got != tc.want):
			t.Errorf("%s: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestUnquote(t *testing.T) {
	for raw, want := range map[string]string{`"plain"`: "plain", `"a\nb"`: "a\nb", `"\u00e9"`: "é", `""`: ""} {
		if got, err := jsonscan.Unquote([]byte(raw)); err != nil || got != want {
			t.Errorf("Unquote(%s) = %q, %v; want %q", raw, got, err, want)
		}
	}
}
