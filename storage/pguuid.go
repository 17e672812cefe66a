package storage

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// pgx has no plan for google/uuid's UUID, so it falls back on its
// driver.Valuer: Value() formats the id as text, the binary encode of that
// text fails (building an error with fmt.Errorf), pgx parses the text back
// and encodes the result — three conversions and an error per uuid
// argument. Ids are in nearly every statement (an ingest payload binds
// three per alert, its activity and events two more), so this costs a
// fifth of the server's CPU while ingesting. The plan below hands the 16 bytes to
// pgx's own uuid codec instead.

// registerUUID makes pgx encode uuid.UUID arguments directly on conn.
func registerUUID(_ context.Context, conn *pgx.Conn) error {
	m := conn.TypeMap()
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUIDEncodePlan}, m.TryWrapEncodePlanFuncs...)
	return nil
}

func tryWrapUUIDEncodePlan(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	if u, ok := value.(uuid.UUID); ok {
		return &uuidEncodePlan{}, pgtype.UUID{Bytes: u, Valid: true}, true
	}
	return nil, nil, false
}

// uuidEncodePlan converts a uuid.UUID to pgtype.UUID for the next plan.
type uuidEncodePlan struct{ next pgtype.EncodePlan }

func (p *uuidEncodePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(pgtype.UUID{Bytes: value.(uuid.UUID), Valid: true}, buf)
}
