package rest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/gqlserver"
	"github.com/seliq/seliq/loaders"
)

// Direct lists. The alert queue is REST's busiest route. gqlgen writing
// its page (a field context per field of each of 50 alerts, three
// resolvers per alert for its references), the projection's second pass
// over that JSON, and what both allocated were half of the route's CPU.
// So the route still runs its GraphQL operation (argument coercion,
// limits, authentication, the resolver and its loaders stay GraphQL's),
// but gqlserver's result hook hands the resolver's page to a directList,
// which writes the REST body from it, and gqlgen writes an empty
// connection. The body is the projection's byte for byte
// (TestDirectListMatchesProjection). A value the encoder would write
// differently from gqlgen (a zero time or id in a non-null field, a stored
// raw payload that is not JSON) sends the page back to gqlgen and the
// projection (errIndirect).

// errIndirect asks for the GraphQL path: the page holds a value whose
// GraphQL answer is an error or is not what the encoder writes.
var errIndirect = errors.New("rest: page left to the projection")

// directPages counts the pages written directly, so that the tests can
// tell the direct path from the projection, whose bodies are the same.
var directPages atomic.Int64

// directList encodes a route's connection straight from the resolver's
// value.
type directList struct {
	light, full objectPlan[*ent.Alert] // the items' members, without and with the heavy ones
}

// memberWriter writes one member of a JSON object built from a T; prefix is
// its `"key":`, made once per route rather than once per row.
type memberWriter[T any] struct {
	prefix string
	write  func(ctx context.Context, out *bytes.Buffer, v T) error
}

// objectPlan is an object's members in the selection's order.
type objectPlan[T any] []memberWriter[T]

// planObject lists the writers of fields, in order; ok is false when
// writerOf has none for one of them.
func planObject[T any](fields []*field, writerOf func(*field) func(context.Context, *bytes.Buffer, T) error) (objectPlan[T], bool) {
	plan := make(objectPlan[T], 0, len(fields))
	for _, f := range fields {
		w := writerOf(f)
		if w == nil {
			return nil, false
		}
		plan = append(plan, memberWriter[T]{prefix: strconv.Quote(f.key) + ":", write: w})
	}
	return plan, true
}

// write writes v as the plan's object.
func (p objectPlan[T]) write(ctx context.Context, out *bytes.Buffer, v T) error {
	out.WriteByte('{')
	for i, m := range p {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(m.prefix)
		if err := m.write(ctx, out, v); err != nil {
			return err
		}
	}
	out.WriteByte('}')
	return nil
}

// directFor returns the direct encoder of a list route whose items it
// can write entirely, or nil: the route then keeps the projection.
func directFor(c *compiled) *directList {
	if !c.list || c.shape.fields[0].shape.typeName != "Alert" || !c.shape.estimate {
		return nil
	}
	item := c.shape.fields[0].shape
	var light []*field
	for _, f := range item.fields {
		if !f.heavy {
			light = append(light, f)
		}
	}
	lightPlan, ok := planObject(light, alertWriter)
	if !ok {
		return nil
	}
	fullPlan, ok := planObject(item.fields, alertWriter)
	if !ok {
		return nil
	}
	return &directList{light: lightPlan, full: fullPlan}
}

// hook returns ctx with gqlserver's result hook set to capture.
func (d *directList) hook(ctx context.Context, out *bytes.Buffer, full bool) context.Context {
	return gqlserver.WithResultHook(alerts.DetachedRows(ctx), d.capture(out, full))
}

// capture writes the resolver's page into out (with the heavy fields when
// full) and hands gqlgen an empty connection to write instead. A page it
// cannot write exactly is left to gqlgen, and out stays empty.
func (d *directList) capture(out *bytes.Buffer, full bool) gqlserver.ResultHook {
	return func(ctx context.Context, res any) (any, error) {
		conn, ok := res.(*ent.AlertConnection)
		if !ok || conn == nil {
			return res, nil
		}
		if err := d.encode(ctx, out, conn, full); err != nil {
			out.Reset()
			if errors.Is(err, errIndirect) {
				return res, nil
			}
			return nil, err
		}
		directPages.Add(1)
		return &ent.AlertConnection{}, nil
	}
}

