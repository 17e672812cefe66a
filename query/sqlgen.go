package query

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/seliq/seliq/storage/sqlpred"
)

// pred is a condition on the source's rows, written when the selector (and
// so the dialect and the table's name) is known. Every pred is two-valued:
// it never yields SQL NULL, so NOT means what CEL's ! means.
type pred func(x sqlCtx) *sql.Predicate

// sqlCtx is where a pred is written: the source's selector and, inside a
// comprehension, the SQL of the current list element.
type sqlCtx struct {
	s    *sql.Selector
	elem string
}

func constPred(v bool) pred {
	return func(sqlCtx) *sql.Predicate {
		if v {
			return sql.ExprP("1 = 1")
		}
		return sql.ExprP("1 = 0")
	}
}

// translator turns a checked expression into a pred, refusing (with a
// position) whatever SQL could not mean exactly what CEL means.
type translator struct {
	src  *Source
	ast  *celast.AST
	q    *Query
	elem *elemScope
}

// elemScope is the comprehension being translated: x in tags.exists(x, …).
type elemScope struct {
	iterVar string
	list    *Field
}

// valueRef is a field (or part of one) a condition tests.
type valueRef struct {
	field *Field
	attr  string // the key, for attributes
	elem  bool   // the element of the enclosing comprehension
	size  bool   // size(list)
}

// typ is the scalar type the reference yields.
func (v valueRef) typ() Type {
	switch {
	case v.size:
		return TypeInt
	case v.elem, v.attr != "":
		return TypeString
	}
	return v.field.Type
}

func (t *translator) boolean(e celast.Expr) (pred, error) {
	if !t.refersToData(e) {
		v, err := t.constant(e)
		if err != nil {
			return nil, err
		}
		b, ok := v.(types.Bool)
		if !ok {
			return nil, t.errAt(e.ID(), "expected a condition, found a %s", v.Type().TypeName())
		}
		return constPred(bool(b)), nil
	}
	switch e.Kind() {
	case celast.CallKind:
		return t.call(e)
	case celast.ComprehensionKind:
		return t.comprehension(e)
	case celast.SelectKind:
		if e.AsSelect().IsTestOnly() {
			return nil, t.errAt(e.ID(), "has() is not supported; compare with \"\" instead: attributes.rule != \"\"")
		}
	}
	return nil, t.errAt(e.ID(), "expected a condition such as severity == \"high\"")
}

func (t *translator) call(e celast.Expr) (pred, error) {
	c := e.AsCall()
	args := c.Args()
	switch c.FunctionName() {
	case operators.LogicalAnd, operators.LogicalOr:
		ps := make([]pred, len(args))
		for i, a := range args {
			p, err := t.boolean(a)
			if err != nil {
				return nil, err
			}
			ps[i] = p
		}
		and := c.FunctionName() == operators.LogicalAnd
		return func(x sqlCtx) *sql.Predicate {
			out := make([]*sql.Predicate, len(ps))
			for i, p := range ps {
				out[i] = p(x)
			}
			if and {
				return sql.And(out...)
			}
			return sql.Or(out...)
		}, nil
	case operators.LogicalNot:
		p, err := t.boolean(args[0])
		if err != nil {
			return nil, err
		}
		return func(x sqlCtx) *sql.Predicate { return sql.Not(p(x)) }, nil
	case operators.Equals, operators.NotEquals, operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals:
		return t.compare(e, c.FunctionName(), args[0], args[1])
	case operators.In:
		return t.in(e, args[0], args[1])
	case overloads.Contains, overloads.StartsWith, overloads.EndsWith, overloads.Matches:
		if !c.IsMemberFunction() {
			if len(args) != 2 {
				break
			}
			return t.stringTest(e, c.FunctionName(), args[0], args[1])
		}
		return t.stringTest(e, c.FunctionName(), c.Target(), args[0])
	case operators.Conditional:
		return nil, t.errAt(e.ID(), "conditional expressions (a ? b : c) are not supported; combine conditions with && and ||")
	}
	return nil, t.errAt(e.ID(), "%s is not supported here; see GET /api/v1/queries/sources for the operators of each field", displayFn(c.FunctionName()))
}

