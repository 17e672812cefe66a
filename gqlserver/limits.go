package gqlserver

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
)

// Limits on one GraphQL document, checked after parsing and before
// validation: gqlparser's OverlappingFieldsCanBeMerged rule compares every
// pair of fields sharing a response name, so {__typename ×8000} cost 17 s
// to validate. Within these limits validation stays in milliseconds
// (BenchmarkRefuse*, BenchmarkValidateAtTheLimits).
const (
	// MaxTokens bounds the parser's work; the standard introspection query
	// is 180 tokens, the largest REST operation a few hundred.
	MaxTokens = 10000
	// MaxSelections counts fields, fragment spreads and inline fragments in
	// the document (each fragment definition once); the introspection
	// query has 77.
	MaxSelections = 1000
	// MaxExpandedSelections counts the selections an operation stands for
	// once every fragment spread is replaced by its fragment: ten spreads of
	// a fragment that spreads another ten times, a dozen levels deep, is a
	// short document that validation, depth and complexity would walk
	// 10^12 times. The introspection query expands to a few hundred.
	MaxExpandedSelections = 10000
	// MaxRepeats bounds the fields answering under one response name in one
	// selection set (through inline fragments and repeated spreads): the
	// quadratic factor of validation.
	MaxRepeats = 10
	// MaxAliases bounds the aliased fields of a document: aliases are how
	// one expensive field is asked for many times (REST names its keys with
	// aliases, up to about 45).
	MaxAliases = 100
	// MaxRootFields bounds the fields at an operation's root, aliases and
	// fragments included.
	MaxRootFields = 20
	// MaxNodeIDs bounds the ids of one nodes(ids:) call; each may be of any
	// type, so each costs a lookup.
	MaxNodeIDs = 100
)

// Refusals before execution answer 422 on /graphql (400 to clients
// accepting application/graphql-response+json), as gqlgen answers parse
// and validation errors; the kind is only consulted for errors raised
// before execution, so a resolver's BAD_USER_INPUT is unaffected.
func init() {
	errcode.RegisterErrorType(string(apperr.BadInput), errcode.KindProtocol)
	errcode.RegisterErrorType("COMPLEXITY_LIMIT_EXCEEDED", errcode.KindProtocol)
}

// refusal is a GraphQL error carrying an apperr code (and field), as the
// error presenter gives resolver errors.
func refusal(e *apperr.Error) *gqlerror.Error {
	err := &gqlerror.Error{Message: e.Message, Extensions: map[string]any{"code": string(e.Code)}}
	if e.Field != "" {
		err.Extensions["field"] = e.Field
	}
	return err
}

func tooLarge(format string, args ...any) *gqlerror.Error {
	return refusal(apperr.New(apperr.BadInput, format, args...))
}

// documentLimits checks a document's shape before gqlgen parses and
// validates it. A document already in the query cache passed it.
type documentLimits struct {
	cache graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = documentLimits{}

func (documentLimits) ExtensionName() string                   { return "DocumentLimits" }
func (documentLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (d documentLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil // gqlgen refuses it
	}
	if d.cache != nil {
		if _, ok := d.cache.Get(ctx, p.Query); ok {
			return nil
		}
	}
	return checkDocument(p.Query)
}

// checkDocument parses query within MaxTokens and measures it. A syntax
// error is left to gqlgen's parser, which reports it with its usual code.
func checkDocument(query string) *gqlerror.Error {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, MaxTokens)
	if err != nil {
		if strings.Contains(err.Error(), "exceeded token limit") {
			return tooLarge("the document has more than %d tokens; the limit is %d", MaxTokens, MaxTokens)
		}
		return nil
	}
	return measure(doc).check()
}

// shape is what the limits count in a parsed, not yet validated, document.
type shape struct {
	selections, expanded, aliases, repeats, rootFields int
	repeated                                           string // the response name repeated most
}

func (s shape) check() *gqlerror.Error {
	switch {
	case s.selections > MaxSelections:
		return tooLarge("the document selects %d fields and fragments; the limit is %d", s.selections, MaxSelections)
	case s.expanded > MaxExpandedSelections:
		return tooLarge("an operation expands to more than %d fields and fragments once its fragments are spread; the limit is %d", MaxExpandedSelections, MaxExpandedSelections)
	case s.repeats > MaxRepeats:
		return tooLarge("%q is selected %d times in one selection set; the limit is %d", s.repeated, s.repeats, MaxRepeats)
	case s.aliases > MaxAliases:
		return tooLarge("the document has %d aliases; the limit is %d", s.aliases, MaxAliases)
	case s.rootFields > MaxRootFields:
		return tooLarge("an operation selects %d root fields; the limit is %d", s.rootFields, MaxRootFields)
	}
	return nil
}

