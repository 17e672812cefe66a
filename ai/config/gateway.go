package config

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ai/provider"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/aiusage"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/storage"
)

// Features a provider call is recorded under (AIUsage.feature).
const (
	FeatureAnalysis        = "analysis"
	FeatureIncidentSummary = "incident_summary"
	FeatureChat            = "chat"
)

// Reservations are the tokens one opened provider (one analysis, one chat
// answer with its tool rounds) is assumed to cost at most: its prompt
// bounds plus its completion caps, rounded up. They are held against the
// quota from Open until the work ends, so that calls running at the same
// moment see each other.
//
// The bound this gives: a new provider is admitted only while used +
// reserved < limit, where used is the month's recorded tokens and reserved
// the budgets still held. If no opened provider records more than its
// reservation R, the month's recorded total never exceeds limit - 1 + R of
// the last one admitted (every earlier one is counted at its real use or at
// R, whichever applies, when the last is admitted, and nothing is admitted
// after it). A provider that records more than R adds its excess on top,
// only while it overlaps others.
var reservations = map[string]int{
	FeatureAnalysis:        12_000,  // ~40 KB of data document, 1,500 completion tokens
	FeatureIncidentSummary: 40_000,  // 40 alerts without payloads, 1,500 completion tokens
	FeatureChat:            100_000, // 5 rounds of ≤ 64 KB prompts and 1,500 completion tokens
}

// reservationTTL is how long a reservation counts: longer than any call
// runs (a chat answer's five rounds, each with its retries), so that the
// budget of a process that died mid-call is not held for the rest of the
// month.
const reservationTTL = 30 * time.Minute

// Provider is the acting organisation's configured provider, opened for one
// feature. Client is nil when the organisation uses the built-in analyst;
// callers then answer without a model. A Provider with a Client holds a
// reservation against the quota until Release; it is not safe for
// concurrent use.
type Provider struct {
	Settings Settings
	Client   provider.Client
	feature  string
	userID   *uuid.UUID
	svc      *Service
	// reservation is the AIUsage row holding held tokens; nil once
	// released.
	reservation *uuid.UUID
	held        int
}

// Builtin reports whether no model is configured.
func (p *Provider) Builtin() bool { return p.Client == nil }

// Open returns the provider for feature, checked against the monthly token
// quota: an organisation whose quota is used up (or held by calls in
// progress) gets RATE_LIMITED (429) until the month resets, and the
// built-in analyst keeps working for it. The check and the reservation of
// feature's budget happen in one transaction, serialised per organisation
// (a row lock on PostgreSQL, the write lock on SQLite), so concurrent calls
// cannot all pass it. userID names who the usage is recorded for (nil for
// automatic work). allow, when not nil, may refuse from the settings Open
// read before the quota is touched; its error is returned as it is.
//
// Callers must Release the provider when their calls are done.
func (s *Service) Open(ctx context.Context, feature string, userID *uuid.UUID, allow func(Settings) error) (*Provider, error) {
	v, st, err := s.viewerSettings(ctx)
	if err != nil {
		return nil, err
	}
	if allow != nil {
		if err := allow(st.Settings); err != nil {
			return nil, err
		}
	}
	p := &Provider{Settings: st.Settings, feature: feature, userID: userID, svc: s}
	if st.Provider == ProviderBuiltin {
		return p, nil
	}
	// Analyses and chat take the client's defaults: 60 s an attempt, 3 retries.
	if p.Client, err = s.dialStored(ctx, st, v.OrgID, 0, 0); err != nil {
		return nil, err
	}
	if err := s.reserve(ctx, p, v.OrgID); err != nil {
		return nil, err
	}
	return p, nil
}

// Check reports, without reserving anything, whether Open would admit a
// call now: a RATE_LIMITED error when the quota is used up or held. It
// returns the settings it read.
func (s *Service) Check(ctx context.Context) (Settings, error) {
	_, st, err := s.viewerSettings(ctx)
	if err != nil || st.Provider == ProviderBuiltin {
		return st.Settings, err
	}
	b, err := balance(ctx, s.client, time.Now().UTC())
	if err != nil {
		return st.Settings, err
	}
	return st.Settings, b.admit(st.MonthlyTokenQuota)
}

// reserve checks the quota and records p's reservation in one transaction.
func (s *Service) reserve(ctx context.Context, p *Provider, org uuid.UUID) error {
	budget := reservations[p.feature]
	return storage.InTx(ctx, s.client, func(tx *ent.Tx) error {
		if err := lockQuota(ctx, tx, org); err != nil {
			return err
		}
		now := time.Now().UTC()
		// Reservations of a process that died are dropped here, so the
		// table holds only live ones.
		if _, err := tx.AIUsage.Delete().Where(aiusage.ReservedTokensGT(0), aiusage.CreatedAtLT(now.Add(-reservationTTL))).Exec(ctx); err != nil {
			return fmt.Errorf("drop stale ai reservations: %w", err)
		}
		b, err := balance(ctx, tx.Client(), now)
		if err != nil {
			return err
		}
		if err := b.admit(p.Settings.MonthlyTokenQuota); err != nil {
			return err
		}
		row, err := tx.AIUsage.Create().SetFeature(p.feature).SetProvider(p.Settings.Provider).SetModel(p.Settings.Model).
			SetNillableUserID(p.userID).SetReservedTokens(budget).Save(ctx)
		if err != nil {
			return fmt.Errorf("reserve ai tokens: %w", err)
		}
		p.reservation, p.held = &row.ID, budget
		return nil
	})
}

