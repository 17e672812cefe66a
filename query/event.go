package query

import (
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"

	"github.com/seliq/seliq/internal/apperr"
)

// ChangesVar is the variable an event condition reads a change from:
// changes.status.to == "closed", changes.severity.from == "low". Each
// changed field maps to {"from": old, "to": new}; a field that did not
// change is absent, so a condition about it does not hold (use
// has(changes.status) to ask whether it changed).
const ChangesVar = "changes"

// Change is one field's change, as an event condition reads it.
type Change struct{ From, To any }

// eventEnvs caches each source's environment extended with changes.
var eventEnvs sync.Map

func (s *Source) eventEnv() (*cel.Env, error) {
	if env, ok := eventEnvs.Load(s.Name); ok {
		return env.(*cel.Env), nil
	}
	env, err := s.env.Extend(cel.Variable(ChangesVar, cel.MapType(cel.StringType, cel.MapType(cel.StringType, cel.DynType))))
	if err != nil {
		return nil, fmt.Errorf("query: declaring changes on %s: %w", s.Name, err)
	}
	eventEnvs.Store(s.Name, env)
	return env, nil
}

// CompileEvent compiles an event condition (a trigger's) over src. Without
// withChanges it is Compile. With it, the expression may also read changes
// (see ChangesVar); one that does is in-memory only (changes exist on a
// live event, never on a stored row: Where refuses it), one that does not
// is compiled exactly as Compile compiles it, so it means what a query
// over the same source means.
func CompileEvent(src *Source, field, text string, now time.Time, withChanges bool) (*Query, error) {
	if !withChanges || strings.TrimSpace(text) == "" || !utf8.ValidString(text) {
		return Compile(src, field, text, now)
	}
	env, err := src.eventEnv()
	if err != nil {
		return nil, err
	}
	if n := utf8.RuneCountInString(text); n > MaxQueryLength || strings.ContainsRune(text, 0) {
		return Compile(src, field, text, now) // the same refusal
	}
	checked, iss := env.Compile(text)
	if iss != nil && iss.Err() != nil {
		return nil, issueError(field, text, iss)
	}
	native := checked.NativeRep()
	if !references(native, ChangesVar) {
		return Compile(src, field, text, now)
	}
	if checked.OutputType() != cel.BoolType {
		return nil, positioned(field, text, Error{Line: 1, Column: 1,
			Message: fmt.Sprintf("the condition must be true or false, not a %s", checked.OutputType())})
	}
	if n := countNodes(native.Expr()); n > maxNodes {
		return nil, &apperr.Error{Code: CodeTooExpensive, Field: field,
			Message: fmt.Sprintf("the condition has %d terms, over the limit of %d; narrow it", n, maxNodes)}
	}
	q := &Query{Source: src, Text: text, now: now.UTC(), where: constPred(false), env: env, memoryOnly: true}
	q.attrKeys = attributeKeys(native)
	if err := q.buildProgram(checked, field); err != nil {
		return nil, err
	}
	return q, nil
}

// InMemoryOnly reports whether the query reads changes and so cannot run
// in SQL.
func (q *Query) InMemoryOnly() bool { return q.memoryOnly }

// references reports whether the expression reads the named variable.
func references(a *celast.AST, name string) bool {
	for _, e := range celast.MatchDescendants(celast.NavigateAST(a), celast.KindMatcher(celast.IdentKind)) {
		if e.AsIdent() == name {
			return true
		}
	}
	return false
}

// attributeKeys lists the attributes an expression reads by name
// (attributes.rule, attributes["rule"]), which read "" when absent.
func attributeKeys(a *celast.AST) []string {
	var keys []string
	add := func(k string) {
		for _, x := range keys {
			if x == k {
				return
			}
		}
		keys = append(keys, k)
	}
	root := celast.NavigateAST(a)
	for _, e := range celast.MatchDescendants(root, celast.KindMatcher(celast.SelectKind)) {
		sel := e.AsSelect()
		if op := sel.Operand(); op.Kind() == celast.IdentKind && op.AsIdent() == "attributes" {
			add(sel.FieldName())
		}
	}
	for _, e := range celast.MatchDescendants(root, celast.KindMatcher(celast.CallKind)) {
		call := e.AsCall()
		if call.FunctionName() != "_[_]" || len(call.Args()) != 2 {
			continue
		}
		obj, key := call.Args()[0], call.Args()[1]
		if obj.Kind() == celast.IdentKind && obj.AsIdent() == "attributes" && key.Kind() == celast.LiteralKind {
			if s, ok := key.AsLiteral().(types.String); ok {
				add(string(s))
			}
		}
	}
	return keys
}

