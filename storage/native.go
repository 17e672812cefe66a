package storage

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Native reads. A read made outside a transaction under a context with a
// RowSink (WithRowSink) runs on the pgx pool instead of database/sql. The
// sink may take its rows and decode them from the wire bytes itself (the
// alert queue's page: see alerts.DetachedRows). A read it does not take
// (a count under the same context) is scanned by ent from nativeRows,
// which gives ent's scan values what database/sql would have given them:
// pgx's stdlib conversions (valueFuncOf) and database/sql's conversion rules
// (assign) for the destinations ent uses. Every other read keeps
// database/sql.

// nativeQuery runs query on pool and returns its rows as ent's scanner.
func nativeQuery(ctx context.Context, pool *pgxpool.Pool, query string, args []any) (*nativeRows, error) {
	rows, err := pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return &nativeRows{rows: rows}, nil
}

// nativeRows is ent's ColumnScanner over pgx's rows.
type nativeRows struct {
	rows   pgx.Rows
	fields []pgconn.FieldDescription
	values []valueFunc // per column, made on the first row
}

// valueFunc turns a non-NULL column's wire bytes into the driver.Value
// pgx's database/sql driver would give.
type valueFunc func(src []byte) (driver.Value, error)

func (r *nativeRows) Close() error {
	r.rows.Close()
	return r.rows.Err()
}

// ColumnTypes is what database/sql alone can build; ent then scans a
// column it has no type for (a selected expression) into an any, as
// sql.ScanTypeOf does when the types are unknown.
func (r *nativeRows) ColumnTypes() ([]*sql.ColumnType, error) {
	return nil, errors.New("storage: column types are not known to native rows")
}

func (r *nativeRows) Columns() ([]string, error) {
	fds := r.rows.FieldDescriptions()
	cols := make([]string, len(fds))
	for i, fd := range fds {
		cols[i] = fd.Name
	}
	return cols, nil
}

func (r *nativeRows) Err() error          { return r.rows.Err() }
func (r *nativeRows) Next() bool          { return r.rows.Next() }
func (r *nativeRows) NextResultSet() bool { return false }

// Scan fills dest from the current row.
func (r *nativeRows) Scan(dest ...any) error {
	raw := r.rows.RawValues()
	if len(dest) != len(raw) {
		return fmt.Errorf("sql: expected %d destination arguments in Scan, not %d", len(raw), len(dest))
	}
	if r.values == nil {
		r.fields = r.rows.FieldDescriptions()
		r.values = valueFuncs(r.rows.Conn().TypeMap(), r.fields)
	}
	for i, d := range dest {
		if err := r.scanColumn(i, raw[i], d); err != nil {
			return fmt.Errorf("sql: Scan error on column index %d, name %q: %w", i, r.fields[i].Name, err)
		}
	}
	return nil
}

// scanColumn fills d from column i's bytes: ent's scan types straight
// from the wire where the column's type allows, else through the
// driver.Value database/sql would have seen.
func (r *nativeRows) scanColumn(i int, src []byte, d any) error {
	fd := &r.fields[i]
	switch d := d.(type) {
	case *uuid.UUID:
		if fd.DataTypeOID == pgtype.UUIDOID && fd.Format == pgx.BinaryFormatCode {
			if src == nil {
				return nil // uuid.UUID.Scan(nil) leaves it as it is
			}
			id, err := BinaryUUID(src)
			*d = id
			return err
		}
	case *entsql.NullScanner:
		if u, ok := d.S.(*uuid.UUID); ok && fd.DataTypeOID == pgtype.UUIDOID && fd.Format == pgx.BinaryFormatCode {
			d.Valid = src != nil
			if src == nil {
				return nil
			}
			id, err := BinaryUUID(src)
			*u = id
			return err
		}
	case *[]byte:
		if fd.DataTypeOID == pgtype.JSONBOID || fd.DataTypeOID == pgtype.JSONOID {
			if src == nil {
				*d = nil
				return nil
			}
			b := src
			if fd.DataTypeOID == pgtype.JSONBOID {
				var err error
				if b, err = JSONBText(fd.Format, src); err != nil {
					return err
				}
			}
			*d = bytes.Clone(b)
			return nil
		}
	case *sql.NullString:
		if fd.DataTypeOID == pgtype.TextOID || fd.DataTypeOID == pgtype.VarcharOID {
			d.Valid = src != nil
			d.String = string(src)
			return nil
		}
	}
	var v driver.Value
	if src != nil {
		var err error
		if v, err = r.values[i](src); err != nil {
			return fmt.Errorf("convert field %d failed: %w", i, err)
		}
	}
	return assign(d, v)
}

