package query

import (
	"regexp"
	"strings"
	"time"

	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// Record is one object as the in-memory program reads it: each field's
// value by name. A string field that has no value holds ""; an object field
// (assignee) holds nil or a map; attributes hold a map[string]string.
type Record map[string]any

// Matches evaluates the query on one record, "now" being the instant the
// query was compiled at. A record the program cannot evaluate (over the cost
// limit) does not match; the error says why.
func (q *Query) Matches(r Record) (bool, error) { return q.MatchesAt(r, q.now) }

// MatchesAt is Matches with "now" at the given instant: a live subscription
// evaluates each event at its own time.
func (q *Query) MatchesAt(r Record, now time.Time) (bool, error) {
	if q.program == nil {
		return true, nil
	}
	act := make(map[string]any, len(r)+2)
	for k, v := range r {
		act[k] = v
	}
	act[nowVar] = types.Timestamp{Time: now.UTC()}
	if q.memoryOnly {
		c, _ := r[ChangesVar].(map[string]Change)
		act[ChangesVar] = changesValue(c)
	}
	for _, f := range q.Source.Fields {
		if f.Ranked {
			s, _ := r[f.Name].(string)
			rank, _ := f.rank(s)
			act[rankVar(f.Name)] = rank
		}
	}
	if len(q.attrKeys) > 0 {
		// A missing attribute reads "", as in SQL.
		attrs, _ := r["attributes"].(map[string]string)
		full := make(map[string]string, len(attrs)+len(q.attrKeys))
		for k, v := range attrs {
			full[k] = v
		}
		for _, k := range q.attrKeys {
			if _, ok := full[k]; !ok {
				full[k] = ""
			}
		}
		act["attributes"] = full
	}
	out, _, err := q.programFor(withinSizeHints(r)).Eval(act)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	return ok && bool(b), nil
}

func zeroOf(t Type) ref.Val {
	if t == TypeInt {
		return types.Int(0)
	}
	return types.String("")
}

// holdsFor is whether "v op c" holds, as CEL decides it: used for the value
// a missing field reads as, so SQL treats NULL as CEL treats "".
func holdsFor(v ref.Val, op string, c ref.Val) bool {
	switch op {
	case "==":
		return v.Equal(c) == types.True
	case "!=":
		return v.Equal(c) != types.True
	case "<", "<=", ">", ">=":
		cmp, ok := v.(traits.Comparer)
		if !ok {
			return false
		}
		n, ok := cmp.Compare(c).(types.Int)
		if !ok {
			return false
		}
		switch op {
		case "<":
			return n < 0
		case "<=":
			return n <= 0
		case ">":
			return n > 0
		}
		return n >= 0
	case "in":
		it := c.(traits.Lister).Iterator()
		for it.HasNext() == types.True {
			if v.Equal(it.Next()) == types.True {
				return true
			}
		}
		return false
	}
	s, _ := v.(types.String)
	switch op {
	case overloads.Contains:
		return strings.Contains(string(s), argString(c))
	case overloads.StartsWith:
		return strings.HasPrefix(string(s), argString(c))
	case overloads.EndsWith:
		return strings.HasSuffix(string(s), argString(c))
	case overloads.Matches:
		re, err := regexp.Compile(argString(c))
		return err == nil && re.MatchString(string(s))
	}
	return false
}

func argString(c ref.Val) string {
	if m, ok := c.(matchArgs); ok {
		return m.re2
	}
	s, _ := c.(types.String)
	return string(s)
}
