package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	gomail "github.com/wneessen/go-mail"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/outbound"
)

// MaxAttachment is the largest report attached to a message; most mail
// servers refuse messages over 10 to 25 MB, and base64 adds a third.
const MaxAttachment = 5 << 20

// sendTimeout bounds one SMTP exchange, connection included.
const sendTimeout = 30 * time.Second

// errNotConfigured cancels a job while neither the organisation nor the
// server has an SMTP server: email is off for it.
var errNotConfigured = errors.New("mail: no SMTP server configured for the organisation or the server")

// build turns a job into a go-mail message.
func (s *Service) build(cfg smtpConfig, j Job) (*gomail.Msg, error) {
	subject, text, html, err := render(j.Content, s.server.PublicURL)
	if err != nil {
		return nil, err
	}
	m := gomail.NewMsg()
	if err := m.From(cfg.From); err != nil {
		return nil, fmt.Errorf("from address %q: %w", cfg.From, err)
	}
	if err := m.To(j.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", j.To, err)
	}
	m.Subject(subject)
	m.SetMessageIDWithValue(j.MessageID + "@" + s.messageIDHost())
	m.SetDate()
	// Automatic mail: no auto-replies back (RFC 3834), and Seliq's own
	// inbound refuses it as a loop.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	m.SetBodyString(gomail.TypeTextPlain, text)
	m.AddAlternativeString(gomail.TypeTextHTML, html)
	return m, nil
}

// messageIDHost is the Message-ID's right-hand side: the public host, so
// that it does not change with an organisation's sender address.
func (s *Service) messageIDHost() string {
	if u, err := url.Parse(s.server.PublicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "seliq.invalid"
}

// deliver sends msgs over one connection to cfg's server, dialled through
// the organisation's outbound policy.
func (s *Service) deliver(ctx context.Context, org uuid.UUID, cfg smtpConfig, msgs ...*gomail.Msg) error {
	if cfg.Host == "" {
		return errNotConfigured
	}
	policy, err := s.policies.For(ctx, org)
	if err != nil {
		return err
	}
	tlsConfig := &tls.Config{ServerName: cfg.Host, RootCAs: s.server.RootCAs, MinVersion: tls.VersionTLS12}
	dial := policy.DialContext
	opts := []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(sendTimeout), gomail.WithTLSConfig(tlsConfig)}
	switch cfg.TLS {
	case enum.SMTPSecurityTls:
		// go-mail leaves TLS to a custom dialer: wrap the policy's
		// connection in the handshake here.
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			raw, err := policy.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			conn := tls.Client(raw, tlsConfig)
			if err := conn.HandshakeContext(ctx); err != nil {
				_ = raw.Close()
				return nil, err
			}
			return conn, nil
		}
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case enum.SMTPSecurityNone:
		if !Loopback(cfg.Host) {
			return fmt.Errorf("mail: unencrypted SMTP refused to %s, which is not loopback", cfg.Host)
		}
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	opts = append(opts, gomail.WithDialContextFunc(dial))
	if cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	c, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msgs...)
}

// Describe says in words what an SMTP server, or the way to it, answered.
func Describe(err error) string {
	if err == nil {
		return "the server accepted the message"
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		reply := strconv.Itoa(te.Code) + " " + strings.Join(strings.Fields(te.Msg), " ")
		if len(reply) > 300 {
			reply = reply[:300]
		}
		switch {
		case te.Code == 535 || te.Code == 534 || te.Code == 530:
			return "authentication failed: the server answered " + reply
		case te.Code >= 550 && te.Code < 560:
			return "the server refused the recipient or sender: " + reply
		case te.Code >= 500:
			return "the server refused the message: " + reply
		default:
			return "the server is temporarily unavailable: " + reply
		}
	}
	msg := err.Error()
	switch {
	case errors.Is(err, errNotConfigured):
		return "no SMTP server is configured"
	case strings.Contains(msg, "does not support STARTTLS"):
		return "TLS error: the server does not offer STARTTLS"
	case strings.Contains(msg, "unencrypted SMTP refused"):
		return "refused: unencrypted SMTP is only allowed to a loopback server"
	case strings.Contains(msg, "authentication") || strings.Contains(msg, "auth"):
		if f := outbound.Classify(err); f.Category == outbound.Failed {
			return "authentication failed: " + msg
		}
	}
	f := outbound.Classify(err)
	switch f.Category {
	case outbound.Unreachable:
		return "connection refused or server unreachable"
	case outbound.TLSFailure:
		return "TLS error: handshake or certificate failure"
	case outbound.TimedOut:
		return "timed out"
	case outbound.Refused:
		return "refused by the outbound policy"
	}
	return "sending failed"
}

