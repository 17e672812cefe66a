package mailin

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/seliq/seliq/ingest/catalogue"
)

// checkParsed: a parse either fails with one of the two refusals, or gives
// a message whose document the email mapping turns into valid alerts.
func checkParsed(t *testing.T, m *Message, err error) {
	var bad *MalformedError
	var unsup *UnsupportedError
	if err != nil {
		if !errors.As(err, &bad) && !errors.As(err, &unsup) {
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
		return
	}
	doc, err := m.Document()
	if err != nil {
		t.Fatalf("document: %v", err)
	}
	if !utf8.Valid(doc) {
		t.Fatalf("document is not UTF-8")
	}
	alerts, err := catalogue.Map("email", doc)
	if err != nil {
		var un *catalogue.Unmappable
		var fe *catalogue.FieldError
		if !errors.As(err, &un) && !errors.As(err, &fe) {
			t.Fatalf("map: %v", err)
		}
		return
	}
	for _, a := range alerts {
		if a.Title == "" {
			t.Fatalf("empty title")
		}
	}
}

// FuzzInboundMIME: hostile raw messages (huge headers, broken multipart,
// deep nesting, non-UTF-8 and encoded-word headers) never panic.
func FuzzInboundMIME(f *testing.F) {
	f.Add([]byte(simpleMIME))
	f.Add(readTestdata(f, "forwarded_report.eml"))
	f.Add([]byte("From: =?ISO-8859-1?Q?Jos=E9?= <j@x.test>\r\nSubject: =?utf-8?B?w6k=?= \xff\xfe\r\n\r\nx"))
	f.Add([]byte("From: a@x.test\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: message/rfc822\r\n\r\nFrom: b@x.test\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nhi\r\n--b--\r\n--a--\r\n"))
	f.Add([]byte("Subject: =?koi8-r?B?8NLJ18XU?=\r\nContent-Type: text/plain; charset=shift_jis\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notbase64"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := ParseMIME(raw)
		checkParsed(t, m, err)
	})
}

// FuzzInboundParse: every delivery format, chosen by the first byte, with
// hostile bodies.
func FuzzInboundParse(f *testing.F) {
	sgCT, sgBody := multipartForm(f, [][2]string{{"from", "a@x.test"}, {"subject", "s"}, {"charsets", `{"subject":"iso-8859-1"}`}},
		testFile{"attachment1", "x.eml", "message/rfc822", []byte(simpleMIME)})
	_ = sgCT
	f.Add(byte(0), []byte(simpleMIME))
	f.Add(byte(1), sgBody)
	f.Add(byte(2), []byte("sender=a%40x.test&subject=hi&body-plain=x&message-headers=%5B%5B%22To%22%2C%22b%40x.test%22%5D%5D"))
	f.Add(byte(3), []byte(`{"From":"a@x.test","Subject":"s","Headers":[{"Name":"Auto-Submitted","Value":"auto-replied"}],"Attachments":[{"Name":"a.eml","Content":"RnJvbTogYkB4LnRlc3QKCmhp","ContentType":"message/rfc822"}]}`))
	boundary := sgCT[len("multipart/form-data; boundary="):]
	f.Fuzz(func(t *testing.T, kind byte, body []byte) {
		ct := [...]string{"message/rfc822", "multipart/form-data; boundary=" + boundary, "application/x-www-form-urlencoded", "application/json"}[int(kind)%4]
		m, _, err := Parse(ct, body)
		checkParsed(t, m, err)
	})
}