func displayFn(fn string) string {
	if d, ok := operators.FindReverse(fn); ok && d != "" {
		return "the operator " + d
	}
	return "the function " + fn + "()"
}

var opNames = map[string]string{
	operators.Equals: "==", operators.NotEquals: "!=", operators.Less: "<", operators.LessEquals: "<=",
	operators.Greater: ">", operators.GreaterEquals: ">=",
}

var flipped = map[string]string{"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

func (t *translator) compare(e celast.Expr, fn string, left, right celast.Expr) (pred, error) {
	op := opNames[fn]
	lData, rData := t.refersToData(left), t.refersToData(right)
	if lData && rData {
		return nil, t.errAt(e.ID(), "compare a field with a value, not with another field")
	}
	fieldSide, constSide := left, right
	if rData {
		fieldSide, constSide, op = right, left, flipped[op]
	}
	// assignee == null: the related object is there or not.
	if f := t.objectField(fieldSide); f != nil {
		c, err := t.constant(constSide)
		if err != nil {
			return nil, err
		}
		if c != types.NullValue || (op != "==" && op != "!=") {
			return nil, t.errAt(e.ID(), "%s can only be compared with null (%s == null, %s != null); compare its fields instead, e.g. %s", f.Name, f.Name, f.Name, t.exampleSubfield(f))
		}
		col := f.col.name
		isNull := op == "=="
		return func(x sqlCtx) *sql.Predicate {
			s := x.s
			if isNull {
				return sql.IsNull(s.C(col))
			}
			return sql.NotNull(s.C(col))
		}, nil
	}
	v, err := t.value(fieldSide)
	if err != nil {
		return nil, err
	}
	c, err := t.constant(constSide)
	if err != nil {
		return nil, err
	}
	return t.test(e, v, op, c)
}

func (t *translator) exampleSubfield(obj *Field) string {
	for _, f := range t.src.Fields {
		if strings.HasPrefix(f.Name, obj.Name+".") {
			return f.Name + ` == "…"`
		}
	}
	return obj.Name + " != null"
}

func (t *translator) in(e, elem, list celast.Expr) (pred, error) {
	if t.refersToData(list) {
		// "x" in tags: membership of a value in a list field.
		if t.refersToData(elem) {
			return nil, t.errAt(e.ID(), "test a value against a list field (\"x\" in tags), not a field")
		}
		f := t.fieldRef(list)
		if f == nil || f.Type != TypeStringList {
			if f != nil && f.Type == TypeStringMap {
				return nil, t.errAt(e.ID(), "to test whether the alert has an attribute, compare it with \"\": attributes.rule != \"\"")
			}
			return nil, t.errAt(list.ID(), "the right of in must be a list field (tags, entities.ip…) or a list of values")
		}
		c, err := t.constant(elem)
		if err != nil {
			return nil, err
		}
		s, ok := c.(types.String)
		if !ok {
			return constPred(false), nil
		}
		return t.membership(f, string(s)), nil
	}
	v, err := t.value(elem)
	if err != nil {
		return nil, err
	}
	c, err := t.constant(list)
	if err != nil {
		return nil, err
	}
	if _, ok := c.(traits.Lister); !ok {
		return nil, t.errAt(list.ID(), "expected a list of values after in")
	}
	return t.test(e, v, "in", c)
}

func (t *translator) stringTest(e celast.Expr, fn string, target, arg celast.Expr) (pred, error) {
	if t.refersToData(arg) {
		return nil, t.errAt(arg.ID(), "the argument of %s must be a value, not a field", fn)
	}
	v, err := t.value(target)
	if err != nil {
		return nil, err
	}
	if v.typ() != TypeString {
		return nil, t.errAt(e.ID(), "%s applies to text fields", fn)
	}
	c, err := t.constant(arg)
	if err != nil {
		return nil, err
	}
	return t.test(e, v, fn, c)
}

// comprehension handles list.exists(x, P) and list.all(x, P).
func (t *translator) comprehension(e celast.Expr) (pred, error) {
	c := e.AsComprehension()
	if t.elem != nil {
		return nil, t.errAt(e.ID(), "list conditions cannot be nested")
	}
	f := t.fieldRef(c.IterRange())
	if f == nil || f.Type != TypeStringList || c.HasIterVar2() {
		return nil, t.errAt(e.ID(), "exists and all apply to list fields: tags.exists(t, t.startsWith(\"prod\"))")
	}
	init, ok := c.AccuInit().AsLiteral().(types.Bool)
	step := c.LoopStep()
	if c.AccuInit().Kind() != celast.LiteralKind || !ok || step.Kind() != celast.CallKind {
		return nil, t.errAt(e.ID(), "only exists and all are supported on lists")
	}
	sc := step.AsCall()
	wantFn := operators.LogicalOr // exists: false || P(x1) || …
	if init {
		wantFn = operators.LogicalAnd // all: true && P(x1) && …
	}
	if sc.FunctionName() != wantFn || len(sc.Args()) != 2 {
		return nil, t.errAt(e.ID(), "only exists and all are supported on lists")
	}
	body := sc.Args()[1]
	if a := sc.Args()[0]; a.Kind() != celast.IdentKind || a.AsIdent() != c.AccuVar() {
		body = a
	}
	t.elem = &elemScope{iterVar: c.IterVar(), list: f}
	p, err := t.boolean(body)
	t.elem = nil
	if err != nil {
		return nil, err
	}
	all := bool(init)
	return func(x sqlCtx) *sql.Predicate {
		s := x.s
		if all {
			return sql.Not(elementsExist(s, f, func(elem string) *sql.Predicate { return sql.Not(p(sqlCtx{s: s, elem: elem})) }))
		}
		return elementsExist(s, f, func(elem string) *sql.Predicate { return p(sqlCtx{s: s, elem: elem}) })
	}, nil
}

// objectField is the object field (assignee, connector, incident) e names.
func (t *translator) objectField(e celast.Expr) *Field {
	if f := t.fieldRef(e); f != nil && f.Type == TypeObject {
		return f
	}
	return nil
}

// fieldRef is the declared field e resolves to, if any.
func (t *translator) fieldRef(e celast.Expr) *Field {
	ref, ok := t.ast.ReferenceMap()[e.ID()]
	if !ok || ref.Value != nil {
		return nil
	}
	if t.elem != nil && ref.Name == t.elem.iterVar {
		return nil
	}
	return t.src.byName[ref.Name]
}

// value resolves what a condition tests.
func (t *translator) value(e celast.Expr) (valueRef, error) {
	if e.Kind() == celast.IdentKind && t.elem != nil && e.AsIdent() == t.elem.iterVar {
		return valueRef{field: t.elem.list, elem: true}, nil
	}
	if f := t.fieldRef(e); f != nil {
		switch f.Type {
		case TypeStringList:
			return valueRef{}, t.errAt(e.ID(), "%s is a list: test it with in, exists or all (\"x\" in %s)", f.Name, f.Name)
		case TypeStringMap:
			return valueRef{}, t.errAt(e.ID(), "name the attribute: %s.rule", f.Name)
		case TypeObject:
			return valueRef{}, t.errAt(e.ID(), "%s can only be compared with null; %s", f.Name, t.exampleSubfield(f))
		}
		return valueRef{field: f}, nil
	}
	switch e.Kind() {
	case celast.SelectKind:
		sel := e.AsSelect()
		if sel.IsTestOnly() {
			return valueRef{}, t.errAt(e.ID(), "has() is not supported; compare with \"\" instead: attributes.rule != \"\"")
		}
		if f := t.fieldRef(sel.Operand()); f != nil {
			switch f.Type {
			case TypeStringMap:
				return t.attribute(e, f, sel.FieldName())
			case TypeObject:
				return valueRef{}, t.unknownField(e, f.Name+"."+sel.FieldName())
			}
		}
	case celast.CallKind:
		c := e.AsCall()
		switch {
		case c.FunctionName() == operators.Index && len(c.Args()) == 2:
			if f := t.fieldRef(c.Args()[0]); f != nil && f.Type == TypeStringMap && !t.refersToData(c.Args()[1]) {
				k, err := t.constant(c.Args()[1])
				if err != nil {
					return valueRef{}, err
				}
				if s, ok := k.(types.String); ok {
					return t.attribute(e, f, string(s))
				}
			}
		case c.FunctionName() == overloads.Size:
			arg := c.Target()
			if !c.IsMemberFunction() && len(c.Args()) == 1 {
				arg = c.Args()[0]
			}
			if f := t.fieldRef(arg); f != nil && f.Type == TypeStringList {
				return valueRef{field: f, size: true}, nil
			}
		}
	}
	return valueRef{}, t.errAt(e.ID(), "expected a field of %s here (see GET /api/v1/queries/sources)", t.src.Name)
}

const maxAttributeKey = 100

func (t *translator) attribute(e celast.Expr, f *Field, key string) (valueRef, error) {
	if key == "" || len(key) > maxAttributeKey {
		return valueRef{}, t.errAt(e.ID(), "attribute names are 1 to %d characters", maxAttributeKey)
	}
	if !slices.Contains(t.q.attrKeys, key) {
		t.q.attrKeys = append(t.q.attrKeys, key)
	}
	return valueRef{field: f, attr: key}, nil
}

func (t *translator) unknownField(e celast.Expr, name string) error {
	err := t.errAt(e.ID(), "unknown field %s", name)
	err.Suggestion = closest(name, t.src.fieldNames())
	return err
}

// refersToData reports whether e reads the record (a field or a list
// element) rather than being a constant.
func (t *translator) refersToData(e celast.Expr) bool {
	found := false
	celast.PostOrderVisit(e, celast.NewExprVisitor(func(x celast.Expr) {
		switch x.Kind() {
		case celast.IdentKind:
			if x.AsIdent() != nowVar {
				found = true
			}
		case celast.ComprehensionKind:
			found = true
		}
	}))
	return found
}

// constant evaluates a subexpression that reads no field, with "now" bound
// to the query's instant.
func (t *translator) constant(e celast.Expr) (ref.Val, error) {
	if e.Kind() == celast.LiteralKind {
		return e.AsLiteral(), nil
	}
	sub := celast.NewCheckedAST(celast.NewAST(e, t.ast.SourceInfo()), t.ast.TypeMap(), t.ast.ReferenceMap())
	prg, err := t.src.env.PlanProgram(sub)
	if err != nil {
		return nil, t.errAt(e.ID(), "cannot evaluate this value: %v", err)
	}
	v, _, err := prg.Eval(map[string]any{nowVar: types.Timestamp{Time: t.q.now}})
	if err != nil {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "Duration"):
			msg = `invalid duration; write durations like duration("24h"), duration("90m") or duration("30s")`
		case strings.Contains(msg, "Timestamp"):
			msg = `invalid timestamp; write timestamps in RFC 3339, like timestamp("2026-12-01T00:00:00Z")`
		}
		return nil, t.errAt(e.ID(), "%s", msg)
	}
	if l, ok := v.(traits.Lister); ok {
		if n, _ := l.Size().(types.Int); n > maxListLiteral {
			return nil, t.errAt(e.ID(), "lists hold at most %d values", maxListLiteral)
		}
	}
	return v, nil
}

