// Package mail sends Seliq's email: an organisation's SMTP settings (with
// a server-wide default from SELIQ_SMTP_*), the messages built from
// embedded templates, and their delivery as durable River jobs, retried
// with backoff, each with a Message-ID fixed when it was queued so that a
// retry is recognisably the same message. Every connection to an SMTP
// server is dialled through the outbound policy.
package mail

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/mail"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/storage/settingstore"
)

// settingKey names the organisation's email settings document; the
// activity log records its changes (audit.Track), the password as a
// change without values.
const settingKey = "email"

// Where the settings in force come from.
const (
	SourceOrganization = "organization"
	SourceServer       = "server"
	SourceNone         = "none"
)

// Server is the server-wide configuration: the SMTP default of every
// organisation without its own (SELIQ_SMTP_*), and the public address
// links in messages point to (SELIQ_PUBLIC_URL).
type Server struct {
	SMTP
	// PublicURL is the server's address as users reach it, without a
	// trailing slash (https://seliq.example.com).
	PublicURL string
	// RootCAs, when set, replaces the system roots for SMTP servers'
	// certificates (tests trust their self-signed certificate with it).
	RootCAs *x509.CertPool
}

// Settings are what clients see of an organisation's email settings: the
// password only as whether one is set.
type Settings struct {
	SMTPHost        string            `json:"smtpHost"`
	SMTPPort        int               `json:"smtpPort"`
	SMTPTLS         enum.SMTPSecurity `json:"smtpTls"`
	SMTPUsername    string            `json:"smtpUsername"`
	SMTPPasswordSet bool              `json:"smtpPasswordSet"`
	FromAddress     string            `json:"fromAddress"`
	// Source says whether these are the organisation's own settings, the
	// server's default, or nothing (no email is sent).
	Source string `json:"source"`
}

// stored is the settings document; the password is sealed.
type stored struct {
	SMTPHost     string            `json:"smtpHost"`
	SMTPPort     int               `json:"smtpPort"`
	SMTPTLS      enum.SMTPSecurity `json:"smtpTls"`
	SMTPUsername string            `json:"smtpUsername"`
	SMTPPassword string            `json:"smtpPassword,omitempty"`
	FromAddress  string            `json:"fromAddress"`
}

// UpdateInput patches the settings; nil keeps a value. SMTPHost "" drops
// the organisation's settings for the server's default; SMTPPassword ""
// removes the password.
type UpdateInput struct {
	SMTPHost     *string            `json:"smtpHost,omitempty"`
	SMTPPort     *int               `json:"smtpPort,omitempty"`
	SMTPTLS      *enum.SMTPSecurity `json:"smtpTls,omitempty"`
	SMTPUsername *string            `json:"smtpUsername,omitempty"`
	SMTPPassword *string            `json:"smtpPassword,omitempty"`
	FromAddress  *string            `json:"fromAddress,omitempty"`
}

// Service reads and writes the settings and sends messages.
type Service struct {
	client   *ent.Client
	box      *secrets.Box
	policies outbound.Policies
	server   Server
	log      *slog.Logger
}

// New returns the service: box seals SMTP passwords, policies decide which
// SMTP servers may be reached, server is the configuration's default.
func New(client *ent.Client, box *secrets.Box, policies outbound.Policies, server Server, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	server.PublicURL = strings.TrimRight(server.PublicURL, "/")
	return &Service{client: client, box: box, policies: policies, server: server, log: log}
}

// SMTP is an SMTP server and how to send through it, password in clear.
type SMTP struct {
	Host     string
	Port     int
	TLS      enum.SMTPSecurity
	Username string
	Password string
	From     string
}

// smtpConfig is the resolved configuration of an organisation.
type smtpConfig struct {
	SMTP
	Source string
}

// adminOnly is why anyone else is refused.
const adminOnly = "only administrators manage the email settings"

func load(ctx context.Context, c *ent.Client) (stored, error) {
	var st stored
	_, err := settingstore.Load(ctx, c, settingKey, &st)
	return st, err
}

// Get returns the settings in force for the acting organisation (admins).
func (s *Service) Get(ctx context.Context) (*Settings, error) {
	if _, err := viewer.Admin(ctx, adminOnly); err != nil {
		return nil, err
	}
	st, err := load(ctx, s.client)
	if err != nil {
		return nil, err
	}
	return s.view(st), nil
}