// BinaryUUID decodes a uuid column's binary wire bytes.
func BinaryUUID(src []byte) (uuid.UUID, error) {
	var id uuid.UUID
	if len(src) != len(id) {
		return id, fmt.Errorf("invalid length for UUID: %d", len(src))
	}
	copy(id[:], src)
	return id, nil
}

// JSONBText is a jsonb column's JSON text from its wire bytes in format:
// the binary format puts a version byte before the text.
func JSONBText(format int16, src []byte) ([]byte, error) {
	if format != pgx.BinaryFormatCode {
		return src, nil
	}
	if len(src) == 0 || src[0] != 1 {
		return nil, errors.New("unknown jsonb version number")
	}
	return src[1:], nil
}

// valueFuncs are pgx's database/sql driver's conversions (its
// Rows.Next), so that a destination ent has no fast path for sees the
// driver.Value it saw before.
func valueFuncs(m *pgtype.Map, fds []pgconn.FieldDescription) []valueFunc {
	funcs := make([]valueFunc, len(fds))
	for i, fd := range fds {
		funcs[i] = valueFuncOf(m, fd.DataTypeOID, fd.Format)
	}
	return funcs
}

// plain is a conversion whose scan target is its driver.Value as it is.
func plain[T any](m *pgtype.Map, oid uint32, format int16, conv func(T) driver.Value) valueFunc {
	var d T
	plan := m.PlanScan(oid, format, &d)
	return func(src []byte) (driver.Value, error) {
		if err := plan.Scan(src, &d); err != nil {
			return nil, err
		}
		return conv(d), nil
	}
}

// valued is a conversion through a pgtype's own driver.Valuer.
func valued[T any, P interface {
	*T
	driver.Valuer
}](m *pgtype.Map, oid uint32, format int16) valueFunc {
	var d T
	plan := m.PlanScan(oid, format, P(&d))
	return func(src []byte) (driver.Value, error) {
		if err := plan.Scan(src, P(&d)); err != nil {
			return nil, err
		}
		return P(&d).Value()
	}
}

func same[T any](v T) driver.Value { return v }

func valueFuncOf(m *pgtype.Map, oid uint32, format int16) valueFunc {
	switch oid {
	case pgtype.BoolOID:
		return plain(m, oid, format, same[bool])
	case pgtype.ByteaOID, pgtype.JSONOID, pgtype.JSONBOID, pgtype.XMLOID:
		return plain(m, oid, format, func(b []byte) driver.Value { return bytes.Clone(b) })
	case pgtype.CIDOID, pgtype.OIDOID, pgtype.XIDOID:
		return valued[pgtype.Uint32](m, oid, format)
	case pgtype.DateOID:
		return valued[pgtype.Date](m, oid, format)
	case pgtype.Float4OID:
		return plain(m, oid, format, func(f float32) driver.Value { return float64(f) })
	case pgtype.Float8OID:
		return plain(m, oid, format, same[float64])
	case pgtype.Int2OID:
		return plain(m, oid, format, func(n int16) driver.Value { return int64(n) })
	case pgtype.Int4OID:
		return plain(m, oid, format, func(n int32) driver.Value { return int64(n) })
	case pgtype.Int8OID:
		return plain(m, oid, format, same[int64])
	case pgtype.TimestampOID:
		return valued[pgtype.Timestamp](m, oid, format)
	case pgtype.TimestamptzOID:
		return valued[pgtype.Timestamptz](m, oid, format)
	default:
		return plain(m, oid, format, same[string])
	}
}

