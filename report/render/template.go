package render

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"
)

// Limits on templates. They keep an uploaded template from exhausting the
// server: the source is small, its output bounded, and every loop iteration
// and template call is counted.
const (
	MaxTemplateSize = 256 << 10
	MaxOutputSize   = 8 << 20
	MaxSteps        = 250_000
	// validationTimeout bounds the sample executions done by Parse.
	validationTimeout = 5 * time.Second
)

// templateName is the name of the top-level template; text/template puts it
// in every error message, which is how errors are located.
const templateName = "report"

// stepFunc is the function injected at the start of every range body and
// template body to count steps. Its name cannot collide with a documented
// function; a template calling it only spends a step.
const stepFunc = "seliqStep"

//go:embed default.md.tmpl
var defaultSource []byte

var (
	errTooManySteps = &limitError{fmt.Sprintf("template runs too long: more than %d loop iterations and template calls", MaxSteps)}
	errOutputTooBig = &limitError{fmt.Sprintf("template output exceeds %d MiB", MaxOutputSize>>20)}
)

// Template is a parsed and validated report template.
type Template struct {
	src []byte
}

// Source returns the template text, as uploaded.
func (t *Template) Source() []byte {
	return bytes.Clone(t.src)
}

// Default returns the built-in template, for organisations that uploaded
// none. Its validity is checked by the package tests.
func Default() *Template {
	return &Template{src: defaultSource}
}

// TemplateError is a problem with a template, located when possible.
type TemplateError struct {
	// Line is 1-based; 0 when the problem is not tied to a line (an empty
	// template, output too large).
	Line int
	// Column is 1-based, in characters; 0 when unknown.
	Column  int
	Message string
	// cause is kept for errors.Is when a limit was hit (ErrResourceLimit).
	cause error
}

func (e *TemplateError) Unwrap() error { return e.cause }

func (e *TemplateError) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return e.Message
}

// Parse checks an uploaded template and returns it ready for Render. Beyond
// syntax, it executes the template against sample documents (every section
// on and populated; then everything empty and absent), so that unknown
// fields, bad function arguments and nil dereferences are found at upload
// rather than when a report is due. Errors are *TemplateError.
func Parse(src []byte) (*Template, error) {
	if err := checkSource(src); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), validationTimeout)
	defer cancel()
	for _, doc := range sampleDocuments() {
		out, err := execute(ctx, src, doc)
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, &TemplateError{Message: "template takes too long to execute"}
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(out)) == 0 {
			return nil, &TemplateError{Message: "template produces no output"}
		}
	}
	return &Template{src: bytes.Clone(src)}, nil
}

func checkSource(src []byte) error {
	if len(bytes.TrimSpace(src)) == 0 {
		return &TemplateError{Message: "template is empty"}
	}
	if len(src) > MaxTemplateSize {
		return &TemplateError{Message: fmt.Sprintf("template is larger than %d KiB", MaxTemplateSize>>10)}
	}
	if !utf8.Valid(src) {
		return invalidUTF8Error(src)
	}
	return nil
}

func invalidUTF8Error(src []byte) error {
	line, col := 1, 1
	for len(src) > 0 {
		r, size := utf8.DecodeRune(src)
		if r == utf8.RuneError && size <= 1 {
			break
		}
		line, col = advance(line, col, r)
		src = src[size:]
	}
	return &TemplateError{Line: line, Column: col, Message: "template is not valid UTF-8"}
}

func advance(line, col int, r rune) (int, int) {
	if r == '\n' {
		return line + 1, 1
	}
	return line, col + 1
}

// execute runs the template source on doc. The source is parsed anew each
// time so that the step counter and the context are bound to this run only.
func execute(ctx context.Context, src []byte, doc Document) ([]byte, error) {
	st := &execState{budget: budget{ctx: ctx}}
	t, err := compile(src, st)
	if err != nil {
		return nil, err
	}
	out := &limitedBuffer{ctx: ctx, max: MaxOutputSize}
	err = t.Execute(out, doc)
	switch {
	case err == nil:
		return out.buf.Bytes(), nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("execute template: %w", ctx.Err())
	case errors.Is(err, errOutputTooBig):
		return nil, &TemplateError{Message: errOutputTooBig.Error(), cause: errOutputTooBig}
	}
	return nil, execError(src, err)
}