// lockQuota serialises quota checks per organisation. On PostgreSQL it
// locks the organisation's row FOR NO KEY UPDATE, which, unlike FOR
// UPDATE, does not block the foreign-key checks of inserts referencing
// it (ingest goes on). SQLite transactions take the database's write lock
// at BEGIN (storage opens them IMMEDIATE), which serialises them already.
func lockQuota(ctx context.Context, tx *ent.Tx, org uuid.UUID) error {
	q := tx.Organization.Query().Where(organization.ID(org))
	q.Modify(func(s *sql.Selector) {
		if s.Dialect() == dialect.Postgres {
			s.For(sql.LockNoKeyUpdate)
		}
	})
	if _, err := q.Only(ctx); err != nil {
		return fmt.Errorf("lock organisation for the ai quota: %w", err)
	}
	return nil
}

// quotaBalance is what counts against the quota now.
type quotaBalance struct {
	used, reserved int
	resetsAt       time.Time
}

// balance sums the month's recorded tokens (UTC calendar month) and the
// live reservations of the acting organisation, through c.
func balance(ctx context.Context, c *ent.Client, now time.Time) (quotaBalance, error) {
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	// Sums over no rows are NULL.
	var used []struct {
		Prompt     *int `json:"prompt"`
		Completion *int `json:"completion"`
	}
	err := c.AIUsage.Query().Where(aiusage.CreatedAtGTE(start)).
		Aggregate(ent.As(ent.Sum(aiusage.FieldPromptTokens), "prompt"), ent.As(ent.Sum(aiusage.FieldCompletionTokens), "completion")).
		Scan(ctx, &used)
	if err != nil {
		return quotaBalance{}, fmt.Errorf("ai usage: %w", err)
	}
	var held []struct {
		Reserved *int `json:"reserved"`
	}
	err = c.AIUsage.Query().Where(aiusage.ReservedTokensGT(0), aiusage.CreatedAtGTE(now.Add(-reservationTTL))).
		Aggregate(ent.As(ent.Sum(aiusage.FieldReservedTokens), "reserved")).Scan(ctx, &held)
	if err != nil {
		return quotaBalance{}, fmt.Errorf("ai reservations: %w", err)
	}
	b := quotaBalance{resetsAt: start.AddDate(0, 1, 0)}
	if len(used) > 0 {
		b.used = deref(used[0].Prompt) + deref(used[0].Completion)
	}
	if len(held) > 0 {
		b.reserved = deref(held[0].Reserved)
	}
	return b, nil
}

func deref(n *int) int {
	if n == nil {
		return 0
	}
	return *n
}

// admit refuses a call when nothing is left of limit.
func (b quotaBalance) admit(limit int) error {
	if b.used+b.reserved < limit {
		return nil
	}
	return &apperr.Error{Code: apperr.RateLimited, RetryAfter: time.Until(b.resetsAt).Round(time.Second),
		Message: fmt.Sprintf("the organisation's AI token quota for this month (%d tokens) is used up: %d used, %d held by calls in progress; it resets on %s. "+
			"The built-in analyst still works, and an administrator can raise the quota in the AI settings",
			limit, b.used, b.reserved, b.resetsAt.Format("2006-01-02"))}
}

// Temperature is the configured sampling temperature, for provider.Request.
func (p *Provider) Temperature() *float64 {
	t := p.Settings.Temperature
	return &t
}

// Record stores the tokens of one provider call for the quota and for usage
// reports, and lowers the reservation by them in the same transaction, so
// the work in progress always counts at the larger of its reservation and
// its real use. It is called for failed calls too when the provider
// reported usage, since the tokens were spent.
func (p *Provider) Record(ctx context.Context, model string, u provider.Usage) error {
	n := u.PromptTokens + u.CompletionTokens
	if p.Client == nil || n == 0 {
		return nil
	}
	if model == "" {
		model = p.Settings.Model
	}
	held := max(p.held-n, 0)
	err := storage.InTx(ctx, p.svc.client, func(tx *ent.Tx) error {
		if err := tx.AIUsage.Create().SetFeature(p.feature).SetProvider(p.Settings.Provider).
			SetModel(model).SetNillableUserID(p.userID).
			SetPromptTokens(u.PromptTokens).SetCompletionTokens(u.CompletionTokens).Exec(ctx); err != nil {
			return err
		}
		if p.reservation == nil || held == p.held {
			return nil
		}
		return tx.AIUsage.UpdateOneID(*p.reservation).SetReservedTokens(held).Exec(ctx)
	})
	if err == nil {
		p.held = held
	}
	return err
}

// Release ends the reservation: the budget not used is given back. It is
// safe to call more than once, and runs even when ctx was cancelled (the
// caller left), since a held budget would block others until it expires.
func (p *Provider) Release(ctx context.Context) error {
	if p.reservation == nil {
		return nil
	}
	id := *p.reservation
	if err := p.svc.client.AIUsage.DeleteOneID(id).Exec(context.WithoutCancel(ctx)); err != nil && !ent.IsNotFound(err) {
		return fmt.Errorf("release ai reservation: %w", err)
	}
	p.reservation, p.held = nil, 0
	return nil
}
