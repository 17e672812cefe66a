package analysis

import (
	"context"
	"errors"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/ai/config"
	"github.com/seliq/seliq/ai/provider"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/outbound"
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

// fallback builds a Fallback; the detail is bounded and sanitised, since
// PostgreSQL's jsonb refuses NUL and invalid UTF-8.
func fallback(reason, detail string) *Fallback {
	return &Fallback{Reason: reason, Detail: clip(textfield.Sanitize(detail), maxDetail)}
}

// errFeatureOff tells consult that the settings no longer let a model do
// the work.
var errFeatureOff = errors.New("feature turned off")

// consult asks the organisation's model about the item under analysis when
// the pending row names a provider. The quota is checked again here (it may
// have run out since the request) and the call's budget reserved, usage is
// recorded for whoever requested the analysis (the row's requested_by), and
// every failure becomes a Fallback rather than an error, so the analysis
// always completes.
func (s *Service) consult(ctx context.Context, a *ent.Analysis, feature string, build func() (provider.Request, error)) call {
	local := call{provider: ProviderBuiltin, model: builtin.Engine}
	if a.Provider == ProviderBuiltin || s.ai == nil {
		return local
	}
	c := call{provider: a.Provider, model: a.Model}
	p, err := s.ai.Open(ctx, feature, a.RequestedBy, func(st config.Settings) error {
		if !featureOn(st, feature) {
			return errFeatureOff
		}
		return nil
	})
	var ae *apperr.Error
	switch {
	case errors.Is(err, errFeatureOff):
		// Settings changed since the request: the built-in analyst it is.
		return local
	case errors.As(err, &ae) && ae.Code == apperr.RateLimited:
		c.fallback = fallback(FallbackQuota, ae.Message)
		return c
	case errors.As(err, &ae):
		// Seliq's own refusal (a base URL the policy refuses, a bad key).
		c.fallback = fallback(FallbackUnavailable, ae.Error())
		return c
	case err != nil:
		s.log.Warn("ai provider could not be opened", "analysis", a.ID, "err", err)
		c.fallback = fallback(FallbackUnavailable, "the provider could not be opened")
		return c
	case p.Builtin():
		return local
	}
	defer func() {
		if err := p.Release(ctx); err != nil {
			s.log.Error("release ai reservation", "analysis", a.ID, "err", err)
		}
	}()
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
		// The stored detail is the category only: the provider's answer
		// could be another service's body. The error goes to the log.
		f := outbound.Logged(ctx, s.log, "ai provider call failed", err, "analysis", a.ID)
		c.fallback = fallback(FallbackProvider, f.Message())
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