func compile(src []byte, st *execState) (*template.Template, error) {
	funcs := templateFuncs(&st.budget)
	funcs[stepFunc] = st.step
	t, err := template.New(templateName).Funcs(funcs).Parse(string(src))
	if err != nil {
		return nil, parseError(src, err)
	}
	if err := checkRecursion(src, t); err != nil {
		return nil, err
	}
	instrument(t)
	return t, nil
}

// execState is the budget of one execution: steps, and what functions
// build.
type execState struct {
	budget
	steps int
}

// step is called by the injected actions; text/template offers no other
// hook inside loops, and a loop that prints nothing is not stopped by the
// output limit.
func (s *execState) step() (string, error) {
	s.steps++
	if s.steps > MaxSteps {
		return "", errTooManySteps
	}
	if s.steps%1024 == 0 {
		if err := s.ctx.Err(); err != nil {
			return "", err
		}
	}
	return "", nil
}

// limitedBuffer collects template output up to max bytes and stops the
// execution when ctx is done.
type limitedBuffer struct {
	ctx context.Context
	buf bytes.Buffer
	max int
}

func (w *limitedBuffer) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	if w.buf.Len()+len(p) > w.max {
		return 0, errOutputTooBig
	}
	return w.buf.Write(p)
}

// instrument prepends a step to every template body and every range body.
func instrument(t *template.Template) {
	seen := map[*parse.Tree]bool{}
	for _, tt := range t.Templates() {
		tree := tt.Tree
		if tree == nil || tree.Root == nil || seen[tree] {
			continue
		}
		seen[tree] = true
		prependStep(tree, tree.Root, tree.Root.Pos)
		walkBranches(tree.Root, func(n parse.Node) {
			if r, ok := n.(*parse.RangeNode); ok && r.List != nil {
				prependStep(tree, r.List, r.Pos)
			}
		})
	}
}

func prependStep(tree *parse.Tree, list *parse.ListNode, pos parse.Pos) {
	ident := parse.NewIdentifier(stepFunc).SetTree(tree).SetPos(pos)
	cmd := &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{ident}}
	pipe := &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{cmd}}
	action := &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Pipe: pipe}
	list.Nodes = append([]parse.Node{action}, list.Nodes...)
}

// walkBranches calls visit for every node of list, descending into the
// bodies of if, range and with.
func walkBranches(list *parse.ListNode, visit func(parse.Node)) {
	if list == nil {
		return
	}
	for _, n := range list.Nodes {
		visit(n)
		var branch *parse.BranchNode
		switch n := n.(type) {
		case *parse.IfNode:
			branch = &n.BranchNode
		case *parse.RangeNode:
			branch = &n.BranchNode
		case *parse.WithNode:
			branch = &n.BranchNode
		default:
			continue
		}
		walkBranches(branch.List, visit)
		walkBranches(branch.ElseList, visit)
	}
}

// checkRecursion refuses templates that invoke themselves: a report has no
// use for recursion, and refusing it bounds the call depth.
func checkRecursion(src []byte, t *template.Template) error {
	const (
		unvisited = iota
		active
		done
	)
	state := map[string]int{}
	var visit func(name string) error
	visit = func(name string) error {
		tt := t.Lookup(name)
		if tt == nil || tt.Tree == nil || state[name] == done {
			return nil
		}
		state[name] = active
		var err error
		walkBranches(tt.Tree.Root, func(n parse.Node) {
			call, ok := n.(*parse.TemplateNode)
			if !ok || err != nil {
				return
			}
			if state[call.Name] == active {
				line, col := nodeLocation(src, tt.Tree, call)
				err = &TemplateError{Line: line, Column: col, Message: fmt.Sprintf("template %q calls itself (recursion is not allowed)", call.Name)}
				return
			}
			err = visit(call.Name)
		})
		state[name] = done
		return err
	}
	for _, tt := range t.Templates() {
		if err := visit(tt.Name()); err != nil {
			return err
		}
	}
	return nil
}

