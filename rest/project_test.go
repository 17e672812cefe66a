package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/seliq/seliq/enum"
)

// referenceBody is the REST body built the plain way: the result decoded
// into maps, reshaped, encoded again. project must answer the same
// JSON for every result.
func referenceBody(t testing.TB, c *compiled, data []byte) []byte {
	t.Helper()
	var root map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("reference decode: %v", err)
	}
	var out bytes.Buffer
	if err := json.NewEncoder(&out).Encode(referenceReshape(c, root["result"])); err != nil {
		t.Fatalf("reference encode: %v", err)
	}
	return out.Bytes()
}

func referenceReshape(c *compiled, data any) any {
	if c.list {
		conn, _ := data.(map[string]any)
		edges, _ := conn["edges"].([]any)
		items := make([]any, 0, len(edges))
		for _, e := range edges {
			if m, ok := e.(map[string]any); ok {
				items = append(items, referenceLower(m["node"], &shape{fields: c.shape.fields[0].shape.fields}))
			}
		}
		var next any
		if pi, ok := conn["pageInfo"].(map[string]any); ok && pi["hasNextPage"] == true {
			next = pi["endCursor"]
		}
		body := map[string]any{"items": items, "total": conn["totalCount"], "next_cursor": next}
		if v, ok := conn[estimateField]; ok {
			body["total_is_estimate"] = v
		}
		return body
	}
	data = referenceLower(data, c.shape)
	if c.array {
		items, _ := data.([]any)
		if items == nil {
			items = []any{}
		}
		return map[string]any{"items": items, "total": len(items), "next_cursor": nil}
	}
	if c.Merge == "" {
		return data
	}
	obj, _ := data.(map[string]any)
	inner, _ := obj[c.Merge].(map[string]any)
	delete(obj, c.Merge)
	for k, v := range inner {
		obj[k] = v
	}
	return obj
}

func referenceLower(v any, sh *shape) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = referenceLower(x[i], sh)
		}
	case map[string]any:
		for _, f := range sh.fields {
			if fv, ok := x[f.key]; ok {
				x[f.key] = referenceLower(fv, f.shape)
			}
		}
	case string:
		if sh.enum {
			return enum.StoredName(x)
		}
	}
	return v
}

// projected runs project and the response writer's escaping.
func projected(c *compiled, data []byte) ([]byte, error) {
	var body bytes.Buffer
	if err := project(&body, data, c); err != nil {
		return nil, err
	}
	var escaped bytes.Buffer
	json.HTMLEscape(&escaped, body.Bytes())
	escaped.WriteByte('\n')
	return escaped.Bytes(), nil
}

// sameJSON reports whether a and b are the same JSON value, whatever the
// order of object members.
func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	decode := func(raw []byte) any {
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("decode %q: %v", raw, err)
		}
		return v
	}
	return reflect.DeepEqual(decode(a), decode(b))
}

