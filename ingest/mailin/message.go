// Package mailin reads inbound email as mail services deliver it — raw MIME
// (message/rfc822), SendGrid Inbound Parse, Mailgun routes and Postmark's
// inbound webhook — into one Message, and turns that Message into the JSON
// document the email connector type of ingest/catalogue maps to an alert.
// Receiver runs the rest: the connector selected by the URL token, limits,
// the loop guard, dead letters for malformed mail, then ingest.
//
// Parsing is bounded: multipart nesting, forwarded-message depth, the
// number of parts and attachments, and the text kept are all capped, and
// attachments are hashed, never unpacked (an archive is one opaque file),
// so hostile input costs at most the bytes that were posted.
package mailin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on one delivery's work.
const (
	maxMultipartDepth = 10        // nested multipart levels
	maxForwardDepth   = 3         // message/rfc822 parts unwrapped inside each other
	maxForwarded      = 20        // forwarded messages unwrapped per delivery (the rest stay attachments)
	maxParts          = 500       // MIME parts (or form fields) in the whole delivery
	maxAttachments    = 100       // attachments listed per message
	maxTextBytes      = 512 << 10 // text and HTML kept per delivery, all messages together
	maxHeaderValue    = 8 << 10   // one decoded header value
	maxAddresses      = 100       // recipients kept per header
)

// Attachment is one attached file: its name and digest, not its content.
type Attachment struct {
	Name        string `json:"filename"`
	ContentType string `json:"content_type,omitempty"`
	Size        int    `json:"size"`
	SHA256      string `json:"sha256"`
}

// Message is one email, whichever way it was delivered.
type Message struct {
	From        string // the From address, lower-case
	Sender      string // the envelope sender (MAIL FROM) when the service reports it
	To          []string
	Cc          []string
	Subject     string
	MessageID   string // without angle brackets
	Date        string
	Text        string
	HTML        string
	Attachments []Attachment
	// Forwarded are the messages attached as message/rfc822 (a user
	// forwarding a phishing mail "as attachment"), unwrapped.
	Forwarded []*Message
	// The loop guard's headers.
	AutoSubmitted string
	Precedence    string
	ListID        string
}

// MalformedError: the delivery is not an email Seliq can read (HTTP 422,
// the payload kept as a dead letter).
type MalformedError struct{ Reason string }

func (e *MalformedError) Error() string { return "malformed email: " + e.Reason }

// malformed builds the refusal; its reason may quote the hostile input
// (a parser's error), so it is made printable and short.
func malformed(format string, a ...any) error {
	r := strings.Map(func(c rune) rune {
		if c == utf8.RuneError || unicode.IsControl(c) {
			return '?'
		}
		return c
	}, strings.ToValidUTF8(fmt.Sprintf(format, a...), "?"))
	if len(r) > maxReason {
		r = strings.ToValidUTF8(r[:maxReason], "") + "…"
	}
	return &MalformedError{Reason: r}
}

const maxReason = 300

// Automated says why the message must not become an alert because a
// machine sent it (RFC 3834 Auto-Submitted other than "no", or a bulk or
// list Precedence), or "" when a person did. Answering or filing
// auto-replies and list traffic is how mail loops start.
func (m *Message) Automated() string {
	as := strings.ToLower(strings.TrimSpace(m.AutoSubmitted))
	if i := strings.IndexByte(as, ';'); i >= 0 {
		as = strings.TrimSpace(as[:i])
	}
	if as != "" && as != "no" {
		return "Auto-Submitted: " + as
	}
	switch p := strings.ToLower(strings.TrimSpace(m.Precedence)); p {
	case "bulk", "list", "junk":
		return "Precedence: " + p
	}
	return ""
}

// Document is the JSON object the email connector type maps (see
// catalogue's email type): the fields it reads by name (from, to, subject,
// text, html, message_id, date) and the rest — cc, attachments, forwarded
// messages — for its attachment entities and for entity extraction over
// the whole document. A message without a Message-ID gets a stable one
// derived from its content, so a redelivery still deduplicates.
func (m *Message) Document() ([]byte, error) {
	doc := m.doc()
	if m.MessageID == "" {
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		doc["message_id"] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return json.Marshal(doc)
}

func (m *Message) doc() map[string]any {
	d := map[string]any{
		"from":    m.From,
		"to":      nonNil(m.To),
		"subject": m.Subject,
	}
	setNonEmpty(d, "sender", m.Sender)
	setNonEmpty(d, "message_id", m.MessageID)
	setNonEmpty(d, "date", m.Date)
	setNonEmpty(d, "text", m.Text)
	if m.Text == "" {
		// The mapping reads html only without text; storing both would
		// double the alert's raw document for nothing.
		setNonEmpty(d, "html", m.HTML)
	}
	if len(m.Cc) > 0 {
		d["cc"] = m.Cc
	}
	if len(m.Attachments) > 0 {
		d["attachments"] = m.Attachments
	}
	if len(m.Forwarded) > 0 {
		fw := make([]map[string]any, len(m.Forwarded))
		for i, f := range m.Forwarded {
			fw[i] = f.doc()
		}
		d["forwarded"] = fw
	}
	return d
}

func setNonEmpty(d map[string]any, k, v string) {
	if v != "" {
		d[k] = v
	}
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// budget is what is left of one delivery's bounds.
type budget struct {
	parts     int
	text      int
	forwarded int
}

func newBudget() *budget {
	return &budget{parts: maxParts, text: maxTextBytes, forwarded: maxForwarded}
}

// part counts one MIME part or form field.
func (b *budget) part() error {
	b.parts--
	if b.parts < 0 {
		return malformed("more than %d parts", maxParts)
	}
	return nil
}

// keep returns as much of s as the text budget still allows.
func (b *budget) keep(s string) string {
	if len(s) > b.text {
		s = strings.ToValidUTF8(s[:b.text], "")
	}
	b.text -= len(s)
	return s
}

// attach records an attached file on m; a message/rfc822 file (or a .eml
// one) is also unwrapped as a forwarded message while depth allows. A
// forwarded message that does not parse stays an attachment: the mail
// around it is still good.
func (m *Message) attach(name, ctype string, data []byte, fwdDepth int, b *budget) {
	if len(m.Attachments) < maxAttachments {
		sum := sha256.Sum256(data)
		m.Attachments = append(m.Attachments, Attachment{Name: name, ContentType: ctype, Size: len(data), SHA256: hex.EncodeToString(sum[:])})
	}
	isMail := strings.EqualFold(ctype, "message/rfc822") || strings.HasSuffix(strings.ToLower(name), ".eml")
	if isMail && fwdDepth < maxForwardDepth && b.forwarded > 0 {
		b.forwarded--
		if fm, err := parseMIME(data, fwdDepth+1, b); err == nil {
			m.Forwarded = append(m.Forwarded, fm)
		}
	}
}
