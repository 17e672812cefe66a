package mail_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/setting"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/internal/smtpfake"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/mail"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/storage"
)

const publicURL = "https://seliq.example.test"

// loopbackPolicy lets the service reach the fake SMTP servers.
var loopbackPolicy = outbound.Fixed{Policy: outbound.NewPolicy(netip.MustParsePrefix("127.0.0.0/8"))}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// boxes keeps one secrets box per database, as a server keeps one key.
var boxes sync.Map

func newService(t *testing.T, db *storage.DB, fake *smtpfake.Server) *mail.Service {
	srv := mail.Server{PublicURL: publicURL}
	if fake != nil {
		srv.RootCAs = fake.CertPool
	}
	box, _ := boxes.LoadOrStore(db, testenv.Box(t))
	return mail.New(db.Client, box.(*secrets.Box), loopbackPolicy, srv, quiet())
}

func ptr[T any](v T) *T { return &v }

// configure points the organisation at fake.
func configure(t *testing.T, ctx context.Context, svc *mail.Service, fake *smtpfake.Server, mode enum.SMTPSecurity) {
	t.Helper()
	in := mail.UpdateInput{SMTPHost: ptr(fake.Host), SMTPPort: ptr(fake.Port), SMTPTLS: ptr(mode),
		FromAddress: ptr("soc@seliq.example.test"), SMTPUsername: ptr(fake.Username()), SMTPPassword: ptr(fake.Password())}
	if _, err := svc.Update(ctx, in); err != nil {
		t.Fatalf("configure: %v", err)
	}
}

func badInput(t *testing.T, err error, field string) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.BadInput || ae.Field != field {
		t.Fatalf("got %v, want a bad input on %s", err, field)
	}
}

func TestSettings(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db)
		admin, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
		analyst, _ := testenv.UserContext(t, db, org, enum.RoleAnalyst)
		svc := newService(t, db, nil)

		got, err := svc.Get(admin)
		if err != nil || got.Source != mail.SourceNone || got.SMTPHost != "" {
			t.Fatalf("fresh settings %+v, %v; want none", got, err)
		}
		got, err = svc.Update(admin, mail.UpdateInput{SMTPHost: ptr(" SMTP.Example.com "), SMTPUsername: ptr("soc"),
			SMTPPassword: ptr("hunter2-secret"), FromAddress: ptr("soc@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		want := mail.Settings{SMTPHost: "smtp.example.com", SMTPPort: 587, SMTPTLS: enum.SMTPSecurityStarttls, SMTPUsername: "soc",
			SMTPPasswordSet: true, FromAddress: "soc@example.com", Source: mail.SourceOrganization}
		if *got != want {
			t.Fatalf("settings %+v, want %+v", *got, want)
		}
		// Sealed at rest: the row never holds the password in clear.
		row, err := db.Client.Setting.Query().Where(setting.Key("email"), setting.OrganizationID(org.ID)).Only(admin)
		if err != nil {
			t.Fatal(err)
		}
		if sealed, _ := row.Value["smtpPassword"].(string); sealed == "" || strings.Contains(sealed, "hunter2") {
			t.Fatalf("stored password %q is not sealed", sealed)
		}

		for _, c := range []struct {
			name  string
			in    mail.UpdateInput
			field string
		}{
			{"host change without the password", mail.UpdateInput{SMTPHost: ptr("smtp2.example.com")}, "smtp_password"},
			{"no encryption to a remote host", mail.UpdateInput{SMTPTLS: ptr(enum.SMTPSecurityNone)}, "smtp_tls"},
			{"metadata address", mail.UpdateInput{SMTPHost: ptr("169.254.169.254"), SMTPPassword: ptr("x")}, "smtp_host"},
			{"loopback without an allowance", mail.UpdateInput{SMTPHost: ptr("10.0.0.1"), SMTPPassword: ptr("x")}, "smtp_host"},
			{"URL instead of a host", mail.UpdateInput{SMTPHost: ptr("smtp://x.example.com/"), SMTPPassword: ptr("x")}, "smtp_host"},
			{"port out of range", mail.UpdateInput{SMTPPort: ptr(70000)}, "smtp_port"},
			{"unknown TLS mode", mail.UpdateInput{SMTPTLS: ptr(enum.SMTPSecurity("ssl3"))}, "smtp_tls"},
			{"sender with a header break", mail.UpdateInput{FromAddress: ptr("a@example.com\r\nBcc: x@example.com")}, "from_address"},
		} {
			_, err := svc.Update(admin, c.in)
			if c.name == "loopback without an allowance" {
				// The test policy allows 127/8 only: a private address is refused.
				badInput(t, err, c.field)
				continue
			}
			badInput(t, err, c.field)
		}
		// Nothing of the refused patches was written.
		if got, _ := svc.Get(admin); *got != want {
			t.Fatalf("after refusals %+v, want %+v", *got, want)
		}
		// With the password again, the host may change; none is fine on loopback.
		if _, err := svc.Update(admin, mail.UpdateInput{SMTPHost: ptr("127.0.0.1"), SMTPTLS: ptr(enum.SMTPSecurityNone), SMTPPassword: ptr("other")}); err != nil {
			t.Fatalf("host change with the password: %v", err)
		}

		// Administrators only; another organisation sees its own.
		var ae *apperr.Error
		if _, err := svc.Get(analyst); !errors.As(err, &ae) || ae.Code != apperr.Forbidden {
			t.Fatalf("analyst read the settings: %v", err)
		}
		if _, err := svc.Update(analyst, mail.UpdateInput{SMTPPort: ptr(25)}); !errors.As(err, &ae) || ae.Code != apperr.Forbidden {
			t.Fatalf("analyst changed the settings: %v", err)
		}
		other := testenv.Org(t, db)
		otherAdmin, _ := testenv.UserContext(t, db, other, enum.RoleAdmin)
		if got, err := svc.Get(otherAdmin); err != nil || got.Source != mail.SourceNone {
			t.Fatalf("another organisation sees %+v, %v", got, err)
		}

		// Audited, the password as a change without its value.
		acts, err := db.Client.Activity.Query().All(admin)
		if err != nil {
			t.Fatal(err)
		}
		var host, password bool
		for _, a := range acts {
			if a.EntityType != "email_settings" {
				continue
			}
			host = host || a.Field == "smtpHost"
			if a.Field == "smtpPassword" {
				password = true
				if strings.Contains(fmtAny(a.Before)+fmtAny(a.After), "hunter2") {
					t.Fatalf("the activity log holds the password: %+v", a)
				}
			}
		}
		if !host || !password {
			t.Fatalf("activity log misses the changes (host %v, password %v)", host, password)
		}
	})
}

