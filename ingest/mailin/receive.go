package mailin

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ingest"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/ratelimit"
	"github.com/seliq/seliq/internal/viewer"
)

// Defaults of a Receiver's limits.
const (
	DefaultMaxBytes        = 25 << 20 // a whole message with its attachments
	DefaultPerTokenLimit   = 120      // deliveries per minute per inbound address
	DefaultPerSenderLimit  = 30       // deliveries per minute per sender and address
	rateWindow             = time.Minute
	reasonNotAllowedSender = "sender not in the connector's allowed_senders"
)

// TokenAuthenticator finds the connector of an inbound URL token
// (auth.Service implements it).
type TokenAuthenticator interface {
	AuthenticateInboundEmail(ctx context.Context, token string) (*viewer.Viewer, error)
}

// Config tunes a Receiver.
type Config struct {
	MaxBytes       int64 // default DefaultMaxBytes; larger → 413
	PerTokenLimit  int   // default DefaultPerTokenLimit
	PerSenderLimit int   // default DefaultPerSenderLimit
	// OwnAddresses are the addresses Seliq sends mail from for an
	// organisation; mail from them is never filed (a notification
	// bounced or forwarded back would otherwise loop).
	OwnAddresses func(ctx context.Context, orgID uuid.UUID) []string
}

// Receiver turns inbound email deliveries into alerts of the email
// connector their URL token selects.
type Receiver struct {
	ingest    *ingest.Service
	authn     TokenAuthenticator
	cfg       Config
	perToken  *ratelimit.Limiter
	perSender *ratelimit.Limiter
}

// NewReceiver returns a Receiver filing through s.
func NewReceiver(s *ingest.Service, authn TokenAuthenticator, cfg Config) *Receiver {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.PerTokenLimit <= 0 {
		cfg.PerTokenLimit = DefaultPerTokenLimit
	}
	if cfg.PerSenderLimit <= 0 {
		cfg.PerSenderLimit = DefaultPerSenderLimit
	}
	return &Receiver{ingest: s, authn: authn, cfg: cfg,
		perToken: ratelimit.New(cfg.PerTokenLimit, rateWindow), perSender: ratelimit.New(cfg.PerSenderLimit, rateWindow)}
}

// MaxBytes is the largest delivery Receive accepts.
func (r *Receiver) MaxBytes() int64 { return r.cfg.MaxBytes }

// Result is the answer to one delivery: what ingest did with it, or why
// the message was ignored (still a success, so the service does not retry).
type Result struct {
	*ingest.Result
	Format  string `json:"format,omitempty"`  // which delivery format was read
	Ignored string `json:"ignored,omitempty"` // why no alert was filed
}

// Authenticate finds the connector of token and counts the delivery
// against the token's rate limit. It returns a context acting as that
// connector. An unknown token is NotFound.
func (r *Receiver) Authenticate(ctx context.Context, token string) (context.Context, *ent.Connector, error) {
	ctx, c, err := r.ingest.Authenticate(ctx, tokenAuth{r.authn}, token)
	if err != nil {
		return nil, nil, err
	}
	if ok, wait := r.perToken.Allow(c.ID.String()); !ok {
		return nil, nil, &apperr.Error{Code: apperr.RateLimited, Message: "too many messages for this inbound address; retry later", RetryAfter: wait}
	}
	return ctx, c, nil
}

// tokenAuth adapts TokenAuthenticator to what ingest.Authenticate calls.
type tokenAuth struct{ TokenAuthenticator }

func (t tokenAuth) AuthenticateConnector(ctx context.Context, token string) (*viewer.Viewer, error) {
	return t.AuthenticateInboundEmail(ctx, token)
}

// Receive reads one delivery of contentType and files it: malformed mail
// is kept as a dead letter and refused (422), machine-sent mail, our own
// and senders the connector does not allow are ignored, the rest becomes
// an alert (or merges into the one of the same Message-ID). ctx and c come
// from Authenticate.
func (r *Receiver) Receive(ctx context.Context, c *ent.Connector, contentType string, body []byte) (*Result, error) {
	if int64(len(body)) > r.cfg.MaxBytes {
		return nil, ingest.TooLarge(r.cfg.MaxBytes)
	}
	m, format, err := Parse(contentType, body)
	var (
		unsupported *UnsupportedError
		bad         *MalformedError
	)
	switch {
	case errors.As(err, &unsupported):
		return nil, apperr.Invalid("Content-Type", "%s", unsupported.Error())
	case errors.As(err, &bad):
		res, dlErr := r.ingest.DeadLetter(ctx, c, body, bad.Error())
		if dlErr != nil {
			return nil, dlErr
		}
		return nil, apperr.Invalid("", "%s; kept as dead letter %s", bad.Error(), res.DeadLetterID)
	case err != nil:
		return nil, err
	}
	if why := r.ignore(ctx, c, m); why != "" {
		return &Result{Format: format, Ignored: why}, nil
	}
	sender := first(m.From, m.Sender)
	if ok, wait := r.perSender.Allow(c.ID.String() + "\x00" + sender); !ok {
		return nil, &apperr.Error{Code: apperr.RateLimited, Message: "too many messages from this sender; retry later", RetryAfter: wait}
	}
	doc, err := m.Document()
	if err != nil {
		return nil, err
	}
	res, err := r.ingest.Ingest(ctx, c, doc)
	if err != nil {
		return nil, err
	}
	return &Result{Result: res, Format: format}, nil
}

// ignore says why m must not be filed, or "".
func (r *Receiver) ignore(ctx context.Context, c *ent.Connector, m *Message) string {
	if why := m.Automated(); why != "" {
		return why
	}
	if r.cfg.OwnAddresses != nil {
		for _, own := range r.cfg.OwnAddresses(ctx, c.OrganizationID) {
			own = strings.ToLower(strings.TrimSpace(own))
			if own != "" && (own == m.From || own == m.Sender) {
				return "sent from Seliq's own address " + own
			}
		}
	}
	if !senderAllowed(allowedSenders(c), m.From) {
		return reasonNotAllowedSender
	}
	return ""
}

// allowedSenders reads the email connector's allowed_senders setting.
func allowedSenders(c *ent.Connector) []string {
	l, _ := c.Settings["allowed_senders"].([]any)
	out := make([]string, 0, len(l))
	for _, v := range l {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			out = append(out, strings.ToLower(strings.TrimSpace(s)))
		}
	}
	return out
}

// senderAllowed: an empty list allows anyone; "@example.com" allows that
// domain, anything else one address.
func senderAllowed(allowed []string, from string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, a := range allowed {
		if strings.HasPrefix(a, "@") && strings.HasSuffix(from, a) || a == from {
			return true
		}
	}
	return false
}
