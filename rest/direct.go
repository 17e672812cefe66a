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
	light, full []alertField // the items' fields, without and with the heavy ones
}

// alertField writes one member of an alert item.
type alertField struct {
	key   string
	write func(ctx context.Context, out *bytes.Buffer, a *ent.Alert) error
}

// directFor returns the direct encoder of a list route whose items it
// can write entirely, or nil: the route then keeps the projection.
func directFor(c *compiled) *directList {
	if !c.list || c.shape.fields[0].shape.typeName != "Alert" || !c.shape.estimate {
		return nil
	}
	item := c.shape.fields[0].shape
	light, ok := alertPlan(item, false)
	if !ok {
		return nil
	}
	full, ok := alertPlan(item, true)
	if !ok {
		return nil
	}
	return &directList{light: light, full: full}
}

// alertPlan lists the writers of item's fields in the selection's order,
// heavy ones only when full; ok is false when a field has none.
func alertPlan(item *shape, full bool) ([]alertField, bool) {
	var plan []alertField
	for _, f := range item.fields {
		if f.heavy && !full {
			continue
		}
		w := alertWriter(f)
		if w == nil {
			return nil, false
		}
		plan = append(plan, alertField{key: f.key, write: w})
	}
	return plan, true
}

// hook returns ctx with gqlserver's result hook set to capture.
func (d *directList) hook(ctx context.Context, out *bytes.Buffer, full bool) context.Context {
	return gqlserver.WithResultHook(ctx, d.capture(out, full))
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
		out.WriteByte('{')
		for i, f := range plan {
			if i > 0 {
				out.WriteByte(',')
			}
			out.WriteByte('"')
			out.WriteString(f.key)
			out.WriteString(`":`)
			if err := f.write(ctx, out, e.Node); err != nil {
				return err
			}
		}
		out.WriteByte('}')
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
	str := func(get func(*ent.Alert) string) func(context.Context, *bytes.Buffer, *ent.Alert) error {
		return func(_ context.Context, out *bytes.Buffer, a *ent.Alert) error {
			writeQuoted(out, get(a))
			return nil
		}
	}
	id := func(get func(*ent.Alert) uuid.UUID) func(context.Context, *bytes.Buffer, *ent.Alert) error {
		return func(_ context.Context, out *bytes.Buffer, a *ent.Alert) error { return writeID(out, get(a)) }
	}
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
		return id(func(a *ent.Alert) uuid.UUID { return a.ID })
	case "organizationID":
		return id(func(a *ent.Alert) uuid.UUID { return a.OrganizationID })
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
		return str(func(a *ent.Alert) string { return a.Source })
	case "externalID":
		return str(func(a *ent.Alert) string { return a.ExternalID })
	case "title":
		return str(func(a *ent.Alert) string { return a.Title })
	case "description":
		return str(func(a *ent.Alert) string { return a.Description })
	case "suppressionReason":
		return str(func(a *ent.Alert) string { return a.SuppressionReason })
	case "fingerprint":
		return str(func(a *ent.Alert) string { return a.Fingerprint })
	case "tags":
		return strs(func(a *ent.Alert) []string { return a.Tags })
	case "mitre":
		return strs(func(a *ent.Alert) []string { return a.Mitre })
	case "severity":
		return enumField(en, func(a *ent.Alert) (string, bool) { return string(a.Severity), true })
	case "status":
		return enumField(en, func(a *ent.Alert) (string, bool) { return string(a.Status), true })
	case "disposition":
		return enumField(en, func(a *ent.Alert) (string, bool) {
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
		return refWriter(f.shape, loaders.AlertConnector, connectorRef)
	case "assignee":
		return refWriter(f.shape, loaders.AlertAssignee, userRef)
	case "incident":
		return refWriter(f.shape, loaders.AlertIncident, incidentRef)
	}
	return nil
}

// enumField writes an enum member, null when get reports none.
func enumField(en func(*bytes.Buffer, string), get func(*ent.Alert) (string, bool)) func(context.Context, *bytes.Buffer, *ent.Alert) error {
	if en == nil {
		return nil
	}
	return func(_ context.Context, out *bytes.Buffer, a *ent.Alert) error {
		v, ok := get(a)
		if !ok {
			out.WriteString("null")
			return nil
		}
		en(out, v)
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
	for _, f := range sh.fields {
		if f.name != "type" && f.name != "value" {
			return nil
		}
	}
	return func(_ context.Context, out *bytes.Buffer, a *ent.Alert) error {
		if a.Entities == nil {
			out.WriteString("null")
			return nil
		}
		out.WriteByte('[')
		for i, e := range a.Entities {
			if i > 0 {
				out.WriteByte(',')
			}
			writeEntity(out, sh, e)
		}
		out.WriteByte(']')
		return nil
	}
}

func writeEntity(out *bytes.Buffer, sh *shape, e schematype.Entity) {
	out.WriteByte('{')
	for i, f := range sh.fields {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(`"` + f.key + `":`)
		if f.name == "type" {
			writeQuoted(out, e.Type)
		} else {
			writeQuoted(out, e.Value)
		}
	}
	out.WriteByte('}')
}

// refWriter writes a reference (refFields) read through the request's
// loader, as the alert's resolver reads it; null when there is none.
func refWriter[T any](sh *shape, load func(context.Context, *ent.Alert) (*T, error),
	member func(sh *shape) func(*bytes.Buffer, *T, *field) error,
) func(context.Context, *bytes.Buffer, *ent.Alert) error {
	write := member(sh)
	if write == nil {
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
		out.WriteByte('{')
		for i, f := range sh.fields {
			if i > 0 {
				out.WriteByte(',')
			}
			out.WriteString(`"` + f.key + `":`)
			if err := write(out, v, f); err != nil {
				return err
			}
		}
		out.WriteByte('}')
		return nil
	}
}

// knownMembers reports whether every member of sh is in names.
func knownMembers(sh *shape, names ...string) bool {
	for _, f := range sh.fields {
		found := false
		for _, n := range names {
			found = found || f.name == n
		}
		if !found {
			return false
		}
	}
	return true
}

func connectorRef(sh *shape) func(*bytes.Buffer, *ent.Connector, *field) error {
	if !knownMembers(sh, "id", "name", "type") {
		return nil
	}
	return func(out *bytes.Buffer, c *ent.Connector, f *field) error {
		switch f.name {
		case "id":
			return writeID(out, c.ID)
		case "name":
			writeQuoted(out, c.Name)
		default:
			writeQuoted(out, c.Type)
		}
		return nil
	}
}

func userRef(sh *shape) func(*bytes.Buffer, *ent.User, *field) error {
	if !knownMembers(sh, "id", "name", "email", "handle") {
		return nil
	}
	return func(out *bytes.Buffer, u *ent.User, f *field) error {
		switch f.name {
		case "id":
			return writeID(out, u.ID)
		case "name":
			writeQuoted(out, u.Name)
		case "email":
			writeQuoted(out, u.Email)
		default:
			writeQuoted(out, u.Handle)
		}
		return nil
	}
}

func incidentRef(sh *shape) func(*bytes.Buffer, *ent.Incident, *field) error {
	if !knownMembers(sh, "id", "number", "title", "severity", "status") {
		return nil
	}
	enums := map[string]func(*bytes.Buffer, string){}
	for _, f := range sh.fields {
		if f.shape.enum {
			enums[f.name] = enumWriter(f.shape)
		}
	}
	if enums["severity"] == nil || enums["status"] == nil {
		return nil
	}
	return func(out *bytes.Buffer, in *ent.Incident, f *field) error {
		switch f.name {
		case "id":
			return writeID(out, in.ID)
		case "number":
			out.Write(strconv.AppendInt(out.AvailableBuffer(), int64(in.Number), 10))
		case "title":
			writeQuoted(out, in.Title)
		case "severity":
			enums["severity"](out, string(in.Severity))
		default:
			enums["status"](out, string(in.Status))
		}
		return nil
	}
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
