package catalogue

import (
	"html"
	"net/mail"
	"regexp"
	"sort"
	"strings"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest/entities"
)

func emailType() Type {
	s := spec{key: "email", one: emailOne}
	return Type{
		Key:    "email",
		Name:   "Email",
		Vendor: "Any mail source",
		Description: "An inbound email as JSON, as posted by a mail relay or an inbound-parse service (SendGrid, Mailgun, Postmark-style field names are " +
			"understood, case-insensitively): from, to, subject, text/html body, date, message id. For alert mailboxes and user-reported phishing.",
		Modes: []enum.ConnectorMode{enum.ConnectorModePush},
		SeverityScale: "From a tag in the subject — [CRITICAL], (High), \"WARNING:\" at the start, [SEV2], [P1]…: critical/crit/sev1/p1/emergency → critical; " +
			"high/urgent/sev2/p2 → high; medium/med/warning/warn/sev3/p3 → medium; low/sev4/p4 → low; info/informational/notice/sev5/p5 → info. No tag → medium.",
		DedupFields: []string{"source", "title", "email_from"},
		Mapping: []FieldMapping{
			{"title", "subject", "\"(no subject)\" when empty."},
			{"description", "text, TextBody, body-plain, stripped-text, body; else html, HtmlBody, body-html with tags removed", ""},
			{"severity", "subject", "See the severity scale."},
			{"external_id", "message_id, MessageID, Message-Id", "Angle brackets removed."},
			{"event_time", "date, Date, timestamp", "RFC 5322 or RFC 3339."},
			{"attributes.email_from", "from, From, FromFull.Email, sender", "Address only."},
			{"attributes.email_to", "to, To, ToFull[0].Email, recipient", "First address."},
			{"attributes.domain", "the sender's domain", ""},
			{"attributes.file_name", "attachments[0].filename", "The first attachment (of the message, else of a forwarded one)."},
			{"attributes.file_hash", "attachments[0].sha256", ""},
			{"entities", "from, to, cc (every address); attachments[].filename and sha256; the same of each forwarded[] message",
				"Besides what entity extraction finds in the whole document (URLs, domains, IPs, hashes in the bodies)."},
		},
		Settings: settingsSchema("Email connector settings", map[string]any{
			"allowed_senders": strListProp("Only accept mail from these addresses or @domains (empty: any)."),
		}),
		Map: s.run,
	}
}

// normKey folds "Message-Id", "message_id" and "MessageID" to "messageid".
func normKey(k string) string {
	return strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(k))
}

func emailOne(r record) (Alert, error) {
	// Fold the field names; when several fold alike ("Subject" and "subject"),
	// the one already in folded form wins, else the first in sorted order.
	keys := make([]string, 0, len(r.obj))
	for k := range r.obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	f := make(map[string]any, len(r.obj))
	for _, k := range keys {
		nk := normKey(k)
		if _, dup := f[nk]; !dup || k == nk {
			f[nk] = r.obj[k]
		}
	}
	pick := func(keys ...string) any {
		for _, k := range keys {
			if v, ok := f[k]; ok && v != nil && str(v) != "" || isNonEmptyObj(f[k]) {
				return v
			}
		}
		return nil
	}
	from := firstAddress(pick("fromfull", "from", "sender", "fromaddress"))
	to := firstAddress(pick("tofull", "to", "recipient", "recipients", "rcptto"))
	subject, hasSubject := "", false
	if v, ok := f["subject"]; ok {
		subject, hasSubject = oneLine(str(v)), true
	}
	if !hasSubject && from == "" {
		return Alert{}, unmappable("not an email: no subject and no from")
	}
	a := Alert{
		Title:      first(subject, "(no subject)"),
		ExternalID: strings.Trim(str(pick("messageid", "id")), "<> "),
		Severity:   emailSeverity(subject),
		EventTime:  parseTime(pick("date", "timestamp", "receivedat", "receiveddate")),
	}
	a.Description = str(pick("text", "textbody", "bodyplain", "strippedtext", "plain", "body", "textplain"))
	if a.Description == "" {
		a.Description = htmlText(str(pick("html", "htmlbody", "bodyhtml", "texthtml")))
	}
	at := attrs{}
	at.set(AttrEmailFrom, from)
	at.set(AttrEmailTo, to)
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		at.set(AttrDomain, strings.ToLower(from[i+1:]))
	}
	a.Entities = emailEntities(f, 0)
	for _, e := range a.Entities {
		switch e.Type {
		case entities.FileName:
			at.set(AttrFileName, e.Value)
		case entities.SHA256:
			at.set(AttrFileHash, e.Value)
		}
	}
	a.Attributes = at
	return a, nil
}

