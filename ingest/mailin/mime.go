package mailin

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// ParseMIME reads one raw RFC 5322 message (what a mail server stores, a
// .eml file, SendGrid's "send raw" email field, Mailgun's body-mime).
func ParseMIME(raw []byte) (*Message, error) {
	return parseMIME(raw, 0, newBudget())
}

func parseMIME(raw []byte, fwdDepth int, b *budget) (*Message, error) {
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, malformed("headers: %v", err)
	}
	h := textproto.MIMEHeader(msg.Header)
	m := &Message{}
	m.readHeaders(h)
	if m.From == "" && m.Subject == "" && m.MessageID == "" {
		return nil, malformed("no From, Subject or Message-ID header: not an email")
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return nil, malformed("body: %v", err)
	}
	if err := m.walk(h, body, 0, fwdDepth, b); err != nil {
		return nil, err
	}
	return m, nil
}

// readHeaders fills the header fields of m from h.
func (m *Message) readHeaders(h textproto.MIMEHeader) {
	m.From = firstAddr(addressList(h.Get("From")))
	m.To = addressList(h.Get("To"))
	m.Cc = addressList(h.Get("Cc"))
	m.Subject = oneLine(decodeHeader(h.Get("Subject")))
	m.MessageID = cleanID(h.Get("Message-Id"))
	m.Date = oneLine(decodeHeader(h.Get("Date")))
	m.AutoSubmitted = decodeHeader(h.Get("Auto-Submitted"))
	m.Precedence = decodeHeader(h.Get("Precedence"))
	m.ListID = decodeHeader(h.Get("List-Id"))
}

// walk reads one MIME entity: its text, its attachments, its sub-parts.
func (m *Message) walk(h textproto.MIMEHeader, body []byte, depth, fwdDepth int, b *budget) error {
	ctype, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if ctype == "" || (err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter)) {
		// RFC 2045 §5.2: no (or an unreadable) Content-Type is plain text.
		ctype, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(ctype, "multipart/") {
		return m.walkMultipart(params["boundary"], body, depth, fwdDepth, b)
	}
	data := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := decodeHeader(first(dparams["filename"], params["name"]))
	switch {
	case ctype == "message/rfc822" || name != "" || disp == "attachment":
		m.attach(oneLine(name), ctype, data, fwdDepth, b)
	case ctype == "text/plain":
		m.Text = joinText(m.Text, b.keep(decodeCharset(data, params["charset"])))
	case ctype == "text/html":
		m.HTML = joinText(m.HTML, b.keep(decodeCharset(data, params["charset"])))
	default:
		// An inline image or other unnamed part: still a file the mail
		// carried, so its digest is kept.
		m.attach("", ctype, data, fwdDepth, b)
	}
	return nil
}

func (m *Message) walkMultipart(boundary string, body []byte, depth, fwdDepth int, b *budget) error {
	if depth >= maxMultipartDepth {
		return malformed("multipart nested deeper than %d levels", maxMultipartDepth)
	}
	if boundary == "" {
		return malformed("multipart without a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return malformed("multipart: %v", err)
		}
		if err := b.part(); err != nil {
			return err
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return malformed("multipart: %v", err)
		}
		if err := m.walk(p.Header, data, depth+1, fwdDepth, b); err != nil {
			return err
		}
	}
}

func joinText(have, more string) string {
	if have == "" || more == "" {
		return have + more
	}
	return have + "\n" + more
}

// decodeTransfer undoes a Content-Transfer-Encoding. Damaged base64 or
// quoted-printable keeps what decoded: a sender's sloppy encoder should
// not cost the analyst the message.
func decodeTransfer(enc string, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil {
			// Retry without padding (some encoders drop it).
			if n2, err2 := base64.RawStdEncoding.Decode(out, bytes.TrimRight(clean, "=")); err2 == nil {
				n = n2
			}
		}
		return out[:n]
	case "quoted-printable":
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		return out
	}
	return body
}

// decodeCharset converts text in charset to UTF-8; an unknown charset, or
// bytes that are not valid in it, end up as valid UTF-8 with replacement
// characters, never as invalid strings.
func decodeCharset(data []byte, charset string) string {
	cs := strings.ToLower(strings.TrimSpace(charset))
	if cs != "" && cs != "utf-8" && cs != "us-ascii" && cs != "utf8" {
		if enc, err := htmlindex.Get(cs); err == nil {
			if out, err := enc.NewDecoder().Bytes(data); err == nil {
				data = out
			}
		}
	}
	if utf8.Valid(data) {
		return string(data)
	}
	return strings.ToValidUTF8(string(data), "\uFFFD")
}

// wordDecoder decodes RFC 2047 encoded words in any charset the WHATWG
// encoding index knows (ISO-8859-*, Windows-125x, Shift_JIS, GB18030, KOI8…).
var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(input), nil
}}

// decodeHeader decodes a header value's encoded words; raw 8-bit bytes that
// are not UTF-8 (an old mailer's Latin-1) become replacement characters.
func decodeHeader(v string) string {
	if len(v) > maxHeaderValue {
		v = v[:maxHeaderValue]
	}
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		v = d
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

// addrPattern finds addresses in a header the RFC 5322 parser refuses.
var addrPattern = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`)

// addressList reads the addresses of an address header, lower-case, at
// most maxAddresses.
func addressList(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	if len(v) > maxHeaderValue {
		v = v[:maxHeaderValue]
	}
	var out []string
	p := mail.AddressParser{WordDecoder: wordDecoder}
	if list, err := p.ParseList(v); err == nil {
		for _, a := range list {
			out = appendAddr(out, a.Address)
		}
		return out
	}
	for _, a := range addrPattern.FindAllString(v, maxAddresses) {
		out = appendAddr(out, a)
	}
	return out
}

func appendAddr(out []string, a string) []string {
	a = strings.ToLower(strings.TrimSpace(a))
	if a == "" || len(out) >= maxAddresses || !utf8.ValidString(a) {
		return out
	}
	for _, have := range out {
		if have == a {
			return out
		}
	}
	return append(out, a)
}

func firstAddr(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

// cleanID is a Message-ID without its angle brackets and blanks.
func cleanID(v string) string {
	v = oneLine(decodeHeader(v))
	if i := strings.IndexByte(v, '>'); i >= 0 && strings.HasPrefix(v, "<") {
		v = v[:i]
	}
	return strings.Trim(v, "<> ")
}

// oneLine folds a header value's line breaks and runs of blanks.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
