package storage_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// takeNothing is a sink that takes no read: every read under it is
// scanned by ent from native rows.
type takeNothing struct{ offered int }

func (s *takeNothing) Take(*pgtype.Map, []pgconn.FieldDescription) bool { s.offered++; return false }
func (s *takeNothing) Row([][]byte) error                               { return errors.New("not taken") }

// takeAll keeps the first column of every row it is offered.
type takeAll struct{ first [][]byte }

func (s *takeAll) Take(*pgtype.Map, []pgconn.FieldDescription) bool { return true }
func (s *takeAll) Row(v [][]byte) error {
	s.first = append(s.first, append([]byte(nil), v[0]...))
	return nil
}

// Reads under a row sink that does not take them give ent what
// database/sql gives it: the same entities (uuids, times, nullable
// columns, JSON), counts, and selections into plain and pointer fields.
func TestNativeRowsMatchDatabaseSQL(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db, testenv.Slug("native"))
		for _, h := range []string{"ann", "bob", "cy"} {
			testenv.User(t, db, org, enum.RoleAnalyst, testenv.Handle(h))
		}
		ctx := auth.System(context.Background())
		sink := &takeNothing{}
		native := storage.WithRowSink(ctx, sink)
		type selected struct {
			Handle    string     `json:"handle"`
			LastLogin *time.Time `json:"last_login_at"`
			Count     int        `json:"count"`
			Name      *string    `json:"name"`
		}
		reads := map[string]func(context.Context) (any, error){
			"entities": func(ctx context.Context) (any, error) {
				us, err := db.Client.User.Query().Where(user.OrganizationID(org.ID)).Order(ent.Asc(user.FieldHandle)).All(ctx)
				out := make([]map[string]any, len(us))
				for i, u := range us {
					out[i] = exportedFields(u)
				}
				return out, err
			},
			"count": func(ctx context.Context) (any, error) {
				return db.Client.User.Query().Where(user.OrganizationID(org.ID)).Count(ctx)
			},
			"selection": func(ctx context.Context) (any, error) {
				var v []selected
				err := db.Client.User.Query().Where(user.OrganizationID(org.ID)).
					Modify(func(s *entsql.Selector) {
						s.Select(s.C(user.FieldHandle), s.C(user.FieldLastLoginAt), s.C(user.FieldName)).
							AppendSelectExprAs(entsql.Expr("1"), "count").OrderBy(s.C(user.FieldHandle))
					}).Scan(ctx, &v)
				return v, err
			},
		}
		for name, read := range reads {
			want, err := read(ctx)
			if err != nil {
				t.Fatalf("%s over database/sql: %v", name, err)
			}
			got, err := read(native)
			if err != nil {
				t.Fatalf("%s over native rows: %v", name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: native rows gave %#v, database/sql %#v", name, got, want)
			}
		}
		if db.Dialect == "postgres" && sink.offered != len(reads) {
			t.Errorf("the sink was offered %d reads, want %d", sink.offered, len(reads))
		}

		taker := &takeAll{}
		_, err := db.Client.User.Query().Where(user.OrganizationID(org.ID)).All(storage.WithRowSink(ctx, taker))
		if db.Dialect != "postgres" {
			if err != nil {
				t.Fatalf("SQLite reads ignore row sinks: %v", err)
			}
			return
		}
		if !errors.Is(err, storage.ErrRowsTaken) || len(taker.first) != 3 {
			t.Fatalf("a taken read: %v with %d rows, want ErrRowsTaken with 3", err, len(taker.first))
		}
	})
}

func exportedFields(v any) map[string]any {
	rv := reflect.ValueOf(v).Elem()
	out := map[string]any{}
	for i := range rv.NumField() {
		if f := rv.Type().Field(i); f.IsExported() && f.Name != "Edges" {
			out[f.Name] = rv.Field(i).Interface()
		}
	}
	return out
}
