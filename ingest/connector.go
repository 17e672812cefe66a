package ingest

import (
	"context"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
)

// ConnectorAuthenticator turns an X-API-Key into the connector's viewer
// (auth.Service implements it).
type ConnectorAuthenticator interface {
	AuthenticateConnector(ctx context.Context, key string) (*viewer.Viewer, error)
}

// Authenticate checks a connector's key and loads the connector as itself:
// the context it returns acts as the connector, ready for Ingest.
func (s *Service) Authenticate(ctx context.Context, authn ConnectorAuthenticator, key string) (context.Context, *ent.Connector, error) {
	v, err := authn.AuthenticateConnector(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	if v == nil || v.Kind != viewer.KindConnector {
		return nil, nil, apperr.New(apperr.Unauthenticated, "invalid connector key")
	}
	ctx = viewer.NewContext(ctx, v)
	c, err := s.db.Client.Connector.Get(ctx, v.ConnectorID)
	if ent.IsNotFound(err) {
		// Deleted between the key check and now.
		return nil, nil, apperr.New(apperr.Unauthenticated, "invalid connector key")
	}
	if err != nil {
		return nil, nil, err
	}
	return ctx, c, nil
}

// MaxBodyBytes is the largest payload Ingest accepts.
func (s *Service) MaxBodyBytes() int64 { return s.maxBody }