func fmtAny(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// The test message reports what the server answered, in words.
func TestSendTest(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db)
		admin, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
		starttls := smtpfake.Start(t, smtpfake.Options{Mode: smtpfake.StartTLS, Username: "soc", Password: "right"})
		implicit := smtpfake.Start(t, smtpfake.Options{Mode: smtpfake.TLS})
		plain := smtpfake.Start(t, smtpfake.Options{Mode: smtpfake.Plain})
		down := smtpfake.Reserve(t, smtpfake.Options{})
		for _, c := range []struct {
			name     string
			fake     *smtpfake.Server
			mode     enum.SMTPSecurity
			password string // overrides the right one
			trust    bool
			ok       bool
			says     string
		}{
			{"STARTTLS, self-signed certificate trusted", starttls, enum.SMTPSecurityStarttls, "", true, true, "accepted"},
			{"wrong password", starttls, enum.SMTPSecurityStarttls, "wrong", true, false, "authentication failed"},
			{"certificate not trusted", starttls, enum.SMTPSecurityStarttls, "", false, false, "TLS error"},
			{"implicit TLS", implicit, enum.SMTPSecurityTls, "", true, true, "accepted"},
			{"STARTTLS demanded of a server without it", plain, enum.SMTPSecurityStarttls, "", true, false, "STARTTLS"},
			{"no encryption on loopback", plain, enum.SMTPSecurityNone, "", true, true, "accepted"},
			{"server down", down, enum.SMTPSecurityStarttls, "", true, false, "connection refused"},
		} {
			t.Run(c.name, func(t *testing.T) {
				var svc *mail.Service
				if c.trust {
					svc = newService(t, db, c.fake)
				} else {
					svc = newService(t, db, nil)
				}
				configure(t, admin, svc, c.fake, c.mode)
				if c.password != "" {
					if _, err := svc.Update(admin, mail.UpdateInput{SMTPPassword: ptr(c.password)}); err != nil {
						t.Fatal(err)
					}
				}
				before := len(c.fake.Messages())
				res, err := svc.SendTest(admin, "analyst@example.com")
				if err != nil {
					t.Fatal(err)
				}
				if res.OK != c.ok || !strings.Contains(res.Message, c.says) {
					t.Fatalf("result %+v, want ok=%v saying %q", res, c.ok, c.says)
				}
				if got := len(c.fake.Messages()) - before; (got == 1) != c.ok {
					t.Fatalf("%d messages received, ok=%v", got, c.ok)
				}
			})
		}
		_, err := newService(t, db, nil).SendTest(admin, "not an address")
		badInput(t, err, "to")
	})
}

