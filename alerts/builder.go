package alerts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"github.com/seliq/seliq/ent"
)

// errBuilt is what builderDriver answers every statement with: the
// statement was built (and kept by whoever asked), not run.
var errBuilt = errors.New("alerts: statement built, not run")

// builderDriver is an ent driver that executes nothing: a client over it
// applies the schema's privacy policy and builds each statement exactly as
// the real client would, and the statement is then taken from the query's
// builder (statementOf). It never reaches the database.
type builderDriver struct{ dialect string }

func (d builderDriver) Exec(context.Context, string, any, any) error  { return errBuilt }
func (d builderDriver) Query(context.Context, string, any, any) error { return errBuilt }
func (d builderDriver) Tx(context.Context) (dialect.Tx, error)        { return nil, errBuilt }
func (d builderDriver) Close() error                                  { return nil }
func (d builderDriver) Dialect() string                               { return d.dialect }

// newBuilder returns an ent client over builderDriver for dialect d.
func newBuilder(d string) *ent.Client { return ent.NewClient(ent.Driver(builderDriver{dialect: d})) }

// estimateTTL is how long a planner estimate is reused for the same
// statement and arguments. The estimate only decides between counting up
// to CountCap and saying "more than CountCap" (PlannedSkipFactor), so a
// minute-old statistic is as good as a fresh one; the EXPLAIN was a
// statement on every list request.
const estimateTTL = time.Minute

// maxEstimates bounds the cache; past it the cache starts over.
const maxEstimates = 4096

// estimates caches planner row estimates by statement and arguments.
type estimates struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]estimate
}

type estimate struct {
	rows float64
	at   time.Time
}

func newEstimates() *estimates { return &estimates{now: time.Now, m: map[string]estimate{}} }

func (e *estimates) get(key string) (float64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.m[key]
	if !ok || e.now().Sub(v.at) > estimateTTL {
		return 0, false
	}
	return v.rows, true
}

func (e *estimates) put(key string, rows float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.m) >= maxEstimates {
		clear(e.m)
	}
	e.m[key] = estimate{rows: rows, at: e.now()}
}

// estimateKey identifies a statement with its arguments (the tenant's
// organisation among them, so organisations never share an estimate).
func estimateKey(query string, args []any) string {
	var b strings.Builder
	b.WriteString(query)
	for _, a := range args {
		fmt.Fprintf(&b, "\x00%T:%v", a, a)
	}
	return b.String()
}