func (s *Service) view(st stored) *Settings {
	if st.SMTPHost != "" {
		return &Settings{SMTPHost: st.SMTPHost, SMTPPort: st.SMTPPort, SMTPTLS: st.SMTPTLS, SMTPUsername: st.SMTPUsername,
			SMTPPasswordSet: st.SMTPPassword != "", FromAddress: st.FromAddress, Source: SourceOrganization}
	}
	srv := s.server
	out := &Settings{SMTPHost: srv.Host, SMTPPort: srv.Port, SMTPTLS: srv.TLS, SMTPUsername: srv.Username,
		SMTPPasswordSet: srv.Password != "", FromAddress: srv.From, Source: SourceServer}
	if srv.Host == "" {
		out.Source = SourceNone
		out.SMTPTLS = enum.SMTPSecurityStarttls
		out.SMTPPort = defaultPort(out.SMTPTLS)
	}
	return out
}

// Update patches the organisation's settings (admins only). Changing the
// host while a password is stored requires the password again: it was
// given for the old server.
func (s *Service) Update(ctx context.Context, in UpdateInput) (*Settings, error) {
	v, err := viewer.Admin(ctx, adminOnly)
	if err != nil {
		return nil, err
	}
	// Read outside the transaction: it holds SQLite's write lock.
	policy, err := s.policies.For(ctx, v.OrgID)
	if err != nil {
		return nil, err
	}
	var out *Settings
	err = storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		st, err := load(ctx, tx.Client())
		if err != nil {
			return err
		}
		if err := s.apply(&st, in, v.OrgID, policy); err != nil {
			return err
		}
		if err := settingstore.Save(ctx, tx.Client(), settingKey, st); err != nil {
			return err
		}
		out = s.view(st)
		return nil
	})
	return out, err
}

// maxText bounds the username and from address.
const maxText = 254

func (s *Service) apply(st *stored, in UpdateInput, org uuid.UUID, policy *outbound.Policy) error {
	was := st.SMTPHost
	if in.SMTPHost != nil {
		h := strings.ToLower(strings.TrimSpace(*in.SMTPHost))
		if h == "" {
			// Back to the server's default: nothing of the old server stays.
			if in.SMTPPort != nil || in.SMTPTLS != nil || in.SMTPUsername != nil || (in.SMTPPassword != nil && *in.SMTPPassword != "") {
				return apperr.Invalid("smtp_host", "is required with the other SMTP settings; an empty host returns to the server's default")
			}
			*st = stored{FromAddress: st.FromAddress}
			if in.FromAddress != nil {
				return s.applyFrom(st, *in.FromAddress)
			}
			return nil
		}
		if len(h) > 253 || strings.ContainsAny(h, "/@ \t") {
			return apperr.Invalid("smtp_host", "must be a host name or an IP address, without scheme or port")
		}
		if err := policy.CheckHost(h); err != nil {
			return apperr.Invalid("smtp_host", "is refused by the outbound policy (loopback and private addresses need SELIQ_OUTBOUND_ALLOW or the provider's outbound allowlist)")
		}
		st.SMTPHost = h
	}
	if st.SMTPHost == "" && (in.SMTPPort != nil || in.SMTPTLS != nil || in.SMTPUsername != nil || in.SMTPPassword != nil) {
		return apperr.Invalid("smtp_host", "is required: the organisation has no SMTP server of its own")
	}
	if in.SMTPTLS != nil {
		if !in.SMTPTLS.Valid() {
			return apperr.Invalid("smtp_tls", "must be starttls, tls or none")
		}
		st.SMTPTLS = *in.SMTPTLS
	}
	if st.SMTPHost != "" && st.SMTPTLS == "" {
		st.SMTPTLS = enum.SMTPSecurityStarttls
	}
	if in.SMTPPort != nil {
		if *in.SMTPPort < 1 || *in.SMTPPort > 65535 {
			return apperr.Invalid("smtp_port", "must be between 1 and 65535")
		}
		st.SMTPPort = *in.SMTPPort
	}
	if st.SMTPHost != "" && st.SMTPPort == 0 {
		st.SMTPPort = defaultPort(st.SMTPTLS)
	}
	if st.SMTPTLS == enum.SMTPSecurityNone && st.SMTPHost != "" && !Loopback(st.SMTPHost) {
		return apperr.Invalid("smtp_tls", "none is only allowed for a server on the loopback interface (localhost, 127.0.0.1, ::1); use starttls or tls")
	}
	if in.SMTPUsername != nil {
		u, err := textfield.Optional("smtp_username", *in.SMTPUsername, maxText)
		if err != nil {
			return err
		}
		st.SMTPUsername = u
	}
	if in.SMTPPassword != nil {
		p := *in.SMTPPassword
		switch {
		case p == "":
			st.SMTPPassword = ""
		case !textfield.Storable(p) || len(p) > 1024:
			return apperr.Invalid("smtp_password", "is not a usable password")
		default:
			sealed, err := s.box.Seal(p, sealContext(org))
			if err != nil {
				return err
			}
			st.SMTPPassword = sealed
		}
	}
	if st.SMTPPassword != "" && in.SMTPPassword == nil && st.SMTPHost != was && was != "" {
		return apperr.Invalid("smtp_password", "is required when smtp_host changes: the stored password is not sent to a new server; send it again, or an empty string to remove it")
	}
	if in.FromAddress != nil {
		if err := s.applyFrom(st, *in.FromAddress); err != nil {
			return err
		}
	}
	if st.SMTPHost != "" && st.FromAddress == "" && s.server.From == "" {
		return apperr.Invalid("from_address", "is required: messages need a sender address")
	}
	return nil
}

