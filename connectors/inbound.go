package connectors

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/auth/credential"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/storage"
)

// InboundEmailPath is where mail services post inbound email; the URL
// token follows it. The server routes it and keeps the token out of its
// access log.
const InboundEmailPath = "/webhooks/email/inbound/"

// The email connector a first inbound token creates: deduplicated by
// Message-ID (mailin derives one for mail without), and over a day, since
// mail services retry a failed delivery for hours.
const (
	inboundConnectorName  = "Inbound email"
	inboundDedupWindow    = maxDedupWindow
	sealContextInboundKey = "inbound_token"
)

var inboundDedupFields = []string{"source", "external_id"}

// InboundEmailToken is the acting organisation's inbound email address
// after a rotation: the URL, shown here and on the email settings, and the
// email connector its messages are filed under.
type InboundEmailToken struct {
	URL       string         `json:"url"`
	Connector *ent.Connector `json:"connector"`
}

// WithInboundBaseURL sets the server's public base URL
// ("https://seliq.example.com"), which inbound email URLs start with;
// without it they are paths.
func (s *Service) WithInboundBaseURL(base string) *Service {
	s.inboundBase = strings.TrimRight(base, "/")
	return s
}

// RotateInboundEmailToken gives the acting organisation a new inbound
// email token, and with it a new URL; the old one stops working when the
// transaction commits. The first rotation creates the organisation's
// inbound email connector. The token is stored hashed (to find the
// connector) and sealed (so admins can read the URL again); the activity
// log records the rotation, never the token.
func (s *Service) RotateInboundEmailToken(ctx context.Context) (*InboundEmailToken, error) {
	token := credential.NewSecret(credential.PrefixInboundEmail)
	var out *ent.Connector
	err := storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		c, err := tx.Connector.Query().Where(connector.InboundTokenHashNotNil()).Order(ent.Asc(connector.FieldCreatedAt)).First(ctx)
		created := false
		switch {
		case ent.IsNotFound(err):
			if c, err = s.createInboundConnector(ctx, tx); err != nil {
				return err
			}
			created = true
		case err != nil:
			return err
		}
		sealed, err := s.box.Seal(token, SealContext(c.ID, sealContextInboundKey))
		if err != nil {
			return err
		}
		out, err = c.Update().SetInboundTokenHash(credential.HashSecret(token)).SetInboundTokenSealed(sealed).Save(ctx)
		if err != nil {
			return err
		}
		entries := []audit.Entry{{EntityType: entityTypeConnector, EntityID: c.ID, Action: "rotate_inbound_token"}}
		if created {
			entries = append([]audit.Entry{{EntityType: entityTypeConnector, EntityID: c.ID, Action: "create",
				After: map[string]any{"name": c.Name, "type": c.Type, "mode": c.Mode}}}, entries...)
		}
		return audit.Record(ctx, tx.Client(), entries...)
	})
	if err != nil {
		return nil, err
	}
	return &InboundEmailToken{URL: s.inboundURL(token), Connector: out.Unwrap()}, nil
}

// createInboundConnector adds the organisation's inbound email connector.
// Its connector key is never shown (mail arrives through the URL token);
// an admin who wants to post JSON to it can rotate the key.
func (s *Service) createInboundConnector(ctx context.Context, tx *ent.Tx) (*ent.Connector, error) {
	key := credential.NewSecret(credential.PrefixConnector)
	return tx.Connector.Create().SetID(uuid.Must(uuid.NewV7())).
		SetName(inboundConnectorName).SetType("email").SetMode(enum.ConnectorModePush).
		SetDedupFields(inboundDedupFields).SetDedupWindowSeconds(inboundDedupWindow).
		SetKeyHash(credential.HashSecret(key)).SetKeyPrefix(credential.DisplayPrefix(key)).
		Save(ctx)
}

// InboundEmailURL is the acting organisation's current inbound email URL
// (for the email settings' inbound_url), or nil before its first token.
func (s *Service) InboundEmailURL(ctx context.Context) (*string, error) {
	c, err := s.client.Connector.Query().Where(connector.InboundTokenHashNotNil()).Order(ent.Asc(connector.FieldCreatedAt)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	token, err := s.box.Open(c.InboundTokenSealed, SealContext(c.ID, sealContextInboundKey))
	if err != nil {
		// Sealed under another server key: only a rotation can mend it.
		return nil, apperr.New(apperr.Conflict, "the inbound email token cannot be decrypted with this server's key; rotate it")
	}
	u := s.inboundURL(token)
	return &u, nil
}

func (s *Service) inboundURL(token string) string {
	return s.inboundBase + InboundEmailPath + token
}