// encode writes conn as REST's list envelope, in the order the
// projection writes it (the connection selection's).
func (d *directList) encode(ctx context.Context, out *bytes.Buffer, conn *ent.AlertConnection, full bool) error {
	plan := d.light
	if full {
		plan = d.full
	}
	out.WriteString(`{"total":`)
	out.Write(strconv.AppendInt(out.AvailableBuffer(), int64(conn.TotalCount), 10))
	out.WriteString(`,"total_is_estimate":`)
	out.WriteString(strconv.FormatBool(alerts.CountIsLowerBound(conn.TotalCount)))
	out.WriteString(`,"next_cursor":`)
	if conn.PageInfo.HasNextPage && conn.PageInfo.EndCursor != nil {
		conn.PageInfo.EndCursor.MarshalGQL(out)
	} else {
		out.WriteString("null")
	}
	out.WriteString(`,"items":[`)
	first := true
	for _, e := range conn.Edges {
		if e == nil {
			continue
		}
		if !first {
			out.WriteByte(',')
		}
		first = false
		if e.Node == nil {
			out.WriteString("null")
			continue
		}
		if err := plan.write(ctx, out, e.Node); err != nil {
			return err
		}
	}
	out.WriteString("]}")
	if !utf8.Valid(out.Bytes()) {
		// What the projection does with gqlgen's bytes.
		fixed := replaceInvalidUTF8(out.Bytes())
		out.Reset()
		out.Write(fixed)
	}
	return nil
}

