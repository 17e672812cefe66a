package query

import (
	"regexp"
	"slices"
	"strings"

	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// A guard is a term of a condition simple enough to check on the record's
// own values before running the program: a text field compared with a
// literal (`source == "crowdstrike"`, `title.contains("NodeDown")`,
// `title.matches("(?i)ransom")`), a literal in a list (`"vip" in tags`),
// a null test (`assignee == null`), an entity list holding such a value
// (`entities.ip.exists(i, i.startsWith("198.51.100."))`), or a disjunction
// of guards. The condition is the conjunction of its guards and other
// terms, so when a guard fails the condition does not hold: CEL's && is
// false as soon as one side is, and an || whose sides are all false or in
// error is false or in error, which the engine reads as not holding.
// Most of a trigger run's conditions are told apart by such a term.
type guard interface {
	// fails reports whether the record r (with its attributes attrs, a
	// missing one reading "") certainly fails the guard; false when r does
	// not hold the guard's field as expected (the program decides).
	fails(r Record, attrs map[string]string) bool
	String() string
}

// textOp is how a text term compares its field with its literal.
type textOp int

const (
	opEquals textOp = iota
	opPrefix
	opSuffix
	opContains
	opMatches
)

var textOpNames = map[textOp]string{opEquals: "==", opPrefix: "^=", opSuffix: "$=", opContains: "*=", opMatches: "~="}

// textFuncs are the CEL string functions a text term may be, by name.
var textFuncs = map[string]textOp{"startsWith": opPrefix, "endsWith": opSuffix, "contains": opContains, "matches": opMatches}

// textTerm compares a text field (or an attribute, or the element of an
// exists) with a literal.
type textTerm struct {
	name  string // the record's variable ("source", "connector.type")
	attr  string // the attribute's key, when the field is an attribute
	value string
	op    textOp
	re    *regexp.Regexp // for opMatches: CEL's matches is Go's RE2
}

func (t textTerm) holds(v string) bool {
	switch t.op {
	case opPrefix:
		return strings.HasPrefix(v, t.value)
	case opSuffix:
		return strings.HasSuffix(v, t.value)
	case opContains:
		return strings.Contains(v, t.value)
	case opMatches:
		return t.re.MatchString(v)
	}
	return v == t.value
}

func (t textTerm) fails(r Record, attrs map[string]string) bool {
	if t.attr != "" {
		return !t.holds(attrs[t.attr])
	}
	s, ok := r[t.name].(string)
	return ok && !t.holds(s)
}

func (t textTerm) String() string {
	name := t.name
	if t.attr != "" {
		name = "attributes." + t.attr
	}
	return name + textOpNames[t.op] + t.value
}

// inTerm is a text literal in a list field: `"vip" in tags`.
type inTerm struct{ name, value string }

func (t inTerm) fails(r Record, _ map[string]string) bool {
	l, ok := r[t.name].([]string)
	return ok && !slices.Contains(l, t.value)
}

func (t inTerm) String() string { return t.value + " in " + t.name }

// nullTerm is `field == null` on an object field (assignee, incident).
type nullTerm struct{ name string }

func (t nullTerm) fails(r Record, _ map[string]string) bool {
	v, ok := r[t.name]
	return ok && v != nil
}

func (t nullTerm) String() string { return t.name + "==null" }

// existsTerm is a list field with an element the text term elem holds
// for: `entities.ip.exists(i, i.startsWith("198.51.100."))`.
type existsTerm struct {
	name string
	elem textTerm
}

func (t existsTerm) fails(r Record, _ map[string]string) bool {
	l, ok := r[t.name].([]string)
	if !ok {
		return false
	}
	return !slices.ContainsFunc(l, t.elem.holds)
}

func (t existsTerm) String() string {
	return t.name + ".exists(" + textOpNames[t.elem.op] + t.elem.value + ")"
}

// anyGuard is a disjunction of guards: it fails when every one does.
type anyGuard []guard

func (g anyGuard) fails(r Record, attrs map[string]string) bool {
	for _, x := range g {
		if !x.fails(r, attrs) {
			return false
		}
	}
	return true
}

func (g anyGuard) String() string { return joinGuards(g, " || ") }

func joinGuards(gs []guard, sep string) string {
	parts := make([]string, len(gs))
	for i, x := range gs {
		parts[i] = x.String()
	}
	return "(" + strings.Join(parts, sep) + ")"
}

// allGuard is a conjunction of guards inside a disjunction: it fails
// when one of them does.
type allGuard []guard

func (g allGuard) fails(r Record, attrs map[string]string) bool {
	return slices.ContainsFunc(g, func(x guard) bool { return x.fails(r, attrs) })
}

func (g allGuard) String() string { return joinGuards(g, " && ") }

// guardsOf are the guards of e's conjunction (none when no term is one).
func guardsOf(e celast.Expr) []guard {
	if e.Kind() == celast.CallKind {
		call := e.AsCall()
		if args := call.Args(); call.FunctionName() == operators.LogicalAnd && len(args) == 2 {
			return append(guardsOf(args[0]), guardsOf(args[1])...)
		}
	}
	if g := guardOf(e); g != nil {
		return []guard{g}
	}
	return nil
}

// guardOf is e as one guard, or nil when it is not one: a disjunction is
// a guard only when each of its sides is.
func guardOf(e celast.Expr) guard {
	switch e.Kind() {
	case celast.ComprehensionKind:
		return existsGuard(e.AsComprehension())
	case celast.CallKind:
	default:
		return nil
	}
	call := e.AsCall()
	args := call.Args()
	switch fn := call.FunctionName(); {
	case fn == operators.LogicalOr && len(args) == 2:
		var out anyGuard
		for _, side := range args {
			g := guardOf(side)
			if g == nil {
				return nil
			}
			if inner, ok := g.(anyGuard); ok {
				out = append(out, inner...)
			} else {
				out = append(out, g)
			}
		}
		return out
	case fn == operators.LogicalAnd && len(args) == 2:
		// An && inside an ||: its guards together (the && fails when one
		// of them does, whatever its other terms).
		switch gs := guardsOf(e); len(gs) {
		case 0:
			return nil
		case 1:
			return gs[0]
		default:
			return allGuard(gs)
		}
	case fn == operators.Equals && len(args) == 2:
		for _, pair := range [][2]celast.Expr{{args[0], args[1]}, {args[1], args[0]}} {
			if pair[1].Kind() == celast.LiteralKind && pair[1].AsLiteral() == types.NullValue {
				if pair[0].Kind() == celast.IdentKind {
					return nullTerm{name: pair[0].AsIdent()}
				}
				return nil
			}
			if t, ok := textTermOf(pair[0], pair[1], opEquals); ok {
				return t
			}
		}
	case fn == operators.In && len(args) == 2:
		if text, ok := textLiteral(args[0]); ok && args[1].Kind() == celast.IdentKind {
			return inTerm{name: args[1].AsIdent(), value: text}
		}
	default:
		if op, ok := textFuncs[fn]; ok && call.IsMemberFunction() && len(args) == 1 {
			if t, ok := textTermOf(call.Target(), args[0], op); ok {
				return t
			}
		}
	}
	return nil
}

// existsGuard is the guard of an exists macro over a list variable whose
// predicate is a text term on the element, or nil.
func existsGuard(c celast.ComprehensionExpr) guard {
	if c.HasIterVar2() || c.IterRange().Kind() != celast.IdentKind {
		return nil
	}
	if init := c.AccuInit(); init.Kind() != celast.LiteralKind || init.AsLiteral() != types.False {
		return nil
	}
	if res := c.Result(); res.Kind() != celast.IdentKind || res.AsIdent() != c.AccuVar() {
		return nil
	}
	step := c.LoopStep()
	if step.Kind() != celast.CallKind || step.AsCall().FunctionName() != operators.LogicalOr {
		return nil
	}
	sides := step.AsCall().Args()
	if len(sides) != 2 || sides[0].Kind() != celast.IdentKind || sides[0].AsIdent() != c.AccuVar() {
		return nil
	}
	g := guardOf(sides[1])
	elem, ok := g.(textTerm)
	if !ok || elem.name != c.IterVar() {
		return nil
	}
	return existsTerm{name: c.IterRange().AsIdent(), elem: elem}
}

// textTermOf is the text term comparing the variable v with the literal
// lit by op.
func textTermOf(v, lit celast.Expr, op textOp) (textTerm, bool) {
	text, ok := textLiteral(lit)
	if !ok {
		return textTerm{}, false
	}
	t := textTerm{value: text, op: op}
	if op == opMatches {
		re, err := regexp.Compile(text)
		if err != nil {
			return textTerm{}, false
		}
		t.re = re
	}
	switch v.Kind() {
	case celast.IdentKind:
		t.name = v.AsIdent()
		return t, true
	case celast.SelectKind:
		sel := v.AsSelect()
		operand := sel.Operand()
		if sel.IsTestOnly() || operand.Kind() != celast.IdentKind {
			return textTerm{}, false
		}
		if operand.AsIdent() == "attributes" {
			t.attr = sel.FieldName()
			return t, true
		}
		// A qualified field the record holds flattened (connector.type).
		t.name = operand.AsIdent() + "." + sel.FieldName()
		return t, true
	}
	return textTerm{}, false
}

// textLiteral is e's text when e is a string literal.
func textLiteral(e celast.Expr) (string, bool) {
	if e.Kind() != celast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}

// guardFails reports whether one of q's guards fails on r.
func (q *Query) guardFails(r Record, attrs map[string]string) bool {
	for _, g := range q.guards {
		if g.fails(r, attrs) {
			return true
		}
	}
	return false
}
