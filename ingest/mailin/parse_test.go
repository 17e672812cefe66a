package mailin

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/ingest/entities"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// formFile is a file field of a test form.
type testFile struct {
	field, name, ctype string
	data               []byte
}

// multipartForm encodes fields and files as multipart/form-data.
func multipartForm(t testing.TB, fields [][2]string, files ...testFile) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+f.field+`"; filename="`+f.name+`"`)
		h.Set("Content-Type", f.ctype)
		p, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = p.Write(f.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const simpleMIME = "From: Alice <alice@example.org>\r\nTo: soc@acme.test\r\nSubject: [HIGH] Login from 203.0.113.7\r\n" +
	"Message-ID: <simple-1@example.org>\r\n\r\nSee http://phish.example.com/x from 203.0.113.7\r\n"

// TestParseFormats: each delivery format is read into the same fields.
func TestParseFormats(t *testing.T) {
	zip := []byte("PK\x03\x04 zipped")
	sgCT, sgBody := multipartForm(t, [][2]string{
		{"headers", "Message-ID: <sg-1@example.org>\r\nDate: Tue, 02 Dec 2026 10:00:00 +0000\r\nFrom: x@example.org"},
		{"from", "Bob <Bob@Example.org>"}, {"to", "soc@acme.test, other@acme.test"}, {"cc", "boss@acme.test"},
		{"subject", "Facture impay\xe9e"}, {"text", "Pay at https://pay.example.net now"},
		{"charsets", `{"subject":"iso-8859-1","text":"utf-8"}`},
		{"envelope", `{"to":["soc@acme.test"],"from":"bounce@example.org"}`},
		{"attachments", "1"}, {"attachment-info", `{"attachment1":{"filename":"invoice.zip","type":"application/zip"}}`},
	}, testFile{"attachment1", "invoice.zip", "application/zip", zip})
	sgRawCT, sgRawBody := multipartForm(t, [][2]string{{"email", simpleMIME}, {"to", "soc@acme.test"}})
	mgForm := url.Values{
		"sender": {"bounce@example.org"}, "from": {"Carol <carol@example.org>"}, "recipient": {"soc@acme.test"},
		"subject": {"Suspicious"}, "body-plain": {"Look at 198.51.100.9"}, "Message-Id": {"<mg-1@example.org>"},
		"message-headers": {`[["To","soc@acme.test, two@acme.test"],["Message-Id","<mg-1@example.org>"],["Date","Tue, 02 Dec 2026 10:00:00 +0000"]]`},
	}
	mgCT, mgBody := multipartForm(t, [][2]string{
		{"sender", "carol@example.org"}, {"recipient", "soc@acme.test"}, {"subject", "With file"},
		{"body-plain", "see attached"}, {"Message-Id", "<mg-2@example.org>"}, {"attachment-count", "1"},
	}, testFile{"attachment-1", "report.pdf", "application/pdf", []byte("%PDF-1.7")})
	mgMimeCT, mgMimeBody := multipartForm(t, [][2]string{{"body-mime", simpleMIME}, {"recipient", "soc@acme.test"}})
	pm, _ := json.Marshal(map[string]any{
		"From": "dave@example.org", "FromFull": map[string]any{"Email": "Dave@Example.org", "Name": "Dave"},
		"To": "soc@acme.test", "ToFull": []any{map[string]any{"Email": "soc@acme.test"}},
		"CcFull":  []any{map[string]any{"Email": "cc@acme.test"}},
		"Subject": "Postmark one", "MessageID": "pm-internal-uuid", "TextBody": "go to https://pm.example.com",
		"Date":        "Tue, 02 Dec 2026 10:00:00 +0000",
		"Headers":     []any{map[string]any{"Name": "Message-ID", "Value": "<pm-1@example.org>"}},
		"Attachments": []any{map[string]any{"Name": "a.txt", "Content": base64.StdEncoding.EncodeToString([]byte("hello")), "ContentType": "text/plain"}},
	})
	pmNoHeader, _ := json.Marshal(map[string]any{"From": "dave@example.org", "Subject": "no header id", "MessageID": "pm-2"})

	tests := []struct {
		name, ctype string
		body        []byte
		format      string
		want        Message
	}{
		{"raw MIME", "message/rfc822", []byte(simpleMIME), FormatMIME, Message{
			From: "alice@example.org", To: []string{"soc@acme.test"}, Subject: "[HIGH] Login from 203.0.113.7", MessageID: "simple-1@example.org",
			Text: "See http://phish.example.com/x from 203.0.113.7\r\n"}},
		{"SendGrid parsed", sgCT, sgBody, FormatSendGrid, Message{
			From: "bob@example.org", Sender: "bounce@example.org", To: []string{"soc@acme.test", "other@acme.test"}, Cc: []string{"boss@acme.test"},
			Subject: "Facture impayée", MessageID: "sg-1@example.org", Date: "Tue, 02 Dec 2026 10:00:00 +0000",
			Text:        "Pay at https://pay.example.net now",
			Attachments: []Attachment{{Name: "invoice.zip", ContentType: "application/zip", Size: len(zip), SHA256: sha(zip)}}}},
		{"SendGrid raw", sgRawCT, sgRawBody, FormatSendGridRaw, Message{
			From: "alice@example.org", To: []string{"soc@acme.test"}, Subject: "[HIGH] Login from 203.0.113.7", MessageID: "simple-1@example.org",
			Text: "See http://phish.example.com/x from 203.0.113.7\r\n"}},
		{"Mailgun urlencoded", "application/x-www-form-urlencoded", []byte(mgForm.Encode()), FormatMailgun, Message{
			From: "carol@example.org", Sender: "bounce@example.org", To: []string{"soc@acme.test", "two@acme.test"},
			Subject: "Suspicious", MessageID: "mg-1@example.org", Date: "Tue, 02 Dec 2026 10:00:00 +0000", Text: "Look at 198.51.100.9"}},
		{"Mailgun multipart", mgCT, mgBody, FormatMailgun, Message{
			From: "carol@example.org", Sender: "carol@example.org", To: []string{"soc@acme.test"}, Subject: "With file", MessageID: "mg-2@example.org",
			Text:        "see attached",
			Attachments: []Attachment{{Name: "report.pdf", ContentType: "application/pdf", Size: 8, SHA256: sha([]byte("%PDF-1.7"))}}}},
		{"Mailgun raw MIME", mgMimeCT, mgMimeBody, FormatMailgunMIME, Message{
			From: "alice@example.org", To: []string{"soc@acme.test"}, Subject: "[HIGH] Login from 203.0.113.7", MessageID: "simple-1@example.org",
			Text: "See http://phish.example.com/x from 203.0.113.7\r\n"}},
		{"Postmark", "application/json", pm, FormatPostmark, Message{
			From: "dave@example.org", To: []string{"soc@acme.test"}, Cc: []string{"cc@acme.test"}, Subject: "Postmark one",
			MessageID: "pm-1@example.org", Date: "Tue, 02 Dec 2026 10:00:00 +0000", Text: "go to https://pm.example.com",
			Attachments: []Attachment{{Name: "a.txt", ContentType: "text/plain", Size: 5, SHA256: sha([]byte("hello"))}}}},
		{"Postmark without Message-ID header", "application/json; charset=utf-8", pmNoHeader, FormatPostmark, Message{
			From: "dave@example.org", Subject: "no header id", MessageID: "pm-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, format, err := Parse(tt.ctype, tt.body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if format != tt.format {
				t.Errorf("format %q, want %q", format, tt.format)
			}
			got, _ := json.MarshalIndent(m, "", " ")
			want, _ := json.MarshalIndent(&tt.want, "", " ")
			if string(got) != string(want) {
				t.Errorf("message:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestForwardedReport: a report forwarding the phishing mail as an .eml
// attachment is unwrapped, encoded headers in Latin-1 decoded, and the
// mapping files every address, attachment and the bodies' indicators.
func TestForwardedReport(t *testing.T) {
	raw := readTestdata(t, "forwarded_report.eml")
	m, err := ParseMIME(raw)
	if err != nil {
		t.Fatal(err)
	}
	if m.From != "jose@acme.test" || m.Subject != "Fwd: facture impayée" || m.MessageID != "report-42@acme.test" {
		t.Errorf("headers: from %q subject %q id %q", m.From, m.Subject, m.MessageID)
	}
	if !strings.Contains(m.Text, "paraît suspect") {
		t.Errorf("text not decoded from quoted-printable Latin-1: %q", m.Text)
	}
	if len(m.Forwarded) != 1 || m.Forwarded[0].Subject != "Your salary slip" || m.Forwarded[0].From != "payroll@evil-payroll.example" {
		t.Fatalf("forwarded: %+v", m.Forwarded)
	}
	if got := len(m.Forwarded[0].Attachments); got != 1 || m.Forwarded[0].Attachments[0].Name != "slip.exe" {
		t.Errorf("forwarded attachments: %+v", m.Forwarded[0].Attachments)
	}
	doc, err := m.Document()
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := catalogue.Map("email", doc)
	if err != nil || len(alerts) != 1 {
		t.Fatalf("map: %v %v", alerts, err)
	}
	a := alerts[0]
	if a.Title != "Fwd: facture impayée" || a.ExternalID != "report-42@acme.test" || a.Attributes["email_from"] != "jose@acme.test" ||
		a.Attributes["file_name"] != "invoice.zip" {
		t.Errorf("alert: %+v", a)
	}
	got := entities.ExtractAlert(a.Attributes, doc, a.Title, a.Description)
	got = entities.Merge(a.Entities, got)
	want := []entities.Entity{
		{Type: entities.Email, Value: "second@acme.test"}, {Type: entities.Email, Value: "manager@acme.test"},
		{Type: entities.FileName, Value: "invoice.zip"}, {Type: entities.FileName, Value: "original.eml"},
		{Type: entities.FileName, Value: "slip.exe"}, {Type: entities.Email, Value: "payroll@evil-payroll.example"},
		{Type: entities.URL, Value: "http://bad.example.net/pay"}, {Type: entities.URL, Value: "https://evil-payroll.example/slip?id=7"},
		{Type: entities.IPv4, Value: "198.51.100.23"},
		{Type: entities.SHA256, Value: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		{Type: entities.SHA256, Value: m.Attachments[0].SHA256}, {Type: entities.SHA256, Value: m.Forwarded[0].Attachments[0].SHA256},
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("entity %v missing from %v", w, got)
		}
	}
}

// TestDocumentMessageID: without a Message-ID the document carries one
// derived from its content: equal for a redelivery, different otherwise.
func TestDocumentMessageID(t *testing.T) {
	id := func(raw string) string {
		m, err := ParseMIME([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := m.Document()
		var d map[string]any
		_ = json.Unmarshal(doc, &d)
		return d["message_id"].(string)
	}
	a := "From: a@example.org\r\nSubject: one\r\n\r\nbody"
	b := "From: a@example.org\r\nSubject: two\r\n\r\nbody"
	first, again, other := id(a), id(a), id(b)
	if first != again || first == other || !strings.HasPrefix(first, "sha256:") {
		t.Errorf("derived ids: %q, again %q, other %q", first, again, other)
	}
}

// TestAutomated: the loop guard's reading of the headers.
func TestAutomated(t *testing.T) {
	tests := []struct{ headers, want string }{
		{"", ""},
		{"Auto-Submitted: no\r\n", ""},
		{"Auto-Submitted: auto-replied\r\n", "Auto-Submitted: auto-replied"},
		{"Auto-Submitted: Auto-Generated; owner-email=x@y\r\n", "Auto-Submitted: auto-generated"},
		{"Precedence: bulk\r\n", "Precedence: bulk"},
		{"Precedence: LIST\r\n", "Precedence: list"},
		{"Precedence: junk\r\n", "Precedence: junk"},
		{"Precedence: first-class\r\n", ""},
	}
	for _, tt := range tests {
		m, err := ParseMIME([]byte("From: a@example.org\r\nSubject: s\r\n" + tt.headers + "\r\nbody"))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Automated(); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.headers, got, tt.want)
		}
	}
}

// TestParseRefuses: what is not an email is MalformedError (422, dead
// letter), a Content-Type none of the formats use UnsupportedError.
func TestParseRefuses(t *testing.T) {
	deep := "From: a@example.org\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
	for i := 0; i < maxMultipartDepth+1; i++ {
		deep += "--b" + itoa(i) + "\r\nContent-Type: multipart/mixed; boundary=b" + itoa(i+1) + "\r\n\r\n"
	}
	badForm, badFormBody := multipartForm(t, [][2]string{{"nothing", "here"}})
	tests := []struct {
		name, ctype, body string
		unsupported       bool
	}{
		{"no headers", "message/rfc822", "just some words", false},
		{"headers but no email fields", "message/rfc822", "X-Thing: 1\r\n\r\nbody", false},
		{"multipart without boundary", "message/rfc822", "From: a@example.org\r\nContent-Type: multipart/mixed\r\n\r\nx", false},
		{"broken multipart", "message/rfc822", "From: a@example.org\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\nno parts here", false},
		{"nested too deep", "message/rfc822", deep, false},
		{"form with no email fields", badForm, string(badFormBody), false},
		{"JSON that is not Postmark's", "application/json", `{"hello": "world"}`, false},
		{"not JSON", "application/json", `{"From":`, false},
		{"Postmark attachment not base64", "application/json", `{"From":"a@example.org","Attachments":[{"Name":"x","Content":"!!"}]}`, false},
		{"text/plain", "text/plain", "From: a@example.org\r\n\r\nx", true},
		{"no Content-Type", "", "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse(tt.ctype, []byte(tt.body))
			var bad *MalformedError
			var unsup *UnsupportedError
			switch {
			case tt.unsupported && !errors.As(err, &unsup):
				t.Errorf("err %v, want UnsupportedError", err)
			case !tt.unsupported && !errors.As(err, &bad):
				t.Errorf("err %v, want MalformedError", err)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
