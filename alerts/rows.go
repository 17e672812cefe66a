package alerts

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/jsonscan"
	"github.com/seliq/seliq/storage"
)

// Detached pages. ent builds each alert of a page from 30 scan values,
// one allocation each, and decodes its five JSON columns with
// encoding/json's reflection: with database/sql's conversions, that was
// a third of the REST queue page's CPU. A caller that reads only the
// alerts' fields, and their references through the request's loaders,
// marks its context with DetachedRows; List then decodes the page's rows
// itself on PostgreSQL (alertRows, a storage.RowSink), straight from the
// wire, and hands ent's Paginate the alerts (plainRows, an interceptor).
// The alerts are the ones ent would build, field for field
// (TestDetachedRowsMatchEnt, FuzzJSONColumns), but detached from the
// client: their own queries (QueryNotes, Update) are not available, and
// they carry no eager-loaded edges. REST's direct list is the caller.

type detachedKey struct{}

// DetachedRows marks ctx: the alerts List returns under it are read for
// their fields (and their references through the loaders) only.
func DetachedRows(ctx context.Context) context.Context {
	return context.WithValue(ctx, detachedKey{}, true)
}

// Detached reports whether ctx is marked with DetachedRows.
func Detached(ctx context.Context) bool {
	on, _ := ctx.Value(detachedKey{}).(bool)
	return on
}

// withAlertRows returns ctx with a sink for the page's rows when the
// caller asked for detached alerts and the database is PostgreSQL.
func (s *Service) withAlertRows(ctx context.Context) context.Context {
	if s.dialect != dialect.Postgres || !Detached(ctx) {
		return ctx
	}
	return storage.WithRowSink(ctx, &alertRows{})
}

// plainRows is the alert client's interceptor that returns the alerts an
// alertRows sink decoded in place of the read ent did not scan.
func plainRows(next ent.Querier) ent.Querier {
	return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
		v, err := next.Query(ctx, q)
		if !errors.Is(err, storage.ErrRowsTaken) {
			return v, err
		}
		sink, ok := storage.RowSinkOf(ctx).(*alertRows)
		if !ok {
			return v, err
		}
		detachedPages.Add(1)
		return sink.nodes, nil
	})
}

// detachedPages counts the pages decoded by alertRows, so that the tests
// can tell them from ent's, whose alerts are the same.
var detachedPages atomic.Int64

// alertRows decodes rows of the alerts table into ent.Alert values.
type alertRows struct {
	taken bool
	cols  []columnDecoder
	nodes []*ent.Alert
}

// columnDecoder sets one field of a from a non-NULL column's bytes, or
// from NULL (src nil).
type columnDecoder func(a *ent.Alert, src []byte) error

// Take accepts a read whose every column is one of the alert's, in the
// wire formats the decoders read; it takes one read per context.
func (r *alertRows) Take(m *pgtype.Map, fields []pgconn.FieldDescription) bool {
	if r.taken {
		return false
	}
	cols := make([]columnDecoder, len(fields))
	hasID := false
	for i, fd := range fields {
		dec := alertColumn(m, fd)
		if dec == nil {
			return false
		}
		cols[i] = dec
		hasID = hasID || fd.Name == alert.FieldID
	}
	if !hasID {
		return false
	}
	r.taken, r.cols = true, cols
	return true
}

// Row decodes one alert.
func (r *alertRows) Row(values [][]byte) error {
	a := &ent.Alert{}
	for i, dec := range r.cols {
		if err := dec(a, values[i]); err != nil {
			return fmt.Errorf("alerts: column %d: %w", i, err)
		}
	}
	r.nodes = append(r.nodes, a)
	return nil
}