// test is "v op c": the atomic condition, checked against the field's
// values and written so that a missing value reads as its default.
func (t *translator) test(e celast.Expr, v valueRef, op string, c ref.Val) (pred, error) {
	if err := t.checkConstant(e, v, op, c); err != nil {
		return nil, err
	}
	if v.field.Ranked && !v.elem && orderingOp(op) {
		rank, _ := v.field.rank(string(c.(types.String)))
		col := v.field.col.rank
		return func(x sqlCtx) *sql.Predicate {
			s := x.s
			return opSQL(s.Dialect(), s.C(col), op, types.Int(rank), TypeInt)
		}, nil
	}
	if op == overloads.Matches {
		pattern := string(c.(types.String))
		pgPattern, err := postgresPattern(pattern)
		if err != nil {
			return nil, t.errAt(e.ID(), "%v", err)
		}
		c = matchArgs{re2: pattern, postgres: pgPattern}
	}
	typ := v.typ()
	holds := holdsFor(zeroOf(typ), op, c)
	switch {
	case v.elem:
		return func(x sqlCtx) *sql.Predicate {
			s := x.s
			return opSQL(s.Dialect(), x.elem, op, c, typ)
		}, nil
	case v.size:
		f := v.field
		return func(x sqlCtx) *sql.Predicate {
			s := x.s
			return opSQL(s.Dialect(), countElements(s, f), op, c, TypeInt)
		}, nil
	case v.attr != "":
		return attributeTest(v.field.col.name, v.attr, op, c), nil
	}
	col := v.field.col
	switch col.kind {
	case colRelated:
		return func(x sqlCtx) *sql.Predicate {
			s := x.s
			inner := relatedExists(s, col, op, c, typ)
			return withDefault(s, col.name, inner, holds)
		}, nil
	case colPlain:
		return func(x sqlCtx) *sql.Predicate {
			s := x.s
			p := opSQL(s.Dialect(), s.C(col.name), op, c, typ)
			if !col.nullable {
				return p
			}
			return withDefault(s, col.name, p, holds)
		}, nil
	}
	return nil, t.errAt(e.ID(), "%s cannot be tested this way", v.field.Name)
}