func (s *Service) applyFrom(st *stored, raw string) error {
	f := strings.TrimSpace(raw)
	if f == "" {
		st.FromAddress = ""
		return nil
	}
	a, err := ParseAddress(f)
	if err != nil || len(f) > maxText {
		return apperr.Invalid("from_address", "must be an email address")
	}
	st.FromAddress = a
	return nil
}

// ParseAddress reads one bare email address (no display name, no
// header-breaking characters) and returns it.
func ParseAddress(s string) (string, error) {
	if strings.ContainsAny(s, "\r\n<>\",;") {
		return "", apperr.Invalid("to", "must be a single email address")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(a.Address, "@") {
		return "", apperr.Invalid("to", "must be a single email address")
	}
	return a.Address, nil
}

func defaultPort(tls enum.SMTPSecurity) int {
	switch tls {
	case enum.SMTPSecurityTls:
		return 465
	case enum.SMTPSecurityNone:
		return 25
	}
	return 587
}

// Loopback reports whether host names this machine: an unencrypted SMTP
// connection is only acceptable to a relay on the same host.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && a.Unmap().IsLoopback()
}

func sealContext(org uuid.UUID) string { return "email:" + org.String() }

// resolve returns the configuration in force for the job or request's
// organisation, the password opened; Host "" when email is not set up.
func (s *Service) resolve(ctx context.Context, c *ent.Client, org uuid.UUID) (smtpConfig, error) {
	st, err := load(ctx, c)
	if err != nil {
		return smtpConfig{}, err
	}
	if st.SMTPHost == "" {
		srv := s.server
		from := srv.From
		if st.FromAddress != "" {
			from = st.FromAddress
		}
		port := srv.Port
		if port == 0 {
			port = defaultPort(srv.TLS)
		}
		src := SourceServer
		if srv.Host == "" {
			src = SourceNone
		}
		return smtpConfig{SMTP: SMTP{Host: srv.Host, Port: port, TLS: srv.TLS, Username: srv.Username, Password: srv.Password, From: from}, Source: src}, nil
	}
	pw := ""
	if st.SMTPPassword != "" {
		if pw, err = s.box.Open(st.SMTPPassword, sealContext(org)); err != nil {
			return smtpConfig{}, err
		}
	}
	from := st.FromAddress
	if from == "" {
		from = s.server.From
	}
	return smtpConfig{SMTP: SMTP{Host: st.SMTPHost, Port: st.SMTPPort, TLS: st.SMTPTLS, Username: st.SMTPUsername, Password: pw, From: from}, Source: SourceOrganization}, nil
}

// OwnAddresses are the bare addresses Seliq sends an organisation's mail
// from (its own sender and the server's), which inbound email must never
// file: a notification bounced or forwarded back would otherwise loop.
func (s *Service) OwnAddresses(ctx context.Context, org uuid.UUID) []string {
	var out []string
	add := func(raw string) {
		if a, err := mail.ParseAddress(raw); err == nil && !slices.Contains(out, a.Address) {
			out = append(out, a.Address)
		}
	}
	add(s.server.From)
	if st, err := load(viewer.ForJob(ctx, org), s.client); err == nil {
		add(st.FromAddress)
	}
	return out
}