// nodeLocation returns the 1-based line and column of n. ErrorContext gives
// "NAME:LINE:BYTEOFFSET", and NAME may itself contain colons.
func nodeLocation(src []byte, tree *parse.Tree, n parse.Node) (line, col int) {
	loc, _ := tree.ErrorContext(n)
	i := strings.LastIndexByte(loc, ':')
	j := strings.LastIndexByte(loc[:max(i, 0)], ':')
	if i < 0 || j < 0 {
		return 0, 0
	}
	line, _ = strconv.Atoi(loc[j+1 : i])
	offset, _ := strconv.Atoi(loc[i+1:])
	return line, runeColumn(src, line, offset)
}

var (
	// "template: report:LINE: message" (parse errors) or
	// "template: report:LINE:COL: executing "NAME" at <...>: message".
	errLocation = regexp.MustCompile(`^template: ` + templateName + `:(\d+)(?::(\d+))?: (?s:(.*))$`)
	// The executing clause repeats what the location says.
	executingClause = regexp.MustCompile(`^executing "(?:[^"\\]|\\.)*" at `)
)

func parseError(src []byte, err error) error {
	te := locate(src, err)
	if line, ok := unclosedActionLine(src); ok && line != te.Line && (te.Line == 0 || line < te.Line) {
		// An action left open swallows the text after it, so text/template
		// complains lines later about whatever it finds there.
		return &TemplateError{Line: line, Message: `unclosed action: "{{" has no matching "}}"`}
	}
	return te
}

func execError(src []byte, err error) error {
	te := locate(src, err)
	var limit *limitError
	if errors.As(err, &limit) {
		// The location is kept; the message is the limit's, without
		// text/template's "error calling printf:" prefix.
		te.Message, te.cause = limit.Error(), limit
	}
	return te
}

// locate converts a text/template error into a TemplateError, keeping the
// human part of the message.
func locate(src []byte, err error) *TemplateError {
	msg := err.Error()
	m := errLocation.FindStringSubmatch(msg)
	if m == nil {
		return &TemplateError{Message: strings.TrimPrefix(strings.TrimPrefix(msg, "template: "), templateName+": ")}
	}
	te := &TemplateError{Message: executingClause.ReplaceAllString(m[3], "")}
	te.Line, _ = strconv.Atoi(m[1])
	if m[2] != "" {
		offset, _ := strconv.Atoi(m[2])
		te.Column = runeColumn(src, te.Line, offset)
	}
	return te
}

// runeColumn turns a 0-based byte offset within a line into a 1-based
// character column.
func runeColumn(src []byte, line, offset int) int {
	lines := bytes.SplitN(src, []byte("\n"), line+1)
	if line < 1 || line > len(lines) || offset > len(lines[line-1]) {
		return offset + 1
	}
	return utf8.RuneCount(lines[line-1][:offset]) + 1
}

// unclosedActionLine finds the first "{{" not closed before the next "{{".
func unclosedActionLine(src []byte) (int, bool) {
	rest, consumed := src, 0
	for {
		open := bytes.Index(rest, []byte("{{"))
		if open < 0 {
			return 0, false
		}
		after := rest[open+2:]
		closeAt := bytes.Index(after, []byte("}}"))
		nextOpen := bytes.Index(after, []byte("{{"))
		if closeAt < 0 || (nextOpen >= 0 && nextOpen < closeAt) {
			return 1 + bytes.Count(src[:consumed+open], []byte("\n")), true
		}
		consumed += open + 2 + closeAt + 2
		rest = src[consumed:]
	}
}