// alertWriter returns the writer of Alert field f, or nil for a field it
// does not know (a field added to the schema keeps the route on the
// projection until it is added here; TestAlertListIsDirect says so).
func alertWriter(f *field) func(context.Context, *bytes.Buffer, *ent.Alert) error {
	optID := func(get func(*ent.Alert) *uuid.UUID) func(context.Context, *bytes.Buffer, *ent.Alert) error {
		return func(_ context.Context, out *bytes.Buffer, a *ent.Alert) error {
			writeOptionalID(out, get(a))
			return nil
		}
	}
	tm := func(get func(*ent.Alert) time.Time) func(context.Context, *bytes.Buffer, *ent.Alert) error {
		return func(_ context.Context, out *bytes.Buffer, a *ent.Alert) error { return writeTime(out, get(a)) }
	}
	optTime := func(get func(*ent.Alert) *time.Time) func(context.Context, *bytes.Buffer, *ent.Alert) error {
		return func(_ context.Context, out *bytes.Buffer, a *ent.Alert) error {
			writeOptionalTime(out, get(a))
			return nil
		}
	}
	strs := func(get func(*ent.Alert) []string) func(context.Context, *bytes.Buffer, *ent.Alert) error {
		return func(_ context.Context, out *bytes.Buffer, a *ent.Alert) error {
			writeStrings(out, get(a))
			return nil
		}
	}
	en := enumWriter(f.shape)
	switch f.name {
	case "id":
		return nonNullID(func(a *ent.Alert) uuid.UUID { return a.ID })
	case "organizationID":
		return nonNullID(func(a *ent.Alert) uuid.UUID { return a.OrganizationID })
	case "connectorID":
		return optID(func(a *ent.Alert) *uuid.UUID { return a.ConnectorID })
	case "assigneeID":
		return optID(func(a *ent.Alert) *uuid.UUID { return a.AssigneeID })
	case "incidentID":
		return optID(func(a *ent.Alert) *uuid.UUID { return a.IncidentID })
	case "createdAt":
		return tm(func(a *ent.Alert) time.Time { return a.CreatedAt })
	case "updatedAt":
		return tm(func(a *ent.Alert) time.Time { return a.UpdatedAt })
	case "firstSeenAt":
		return tm(func(a *ent.Alert) time.Time { return a.FirstSeenAt })
	case "lastSeenAt":
		return tm(func(a *ent.Alert) time.Time { return a.LastSeenAt })
	case "ingestedAt":
		return tm(func(a *ent.Alert) time.Time { return a.IngestedAt })
	case "eventTime":
		return optTime(func(a *ent.Alert) *time.Time { return a.EventTime })
	case "acknowledgedAt":
		return optTime(func(a *ent.Alert) *time.Time { return a.AcknowledgedAt })
	case "resolvedAt":
		return optTime(func(a *ent.Alert) *time.Time { return a.ResolvedAt })
	case "source":
		return quoted(func(a *ent.Alert) string { return a.Source })
	case "externalID":
		return quoted(func(a *ent.Alert) string { return a.ExternalID })
	case "title":
		return quoted(func(a *ent.Alert) string { return a.Title })
	case "description":
		return quoted(func(a *ent.Alert) string { return a.Description })
	case "suppressionReason":
		return quoted(func(a *ent.Alert) string { return a.SuppressionReason })
	case "fingerprint":
		return quoted(func(a *ent.Alert) string { return a.Fingerprint })
	case "tags":
		return strs(func(a *ent.Alert) []string { return a.Tags })
	case "mitre":
		return strs(func(a *ent.Alert) []string { return a.Mitre })
	case "severity":
		return enumMember(en, func(a *ent.Alert) (string, bool) { return string(a.Severity), true })
	case "status":
		return enumMember(en, func(a *ent.Alert) (string, bool) { return string(a.Status), true })
	case "disposition":
		return enumMember(en, func(a *ent.Alert) (string, bool) {
			if a.Disposition == nil {
				return "", false
			}
			return string(*a.Disposition), true
		})
	case "suppressed":
		return func(_ context.Context, out *bytes.Buffer, a *ent.Alert) error {
			out.WriteString(strconv.FormatBool(a.Suppressed))
			return nil
		}
	case "occurrences":
		return func(_ context.Context, out *bytes.Buffer, a *ent.Alert) error {
			out.Write(strconv.AppendInt(out.AvailableBuffer(), int64(a.Occurrences), 10))
			return nil
		}
	case "entities":
		return entitiesWriter(f.shape)
	case "attributes":
		return func(_ context.Context, out *bytes.Buffer, a *ent.Alert) error {
			return writeStringMap(out, a.Attributes)
		}
	case "raw":
		return func(_ context.Context, out *bytes.Buffer, a *ent.Alert) error {
			if len(a.Raw) == 0 {
				out.WriteString("null")
				return nil
			}
			if !json.Valid(a.Raw) { // the projection refuses it; let it
				return errIndirect
			}
			out.Write(a.Raw)
			return nil
		}
	case "connector":
		return refWriter(f.shape, loaders.AlertConnector, connectorMember)
	case "assignee":
		return refWriter(f.shape, loaders.AlertAssignee, userMember)
	case "incident":
		return refWriter(f.shape, loaders.AlertIncident, incidentMember)
	}
	return nil
}

// enumMember writes an enum member, null when get reports none; nil
// when the field is no enum (en is nil).
func enumMember[T any](en func(*bytes.Buffer, string), get func(T) (string, bool)) func(context.Context, *bytes.Buffer, T) error {
	if en == nil {
		return nil
	}
	return func(_ context.Context, out *bytes.Buffer, v T) error {
		s, ok := get(v)
		if !ok {
			out.WriteString("null")
			return nil
		}
		en(out, s)
		return nil
	}
}

// enumWriter writes a stored enum value as the projection spells it
// (sh.enumJSON, by the value's GraphQL spelling); nil when sh is no enum.
func enumWriter(sh *shape) func(*bytes.Buffer, string) {
	if !sh.enum {
		return nil
	}
	byStored := make(map[string][]byte, len(sh.enumJSON))
	for quoted, b := range sh.enumJSON {
		g, err := strconv.Unquote(quoted)
		if err != nil {
			continue
		}
		if s := enum.StoredNameIn(sh.typeName, g); enum.GraphQLName(s) == g {
			byStored[s] = b
		}
	}
	return func(out *bytes.Buffer, stored string) {
		if b, ok := byStored[stored]; ok {
			out.Write(b)
			return
		}
		// A value the schema does not list: the projection's fallback.
		_ = writeString(out, enum.StoredNameIn(sh.typeName, enum.GraphQLName(stored)))
	}
}