// withDefault adds what a NULL in column means: the field reads as its
// zero value, for which the test holds or not (holds), never NULL.
func withDefault(s *sql.Selector, column string, p *sql.Predicate, holds bool) *sql.Predicate {
	if holds {
		return sql.Or(sql.IsNull(s.C(column)), sql.And(sql.NotNull(s.C(column)), p))
	}
	return sql.And(sql.NotNull(s.C(column)), p)
}

func orderingOp(op string) bool { return op == "<" || op == "<=" || op == ">" || op == ">=" }

// checkConstant refuses values a field cannot have, with a suggestion.
func (t *translator) checkConstant(e celast.Expr, v valueRef, op string, c ref.Val) error {
	f := v.field
	if v.elem || v.attr != "" || v.size || len(f.Values) == 0 {
		if op == overloads.Matches {
			if _, err := regexp.Compile(string(c.(types.String))); err != nil {
				return t.errAt(e.ID(), "invalid regular expression (RE2 syntax): %v", err)
			}
		}
		return nil
	}
	if orderingOp(op) && f.Ranked {
		if _, ok := c.(types.String); !ok {
			return t.errAt(e.ID(), "%s compares with a %s name, e.g. %s >= %q", f.Name, f.Name, f.Name, f.Values[1])
		}
	}
	check := func(x ref.Val) error {
		s, ok := x.(types.String)
		if !ok {
			return nil
		}
		if !slices.Contains(f.Values, string(s)) {
			err := t.errAt(e.ID(), "%q is not a valid %s; expected one of %s", string(s), f.Name, quoteAll(f.Values))
			err.Suggestion = closest(string(s), f.Values)
			return err
		}
		return nil
	}
	switch op {
	case "==", "!=", "<", "<=", ">", ">=":
		if orderingOp(op) && !f.Ranked {
			return nil
		}
		return check(c)
	case "in":
		it := c.(traits.Lister).Iterator()
		for it.HasNext() == types.True {
			if err := check(it.Next()); err != nil {
				return err
			}
		}
	}
	return nil
}