// permanent reports a refusal retrying cannot fix: the server rejected
// the recipient, the sender or the message (5xx outside authentication).
func permanent(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500 && te.Code != 530 && te.Code != 534 && te.Code != 535
}

// TestResult is the outcome of a test message, in words.
type TestResult struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// SendTest sends a test message to to now, with the settings in force,
// and reports the server's answer (admins only; recorded in the activity
// log).
func (s *Service) SendTest(ctx context.Context, to string) (*TestResult, error) {
	v, err := viewer.Admin(ctx, adminOnly)
	if err != nil {
		return nil, err
	}
	addr, err := ParseAddress(strings.TrimSpace(to))
	if err != nil {
		return nil, err
	}
	cfg, err := s.resolve(ctx, s.client, v.OrgID)
	if err != nil {
		return nil, err
	}
	if cfg.Host == "" {
		return nil, apperr.Invalid("to", "no SMTP server is configured: set smtp_host first")
	}
	msg, err := s.build(cfg, Job{OrganizationID: v.OrgID, MessageID: "test." + uuid.NewString(), To: addr,
		Content: Content{Heading: "Test message from Seliq", Intro: "Your organisation's email settings work: this message went through " + cfg.Host + "."}})
	if err != nil {
		return nil, apperr.Invalid("from_address", "the sender address is not usable: %v", err)
	}
	sendErr := s.deliver(ctx, v.OrgID, cfg, msg)
	if sendErr != nil {
		s.log.WarnContext(ctx, "test email failed", "org", v.OrgID, "host", cfg.Host, "err", sendErr)
	}
	res := &TestResult{OK: sendErr == nil, Message: Describe(sendErr)}
	err = audit.Record(ctx, s.client, audit.Entry{EntityType: "email_settings", EntityID: v.OrgID, Action: "test",
		After: map[string]any{"to": addr, "ok": res.OK, "result": res.Message}})
	return res, err
}

// Worker sends queued messages.
func (s *Service) Worker() river.Worker[Job] { return &worker{svc: s} }

type worker struct {
	river.WorkerDefaults[Job]
	svc *Service
}

// Timeout bounds one attempt: one SMTP exchange and the settings read.
func (w *worker) Timeout(*river.Job[Job]) time.Duration { return sendTimeout + 10*time.Second }

// Work sends one message as the organisation's system principal. A failed
// attempt is retried with River's backoff; a server that refuses the
// message for good cancels the job rather than retrying it for days.
func (w *worker) Work(ctx context.Context, job *river.Job[Job]) error {
	s := w.svc
	org := job.Args.OrganizationID
	ctx = viewer.ForJob(ctx, org)
	cfg, err := s.resolve(ctx, s.client, org)
	if err != nil {
		return err
	}
	if cfg.Host == "" {
		// No SMTP server anywhere means email is off for the organisation:
		// the message is dropped rather than retried for days.
		return river.JobCancel(errNotConfigured)
	}
	j := job.Args
	var attach *ent.Report
	if j.ReportID != nil {
		r, err := s.client.Report.Get(ctx, *j.ReportID)
		switch {
		case ent.IsNotFound(err):
			return river.JobCancel(fmt.Errorf("report %s was deleted before its message was sent", j.ReportID))
		case err != nil:
			return err
		case r.Size > MaxAttachment || len(r.Content) > MaxAttachment:
			j.Content.Intro = fmt.Sprintf("Your security team published a report on an incident. At %d KiB it is too large to attach (the limit is %d KiB): ask them for it.",
				r.Size/1024, MaxAttachment/1024)
		default:
			attach = r
		}
	}
	msg, err := s.build(cfg, j)
	if err != nil {
		return river.JobCancel(err)
	}
	if attach != nil {
		if err := msg.AttachReader(attach.FileName, bytes.NewReader(attach.Content),
			gomail.WithFileContentType(gomail.ContentType(attach.ContentType))); err != nil {
			return river.JobCancel(err)
		}
	}
	if err := s.deliver(ctx, org, cfg, msg); err != nil {
		s.log.WarnContext(ctx, "email not sent", "org", org, "message_id", job.Args.MessageID, "attempt", job.Attempt, "result", Describe(err), "err", err)
		if permanent(err) {
			return river.JobCancel(err)
		}
		return err
	}
	return nil
}
