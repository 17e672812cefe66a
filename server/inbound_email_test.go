package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/server"
	"github.com/seliq/seliq/storage"
)

// syncBuffer is a log sink the test reads while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// postMail posts body to an inbound email URL path and decodes the JSON answer.
func postMail(t *testing.T, env *apitest.Env, method, path, ctype string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %d: Content-Type %q, want JSON (body %s)", method, resp.StatusCode, ct, raw)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Errorf("answer is not a JSON object: %s", raw)
	}
	return resp.StatusCode, out
}

const inboundMIME = "From: Mallory <mallory@evil.test>\r\nTo: soc@provider.test\r\nSubject: [HIGH] Reset your password\r\n" +
	"Message-ID: <api-1@evil.test>\r\n\r\nReset at https://reset.evil.test/now\r\n"

// TestInboundEmailAPI: the inbound token through the API (admins only),
// mail posted to its URL in raw MIME and in Postmark's JSON, every answer
// JSON (404, 405, 413, 422 included), and the token never in the log.
func TestInboundEmailAPI(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		logs := &syncBuffer{}
		env := apitest.Start(t, db, apitest.Options{Log: logs, Configure: func(c *server.Config) {
			c.Mail.PublicURL = "https://seliq.example.test"
			c.InboundEmailMaxBytes = 64 << 10
		}})
		s := newSuite(t, env, newCoverage())
		team := &apitest.Team{Admin: s.admin, Analyst: s.analyst, Reader: s.reader}

		// Only admins rotate or read the token.
		if r := team.Analyst.Do(http.MethodPost, "/api/v1/settings/email/inbound-token", nil); r.Status != http.StatusForbidden {
			t.Errorf("analyst rotating: %d %s", r.Status, r.Raw)
		}
		if r := team.Reader.GraphQL(`{ inboundEmailURL }`, nil); r.Code() != "FORBIDDEN" {
			t.Errorf("reader reading the URL: %+v", r)
		}
		if d := s.gql(t, team.Admin, `{ inboundEmailURL }`, nil); d["inboundEmailURL"] != nil {
			t.Errorf("URL before the first rotation: %+v", d)
		}
		// GraphQL's rotation, then REST's (which the rest of the test uses).
		d := s.gql(t, team.Admin, `mutation { rotateInboundEmailToken { url connector { type name } } }`, nil)
		if tok, _ := d["rotateInboundEmailToken"].(map[string]any); tok == nil || !strings.Contains(tok["url"].(string), "/webhooks/email/inbound/sqm_") {
			t.Errorf("GraphQL rotation: %v", d)
		}
		rot := s.rest(t, team.Admin, http.MethodPost, "/api/v1/settings/email/inbound-token", nil, http.StatusOK)
		url := rot.String("url")
		const prefix = "https://seliq.example.test/webhooks/email/inbound/sqm_"
		if !strings.HasPrefix(url, prefix) {
			t.Fatalf("url %q", url)
		}
		if c, _ := rot.Body["connector"].(map[string]any); c == nil || c["type"] != "email" {
			t.Errorf("connector: %v", rot.Body["connector"])
		}
		if d := s.gql(t, team.Admin, `{ inboundEmailURL }`, nil); d["inboundEmailURL"] != url {
			t.Errorf("inboundEmailURL %v, want %s", d["inboundEmailURL"], url)
		}
		// The email settings show the same URL (read-only there).
		if got := s.rest(t, team.Admin, http.MethodGet, "/api/v1/settings/email", nil, http.StatusOK).String("inbound_url"); got != url {
			t.Errorf("settings/email inbound_url %q, want %s", got, url)
		}
		path := strings.TrimPrefix(url, "https://seliq.example.test")
		token := strings.TrimPrefix(path, "/webhooks/email/inbound/")

		status, body := postMail(t, env, http.MethodPost, path, "message/rfc822", []byte(inboundMIME))
		if status != http.StatusAccepted || body["created"] != 1.0 || body["format"] != "mime" {
			t.Errorf("raw MIME: %d %v", status, body)
		}
		// Mailgun's raw form, on the URL ending in /mime.
		var mg bytes.Buffer
		mw := multipart.NewWriter(&mg)
		_ = mw.WriteField("body-mime", strings.Replace(inboundMIME, "api-1@", "api-mg@", 1))
		_ = mw.WriteField("recipient", "soc@provider.test")
		_ = mw.Close()
		status, body = postMail(t, env, http.MethodPost, path+"/mime", mw.FormDataContentType(), mg.Bytes())
		if status != http.StatusAccepted || body["created"] != 1.0 || body["format"] != "mailgun-mime" {
			t.Errorf("Mailgun raw: %d %v", status, body)
		}
		// SendGrid's parsed form, with an attachment.
		var sg bytes.Buffer
		sw := multipart.NewWriter(&sg)
		for _, kv := range [][2]string{{"from", "Trent <trent@evil.test>"}, {"to", "soc@provider.test"}, {"subject", "Quarterly bonus"},
			{"text", "Details in the file, or at http://bonus.evil.test/q4"}, {"headers", "Message-ID: <sg-api@evil.test>\r\n"},
			{"attachments", "1"}, {"attachment-info", `{"attachment1":{"filename":"bonus.xlsm","type":"application/vnd.ms-excel.sheet.macroEnabled.12"}}`}} {
			_ = sw.WriteField(kv[0], kv[1])
		}
		fw, _ := sw.CreateFormFile("attachment1", "bonus.xlsm")
		_, _ = fw.Write([]byte("PK macro"))
		_ = sw.Close()
		status, body = postMail(t, env, http.MethodPost, path, sw.FormDataContentType(), sg.Bytes())
		if status != http.StatusAccepted || body["created"] != 1.0 || body["format"] != "sendgrid" {
			t.Errorf("SendGrid: %d %v", status, body)
		}
		pm, _ := json.Marshal(map[string]any{
			"FromFull": map[string]any{"Email": "eve@evil.test"}, "To": "soc@provider.test", "Subject": "Invoice attached",
			"TextBody": "see file", "Headers": []any{map[string]any{"Name": "Message-ID", "Value": "<pm-api@evil.test>"}},
			"Attachments": []any{map[string]any{"Name": "invoice.html", "ContentType": "text/html", "Content": base64.StdEncoding.EncodeToString([]byte("<script>"))}},
		})
		status, body = postMail(t, env, http.MethodPost, path, "application/json", pm)
		if status != http.StatusAccepted || body["created"] != 1.0 || body["format"] != "postmark" {
			t.Errorf("Postmark: %d %v", status, body)
		}
		list := team.Admin.Must(t, http.MethodGet, "/api/v1/alerts?source=email", nil, http.StatusOK).Items()
		titles := map[any]bool{}
		for _, a := range list {
			titles[a["title"]] = true
		}
		if !titles["[HIGH] Reset your password"] || !titles["Invoice attached"] || !titles["Quarterly bonus"] {
			t.Errorf("alerts: %v", titles)
		}
		for _, a := range list {
			if a["title"] != "Quarterly bonus" {
				continue
			}
			if a["severity"] != "medium" {
				t.Errorf("severity %v", a["severity"])
			}
			found := map[string]bool{}
			for _, e := range a["entities"].([]any) {
				e := e.(map[string]any)
				found[e["type"].(string)+":"+e["value"].(string)] = true
			}
			for _, want := range []string{"email:trent@evil.test", "filename:bonus.xlsm", "url:http://bonus.evil.test/q4"} {
				if !found[want] {
					t.Errorf("entity %s missing: %v", want, found)
				}
			}
		}

		for _, tt := range []struct {
			name, method, path, ctype string
			body                      []byte
			want                      int
		}{
			{"unknown token", http.MethodPost, "/webhooks/email/inbound/sqm_nope", "message/rfc822", []byte(inboundMIME), http.StatusNotFound},
			{"no token", http.MethodPost, "/webhooks/email/inbound/", "message/rfc822", []byte(inboundMIME), http.StatusNotFound},
			{"mistyped URL holding the token", http.MethodPost, "/webhooks/email//inbound/" + token, "message/rfc822", []byte(inboundMIME), http.StatusNotFound},
			{"GET", http.MethodGet, path, "", nil, http.StatusMethodNotAllowed},
			{"too large", http.MethodPost, path, "message/rfc822", []byte(inboundMIME + strings.Repeat("x", 70<<10)), http.StatusRequestEntityTooLarge},
			{"malformed", http.MethodPost, path, "message/rfc822", []byte("not mail"), http.StatusUnprocessableEntity},
			{"unsupported type", http.MethodPost, path, "text/csv", []byte("a,b"), http.StatusUnprocessableEntity},
		} {
			if status, body := postMail(t, env, tt.method, tt.path, tt.ctype, tt.body); status != tt.want || body["detail"] == nil {
				t.Errorf("%s: %d %v, want %d with a detail", tt.name, status, body, tt.want)
			}
		}

		// A rotation ends the old URL.
		team.Admin.Must(t, http.MethodPost, "/api/v1/settings/email/inbound-token", nil, http.StatusOK)
		if status, _ := postMail(t, env, http.MethodPost, path, "message/rfc822", []byte(inboundMIME)); status != http.StatusNotFound {
			t.Errorf("old URL after rotation: %d", status)
		}

		t.Run("coverage", s.checkCoverage("inbound-email"))

		log := logs.String()
		if strings.Contains(log, token) || strings.Contains(log, "sqm_") {
			t.Errorf("the token reached the log")
		}
		if !strings.Contains(log, "/webhooks/email/inbound/{url_token}") {
			t.Errorf("no access log line for the inbound URL:\n%s", log)
		}
	})
}