func quoteAll(vs []string) string {
	q := make([]string, 0, len(vs))
	for _, v := range vs {
		if v != "" {
			q = append(q, fmt.Sprintf("%q", v))
		}
	}
	return strings.Join(q, ", ")
}

// matchArgs is a regular expression in RE2 (SQLite's seliq_re2, CEL) and
// its PostgreSQL equivalent.
type matchArgs struct {
	types.String
	re2, postgres string
}

// opSQL writes "expr op c" for the dialect. Text compares byte-wise (code
// point order) on both databases, as CEL does.
func opSQL(d, expr, op string, c ref.Val, typ Type) *sql.Predicate {
	pg := d == dialect.Postgres
	return sql.P(func(b *sql.Builder) {
		switch op {
		case "==", "!=", "<", "<=", ">", ">=":
			b.WriteString(expr)
			if pg && typ == TypeString && orderingOp(op) {
				b.WriteString(` COLLATE "C"`)
			}
			sqlOp := op
			switch op {
			case "==":
				sqlOp = "="
			case "!=":
				sqlOp = "<>"
			}
			b.WriteString(" " + sqlOp + " ").Arg(sqlArg(c))
		case "in":
			vals := listArgs(c)
			if len(vals) == 0 {
				b.WriteString("1 = 0")
				return
			}
			b.WriteString(expr).WriteString(" IN (")
			for i, v := range vals {
				if i > 0 {
					b.Comma()
				}
				b.Arg(v)
			}
			b.WriteString(")")
		case overloads.Contains:
			fn := "instr("
			if pg {
				fn = "strpos("
			}
			b.WriteString(fn).WriteString(expr).Comma().Arg(sqlArg(c)).WriteString(") > 0")
		case overloads.StartsWith:
			if pg {
				b.WriteString("starts_with(").WriteString(expr).Comma().Arg(sqlArg(c)).WriteString(")")
				return
			}
			b.WriteString("substr(").WriteString(expr).WriteString(", 1, length(").Arg(sqlArg(c)).
				WriteString(")) = ").Arg(sqlArg(c))
		case overloads.EndsWith:
			fn := "substr(" + expr + ", -length("
			if pg {
				fn = "right(" + expr + ", length("
			}
			b.WriteString("(").Arg(sqlArg(c)).WriteString(" = '' OR ").WriteString(fn).Arg(sqlArg(c)).
				WriteString(")) = ").Arg(sqlArg(c)).WriteString(")")
		case overloads.Matches:
			m := c.(matchArgs)
			if pg {
				b.WriteString(expr).WriteString(` COLLATE "C" ~ `).Arg(m.postgres)
				return
			}
			b.WriteString("seliq_re2(").Arg(m.re2).Comma().WriteString(expr).WriteString(")")
		}
	})
}