// alertColumn returns the decoder of an alerts column, or nil for a
// column or wire format it does not read.
func alertColumn(m *pgtype.Map, fd pgconn.FieldDescription) columnDecoder {
	binaryOf := func(oid uint32) bool { return fd.DataTypeOID == oid && fd.Format == pgx.BinaryFormatCode }
	textual := fd.DataTypeOID == pgtype.TextOID || fd.DataTypeOID == pgtype.VarcharOID
	isJSON := fd.DataTypeOID == pgtype.JSONBOID
	uuids := func(set func(*ent.Alert, uuid.UUID)) columnDecoder {
		if !binaryOf(pgtype.UUIDOID) {
			return nil
		}
		return func(a *ent.Alert, src []byte) error {
			if src == nil {
				return nil
			}
			id, err := storage.BinaryUUID(src)
			set(a, id)
			return err
		}
	}
	optUUID := func(get func(*ent.Alert) **uuid.UUID) columnDecoder {
		return uuids(func(a *ent.Alert, id uuid.UUID) { *get(a) = &id })
	}
	times := func(set func(*ent.Alert, time.Time)) columnDecoder {
		if !binaryOf(pgtype.TimestamptzOID) {
			return nil
		}
		plan := m.PlanScan(fd.DataTypeOID, fd.Format, new(time.Time))
		return func(a *ent.Alert, src []byte) error {
			if src == nil {
				return nil
			}
			var t time.Time
			if err := plan.Scan(src, &t); err != nil {
				return err
			}
			set(a, t)
			return nil
		}
	}
	optTime := func(get func(*ent.Alert) **time.Time) columnDecoder {
		return times(func(a *ent.Alert, t time.Time) { *get(a) = &t })
	}
	text := func(set func(*ent.Alert, string)) columnDecoder {
		if !textual {
			return nil
		}
		return func(a *ent.Alert, src []byte) error {
			if src != nil {
				set(a, string(src))
			}
			return nil
		}
	}
	integer := func(set func(*ent.Alert, int)) columnDecoder {
		size := map[uint32]int{pgtype.Int8OID: 8, pgtype.Int4OID: 4, pgtype.Int2OID: 2}[fd.DataTypeOID]
		if size == 0 || fd.Format != pgx.BinaryFormatCode {
			return nil
		}
		return func(a *ent.Alert, src []byte) error {
			if src == nil {
				return nil
			}
			if len(src) != size {
				return fmt.Errorf("integer of %d bytes", len(src))
			}
			switch size {
			case 8:
				set(a, int(int64(binary.BigEndian.Uint64(src))))
			case 4:
				set(a, int(int32(binary.BigEndian.Uint32(src))))
			default:
				set(a, int(int16(binary.BigEndian.Uint16(src))))
			}
			return nil
		}
	}
	jsonCol := func(decode func(*ent.Alert, []byte) error) columnDecoder {
		if !isJSON {
			return nil
		}
		return func(a *ent.Alert, src []byte) error {
			if src == nil {
				return nil
			}
			text, err := storage.JSONBText(fd.Format, src)
			if err != nil || len(text) == 0 { // an empty text is what ent's len(value) > 0 check skips
				return err
			}
			return decode(a, text)
		}
	}
	switch fd.Name {
	case alert.FieldID:
		return uuids(func(a *ent.Alert, id uuid.UUID) { a.ID = id })
	case alert.FieldOrganizationID:
		return uuids(func(a *ent.Alert, id uuid.UUID) { a.OrganizationID = id })
	case alert.FieldConnectorID:
		return optUUID(func(a *ent.Alert) **uuid.UUID { return &a.ConnectorID })
	case alert.FieldAssigneeID:
		return optUUID(func(a *ent.Alert) **uuid.UUID { return &a.AssigneeID })
	case alert.FieldIncidentID:
		return optUUID(func(a *ent.Alert) **uuid.UUID { return &a.IncidentID })
	case alert.FieldCreatedAt:
		return times(func(a *ent.Alert, t time.Time) { a.CreatedAt = t })
	case alert.FieldUpdatedAt:
		return times(func(a *ent.Alert, t time.Time) { a.UpdatedAt = t })
	case alert.FieldFirstSeenAt:
		return times(func(a *ent.Alert, t time.Time) { a.FirstSeenAt = t })
	case alert.FieldLastSeenAt:
		return times(func(a *ent.Alert, t time.Time) { a.LastSeenAt = t })
	case alert.FieldIngestedAt:
		return times(func(a *ent.Alert, t time.Time) { a.IngestedAt = t })
	case alert.FieldEventTime:
		return optTime(func(a *ent.Alert) **time.Time { return &a.EventTime })
	case alert.FieldAcknowledgedAt:
		return optTime(func(a *ent.Alert) **time.Time { return &a.AcknowledgedAt })
	case alert.FieldResolvedAt:
		return optTime(func(a *ent.Alert) **time.Time { return &a.ResolvedAt })
	case alert.FieldSource:
		return text(func(a *ent.Alert, s string) { a.Source = s })
	case alert.FieldExternalID:
		return text(func(a *ent.Alert, s string) { a.ExternalID = s })
	case alert.FieldTitle:
		return text(func(a *ent.Alert, s string) { a.Title = s })
	case alert.FieldDescription:
		return text(func(a *ent.Alert, s string) { a.Description = s })
	case alert.FieldSuppressionReason:
		return text(func(a *ent.Alert, s string) { a.SuppressionReason = s })
	case alert.FieldFingerprint:
		return text(func(a *ent.Alert, s string) { a.Fingerprint = s })
	case alert.FieldDedupKey:
		return text(func(a *ent.Alert, s string) { a.DedupKey = &s })
	case alert.FieldSeverity:
		return text(func(a *ent.Alert, s string) { a.Severity = enum.Severity(s) })
	case alert.FieldStatus:
		return text(func(a *ent.Alert, s string) { a.Status = enum.AlertStatus(s) })
	case alert.FieldDisposition:
		return text(func(a *ent.Alert, s string) {
			d := enum.Disposition(s)
			a.Disposition = &d
		})
	case alert.FieldSeverityRank:
		return integer(func(a *ent.Alert, n int) { a.SeverityRank = n })
	case alert.FieldOccurrences:
		return integer(func(a *ent.Alert, n int) { a.Occurrences = n })
	case alert.FieldSuppressed:
		if !binaryOf(pgtype.BoolOID) {
			return nil
		}
		return func(a *ent.Alert, src []byte) error {
			if src == nil {
				return nil
			}
			if len(src) != 1 {
				return fmt.Errorf("bool of %d bytes", len(src))
			}
			a.Suppressed = src[0] == 1
			return nil
		}
	case alert.FieldTags:
		return jsonCol(func(a *ent.Alert, b []byte) error { return decodeStrings(b, &a.Tags) })
	case alert.FieldMitre:
		return jsonCol(func(a *ent.Alert, b []byte) error { return decodeStrings(b, &a.Mitre) })
	case alert.FieldEntities:
		return jsonCol(func(a *ent.Alert, b []byte) error { return decodeEntities(b, &a.Entities) })
	case alert.FieldAttributes:
		return jsonCol(func(a *ent.Alert, b []byte) error { return decodeStringMap(b, &a.Attributes) })
	case alert.FieldRaw:
		return jsonCol(func(a *ent.Alert, b []byte) error { return json.Unmarshal(b, &a.Raw) })
	}
	return nil
}