// maxForwarded bounds how deep emailEntities follows forwarded messages
// (mailin unwraps at most three levels; a hand-made document may nest more).
const maxForwarded = 3

// emailEntities are the addresses and attachments a mail document names:
// from, to and cc, then each attachment's file name and SHA-256, then the
// same of its forwarded messages. The first file name and hash found are
// the alert's file attributes.
func emailEntities(obj map[string]any, depth int) []entities.Entity {
	var out []entities.Entity
	for _, k := range []string{"from", "to", "cc"} {
		for _, addr := range allAddresses(obj[k]) {
			out = append(out, entities.Entity{Type: entities.Email, Value: addr})
		}
	}
	atts, _ := obj["attachments"].([]any)
	for _, x := range atts {
		att, _ := x.(map[string]any)
		if name := oneLine(first(str(att["filename"]), str(att["Name"]), str(att["name"]))); name != "" {
			out = append(out, entities.Entity{Type: entities.FileName, Value: name})
		}
		if h := strings.ToLower(str(att["sha256"])); sha256Hex.MatchString(h) {
			out = append(out, entities.Entity{Type: entities.SHA256, Value: h})
		}
	}
	if depth < maxForwarded {
		fws, _ := obj["forwarded"].([]any)
		for _, x := range fws {
			if fw, ok := x.(map[string]any); ok {
				out = append(out, emailEntities(fw, depth+1)...)
			}
		}
	}
	return out
}

// allAddresses reads every address of a "Name <a@b>, c@d" string, an
// object {Email|email|address} or an array of either.
func allAddresses(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		if list, err := mail.ParseAddressList(x); err == nil {
			for _, a := range list {
				out = append(out, strings.ToLower(a.Address))
			}
			return out
		}
	case []any:
		for _, e := range x {
			out = append(out, allAddresses(e)...)
		}
		return out
	}
	if a := firstAddress(v); strings.Contains(a, "@") {
		out = append(out, a)
	}
	return out
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func isNonEmptyObj(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return false
}

// firstAddress reads the first address of a "Name <a@b>" string or list, an
// object {Email|email|address}, or an array of either.
func firstAddress(v any) string {
	switch x := v.(type) {
	case string:
		if list, err := mail.ParseAddressList(x); err == nil && len(list) > 0 {
			return strings.ToLower(list[0].Address)
		}
		s := strings.TrimSpace(x)
		if i := strings.IndexAny(s, ",;"); i >= 0 {
			s = strings.TrimSpace(s[:i])
		}
		return strings.Trim(s, "<>\" ")
	case map[string]any:
		return firstAddress(first(gs(x, "Email"), gs(x, "email"), gs(x, "address"), gs(x, "Address")))
	case []any:
		for _, e := range x {
			if s := firstAddress(e); s != "" {
				return s
			}
		}
	}
	return ""
}

var (
	// "[CRITICAL]", "(high)", "{P1}" anywhere, or "WARNING:" / "CRITICAL -" at the start.
	subjectTag    = regexp.MustCompile(`[\[\(\{]\s*([A-Za-z]+[0-9]?)\s*[\]\)\}]`)
	subjectPrefix = regexp.MustCompile(`^\s*([A-Za-z]+[0-9]?)\s*[:\-–]`)
	blockEnds     = regexp.MustCompile(`(?i)<br\s*/?>|</(p|div|tr|li|h[1-6]|table)\s*>|</t[dh]\s*>`)
	htmlTags      = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)\s*>|<[^>]*>`)
	blankRuns     = regexp.MustCompile(`[ \t\r\f\v]+`)
	blankLines    = regexp.MustCompile(`\n{3,}`)
)

// emailSeverity reads the first recognised severity tag of the subject.
func emailSeverity(subject string) enum.Severity {
	for _, m := range subjectTag.FindAllStringSubmatch(subject, 10) {
		if sev, ok := emailScale.lookup(m[1]); ok {
			return sev
		}
	}
	if m := subjectPrefix.FindStringSubmatch(subject); m != nil {
		if sev, ok := emailScale.lookup(m[1]); ok {
			return sev
		}
	}
	return emailScale.fallback
}

// htmlText is a crude HTML-to-text conversion for the description.
func htmlText(s string) string {
	if s == "" {
		return ""
	}
	s = blockEnds.ReplaceAllString(s, "\n")
	s = htmlTags.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(blankRuns.ReplaceAllString(l, " "))
	}
	s = blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.TrimSpace(s)
}