func listArgs(c ref.Val) []any {
	var out []any
	it := c.(traits.Lister).Iterator()
	for it.HasNext() == types.True {
		out = append(out, sqlArg(it.Next()))
	}
	return out
}

// sqlArg is the Go value the drivers bind for a CEL constant.
func sqlArg(c ref.Val) any {
	switch v := c.(type) {
	case types.String:
		return string(v)
	case types.Int:
		return int64(v)
	case types.Uint:
		return float64(v)
	case types.Double:
		return float64(v)
	case types.Bool:
		return bool(v)
	case types.Timestamp:
		return v.Time.UTC()
	case matchArgs:
		return v.re2
	}
	return fmt.Sprint(c.Value())
}

// relatedExists is "the related row exists and its column passes".
// Column names are resolved when the pred is applied, not when the SQL is
// written: a caller may re-home the selector in between (a count wraps it).
func relatedExists(s *sql.Selector, col column, op string, c ref.Val, typ Type) *sql.Predicate {
	fk, d := s.C(col.name), s.Dialect()
	return sql.P(func(b *sql.Builder) {
		b.WriteString("EXISTS (SELECT 1 FROM ").Ident(col.table).WriteString(" AS r WHERE r.id = ").
			WriteString(fk).WriteString(" AND ")
		b.Join(opSQL(d, "r."+b.Quote(col.target), op, c, typ))
		b.WriteString(")")
	})
}