// startWorker runs the email worker on db until the test ends.
func startWorker(t *testing.T, db *storage.DB, svc *mail.Service) {
	t.Helper()
	ws := river.NewWorkers()
	river.AddWorker(ws, svc.Worker())
	r, err := jobs.New(db, jobs.Config{Workers: ws, Logger: quiet(), RetryPolicy: testenv.RetryAfter(100 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.Stop(ctx)
	})
}

// A message queued while the SMTP server is down is retried and delivered
// once it is up: once, with the Message-ID it was queued with, its
// outside text defused in both bodies.
func TestDeliveryRetriesUntilTheServerIsUp(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db)
		admin, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
		fake := smtpfake.Reserve(t, smtpfake.Options{Mode: smtpfake.StartTLS, Username: "soc", Password: "pw"})
		svc := newService(t, db, fake)
		configure(t, admin, svc, fake, enum.SMTPSecurityStarttls)

		hostile := `Invoice <b>overdue</b> <a href="https://evil.example/pay">pay now</a> http://phish.example.com/login <script>alert(1)</script>`
		id := uuid.New()
		job := mail.Job{OrganizationID: org.ID, MessageID: "notification." + id.String(), To: "analyst@example.com",
			Content: mail.Content{Heading: "A critical alert arrived", Quoted: hostile, QuotedFrom: "the alert's source", Link: "/api/v1/alerts/" + id.String()}}
		if err := storage.InTx(admin, db.Client, func(tx *ent.Tx) error { return mail.Enqueue(admin, tx.Client(), job) }); err != nil {
			t.Fatal(err)
		}
		startWorker(t, db, svc)
		// Attempts fail while the server is down...
		testenv.Eventually(t, 20*time.Second, "a failed attempt", func() bool { return attempts(t, db) >= 2 })
		if n := len(fake.Messages()); n != 0 {
			t.Fatalf("%d messages while down", n)
		}
		// ...and the retry after it comes up delivers the message.
		fake.Up()
		testenv.Eventually(t, 20*time.Second, "the message delivered", func() bool { return len(fake.Messages()) > 0 })
		testenv.Eventually(t, 20*time.Second, "the job completed", func() bool { return state(t, db) == rivertype.JobStateCompleted })
		msgs := fake.Messages()
		if len(msgs) != 1 {
			t.Fatalf("%d messages delivered, want 1", len(msgs))
		}
		m, err := msgs[0].Parsed()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := m.Header.Get("Message-Id"), "<notification."+id.String()+"@seliq.example.test>"; got != want {
			t.Fatalf("Message-ID %q, want %q", got, want)
		}
		if got := m.Header.Get("Subject"); got != "[Seliq] A critical alert arrived" {
			t.Fatalf("subject %q", got)
		}
		if m.Header.Get("Auto-Submitted") != "auto-generated" || msgs[0].From != "soc@seliq.example.test" || msgs[0].To[0] != "analyst@example.com" {
			t.Fatalf("envelope %s → %v, headers %v", msgs[0].From, msgs[0].To, m.Header)
		}
		text, html := bodies(t, m.Header.Get("Content-Type"), m.Body)
		link := publicURL + "/api/v1/alerts/" + id.String()
		if !strings.Contains(text, "Unverified text from the alert's source") || !strings.Contains(text, "Open in Seliq: "+link) {
			t.Fatalf("text body lacks the label or link:\n%s", text)
		}
		if !strings.Contains(html, `<a href="`+link+`">`) || !strings.Contains(html, "Unverified text from the alert&#39;s source") {
			t.Fatalf("HTML body lacks the label or link:\n%s", html)
		}
		// Markup is inert in the text body; links are defused in both.
		for _, body := range []string{strings.ReplaceAll(text, link, ""), strings.ReplaceAll(html, link, "")} {
			for _, bad := range []string{`href="https://evil`, "https://", "http://", "phish.example.com", "evil.example"} {
				if strings.Contains(body, bad) {
					t.Fatalf("hostile text %q came through:\n%s", bad, body)
				}
			}
		}
		for _, bad := range []string{"<script", "<b>", "<a href=\"hxxp"} {
			if strings.Contains(html, bad) {
				t.Fatalf("hostile markup %q came through:\n%s", bad, html)
			}
		}
		for _, want := range []string{"hxxp[://]phish[.]example[.]com/login", "&lt;script&gt;"} {
			if !strings.Contains(html, want) {
				t.Fatalf("HTML body lacks the defused %q:\n%s", want, html)
			}
		}
		if !strings.Contains(text, "hxxp[://]phish[.]example[.]com/login") {
			t.Fatalf("text body lacks the defused URL:\n%s", text)
		}
	})
}

// bodies reads the text and HTML parts of a multipart/alternative message.
func bodies(t *testing.T, contentType string, body io.Reader) (text, html string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("content type %q: %v", contentType, err)
	}
	r := multipart.NewReader(body, params["boundary"])
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return text, html
		}
		if err != nil {
			t.Fatal(err)
		}
		data := decode(t, p)
		switch {
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain"):
			text = data
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/html"):
			html = data
		}
	}
}

// Without any SMTP server email is off: the message is dropped, not
// retried for days.
func TestNoServerCancels(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db)
		admin, _ := testenv.UserContext(t, db, org, enum.RoleAdmin)
		svc := newService(t, db, nil)
		job := mail.Job{OrganizationID: org.ID, MessageID: "notification." + uuid.NewString(), To: "a@example.com", Content: mail.Content{Heading: "h"}}
		if err := storage.InTx(admin, db.Client, func(tx *ent.Tx) error { return mail.Enqueue(admin, tx.Client(), job) }); err != nil {
			t.Fatal(err)
		}
		startWorker(t, db, svc)
		testenv.Eventually(t, 20*time.Second, "the job cancelled", func() bool { return state(t, db) == rivertype.JobStateCancelled })
		if n := attempts(t, db); n != 1 {
			t.Fatalf("%d attempts, want 1", n)
		}
	})
}
