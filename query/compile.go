package query

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"

	"github.com/seliq/seliq/internal/apperr"
)

// Limits on one expression, checked before anything runs.
const (
	// MaxQueryLength is the longest expression accepted, in characters.
	MaxQueryLength = 4096
	// maxNodes bounds the expression's size once parsed (and so the SQL it becomes).
	maxNodes = 400
	// maxListLiteral bounds a literal list (severity in [...]).
	maxListLiteral = 1000
	// MaxCost bounds CEL's static cost estimate of the in-memory program and,
	// at run time, its actual cost on one record.
	MaxCost = 1_000_000
)

// CodeTooExpensive is the error code of a query refused or stopped for its cost.
const CodeTooExpensive = apperr.QueryTooExpensive

// Query is a compiled expression over one source: its SQL predicate and its
// in-memory program mean the same thing.
type Query struct {
	Source *Source
	Text   string
	// now is the instant "now" stood for when constants were folded.
	now     time.Time
	where   pred
	program cel.Program
	// untracked is program without runtime cost tracking, for records
	// within the size hints the static estimate assumed (withinSizeHints):
	// on those the estimate, checked against MaxCost, bounds the cost.
	untracked cel.Program
	attrKeys  []string
	// idents are the names the expression reads: fields, comprehension
	// variables and now.
	idents map[string]bool
	// env, when set, is the source's environment extended for events
	// (CompileEvent); memoryOnly queries read changes and have no SQL form.
	env        *cel.Env
	memoryOnly bool
	// guards are terms of the condition checked on the record before the
	// program runs in memory (guard.go).
	guards []guard
}

// Error is a query that does not compile, with where and why.
type Error struct {
	Line, Column int // 1-based
	Message      string
	Suggestion   string
}

// Compile checks text against src's fields and builds both back-ends; field
// names the argument in errors ("query"). An empty text matches everything.
// now is the instant "now" stands for.
func Compile(src *Source, field, text string, now time.Time) (*Query, error) {
	q := &Query{Source: src, Text: text, now: now.UTC()}
	if strings.TrimSpace(text) == "" {
		q.where = constPred(true)
		q.program = nil
		return q, nil
	}
	if !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
		return nil, apperr.Invalid(field, "must be valid UTF-8 without NUL characters")
	}
	if n := utf8.RuneCountInString(text); n > MaxQueryLength {
		return nil, &apperr.Error{Code: CodeTooExpensive, Field: field,
			Message: fmt.Sprintf("the query is %d characters long, over the limit of %d; narrow it or save parts as separate queries", n, MaxQueryLength)}
	}
	checked, iss := src.env.Compile(text)
	if iss != nil && iss.Err() != nil {
		return nil, issueError(field, text, iss)
	}
	if checked.OutputType() != cel.BoolType {
		return nil, positioned(field, text, Error{Line: 1, Column: 1,
			Message: fmt.Sprintf("the query must be a condition (true or false), not a %s", checked.OutputType())})
	}
	native := checked.NativeRep()
	if n := countNodes(native.Expr()); n > maxNodes {
		return nil, &apperr.Error{Code: CodeTooExpensive, Field: field,
			Message: fmt.Sprintf("the query has %d terms, over the limit of %d; narrow it", n, maxNodes)}
	}
	q.idents = identsOf(native.Expr())
	t := &translator{src: src, ast: native, q: q}
	where, err := t.boolean(native.Expr())
	if err != nil {
		if e, ok := err.(*Error); ok {
			return nil, positioned(field, text, *e)
		}
		return nil, err
	}
	q.where = where
	if err := q.buildProgram(checked, field); err != nil {
		return nil, err
	}
	return q, nil
}

// buildProgram rewrites ranked comparisons to ranks and plans the program.
func (q *Query) buildProgram(checked *cel.Ast, field string) error {
	env := q.Source.env
	if q.env != nil {
		env = q.env
	}
	opt, err := cel.NewStaticOptimizer(&rankRewriter{src: q.Source})
	if err != nil {
		return err
	}
	optimized, iss := opt.Optimize(env, checked)
	if iss != nil && iss.Err() != nil {
		return fmt.Errorf("query: rewriting ranks: %w", iss.Err())
	}
	est, err := env.EstimateCost(optimized, sizeEstimator{})
	if err != nil {
		return fmt.Errorf("query: estimating cost: %w", err)
	}
	if est.Max > MaxCost {
		return &apperr.Error{Code: CodeTooExpensive, Field: field,
			Message: fmt.Sprintf("the query could cost up to %d steps per record, over the limit of %d; use fewer list conditions or simpler patterns", est.Max, MaxCost)}
	}
	prg, err := env.Program(optimized, cel.CostLimit(MaxCost), cel.InterruptCheckFrequency(100), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return fmt.Errorf("query: planning: %w", err)
	}
	untracked, err := env.Program(optimized, cel.InterruptCheckFrequency(100), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return fmt.Errorf("query: planning: %w", err)
	}
	q.program, q.untracked = prg, untracked
	q.guards = guardsOf(checked.NativeRep().Expr())
	return nil
}

// programFor is the program to run on a record: the cost-tracked one
// unless the record is within the size hints (see untracked).
func (q *Query) programFor(withinHints bool) cel.Program {
	if withinHints {
		return q.untracked
	}
	return q.program
}