// changesValue is the changes variable of one event: field → from/to.
func changesValue(c map[string]Change) map[string]map[string]any {
	out := make(map[string]map[string]any, len(c))
	for k, v := range c {
		out[k] = map[string]any{"from": v.From, "to": v.To}
	}
	return out
}

// Prepared is one record made ready once for the many conditions of its
// source that an event evaluates (a trigger engine's run): the record's
// variables (converted to CEL values once, when a first condition's
// program runs: guards read the record as it is), ranks, changes and "now"
// are built once, not per condition. One goroutine uses it (it memoises).
type Prepared struct {
	src  *Source
	now  time.Time
	base interpreter.Activation
	rec  Record
	// attrs are the record's attributes; filled memoises them with a
	// condition's missing keys read as "", by the keys missing.
	attrs  map[string]string
	filled map[string]map[string]string
	// within: the record is within the size hints (withinSizeHints).
	within bool
}

// Prepare readies r (a record of src) for MatchesPrepared at now.
func (s *Source) Prepare(r Record, now time.Time) *Prepared {
	attrs, _ := r["attributes"].(map[string]string)
	return &Prepared{src: s, now: now, rec: r, attrs: attrs, within: withinSizeHints(r)}
}

// activation is the record's CEL variables, built on first use.
func (p *Prepared) activation() interpreter.Activation {
	if p.base != nil {
		return p.base
	}
	s, r := p.src, p.rec
	adapt := s.env.CELTypeAdapter()
	act := make(map[string]any, len(r)+len(s.Fields)+2)
	for k, v := range r {
		if k == ChangesVar {
			continue
		}
		act[k] = adapt.NativeToValue(v)
	}
	act[nowVar] = types.Timestamp{Time: p.now.UTC()}
	for _, f := range s.Fields {
		if f.Ranked {
			str, _ := r[f.Name].(string)
			rank, _ := f.rank(str)
			act[rankVar(f.Name)] = types.Int(rank)
		}
	}
	// Conditions that do not read changes never resolve it.
	c, _ := r[ChangesVar].(map[string]Change)
	act[ChangesVar] = adapt.NativeToValue(changesValue(c))
	p.base, _ = interpreter.NewActivation(act)
	return p.base
}

// MatchesPrepared is MatchesAt on a prepared record of the query's source
// (at the instant it was prepared for): the same result, without
// rebuilding the record per condition.
func (q *Query) MatchesPrepared(p *Prepared) (bool, error) {
	if q.program == nil {
		return true, nil
	}
	if q.guardFails(p.rec, p.attrs) {
		return false, nil
	}
	act := p.activation()
	if full := p.attributesFor(q.attrKeys); full != nil {
		act = attributesOver{base: act, attrs: full}
	}
	out, _, err := q.programFor(p.within).Eval(act)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	return ok && bool(b), nil
}

// attributesFor is the attributes a condition reading keys sees, or nil
// when that is the record's own (none of keys is missing): a missing
// attribute reads "", as in SQL, for the conditions that name it only.
func (p *Prepared) attributesFor(keys []string) map[string]string {
	var missing []string
	for _, k := range keys {
		if _, ok := p.attrs[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	memo := strings.Join(missing, "\x00")
	if full, ok := p.filled[memo]; ok {
		return full
	}
	full := make(map[string]string, len(p.attrs)+len(missing))
	for k, v := range p.attrs {
		full[k] = v
	}
	for _, k := range missing {
		full[k] = ""
	}
	if p.filled == nil {
		p.filled = map[string]map[string]string{}
	}
	p.filled[memo] = full
	return full
}

// attributesOver is a prepared record seen with other attributes.
type attributesOver struct {
	base  interpreter.Activation
	attrs map[string]string
}

func (a attributesOver) ResolveName(name string) (any, bool) {
	if name == "attributes" {
		return a.attrs, true
	}
	return a.base.ResolveName(name)
}

func (a attributesOver) Parent() interpreter.Activation { return nil }
