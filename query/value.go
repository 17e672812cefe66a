package query

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"

	"github.com/seliq/seliq/internal/apperr"
)

// Value is a compiled expression that computes a value of a record rather
// than a condition: an automation's correlation key (entities.host[0],
// attributes.host + "/" + source). It is evaluated in memory only.
type Value struct {
	Source  *Source
	Text    string
	program cel.Program
}

// CompileValue checks text against src's fields; it must compute a string
// or a number. field names the argument in errors.
func CompileValue(src *Source, field, text string) (*Value, error) {
	if strings.TrimSpace(text) == "" {
		return nil, apperr.Invalid(field, "is required")
	}
	if !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
		return nil, apperr.Invalid(field, "must be valid UTF-8 without NUL characters")
	}
	if n := utf8.RuneCountInString(text); n > MaxQueryLength {
		return nil, &apperr.Error{Code: CodeTooExpensive, Field: field,
			Message: fmt.Sprintf("the expression is %d characters long, over the limit of %d", n, MaxQueryLength)}
	}
	checked, iss := src.env.Compile(text)
	if iss != nil && iss.Err() != nil {
		return nil, issueError(field, text, iss)
	}
	switch checked.OutputType() {
	case cel.StringType, cel.IntType, cel.UintType, cel.DoubleType:
	default:
		return nil, positioned(field, text, Error{Line: 1, Column: 1,
			Message: fmt.Sprintf("the expression must compute a string or a number, not a %s", checked.OutputType())})
	}
	if n := countNodes(checked.NativeRep().Expr()); n > maxNodes {
		return nil, &apperr.Error{Code: CodeTooExpensive, Field: field,
			Message: fmt.Sprintf("the expression has %d terms, over the limit of %d", n, maxNodes)}
	}
	prg, err := src.env.Program(checked, cel.CostLimit(MaxCost), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, fmt.Errorf("query: planning value: %w", err)
	}
	return &Value{Source: src, Text: text, program: prg}, nil
}

// Eval computes the value on one record at instant now. A record the
// expression cannot evaluate (an index past a list's end, a missing
// attribute, the cost limit) returns an error; an empty string is "".
func (v *Value) Eval(r Record, now time.Time) (string, error) {
	act := make(map[string]any, len(r)+1)
	for k, val := range r {
		act[k] = val
	}
	act[nowVar] = types.Timestamp{Time: now.UTC()}
	out, _, err := v.program.Eval(act)
	if err != nil {
		return "", err
	}
	return fmt.Sprint(out.Value()), nil
}
