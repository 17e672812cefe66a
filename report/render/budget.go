package render

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Limits on what one execution of a template may build, beyond MaxSteps and
// MaxOutputSize: a template can grow a string in a variable without
// printing it ({{$s = printf "%s%s" $s $s}}), which neither of those sees.
const (
	// MaxValueSize bounds the string one function call returns: nothing
	// larger than the output could ever be printed whole.
	MaxValueSize = MaxOutputSize
	// MaxBuilt bounds the bytes all function calls of one execution build
	// together: the memory a render may churn through, whatever it prints.
	MaxBuilt = 64 << 20
	// RenderTimeout bounds one Render, template and conversion together.
	RenderTimeout = 2 * time.Minute
)

// renderTimeout is RenderTimeout; the tests shorten it.
var renderTimeout = RenderTimeout

// ErrResourceLimit is matched (errors.Is) by every failure caused by a
// limit rather than by the template's logic: too many steps, too much
// output, a value or a total too large, too long. Retrying such a render
// cannot succeed.
var ErrResourceLimit = errors.New("report exceeds a resource limit")

// limitError is a failure caused by a limit; its message is for people.
type limitError struct{ msg string }

func (e *limitError) Error() string        { return e.msg }
func (e *limitError) Is(target error) bool { return target == ErrResourceLimit }

var (
	errValueTooBig   = &limitError{fmt.Sprintf("a function would build a value larger than %d MiB", MaxValueSize>>20)}
	errBuiltTooMuch  = &limitError{fmt.Sprintf("template builds more than %d MiB of text", MaxBuilt>>20)}
	errRenderTimeout = &limitError{fmt.Sprintf("report takes longer than %s to render", RenderTimeout)}
)

// budget is what the functions of one execution may still build. Each
// function checks the size it is about to build before building it, so a
// refused call allocates nothing large.
type budget struct {
	ctx   context.Context
	built int
}

// reserve accounts for a value of n bytes about to be built.
func (b *budget) reserve(n int) error {
	if err := b.ctx.Err(); err != nil {
		return err
	}
	if n > MaxValueSize {
		return errValueTooBig
	}
	if b.built += n; b.built > MaxBuilt {
		return errBuiltTooMuch
	}
	return nil
}

// take accounts for s, already built by a function whose result is at most
// a small multiple of its bounded input.
func (b *budget) take(s string, err error) (string, error) {
	if err != nil {
		return "", err
	}
	if err := b.reserve(len(s)); err != nil {
		return "", err
	}
	return s, nil
}

// sizeOf is how many bytes printing v takes. Strings are measured; other
// values (the document's own lists and numbers) are printed once, and that
// printing is spent from the budget too.
func (b *budget) sizeOf(v any) (int, error) {
	if s, ok := v.(string); ok {
		return len(s), nil
	}
	s, err := b.take(fmt.Sprint(v), nil)
	return len(s), err
}

// estimate bounds the size of formatting args with format: every verb may
// print the largest argument, padded by the largest width written in the
// format (or passed with '*'). It over-estimates, never under-estimates.
func (b *budget) estimate(format string, verbs int, args []any) (int, error) {
	largest := 0
	for _, a := range args {
		n, err := b.sizeOf(a)
		if err != nil {
			return 0, err
		}
		largest = max(largest, n)
	}
	width := largestNumber(format)
	if strings.Contains(format, "*") {
		for _, a := range args {
			if n, ok := a.(int); ok {
				width = max(width, n, -n)
			}
		}
	}
	return len(format) + verbs*(largest+width), nil
}

// largestNumber is the largest decimal number written in s.
func largestNumber(s string) int {
	largest := 0
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return MaxValueSize + 1 // too many digits to be a sane width
		}
		largest = max(largest, n)
	}
	return largest
}

// funcs are the string-building functions, bounded: the documented ones
// that can grow a string and text/template's built-ins of that kind, which
// these replace (a FuncMap entry takes precedence over a built-in).
func (b *budget) funcs() map[string]any {
	return map[string]any{
		"printf": func(format string, args ...any) (string, error) {
			n, err := b.estimate(format, strings.Count(format, "%"), args)
			if err == nil {
				err = b.reserve(n)
			}
			if err != nil {
				return "", err
			}
			return fmt.Sprintf(format, args...), nil
		},
		"print":    b.printing(fmt.Sprint),
		"println":  b.printing(fmt.Sprintln),
		"html":     b.escaping(template.HTMLEscapeString),
		"js":       b.escaping(template.JSEscapeString),
		"urlquery": b.escaping(url.QueryEscape),
		"join": func(sep string, items []string) (string, error) {
			n := len(sep) * max(len(items)-1, 0)
			for _, it := range items {
				n += len(it)
			}
			if err := b.reserve(n); err != nil {
				return "", err
			}
			return strings.Join(items, sep), nil
		},
	}
}

// counted makes a documented function that transforms its argument (md,
// upper…) spend what it builds: its output is a small multiple of an
// input that is itself bounded.
func (b *budget) counted(f func(any) string) func(any) (string, error) {
	return func(v any) (string, error) { return b.take(f(v), nil) }
}

// printing bounds print and println: each argument printed once, plus
// separators.
func (b *budget) printing(print func(...any) string) func(...any) (string, error) {
	return func(args ...any) (string, error) {
		n, err := b.estimate("", len(args), args)
		if err == nil {
			err = b.reserve(n + len(args))
		}
		if err != nil {
			return "", err
		}
		return print(args...), nil
	}
}

// escaping bounds html, js and urlquery, which print their arguments
// together and escape the result.
func (b *budget) escaping(escape func(string) string) func(...any) (string, error) {
	return func(args ...any) (string, error) {
		n, err := b.estimate("", len(args), args)
		if err == nil {
			err = b.reserve(n)
		}
		if err != nil {
			return "", err
		}
		// The escaped text is at most six times the checked input (\uXXXX).
		return b.take(escape(fmt.Sprint(args...)), nil)
	}
}