// issueError turns CEL's first issue into a 422 naming where and what.
func issueError(field, text string, iss *cel.Issues) error {
	first := iss.Errors()[0]
	e := Error{Line: first.Location.Line(), Column: first.Location.Column() + 1, Message: first.Message}
	if i := strings.Index(e.Message, " (did you mean '"); i >= 0 {
		rest := e.Message[i+len(" (did you mean '"):]
		if j := strings.Index(rest, "'"); j >= 0 {
			e.Suggestion = rest[:j]
		}
		e.Message = e.Message[:i]
	}
	e.Message = strings.TrimPrefix(e.Message, "Syntax error: ")
	if strings.HasPrefix(e.Message, "undeclared reference to ") {
		e.Message = "unknown field " + strings.TrimPrefix(e.Message, "undeclared reference to ")
	}
	return positioned(field, text, e)
}

// positioned is the 422 for e: the message names line and column and the
// suggestion, and Details carry them for editors.
func positioned(field, text string, e Error) error {
	msg := fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
	if e.Suggestion != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", e.Suggestion)
	}
	details := map[string]any{"line": e.Line, "column": e.Column}
	if e.Suggestion != "" {
		details["suggestion"] = e.Suggestion
	}
	return &apperr.Error{Code: apperr.BadInput, Field: field, Message: msg, Details: details}
}

func (e *Error) Error() string { return e.Message }

// errAt is a translation error at expression id.
func (t *translator) errAt(id int64, format string, args ...any) *Error {
	loc := t.ast.SourceInfo().GetStartLocation(id)
	line, col := 1, 1
	if loc != common.NoLocation {
		line, col = loc.Line(), loc.Column()+1
	}
	return &Error{Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}

func identsOf(e celast.Expr) map[string]bool {
	out := map[string]bool{}
	celast.PostOrderVisit(e, celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() == celast.IdentKind {
			out[e.AsIdent()] = true
		}
	}))
	return out
}

func countNodes(e celast.Expr) int {
	n := 0
	celast.PostOrderVisit(e, celast.NewExprVisitor(func(celast.Expr) { n++ }))
	return n
}

// rankRewriter replaces `severity >= "high"` with `_rank_severity >= 4` in
// the in-memory program: CEL compares strings lexically, the query language
// by rank. The translator has already refused any other ordering of a
// ranked field.
type rankRewriter struct{ src *Source }

func (r *rankRewriter) Optimize(ctx *cel.OptimizerContext, a *celast.AST) *celast.AST {
	root := celast.NavigateAST(a)
	for _, e := range celast.MatchDescendants(root, celast.KindMatcher(celast.CallKind)) {
		call := e.AsCall()
		if !orderingOps[call.FunctionName()] || len(call.Args()) != 2 {
			continue
		}
		args := call.Args()
		for i := range 2 {
			f := r.rankedField(a, args[i])
			lit := args[1-i]
			if f == nil || lit.Kind() != celast.LiteralKind {
				continue
			}
			s, ok := lit.AsLiteral().(types.String)
			if !ok {
				continue
			}
			rank, _ := f.rank(string(s))
			newArgs := []celast.Expr{ctx.NewIdent(rankVar(f.Name)), ctx.NewLiteral(types.Int(rank))}
			if i == 1 {
				newArgs[0], newArgs[1] = newArgs[1], newArgs[0]
			}
			ctx.UpdateExpr(e, ctx.NewCall(call.FunctionName(), newArgs...))
			break
		}
	}
	return a
}

func (r *rankRewriter) rankedField(a *celast.AST, e celast.Expr) *Field {
	ref, ok := a.ReferenceMap()[e.ID()]
	if !ok || ref.Value != nil {
		return nil
	}
	if f, ok := r.src.byName[ref.Name]; ok && f.Ranked {
		return f
	}
	return nil
}

var orderingOps = map[string]bool{"_<_": true, "_<=_": true, "_>_": true, "_>=_": true}

// The size hints of CEL's static cost estimate: the longest list, text
// (title, description) and other string (a short field, a list element,
// an attribute's value) it assumes a record holds.
const (
	hintList   = 1000
	hintText   = 4096
	hintString = 256
)

// sizeEstimator bounds the lists and strings of a record for CEL's static
// cost estimate.
type sizeEstimator struct{}

func (sizeEstimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	// Lists and strings are sized by the hints; a record beyond them (a
	// long description or attribute) runs with the runtime cost limit.
	switch n.Type().String() {
	case "list(string)":
		return &cost.SizeEstimate{Min: 0, Max: hintList}
	case "string":
		if isText(strings.Join(n.Path(), ".")) {
			return &cost.SizeEstimate{Min: 0, Max: hintText}
		}
		return &cost.SizeEstimate{Min: 0, Max: hintString}
	}
	return nil
}

func isText(field string) bool { return field == "title" || field == "description" }

// withinSizeHints reports whether every string and list of r is within
// the size hints, so that the static estimate bounds a program's cost on
// it. Maps of other types and dyn values are sized unknown by the
// estimate (anything iterating them was refused), so are not checked.
func withinSizeHints(r Record) bool {
	for k, v := range r {
		switch x := v.(type) {
		case string:
			limit := hintString
			if isText(k) {
				limit = hintText
			}
			if !shortString(x, limit) {
				return false
			}
		case []string:
			if len(x) > hintList {
				return false
			}
			for _, s := range x {
				if !shortString(s, hintString) {
					return false
				}
			}
		case map[string]string:
			for _, s := range x {
				if !shortString(s, hintString) {
					return false
				}
			}
		}
	}
	return true
}

// shortString reports whether s has at most limit code points (CEL's size
// of a string), counting them only when its bytes could exceed it.
func shortString(s string, limit int) bool {
	return len(s) <= limit || utf8.RuneCountInString(s) <= limit
}

func (sizeEstimator) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}