// assign stores the driver.Value v into d by database/sql's rules
// (convertAssign) for the destinations ent and this server scan into.
func assign(d any, v driver.Value) error {
	switch d := d.(type) {
	case sql.Scanner:
		return d.Scan(v)
	case *any:
		*d = cloneBytes(v)
		return nil
	case *entsql.UnknownType:
		*d = cloneBytes(v)
		return nil
	case *[]byte:
		switch s := v.(type) {
		case nil:
			*d = nil
			return nil
		case []byte:
			*d = bytes.Clone(s)
			return nil
		case string:
			*d = []byte(s)
			return nil
		}
		return assignVia(d, v)
	case *string:
		return assignVia(d, v)
	case *bool:
		return assignVia(d, v)
	case *int:
		return assignVia(d, v)
	case *int8:
		return assignVia(d, v)
	case *int16:
		return assignVia(d, v)
	case *int32:
		return assignVia(d, v)
	case *int64:
		return assignVia(d, v)
	case *uint:
		return assignVia(d, v)
	case *uint8:
		return assignVia(d, v)
	case *uint16:
		return assignVia(d, v)
	case *uint32:
		return assignVia(d, v)
	case *uint64:
		return assignVia(d, v)
	case *float32:
		return assignVia(d, v)
	case *float64:
		return assignVia(d, v)
	case *time.Time:
		return assignVia(d, v)
	}
	if rv := reflect.ValueOf(d); rv.Kind() == reflect.Pointer && rv.Elem().Kind() == reflect.Pointer {
		// A nullable column scanned into a pointer: nil for NULL, else a
		// new value, as database/sql does.
		if v == nil {
			rv.Elem().SetZero()
			return nil
		}
		p := reflect.New(rv.Elem().Type().Elem())
		if err := assign(p.Interface(), v); err != nil {
			return err
		}
		rv.Elem().Set(p)
		return nil
	}
	return fmt.Errorf("storage: native rows cannot scan into %T", d)
}

// assignVia converts v into *d with database/sql's own conversion (which
// sql.Null's Scan runs); like database/sql, NULL into a plain type is an
// error.
func assignVia[T any](d *T, v driver.Value) error {
	if v == nil {
		return fmt.Errorf("converting NULL to %T is unsupported", *d)
	}
	var n sql.Null[T]
	if err := n.Scan(v); err != nil {
		return err
	}
	*d = n.V
	return nil
}

func cloneBytes(v driver.Value) any {
	if b, ok := v.([]byte); ok {
		return bytes.Clone(b)
	}
	return v
}

// RowSink reads a statement's rows in place of ent's scan: a caller that
// knows a table's columns decodes them from the wire bytes into its own
// values (alerts' page). Take is offered every native read made under
// the sink's context and takes only those whose columns it knows.
type RowSink interface {
	// Take reports whether the sink reads rows of these columns; m is
	// the connection's type map, for the sink's decoders.
	Take(m *pgtype.Map, fields []pgconn.FieldDescription) bool
	// Row decodes one row: values[i] is column i's bytes, nil for NULL,
	// valid only until Row returns.
	Row(values [][]byte) error
}

// ErrRowsTaken is a read's error when its rows went to the context's
// RowSink: ent saw no rows, and the sink holds the result.
var ErrRowsTaken = errors.New("storage: rows read by the context's row sink")

type rowSinkKey struct{}

// RowSinkOf is ctx's RowSink, or nil.
func RowSinkOf(ctx context.Context) RowSink {
	sink, _ := ctx.Value(rowSinkKey{}).(RowSink)
	return sink
}

// WithRowSink offers sink the native reads run under the returned context.
func WithRowSink(ctx context.Context, sink RowSink) context.Context {
	return context.WithValue(ctx, rowSinkKey{}, sink)
}

// sinkRows hands rows to ctx's sink if it takes them; taken is false
// (and rows untouched) otherwise.
func sinkRows(ctx context.Context, rows *nativeRows) (taken bool, err error) {
	sink := RowSinkOf(ctx)
	if sink == nil || !sink.Take(rows.rows.Conn().TypeMap(), rows.rows.FieldDescriptions()) {
		return false, nil
	}
	defer rows.rows.Close()
	for rows.rows.Next() {
		if err := sink.Row(rows.rows.RawValues()); err != nil {
			return true, err
		}
	}
	if err := rows.rows.Err(); err != nil {
		return true, err
	}
	return true, ErrRowsTaken
}