// compiledRoute compiles the route of method and path against the real
// schema.
func compiledRoute(t testing.TB, method, path string) *compiled {
	t.Helper()
	for _, r := range Routes {
		if r.Method == method && r.Path == path {
			c, err := (&API{schema: schema}).compile(r)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
	}
	t.Fatalf("no route %s %s", method, path)
	return nil
}

func TestProject(t *testing.T) {
	alerts := compiledRoute(t, "GET", "/api/v1/alerts")
	alert := compiledRoute(t, "GET", "/api/v1/alerts/{alert_id}")
	connector := compiledRoute(t, "POST", "/api/v1/connectors")
	cases := []struct {
		name string
		c    *compiled
		data string
		want string
	}{
		{"alert page", alerts,
			`{"result":{"totalCount":10000,"totalCountIsEstimate":true,"pageInfo":{"endCursor":"Y3Vy","hasNextPage":true},"edges":[{"node":{"id":"a1","title":"<script>","severity":"CRITICAL","status":"IN_PROGRESS","tags":["edr"],"incident":{"id":"i1","status":"IN_PROGRESS"},"raw":{"severity":"HIGH"}}},null,{}]}}`,
			`{"items":[{"id":"a1","title":"\u003cscript\u003e","severity":"critical","status":"in_progress","tags":["edr"],"incident":{"id":"i1","status":"in_progress"},"raw":{"severity":"HIGH"}},null],"next_cursor":"Y3Vy","total":10000,"total_is_estimate":true}`},
		{"last page", alerts,
			`{"result":{"totalCount":1,"totalCountIsEstimate":false,"pageInfo":{"endCursor":"Y3Vy","hasNextPage":false},"edges":[]}}`,
			`{"items":[],"next_cursor":null,"total":1,"total_is_estimate":false}`},
		{"one alert", alert,
			`{"result":{"id":"a1","severity":"LOW","disposition":null,"incident":{"id":"i1","status":"CLOSED","severity":"HIGH"}}}`,
			`{"id":"a1","severity":"low","disposition":null,"incident":{"id":"i1","status":"closed","severity":"high"}}`},
		{"merged payload", connector,
			`{"result":{"connector":{"id":"c1","name":"EDR","mode":"PUSH","api_key":"shadowed"},"apiKey":"sqk_1"}}`,
			`{"api_key":"shadowed","id":"c1","name":"EDR","mode":"push"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The fixtures use GraphQL names; the selection aliases them.
			data := strings.ReplaceAll(tc.data, `"apiKey"`, `"api_key"`)
			got, err := projected(tc.c, []byte(data))
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, got, []byte(tc.want)) {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if ref := referenceBody(t, tc.c, []byte(data)); !sameJSON(t, got, ref) {
				t.Errorf("got       %s\nreference %s", got, ref)
			}
		})
	}
}

func TestProjectRefusesWhatGqlgenNeverWrites(t *testing.T) {
	alerts := compiledRoute(t, "GET", "/api/v1/alerts")
	for _, data := range []string{``, `{`, `{"result":`, `{"data":{}}`, `[]`, `{"result":{"edges":[}}`} {
		if _, err := projected(alerts, []byte(data)); err == nil {
			t.Errorf("project(%q) succeeded", data)
		}
	}
}

// resultGen writes a GraphQL result for a shape, driven by fuzz bytes:
// members in selection order or not, some left out, unknown members, nulls,
// strings that need escaping, nested lists.
type resultGen struct {
	src []byte
	i   int
	out bytes.Buffer
}

func (g *resultGen) next() byte {
	if g.i >= len(g.src) {
		return 0
	}
	g.i++
	return g.src[g.i-1]
}

var genStrings = []string{"", "x", "bad \xff\xfe utf-8", "<b>&amp;</b>", "line\nbreak", `quote " and \ back`, "\u2028", "Ωmega", "\u00e9t\u00e9"}

func (g *resultGen) str(s string) {
	if !utf8.ValidString(s) { // as a database might hand it over
		g.out.WriteString(`"` + s + `"`)
		return
	}
	b, _ := json.Marshal(s)
	if g.next()%4 == 0 { // an escape gqlgen would not write but JSON allows
		b = bytes.ReplaceAll(b, []byte("x"), []byte(`\u0078`))
	}
	g.out.Write(b)
}

func (g *resultGen) value(sh *shape, depth int) {
	if sh.nullable && g.next()%7 == 0 {
		g.out.WriteString("null")
		return
	}
	if sh.list {
		elem := *sh
		elem.list = false
		g.out.WriteByte('[')
		for i := range int(g.next() % 3) {
			if i > 0 {
				g.out.WriteByte(',')
			}
			g.value(&elem, depth+1)
		}
		g.out.WriteByte(']')
		return
	}
	switch {
	case sh.enum:
		g.str([]string{"CRITICAL", "IN_PROGRESS", "READ_ONLY", "x"}[g.next()%4])
	case len(sh.fields) > 0 && depth < 4:
		g.object(sh, depth)
	default:
		switch g.next() % 5 {
		case 0:
			fmt.Fprintf(&g.out, "%d", int(g.next())-128)
		case 1:
			g.out.WriteString("1.5e-3")
		case 2:
			g.out.WriteString([]string{"true", "false"}[g.next()%2])
		case 3:
			g.out.WriteString(`{"severity":"HIGH","n":[1,{"a":null}]}`)
		default:
			g.str(genStrings[int(g.next())%len(genStrings)])
		}
	}
}

func (g *resultGen) object(sh *shape, depth int) {
	fields := append([]*field(nil), sh.fields...)
	if g.next()%3 == 0 { // out of selection order
		for i := len(fields) - 1; i > 0; i-- {
			j := int(g.next()) % (i + 1)
			fields[i], fields[j] = fields[j], fields[i]
		}
	}
	g.out.WriteByte('{')
	n := 0
	sep := func() {
		if n++; n > 1 {
			g.out.WriteByte(',')
		}
	}
	for _, f := range fields {
		if g.next()%5 == 0 {
			continue
		}
		sep()
		g.str(f.key)
		g.out.WriteString(" : ")
		g.value(f.shape, depth+1)
	}
	if g.next()%6 == 0 {
		sep()
		g.out.WriteString(`"__typename":"Thing"`)
	}
	g.out.WriteByte('}')
}

func (g *resultGen) connection(item *shape) {
	g.out.WriteString(`{"totalCount":`)
	fmt.Fprintf(&g.out, "%d", g.next())
	if g.next()%2 == 0 {
		g.out.WriteString(`,"totalCountIsEstimate":` + []string{"true", "false"}[g.next()%2])
	}
	if g.next()%5 != 0 {
		g.out.WriteString(`,"pageInfo":{"endCursor":`)
		g.value(&shape{nullable: true}, 9)
		g.out.WriteString(`,"hasNextPage":` + []string{"true", "false"}[g.next()%2] + `}`)
	}
	g.out.WriteString(`,"edges":[`)
	for i := range int(g.next() % 4) {
		if i > 0 {
			g.out.WriteByte(',')
		}
		switch g.next() % 6 {
		case 0:
			g.out.WriteString("null")
		case 1:
			g.out.WriteString(`{"cursor":"c"}`)
		default:
			g.out.WriteString(`{"node":`)
			g.value(item, 0)
			g.out.WriteString(`}`)
		}
	}
	g.out.WriteString(`]}`)
}

// FuzzProject: for every REST route, a result of the route's shape is
// projected to the same JSON as decoding, reshaping and encoding gave, and
// any bytes at all are either projected or refused, without a panic.
func FuzzProject(f *testing.F) {
	for _, seed := range []string{"", "\x00", "\x01\x02\x03\x04\x05\x06\x07\x08", strings.Repeat("\xff", 64), strings.Repeat("\x03\x07", 40)} {
		f.Add(uint16(0), []byte(seed))
		f.Add(uint16(7), []byte(seed))
	}
	var routes []*compiled
	for _, r := range Routes {
		c, err := (&API{schema: schema}).compile(r)
		if err != nil {
			f.Fatal(err)
		}
		routes = append(routes, c)
	}
	f.Fuzz(func(t *testing.T, route uint16, src []byte) {
		c := routes[int(route)%len(routes)]
		_, _ = projected(c, src) // arbitrary bytes: no panic

		g := &resultGen{src: src}
		g.out.WriteString(`{"result":`)
		switch {
		case c.list:
			g.connection(c.shape.fields[0].shape)
		default:
			g.value(c.shape, 0)
		}
		g.out.WriteString(`}`)
		data := g.out.Bytes()
		got, err := projected(c, data)
		if err != nil {
			t.Fatalf("%s %s: project(%s): %v", c.Method, c.Path, data, err)
		}
		if bytes.ContainsAny(got, "<>&") {
			t.Fatalf("%s %s: unescaped HTML in %s", c.Method, c.Path, got)
		}
		if !utf8.Valid(got) {
			t.Fatalf("%s %s: invalid UTF-8 in %q", c.Method, c.Path, got)
		}
		if ref := referenceBody(t, c, data); !sameJSON(t, got, ref) {
			t.Fatalf("%s %s: result %s\nprojected %s\nreference %s", c.Method, c.Path, data, got, ref)
		}
	})
}
