package query

import (
	"slices"
	"sort"

	"cel.dev/cel-go/cel"
)

// Type is the type of a field as an editor shows it.
type Type string

// The field types.
const (
	TypeString     Type = "string"
	TypeInt        Type = "int"
	TypeTimestamp  Type = "timestamp"
	TypeStringList Type = "list(string)"
	// TypeStringMap is a map of vendor fields: attributes.rule, attributes["rule"].
	TypeStringMap Type = "map(string, string)"
	// TypeObject is a related object that may be absent: compare it with null.
	TypeObject Type = "object"
)

func (t Type) cel() *cel.Type {
	switch t {
	case TypeInt:
		return cel.IntType
	case TypeTimestamp:
		return cel.TimestampType
	case TypeStringList:
		return cel.ListType(cel.StringType)
	case TypeStringMap:
		return cel.MapType(cel.StringType, cel.StringType)
	case TypeObject:
		return cel.DynType
	}
	return cel.StringType
}

// operators lists what an editor may offer after a field of each type.
var fieldOperators = map[Type][]string{
	TypeString:     {"==", "!=", "<", "<=", ">", ">=", "in", "contains", "startsWith", "endsWith", "matches"},
	TypeInt:        {"==", "!=", "<", "<=", ">", ">=", "in"},
	TypeTimestamp:  {"==", "!=", "<", "<=", ">", ">="},
	TypeStringList: {"in", "exists", "all", "size"},
	TypeStringMap:  {".key", "[\"key\"]"},
	TypeObject:     {"== null", "!= null"},
}

// Field is one queryable field of a source.
type Field struct {
	Name        string
	Type        Type
	Description string
	// Groupable fields can be grouped by in a run and have lookups.
	Groupable bool
	// Values is the closed set of values, when there is one (enums).
	Values []string
	// Ranked fields compare by the position of their value in Values,
	// first highest (severity >= "high").
	Ranked bool
	// Operators an editor may offer.
	Operators []string

	col column
}

// rank is the rank of v for a ranked field: the first of Values highest.
func (f *Field) rank(v string) (int, bool) {
	i := slices.Index(f.Values, v)
	if i < 0 {
		return 0, false
	}
	return len(f.Values) - i, true
}

// Source is a kind of record the language queries.
type Source struct {
	Name        string
	Description string
	Fields      []*Field
	// timeField bounds since/until of rows and groups and sorts rows.
	timeField string
	// seriesField buckets time series and bounds their since/until: a
	// field that never moves, so a past bucket stays as it was counted.
	seriesField string

	byName map[string]*Field
	env    *cel.Env
}

// Field returns the named field.
func (s *Source) Field(name string) (*Field, bool) {
	f, ok := s.byName[name]
	return f, ok
}

// TimeField is the field since and until apply to in rows and groups.
func (s *Source) TimeField() string { return s.timeField }

// SeriesField is the field a time series buckets by (and its since and
// until bound).
func (s *Source) SeriesField() string {
	if s.seriesField == "" {
		return s.timeField
	}
	return s.seriesField
}

func (s *Source) fieldNames() []string {
	names := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		names[i] = f.Name
	}
	return names
}

// rankVar is the hidden variable the in-memory program compares for a
// ranked field; the rewrite in compile.go puts it in place of the field.
func rankVar(field string) string { return "_rank_" + sanitize(field) }

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '.' {
			b[i] = '_'
		}
	}
	return string(b)
}

// build indexes the fields and declares them to CEL.
func (s *Source) build() *Source {
	s.byName = make(map[string]*Field, len(s.Fields))
	opts := []cel.EnvOption{
		cel.CrossTypeNumericComparisons(true),
		cel.Variable(nowVar, cel.TimestampType),
	}
	for _, f := range s.Fields {
		if f.Operators == nil {
			f.Operators = fieldOperators[f.Type]
		}
		s.byName[f.Name] = f
		opts = append(opts, cel.Variable(f.Name, f.Type.cel()))
		if f.Ranked {
			opts = append(opts, cel.Variable(rankVar(f.Name), cel.IntType))
		}
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		panic("query: declaring source " + s.Name + ": " + err.Error())
	}
	s.env = env
	return s
}

// nowVar is the instant the query runs at: created_at > now - duration("1h").
const nowVar = "now"

var sources = map[string]*Source{}

func register(s *Source) { sources[s.Name] = s.build() }

// Sources returns every source, by name.
func Sources() []*Source {
	out := make([]*Source, 0, len(sources))
	for _, s := range sources {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the named source.
func Lookup(name string) (*Source, bool) {
	s, ok := sources[name]
	return s, ok
}