// entitiesWriter writes [AlertEntity!] in sh's order of members.
func entitiesWriter(sh *shape) func(context.Context, *bytes.Buffer, *ent.Alert) error {
	plan, ok := planObject(sh.fields, entityMember)
	if !ok {
		return nil
	}
	return func(ctx context.Context, out *bytes.Buffer, a *ent.Alert) error {
		if a.Entities == nil {
			out.WriteString("null")
			return nil
		}
		out.WriteByte('[')
		for i, e := range a.Entities {
			if i > 0 {
				out.WriteByte(',')
			}
			if err := plan.write(ctx, out, e); err != nil {
				return err
			}
		}
		out.WriteByte(']')
		return nil
	}
}

func entityMember(f *field) func(context.Context, *bytes.Buffer, schematype.Entity) error {
	switch f.name {
	case "type":
		return quoted(func(e schematype.Entity) string { return e.Type })
	case "value":
		return quoted(func(e schematype.Entity) string { return e.Value })
	}
	return nil
}

// quoted writes the string get reads as a JSON string (writeQuoted).
func quoted[T any](get func(T) string) func(context.Context, *bytes.Buffer, T) error {
	return func(_ context.Context, out *bytes.Buffer, v T) error {
		writeQuoted(out, get(v))
		return nil
	}
}

// nonNullID writes the non-null ID get reads (writeID).
func nonNullID[T any](get func(T) uuid.UUID) func(context.Context, *bytes.Buffer, T) error {
	return func(_ context.Context, out *bytes.Buffer, v T) error { return writeID(out, get(v)) }
}

// refWriter writes a reference (refFields) read through the request's
// loader, as the alert's resolver reads it; null when there is none.
func refWriter[T any](sh *shape, load func(context.Context, *ent.Alert) (*T, error),
	memberOf func(*field) func(context.Context, *bytes.Buffer, *T) error,
) func(context.Context, *bytes.Buffer, *ent.Alert) error {
	plan, ok := planObject(sh.fields, memberOf)
	if !ok {
		return nil
	}
	return func(ctx context.Context, out *bytes.Buffer, a *ent.Alert) error {
		v, err := load(ctx, a)
		if err != nil {
			return err
		}
		if v == nil {
			out.WriteString("null")
			return nil
		}
		return plan.write(ctx, out, v)
	}
}

// connectorMember, userMember and incidentMember write the members
// refFields names for their types; nil for any other.
func connectorMember(f *field) func(context.Context, *bytes.Buffer, *ent.Connector) error {
	switch f.name {
	case "id":
		return nonNullID(func(c *ent.Connector) uuid.UUID { return c.ID })
	case "name":
		return quoted(func(c *ent.Connector) string { return c.Name })
	case "type":
		return quoted(func(c *ent.Connector) string { return c.Type })
	}
	return nil
}

func userMember(f *field) func(context.Context, *bytes.Buffer, *ent.User) error {
	switch f.name {
	case "id":
		return nonNullID(func(u *ent.User) uuid.UUID { return u.ID })
	case "name":
		return quoted(func(u *ent.User) string { return u.Name })
	case "email":
		return quoted(func(u *ent.User) string { return u.Email })
	case "handle":
		return quoted(func(u *ent.User) string { return u.Handle })
	}
	return nil
}