func measure(doc *ast.QueryDocument) shape {
	var s shape
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		s.countRepeats(set)
		for _, sel := range set {
			s.selections++
			switch x := sel.(type) {
			case *ast.Field:
				if x.Alias != "" && x.Alias != x.Name {
					s.aliases++
				}
				walk(x.SelectionSet)
			case *ast.InlineFragment:
				walk(x.SelectionSet)
			}
		}
	}
	sizes := expansion{frags: doc.Fragments, size: map[string]int{}}
	for _, op := range doc.Operations {
		walk(op.SelectionSet)
		s.rootFields = max(s.rootFields, rootFields(op.SelectionSet, doc.Fragments, map[string]bool{}))
		s.expanded = max(s.expanded, sizes.of(op.SelectionSet))
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet)
	}
	return s
}

// expansion measures selection sets with their fragment spreads replaced
// by the fragments, each fragment measured once (memoised), so the count
// is linear in the document however the fragments fan out. Sizes saturate
// just past the limit.
type expansion struct {
	frags ast.FragmentDefinitionList
	size  map[string]int // fragment name → expanded size; -1 while measuring
}

func (e expansion) of(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		n++
		switch x := sel.(type) {
		case *ast.Field:
			n += e.of(x.SelectionSet)
		case *ast.InlineFragment:
			n += e.of(x.SelectionSet)
		case *ast.FragmentSpread:
			n += e.fragment(x.Name)
		}
		if n > MaxExpandedSelections {
			return MaxExpandedSelections + 1
		}
	}
	return n
}

// fragment is a fragment's expanded size; an unknown fragment or a cycle
// counts nothing here, as validation refuses both.
func (e expansion) fragment(name string) int {
	if n, ok := e.size[name]; ok {
		return max(n, 0)
	}
	f := e.frags.ForName(name)
	if f == nil {
		return 0
	}
	e.size[name] = -1
	n := e.of(f.SelectionSet)
	e.size[name] = n
	return n
}

// countRepeats records the response name of set answered most often,
// following inline fragments and counting a repeated spread as a repeat.
// Inline fragments are counted again by their own walk; it only raises the
// count, so the bound holds.
func (s *shape) countRepeats(set ast.SelectionSet) {
	if len(set) < 2 {
		return
	}
	seen := map[string]int{}
	var collect func(ast.SelectionSet)
	collect = func(set ast.SelectionSet) {
		for _, sel := range set {
			var key string
			switch x := sel.(type) {
			case *ast.Field:
				key = x.Alias
				if key == "" {
					key = x.Name
				}
			case *ast.FragmentSpread:
				key = "..." + x.Name
			case *ast.InlineFragment:
				collect(x.SelectionSet)
				continue
			}
			seen[key]++
			if seen[key] > s.repeats {
				s.repeats, s.repeated = seen[key], key
			}
		}
	}
	collect(set)
}

// rootFields counts the fields an operation asks at its root, through
// fragments; visited guards against fragment cycles, which validation has
// not refused yet.
func rootFields(set ast.SelectionSet, frags ast.FragmentDefinitionList, visited map[string]bool) int {
	n := 0
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			n++
		case *ast.InlineFragment:
			n += rootFields(x.SelectionSet, frags, visited)
		case *ast.FragmentSpread:
			if f := frags.ForName(x.Name); f != nil && !visited[x.Name] {
				visited[x.Name] = true
				n += rootFields(f.SelectionSet, frags, visited)
			}
		}
	}
	return n
}

// pageLimits refuses page sizes out of range and oversized nodes(ids:)
// on every field of the operation before anything runs: resolvers check
// them too, but a refused operation should not run its other fields.
type pageLimits struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = pageLimits{}

func (pageLimits) ExtensionName() string                   { return "PageLimits" }
func (pageLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (pageLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	return checkPages(oc.Operation.SelectionSet, oc.Variables)
}

func checkPages(set ast.SelectionSet, vars map[string]any) *gqlerror.Error {
	for _, sel := range set {
		var err *gqlerror.Error
		switch x := sel.(type) {
		case *ast.Field:
			err = checkFieldPage(x, vars)
			if err == nil {
				err = checkPages(x.SelectionSet, vars)
			}
		case *ast.InlineFragment:
			err = checkPages(x.SelectionSet, vars)
		case *ast.FragmentSpread:
			if x.Definition != nil {
				err = checkPages(x.Definition.SelectionSet, vars)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func checkFieldPage(f *ast.Field, vars map[string]any) *gqlerror.Error {
	if f.Definition == nil || len(f.Arguments) == 0 {
		return nil
	}
	args := f.ArgumentMap(vars)
	if ids, ok := args["ids"].([]any); ok && f.Name == "nodes" && len(ids) > MaxNodeIDs {
		return refusal(apperr.Invalid("ids", "asks for %d nodes; the limit is %d", len(ids), MaxNodeIDs))
	}
	if f.Definition.Arguments.ForName("first") == nil {
		return nil
	}
	first, last := intArg(args["first"]), intArg(args["last"])
	if _, _, err := paging.Normalize(first, last); err != nil {
		if e, ok := apperr.As(err); ok {
			return refusal(e)
		}
	}
	return nil
}

// intArg reads an Int argument as literals (int64) and variables (decoded
// JSON numbers) give it.
func intArg(v any) *int {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case float64:
		n = int64(x)
	case json.Number:
		var err error
		if n, err = x.Int64(); err != nil {
			return nil
		}
	default:
		return nil
	}
	i := int(n)
	return &i
}
