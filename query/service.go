package query

import (
	"fmt"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
)

// DefaultTimeout bounds one run: the run's context ends then, which cancels
// the statement (pgx sends PostgreSQL a cancel request; SQLite is
// interrupted), and the caller gets QUERY_TOO_EXPENSIVE.
const DefaultTimeout = 10 * time.Second

// Service runs queries, lookups and saved queries for the acting
// organisation.
type Service struct {
	client  *ent.Client
	dialect string
	timeout time.Duration
	now     func() time.Time
}

// New returns the service over client, a database of the ent dialect d.
func New(client *ent.Client, d string) *Service {
	return &Service{client: client, dialect: d, timeout: DefaultTimeout, now: time.Now}
}

// WithTimeout sets how long one run may take, and returns s.
func (s *Service) WithTimeout(d time.Duration) *Service {
	s.timeout = d
	return s
}

// WithClock sets the clock "now" reads, and returns s.
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	return s
}

// Sources lists every source with its fields, for an editor.
func (s *Service) Sources() []*Source { return Sources() }

// toVal is a Go value read from a record or cursor as a CEL constant.
func toVal(v any) ref.Val {
	switch x := v.(type) {
	case string:
		return types.String(x)
	case int64:
		return types.Int(x)
	case int:
		return types.Int(x)
	case time.Time:
		return types.Timestamp{Time: x.UTC()}
	}
	return types.String(fmt.Sprint(v))
}

// parseID reads a row id from a cursor (already checked by decodeCursor).
func parseID(id string) any {
	u, err := uuid.Parse(id)
	if err != nil {
		return id
	}
	return u
}