// The JSON columns' decoders read PostgreSQL's jsonb text of the shapes
// the server writes (an array of strings, an object of strings, an array
// of entities) without reflection. Anything else (an escape, another
// shape, a key written in another case, invalid UTF-8) goes to
// encoding/json, whose result is the decoders' definition
// (FuzzJSONColumns).

// decodeStrings decodes a JSON array of strings into *dst.
func decodeStrings(b []byte, dst *[]string) error {
	if out, ok := scanStrings(b); ok {
		*dst = out
		return nil
	}
	return json.Unmarshal(b, dst)
}

// decodeStringMap decodes a JSON object of strings into *dst.
func decodeStringMap(b []byte, dst *map[string]string) error {
	if out, ok := scanStringMap(b); ok {
		*dst = out
		return nil
	}
	return json.Unmarshal(b, dst)
}

// decodeEntities decodes a JSON array of {"type","value"} objects.
func decodeEntities(b []byte, dst *[]schematype.Entity) error {
	if out, ok := scanEntities(b); ok {
		*dst = out
		return nil
	}
	return json.Unmarshal(b, dst)
}

// errNotPlain stops a fast decoder at what it leaves to encoding/json.
var errNotPlain = errors.New("alerts: not a plain JSON string")

// plainText is text (a jsonscan Text: no escape or control character)
// as a string when it is valid UTF-8, the strings whose written text is
// their value; ok is false for any other.
func plainText(text []byte) (string, bool) {
	if !utf8.Valid(text) {
		return "", false
	}
	return string(text), true
}

// plainStr reads a plain string (plainText) from s.
func plainStr(s *jsonscan.Scanner) (string, error) {
	text, err := s.Text()
	if err != nil {
		return "", err
	}
	v, ok := plainText(text)
	if !ok {
		return "", errNotPlain
	}
	return v, nil
}

// plainKey is an object's key, as Object hands it over written, when it
// is plain (plainText).
func plainKey(rawKey []byte) (string, bool) {
	text, err := jsonscan.New(rawKey).Text()
	if err != nil {
		return "", false
	}
	return plainText(text)
}

func scanStrings(b []byte) ([]string, bool) {
	s := jsonscan.New(b)
	out := []string{}
	err := s.Array(func() error {
		v, err := plainStr(s)
		out = append(out, v)
		return err
	})
	return out, err == nil && s.End()
}

func scanStringMap(b []byte) (map[string]string, bool) {
	s := jsonscan.New(b)
	out := map[string]string{}
	err := s.Object(func(_, rawKey []byte) error {
		key, ok := plainKey(rawKey)
		if !ok {
			return errNotPlain
		}
		v, err := plainStr(s)
		out[key] = v
		return err
	})
	return out, err == nil && s.End()
}

func scanEntities(b []byte) ([]schematype.Entity, bool) {
	s := jsonscan.New(b)
	out := []schematype.Entity{}
	err := s.Array(func() error {
		var e schematype.Entity
		err := s.Object(func(_, rawKey []byte) error {
			key, ok := plainKey(rawKey)
			if !ok {
				return errNotPlain
			}
			v, err := plainStr(s)
			switch key {
			case "type":
				e.Type = v
			case "value":
				e.Value = v
			default: // another key, or one encoding/json matches by case folding
				return errNotPlain
			}
			return err
		})
		out = append(out, e)
		return err
	})
	return out, err == nil && s.End()
}
