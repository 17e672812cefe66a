package storage_test

import (
	"context"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// uuid.UUID arguments reach the database as the same ids whatever the
// parameter's type: a uuid column, text, or a pointer, nil included.
func TestUUIDArguments(t *testing.T) {
	id := uuid.MustParse("0190a4b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b")
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		cast := func(expr, typ string) string {
			if db.Dialect == dialect.Postgres {
				return "CAST(" + expr + " AS " + typ + ")"
			}
			return expr
		}
		ph := func(n string) string {
			if db.Dialect == dialect.Postgres {
				return "$" + n
			}
			return "?"
		}
		tests := []struct {
			name  string
			query string
			arg   any
			want  string
			null  bool
		}{
			{"uuid parameter", "SELECT " + cast(cast(ph("1"), "uuid"), "text"), id, id.String(), false},
			{"text parameter", "SELECT " + cast(ph("1"), "text"), id, id.String(), false},
			{"pointer", "SELECT " + cast(cast(ph("1"), "uuid"), "text"), &id, id.String(), false},
			{"nil pointer", "SELECT " + cast(cast(ph("1"), "uuid"), "text"), (*uuid.UUID)(nil), "", true},
			{"nil uuid", "SELECT " + cast(cast(ph("1"), "uuid"), "text"), uuid.Nil, uuid.Nil.String(), false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got *string
				if err := db.SQL.QueryRowContext(ctx, tt.query, tt.arg).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if tt.null {
					if got != nil {
						t.Errorf("got %q, want NULL", *got)
					}
					return
				}
				if got == nil || *got != tt.want {
					t.Errorf("got %v, want %s", got, tt.want)
				}
			})
		}
	})
}
