package analysis

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/ai/provider"
	"github.com/seliq/seliq/apperr"
	"github.com/seliq/seliq/ent"
)

// Why a model's answer was not used (result.fallback.reason).
const (
	FallbackQuota       = "quota_exhausted"      // the month's tokens ran out after the request
	FallbackUnavailable = "provider_unavailable" // the provider could not be opened (key, URL)
	FallbackProvider    = "provider_error"       // the call failed after its retries
	FallbackInvalid     = "invalid_output"       // the answer broke the contract
)

// Fallback says why a stored result is the built-in analyst's although a
// provider was configured.
type Fallback struct {
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// call is what asking the model gave: who answered, the tokens, and either
// a valid answer or why there is none.
type call struct {
	provider, model string
	usage           provider.Usage
	answer          *answer
	fallback        *Fallback
}

// maxDetail bounds a fallback's detail (a provider's error message).
const maxDetail = 500

// fallback builds a Fallback; the detail is bounded and loses NUL
// characters, which PostgreSQL's jsonb refuses.
func fallback(reason, detail string) *Fallback {
	return &Fallback{Reason: reason, Detail: clip(strings.ReplaceAll(detail, "\x00", ""), maxDetail)}
}

// consult asks the organisation's model about the item under analysis when
// the pending row names a provider. The quota is checked again here (it may
// have run out since the request), usage is recorded for whoever requested
// it, and every failure becomes a Fallback rather than an error, so the
// analysis always completes.
func (s *Service) consult(ctx context.Context, a *ent.Analysis, feature string, user *uuid.UUID, build func() (provider.Request, error)) call {
	local := call{provider: ProviderBuiltin, model: builtin.Engine}
	if a.Provider == ProviderBuiltin || s.ai == nil {
		return local
	}
	c := call{provider: a.Provider, model: a.Model}
	p, err := s.ai.Open(ctx, feature, user)
	var ae *apperr.Error
	switch {
	case errors.As(err, &ae) && ae.Code == apperr.RateLimited:
		c.fallback = fallback(FallbackQuota, ae.Message)
		return c
	case err != nil:
		c.fallback = fallback(FallbackUnavailable, err.Error())
		return c
	case p.Builtin() || !featureOn(p.Settings, feature):
		// Settings changed since the request: the built-in analyst it is.
		return local
	}
	c.provider, c.model = p.Settings.Provider, p.Settings.Model
	req, err := build()
	if err != nil {
		c.fallback = fallback(FallbackInvalid, err.Error())
		return c
	}
	req.Model, req.Temperature = p.Settings.Model, p.Temperature()
	cctx, cancel := context.WithTimeout(ctx, s.callTimeout)
	resp, err := p.Client.Complete(cctx, req)
	cancel()
	if err != nil {
		c.fallback = fallback(FallbackProvider, err.Error())
		return c
	}
	if resp.Model != "" {
		c.model = resp.Model
	}
	c.usage = resp.Usage
	// The tokens were spent whether or not the answer is usable.
	if err := p.Record(ctx, c.model, resp.Usage); err != nil {
		s.log.Error("record ai usage", "analysis", a.ID, "err", err)
	}
	if c.answer, err = parseAnswer(resp.Content); err != nil {
		c.fallback = fallback(FallbackInvalid, err.Error())
	}
	return c
}