// attributeTest reads attributes[key] as text, "" when absent.
func attributeTest(column, key, op string, c ref.Val) pred {
	return func(x sqlCtx) *sql.Predicate {
		s := x.s
		if s.Dialect() == dialect.Postgres {
			if str, ok := c.(types.String); ok && op == "==" && str != "" {
				// Containment, which the GIN index on attributes serves.
				return sql.And(sql.NotNull(s.C(column)), sqlpred.JSONBContains(s.C(column), map[string]string{key: string(str)}))
			}
			expr := "COALESCE(" + s.C(column) + " ->> " + sqlString(key) + ", '')"
			return opSQL(dialect.Postgres, expr, op, c, TypeString)
		}
		expr := "COALESCE(json_extract(" + s.C(column) + ", " + sqlString("$."+jsonQuote(key)) + "), '')"
		return opSQL(dialect.SQLite, expr, op, c, TypeString)
	}
}

// sqlString quotes a string constant for SQL text (both dialects quote
// alike): the attribute's name is part of the expression, not a bound
// argument, so that PostgreSQL can match an expression index on it.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// jsonQuote quotes an object key for a SQLite JSON path.
func jsonQuote(k string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(k, `\`, `\\`), `"`, `\"`) + `"`
}

// membership is `value in list`.
func (t *translator) membership(f *Field, value string) pred {
	col := f.col
	return func(x sqlCtx) *sql.Predicate {
		s := x.s
		if s.Dialect() == dialect.Postgres {
			// Containment, which the GIN indexes serve.
			if col.kind == colEntities {
				ors := make([]*sql.Predicate, len(col.types))
				for i, typ := range col.types {
					ors[i] = sqlpred.JSONBContains(s.C(col.name), []map[string]string{{"type": typ, "value": value}})
				}
				return sql.And(sql.NotNull(s.C(col.name)), sql.Or(ors...))
			}
			return sql.And(sql.NotNull(s.C(col.name)), sqlpred.JSONBContains(s.C(col.name), []string{value}))
		}
		return elementsExist(s, f, func(elem string) *sql.Predicate {
			return opSQL(dialect.SQLite, elem, "==", types.String(value), TypeString)
		})
	}
}

// elements writes the FROM of a list field's elements and returns the
// element's SQL and the filter on entity types (empty for plain lists).
func elements(b *sql.Builder, d, col string, f *Field) (elem string) {
	if d == dialect.Postgres {
		if f.col.kind == colEntities {
			b.WriteString("jsonb_array_elements(CASE WHEN jsonb_typeof(" + col + ") = 'array' THEN " + col + " END) AS je(v)")
			b.WriteString(" WHERE je.v ->> 'type' IN (" + typeList(f.col.types) + ")")
			return "(je.v ->> 'value')"
		}
		b.WriteString("jsonb_array_elements_text(CASE WHEN jsonb_typeof(" + col + ") = 'array' THEN " + col + " END) AS je(v) WHERE 1 = 1")
		return "je.v"
	}
	b.WriteString("json_each(CASE WHEN json_type(" + col + ") = 'array' THEN " + col + " END) AS je")
	if f.col.kind == colEntities {
		b.WriteString(" WHERE json_extract(je.value, '$.type') IN (" + typeList(f.col.types) + ")")
		return "json_extract(je.value, '$.value')"
	}
	b.WriteString(" WHERE je.type = 'text'")
	return "je.value"
}

func typeList(ts []string) string {
	q := make([]string, len(ts))
	for i, t := range ts {
		q[i] = sqlString(t)
	}
	return strings.Join(q, ", ")
}

// elementsExist is "some element of the list passes p".
func elementsExist(s *sql.Selector, f *Field, p func(elem string) *sql.Predicate) *sql.Predicate {
	d, col := s.Dialect(), s.C(f.col.name)
	return sql.P(func(b *sql.Builder) {
		b.WriteString("EXISTS (SELECT 1 FROM ")
		elem := elements(b, d, col, f)
		b.WriteString(" AND ")
		b.Join(p(elem))
		b.WriteString(")")
	})
}

// countElements is the SQL of size(list).
func countElements(s *sql.Selector, f *Field) string {
	var b sql.Builder
	b.SetDialect(s.Dialect())
	b.WriteString("(SELECT COUNT(*) FROM ")
	elements(&b, s.Dialect(), s.C(f.col.name), f)
	b.WriteString(")")
	return b.String()
}
