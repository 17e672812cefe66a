package query

import (
	"strings"

	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// A guard is a term a condition is the conjunction of, simple enough to
// check on the record's own value before running the program: a field
// equal to a text (`source == "crowdstrike"`) or starting with one
// (`attributes.host.startsWith("web-")`). When a guard fails, the whole
// conjunction is false whatever its other terms (CEL's && is false as soon
// as one side is, errors included), so the program need not run: most of
// a trigger run's conditions are told apart by such a term.
type guard struct {
	name   string // the record's variable ("source", "connector.type"); "" for an attribute
	attr   string // the attribute's key, when name is ""
	value  string
	prefix bool // startsWith rather than ==
}

// guardsOf are the guards of the conjunction e (none when e is not one).
func guardsOf(e celast.Expr) []guard {
	if e.Kind() != celast.CallKind {
		return nil
	}
	call := e.AsCall()
	args := call.Args()
	switch {
	case call.FunctionName() == operators.LogicalAnd && len(args) == 2:
		return append(guardsOf(args[0]), guardsOf(args[1])...)
	case call.FunctionName() == operators.Equals && len(args) == 2:
		for _, pair := range [][2]celast.Expr{{args[0], args[1]}, {args[1], args[0]}} {
			if g, ok := termGuard(pair[0], pair[1]); ok {
				return []guard{g}
			}
		}
	case call.FunctionName() == "startsWith" && call.IsMemberFunction() && len(args) == 1:
		if g, ok := termGuard(call.Target(), args[0]); ok {
			g.prefix = true
			return []guard{g}
		}
	}
	return nil
}

// termGuard is a guard comparing the variable v with the text literal lit.
func termGuard(v, lit celast.Expr) (guard, bool) {
	if lit.Kind() != celast.LiteralKind {
		return guard{}, false
	}
	text, ok := lit.AsLiteral().(types.String)
	if !ok {
		return guard{}, false
	}
	switch v.Kind() {
	case celast.IdentKind:
		return guard{name: v.AsIdent(), value: string(text)}, true
	case celast.SelectKind:
		sel := v.AsSelect()
		op := sel.Operand()
		if sel.IsTestOnly() || op.Kind() != celast.IdentKind {
			return guard{}, false
		}
		if op.AsIdent() == "attributes" {
			return guard{attr: sel.FieldName(), value: string(text)}, true
		}
		// A qualified field the record holds flattened (connector.type).
		return guard{name: op.AsIdent() + "." + sel.FieldName(), value: string(text)}, true
	}
	return guard{}, false
}

// fails reports whether the record r (with its attributes attrs, a missing
// one reading "") certainly fails g; false when r does not hold g's field
// as text (the program decides).
func (g guard) fails(r Record, attrs map[string]string) bool {
	var v string
	if g.name == "" {
		v = attrs[g.attr]
	} else {
		s, ok := r[g.name].(string)
		if !ok {
			return false
		}
		v = s
	}
	if g.prefix {
		return !strings.HasPrefix(v, g.value)
	}
	return v != g.value
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
