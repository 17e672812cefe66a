package mailin

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// Formats a delivery can come in (Parse reports which one it read).
const (
	FormatMIME         = "mime"         // message/rfc822 body
	FormatSendGridRaw  = "sendgrid-raw" // SendGrid Inbound Parse with "POST the raw, full MIME message"
	FormatSendGrid     = "sendgrid"     // SendGrid Inbound Parse, parsed fields
	FormatMailgunMIME  = "mailgun-mime" // Mailgun route forward() to a URL ending in "mime"
	FormatMailgun      = "mailgun"      // Mailgun route forward(), parsed fields
	FormatPostmark     = "postmark"     // Postmark inbound webhook JSON
	FormatPostmarkRaw  = "postmark-raw" // the same with "include raw email content" (RawEmail)
	contentTypeRFC822  = "message/rfc822"
	contentTypeForm    = "multipart/form-data"
	contentTypeURLForm = "application/x-www-form-urlencoded"
	contentTypeJSON    = "application/json"
)

// UnsupportedError: the request's Content-Type is none Parse reads.
type UnsupportedError struct{ ContentType string }

func (e *UnsupportedError) Error() string {
	return "unsupported Content-Type " + e.ContentType + ": send message/rfc822, multipart/form-data, application/x-www-form-urlencoded or application/json"
}

// Parse reads one delivery by its Content-Type. Errors are
// *UnsupportedError or *MalformedError.
func Parse(contentType string, body []byte) (*Message, string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, "", &UnsupportedError{ContentType: contentType}
	}
	switch mt {
	case contentTypeRFC822:
		m, err := ParseMIME(body)
		return m, FormatMIME, err
	case contentTypeForm:
		f, err := readMultipartForm(body, params["boundary"])
		if err != nil {
			return nil, "", err
		}
		return parseForm(f)
	case contentTypeURLForm:
		// Mailgun posts urlencoded when the message has no attachments.
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, "", malformed("form: %v", err)
		}
		if len(vals) > maxParts {
			return nil, "", malformed("more than %d form fields", maxParts)
		}
		f := &form{fields: map[string]string{}}
		for k, v := range vals {
			f.fields[k] = v[0]
		}
		return parseForm(f)
	case contentTypeJSON:
		return parsePostmark(body)
	}
	return nil, "", &UnsupportedError{ContentType: mt}
}

// form is a posted form: the first value of each field, and the files.
type form struct {
	fields map[string]string
	files  []formFile
}

type formFile struct {
	field, name, ctype string
	data               []byte
}

func readMultipartForm(body []byte, boundary string) (*form, error) {
	if boundary == "" {
		return nil, malformed("multipart/form-data without a boundary")
	}
	f := &form{fields: map[string]string{}}
	b := newBudget()
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return nil, malformed("form: %v", err)
		}
		if err := b.part(); err != nil {
			return nil, err
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, malformed("form: %v", err)
		}
		if p.FileName() != "" {
			f.files = append(f.files, formFile{field: p.FormName(), name: p.FileName(), ctype: p.Header.Get("Content-Type"), data: data})
			continue
		}
		if _, seen := f.fields[p.FormName()]; !seen {
			f.fields[p.FormName()] = string(data)
		}
	}
}

// parseForm tells the services' forms apart by their field names.
func parseForm(f *form) (*Message, string, error) {
	has := func(k string) bool { _, ok := f.fields[k]; return ok }
	switch {
	case strings.TrimSpace(f.fields["email"]) != "":
		m, err := ParseMIME([]byte(f.fields["email"]))
		return m, FormatSendGridRaw, err
	case strings.TrimSpace(f.fields["body-mime"]) != "":
		m, err := ParseMIME([]byte(f.fields["body-mime"]))
		return m, FormatMailgunMIME, err
	case has("body-plain") || has("message-headers") || has("recipient"):
		m, err := parseMailgun(f)
		return m, FormatMailgun, err
	case has("from") || has("subject") || has("headers"):
		m, err := parseSendGrid(f)
		return m, FormatSendGrid, err
	}
	return nil, "", malformed("not an inbound email form: none of the fields email, body-mime, body-plain, from or subject")
}

// parseSendGrid reads SendGrid Inbound Parse's default (parsed) POST
// (https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/inbound-email):
// headers (the raw header block), from, to, cc, subject, text, html,
// charsets (a JSON object naming each field's character set), and the
// files attachment1…N described by attachment-info.
func parseSendGrid(f *form) (*Message, error) {
	var charsets map[string]string
	_ = json.Unmarshal([]byte(f.fields["charsets"]), &charsets) // absent or damaged: UTF-8
	field := func(k string) string { return decodeCharset([]byte(f.fields[k]), charsets[k]) }
	m := &Message{}
	if hb := f.fields["headers"]; hb != "" {
		m.readHeaders(parseHeaderBlock(hb))
	}
	if v := field("from"); v != "" {
		m.From = firstAddr(addressList(v))
	}
	if v := field("to"); v != "" {
		m.To = addressList(v)
	}
	if v := field("cc"); v != "" {
		m.Cc = addressList(v)
	}
	if v := field("subject"); v != "" {
		m.Subject = oneLine(decodeHeader(v))
	}
	var envelope struct{ From string }
	if json.Unmarshal([]byte(f.fields["envelope"]), &envelope) == nil {
		m.Sender = firstAddr(addressList(envelope.From))
	}
	b := newBudget()
	m.Text = b.keep(field("text"))
	m.HTML = b.keep(field("html"))
	var info map[string]struct{ Filename, Name, Type string }
	_ = json.Unmarshal([]byte(f.fields["attachment-info"]), &info)
	for _, file := range f.files {
		name, ctype := file.name, file.ctype
		if i, ok := info[file.field]; ok {
			name, ctype = first(i.Filename, i.Name, name), first(i.Type, ctype)
		}
		m.attach(oneLine(decodeHeader(name)), mediaType(ctype), file.data, 0, b)
	}
	return checked(m)
}