func incidentMember(f *field) func(context.Context, *bytes.Buffer, *ent.Incident) error {
	en := enumWriter(f.shape)
	switch f.name {
	case "id":
		return nonNullID(func(in *ent.Incident) uuid.UUID { return in.ID })
	case "number":
		return func(_ context.Context, out *bytes.Buffer, in *ent.Incident) error {
			out.Write(strconv.AppendInt(out.AvailableBuffer(), int64(in.Number), 10))
			return nil
		}
	case "title":
		return quoted(func(in *ent.Incident) string { return in.Title })
	case "severity":
		return enumMember(en, func(in *ent.Incident) (string, bool) { return string(in.Severity), true })
	case "status":
		return enumMember(en, func(in *ent.Incident) (string, bool) { return string(in.Status), true })
	}
	return nil
}

// writeID writes a non-null ID; gqlgen answers the nil UUID with an error.
func writeID(out *bytes.Buffer, id uuid.UUID) error {
	if id == uuid.Nil {
		return errIndirect
	}
	appendUUID(out, id)
	return nil
}

// writeOptionalID writes a nullable ID: null for none or the nil UUID, as
// gqlgen's MarshalUUID does.
func writeOptionalID(out *bytes.Buffer, id *uuid.UUID) {
	if id == nil || *id == uuid.Nil {
		out.WriteString("null")
		return
	}
	appendUUID(out, *id)
}

func appendUUID(out *bytes.Buffer, id uuid.UUID) {
	var b [38]byte
	b[0], b[37] = '"', '"'
	hex.Encode(b[1:9], id[:4])
	b[9] = '-'
	hex.Encode(b[10:14], id[4:6])
	b[14] = '-'
	hex.Encode(b[15:19], id[6:8])
	b[19] = '-'
	hex.Encode(b[20:24], id[8:10])
	b[24] = '-'
	hex.Encode(b[25:37], id[10:])
	out.Write(b[:])
}

// writeTime writes a non-null Time as gqlgen's MarshalTime does; a zero
// time is an error there.
func writeTime(out *bytes.Buffer, t time.Time) error {
	if t.IsZero() {
		return errIndirect
	}
	appendTime(out, t)
	return nil
}

func writeOptionalTime(out *bytes.Buffer, t *time.Time) {
	if t == nil || t.IsZero() {
		out.WriteString("null")
		return
	}
	appendTime(out, *t)
}

// appendTime is strconv.Quote(t.Format(time.RFC3339Nano)): the format
// holds nothing Quote escapes.
func appendTime(out *bytes.Buffer, t time.Time) {
	b := append(out.AvailableBuffer(), '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	out.Write(append(b, '"'))
}

// writeStrings writes a nullable [String!].
func writeStrings(out *bytes.Buffer, list []string) {
	if list == nil {
		out.WriteString("null")
		return
	}
	out.WriteByte('[')
	for i, s := range list {
		if i > 0 {
			out.WriteByte(',')
		}
		writeQuoted(out, s)
	}
	out.WriteByte(']')
}

// writeStringMap writes Alert.attributes as gqlgen's MarshalMap does
// (encoding/json: sorted keys, HTML characters escaped); null for none.
func writeStringMap(out *bytes.Buffer, m map[string]string) error {
	if m == nil {
		out.WriteString("null")
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	out.Write(b)
	return nil
}

// writeQuoted is gqlgen's writeQuotedString: control characters, quotes
// and backslashes escaped, everything else (invalid UTF-8 included, which
// encode replaces afterwards, as the projection does) as it is.
func writeQuoted(out *bytes.Buffer, s string) {
	out.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		out.WriteString(s[start:i])
		switch c {
		case '\t':
			out.WriteString(`\t`)
		case '\r':
			out.WriteString(`\r`)
		case '\n':
			out.WriteString(`\n`)
		case '\\':
			out.WriteString(`\\`)
		case '"':
			out.WriteString(`\"`)
		default:
			out.WriteString(`\u00`)
			out.WriteByte(hexDigits[c>>4])
			out.WriteByte(hexDigits[c&0xf])
		}
		start = i + 1
	}
	out.WriteString(s[start:])
	out.WriteByte('"')
}

const hexDigits = "0123456789ABCDEF" // as gqlgen writes them