// parseMailgun reads a Mailgun route's forward() POST
// (https://documentation.mailgun.com/docs/mailgun/user-manual/receive-forward-store/receive-http):
// sender (MAIL FROM), from (the From header), recipient (RCPT TO),
// subject, body-plain, body-html, message-headers (a JSON list of
// [name, value] pairs, in order), Message-Id, and the files
// attachment-1…N.
func parseMailgun(f *form) (*Message, error) {
	m := &Message{}
	var pairs [][]string
	if json.Unmarshal([]byte(f.fields["message-headers"]), &pairs) == nil {
		h := textproto.MIMEHeader{}
		for _, p := range pairs {
			if len(p) == 2 {
				h.Add(p[0], p[1])
			}
		}
		m.readHeaders(h)
	}
	m.Sender = firstAddr(addressList(f.fields["sender"]))
	if v := f.fields["from"]; v != "" {
		m.From = firstAddr(addressList(v))
	}
	if m.From == "" {
		m.From = m.Sender
	}
	if len(m.To) == 0 {
		m.To = addressList(first(f.fields["To"], f.fields["recipient"]))
	}
	if v := f.fields["subject"]; v != "" {
		m.Subject = oneLine(decodeHeader(v))
	}
	if v := first(f.fields["Message-Id"], f.fields["message-id"]); v != "" {
		m.MessageID = cleanID(v)
	}
	if v := f.fields["Date"]; v != "" && m.Date == "" {
		m.Date = oneLine(v)
	}
	b := newBudget()
	m.Text = b.keep(decodeCharset([]byte(f.fields["body-plain"]), ""))
	m.HTML = b.keep(decodeCharset([]byte(f.fields["body-html"]), ""))
	for _, file := range f.files {
		m.attach(oneLine(decodeHeader(file.name)), mediaType(file.ctype), file.data, 0, b)
	}
	return checked(m)
}

// postmarkInbound is Postmark's inbound webhook body
// (https://postmarkapp.com/developer/webhooks/inbound-webhook). Its
// MessageID is Postmark's own id; the sender's Message-ID is among Headers.
type postmarkInbound struct {
	From        string
	FromFull    struct{ Email string }
	To          string
	ToFull      []struct{ Email string }
	Cc          string
	CcFull      []struct{ Email string }
	Subject     string
	Date        string
	MessageID   string
	TextBody    string
	HtmlBody    string
	RawEmail    string
	Headers     []struct{ Name, Value string }
	Attachments []struct {
		Name, Content, ContentType string
	}
}

func parsePostmark(body []byte) (*Message, string, error) {
	var in postmarkInbound
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, "", malformed("JSON: %v", err)
	}
	if in.RawEmail != "" {
		m, err := ParseMIME([]byte(in.RawEmail))
		return m, FormatPostmarkRaw, err
	}
	if in.From == "" && in.FromFull.Email == "" && in.Subject == "" && in.MessageID == "" {
		return nil, "", malformed("not a Postmark inbound message: no From, Subject or MessageID")
	}
	if len(in.Headers) > maxParts {
		return nil, "", malformed("more than %d headers", maxParts)
	}
	h := textproto.MIMEHeader{}
	for _, kv := range in.Headers {
		h.Add(kv.Name, kv.Value)
	}
	m := &Message{}
	m.readHeaders(h)
	m.From = first(firstAddr(addressList(in.FromFull.Email)), firstAddr(addressList(in.From)))
	m.To = addressList(in.To)
	for _, t := range in.ToFull {
		m.To = appendAddr(m.To, t.Email)
	}
	m.Cc = addressList(in.Cc)
	for _, t := range in.CcFull {
		m.Cc = appendAddr(m.Cc, t.Email)
	}
	m.Subject = oneLine(strings.ToValidUTF8(in.Subject, "\uFFFD"))
	m.Date = first(m.Date, oneLine(in.Date))
	if m.MessageID == "" {
		m.MessageID = cleanID(in.MessageID)
	}
	b := newBudget()
	m.Text = b.keep(in.TextBody)
	m.HTML = b.keep(in.HtmlBody)
	if len(in.Attachments) > maxParts {
		return nil, "", malformed("more than %d attachments", maxParts)
	}
	for i, a := range in.Attachments {
		data, err := base64.StdEncoding.DecodeString(a.Content)
		if err != nil {
			return nil, "", &MalformedError{Reason: "Attachments." + strconv.Itoa(i) + ".Content: not base64"}
		}
		m.attach(oneLine(strings.ToValidUTF8(a.Name, "\uFFFD")), mediaType(a.ContentType), data, 0, b)
	}
	m2, err := checked(m)
	return m2, FormatPostmark, err
}

// parseHeaderBlock reads a raw header block (SendGrid's headers field).
func parseHeaderBlock(s string) textproto.MIMEHeader {
	r := textproto.NewReader(bufio.NewReader(strings.NewReader(strings.TrimRight(s, "\r\n") + "\r\n\r\n")))
	h, _ := r.ReadMIMEHeader() // what parsed before a bad line is kept
	return h
}

// checked refuses a message with nothing to file.
func checked(m *Message) (*Message, error) {
	if m.From == "" && m.Subject == "" && m.MessageID == "" {
		return nil, malformed("no sender, subject or message id: not an email")
	}
	return m, nil
}

func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return mt
}
