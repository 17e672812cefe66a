package config

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ai/provider"
	"github.com/seliq/seliq/ent/aiusage"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/aifake"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/storage"
)

// quotaFixture is an organisation whose provider is a fake, with a quota.
type quotaFixture struct {
	db      *storage.DB
	svc     *Service
	fake    *aifake.Server
	analyst context.Context
	admin   context.Context
	userID  uuid.UUID
}

func newQuotaFixture(t *testing.T, db *storage.DB, quota int) *quotaFixture {
	t.Helper()
	org := testenv.Org(t, db, testenv.Name("Acme"))
	box := testenv.Box(t)
	f := &quotaFixture{db: db, svc: New(db.Client, box, outbound.Fixed{Policy: aifake.Policy()}, slog.New(slog.DiscardHandler)), fake: aifake.New(t, aifake.OpenAI)}
	f.analyst, f.userID = testenv.UserContext(t, db, org, enum.RoleAnalyst)
	f.admin, _ = testenv.UserContext(t, db, org, enum.RoleAdmin)
	if _, err := f.svc.Update(f.admin, UpdateInput{Provider: new(ProviderOpenAICompatible),
		BaseURL: new(f.fake.BaseURL()), APIKey: new(f.fake.Key), Model: new("gpt-4o"), MonthlyTokenQuota: new(quota)}); err != nil {
		t.Fatal(err)
	}
	return f
}

// spend records tokens already used this month.
func (f *quotaFixture) spend(t *testing.T, tokens int) {
	t.Helper()
	if tokens == 0 {
		return
	}
	if err := f.db.Client.AIUsage.Create().SetFeature(FeatureChat).SetProvider(ProviderOpenAICompatible).
		SetPromptTokens(tokens).Exec(f.analyst); err != nil {
		t.Fatal(err)
	}
}

// ledger is the recorded total and the tokens still reserved.
func (f *quotaFixture) ledger(t *testing.T) (recorded, reserved int) {
	t.Helper()
	rows, err := f.db.Client.AIUsage.Query().All(f.analyst)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		recorded += r.PromptTokens + r.CompletionTokens
		reserved += r.ReservedTokens
	}
	return recorded, reserved
}

func (f *quotaFixture) open(t *testing.T) (*Provider, error) {
	t.Helper()
	uid := f.userID
	return f.svc.Open(f.analyst, FeatureAnalysis, &uid, nil)
}

func wantRateLimited(t *testing.T, err error) {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || ae.Code != apperr.RateLimited || ae.RetryAfter <= 0 {
		t.Fatalf("want RATE_LIMITED with Retry-After, got %v", err)
	}
}

// TestOpenHonoursTheQuotaUnderConcurrency: N callers open the provider at
// the same moment; exactly those the quota admits (while used + reserved <
// limit, each reserving R) run their call, and the recorded total never
// exceeds limit - 1 + R, the bound documented on reservations.
func TestOpenHonoursTheQuotaUnderConcurrency(t *testing.T) {
	r := reservations[FeatureAnalysis]
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		cases := []struct {
			name         string
			limit, spent int
			perCall      int // tokens each admitted call records
			callers      int
			admitted     int
		}{
			{"quota of three reservations, calls at their worst case", 3 * r, 0, r, 8, 3},
			{"partly spent quota admits while anything is left", 3 * r, r / 2, r, 8, 3},
			{"small calls are held at their reservation while they run", 3 * r, 0, 100, 8, 3},
			{"one token left admits one call", 2 * r, 2*r - 1, r, 6, 1},
			{"quota used up admits none", r, r, r, 4, 0},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f := newQuotaFixture(t, db, c.limit)
				f.spend(t, c.spent)
				opened := make([]*Provider, c.callers)
				errs := make([]error, c.callers)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range c.callers {
					wg.Go(func() {
						<-start
						opened[i], errs[i] = f.open(t)
					})
				}
				close(start)
				wg.Wait()
				var admitted []*Provider
				for i, err := range errs {
					if err != nil {
						wantRateLimited(t, err)
						continue
					}
					admitted = append(admitted, opened[i])
				}
				if len(admitted) != c.admitted {
					t.Fatalf("%d of %d callers admitted, want %d", len(admitted), c.callers, c.admitted)
				}
				turns := make([]aifake.Turn, len(admitted))
				for i := range turns {
					turns[i] = aifake.Turn{Text: "ok", Usage: aifake.Usage{PromptTokens: c.perCall - 1, CompletionTokens: 1}}
				}
				f.fake.Enqueue(turns...)
				for _, p := range admitted {
					wg.Go(func() {
						resp, err := p.Client.Complete(f.analyst, provider.Request{Model: p.Settings.Model,
							Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}})
						if err == nil {
							err = p.Record(f.analyst, resp.Model, resp.Usage)
						}
						if rerr := p.Release(f.analyst); err == nil {
							err = rerr
						}
						if err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait()
				if n := len(f.fake.Requests()); n != c.admitted {
					t.Fatalf("%d provider calls, want %d", n, c.admitted)
				}
				recorded, reserved := f.ledger(t)
				if want := c.spent + c.admitted*c.perCall; recorded != want || reserved != 0 {
					t.Fatalf("recorded %d (want %d), %d still reserved", recorded, want, reserved)
				}
				if bound := c.limit - 1 + r; recorded > bound {
					t.Fatalf("recorded %d exceeds limit - 1 + R = %d", recorded, bound)
				}
			})
		}
	})
}

// TestReservationLifecycle: Record lowers the held budget by what was
// spent, Release gives the rest back, and reservations of a process that
// died stop counting after reservationTTL.
func TestReservationLifecycle(t *testing.T) {
	r := reservations[FeatureAnalysis]
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		t.Run("record settles, release gives the rest back", func(t *testing.T) {
			f := newQuotaFixture(t, db, r)
			a, err := f.open(t)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.open(t)
			wantRateLimited(t, err)
			if err := a.Record(f.analyst, "", provider.Usage{PromptTokens: 90, CompletionTokens: 10}); err != nil {
				t.Fatal(err)
			}
			if recorded, reserved := f.ledger(t); recorded != 100 || reserved != r-100 {
				t.Fatalf("after Record: %d recorded, %d reserved", recorded, reserved)
			}
			_, err = f.open(t)
			wantRateLimited(t, err) // 100 used + r-100 held
			for range 2 {           // Release is idempotent
				if err := a.Release(f.analyst); err != nil {
					t.Fatal(err)
				}
			}
			b, err := f.open(t)
			if err != nil {
				t.Fatalf("after Release: %v", err)
			}
			if err := b.Release(f.analyst); err != nil {
				t.Fatal(err)
			}
			u, err := f.db.Client.AIUsage.Query().All(f.analyst)
			if err != nil || len(u) != 1 || u[0].UserID == nil || *u[0].UserID != f.userID || u[0].Model != "gpt-4o" || u[0].Feature != FeatureAnalysis {
				t.Fatalf("usage rows %+v, %v", u, err)
			}
		})
		t.Run("a dead process's reservation expires", func(t *testing.T) {
			f := newQuotaFixture(t, db, r)
			if err := f.db.Client.AIUsage.Create().SetFeature(FeatureAnalysis).SetProvider(ProviderOpenAICompatible).
				SetReservedTokens(r).SetCreatedAt(time.Now().UTC().Add(-reservationTTL - time.Minute)).Exec(f.analyst); err != nil {
				t.Fatal(err)
			}
			p, err := f.open(t)
			if err != nil {
				t.Fatalf("a stale reservation still counts: %v", err)
			}
			n, err := f.db.Client.AIUsage.Query().Where(aiusage.ReservedTokensGT(0)).Count(f.analyst)
			if err != nil || n != 1 {
				t.Fatalf("%d reservations (want only the live one), %v", n, err)
			}
			if err := p.Release(f.analyst); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("allow refuses from the settings read, before any reservation", func(t *testing.T) {
			f := newQuotaFixture(t, db, 0) // over quota: allow's refusal comes first
			refused := apperr.New(apperr.Forbidden, "off")
			var seen Settings
			_, err := f.svc.Open(f.analyst, FeatureChat, nil, func(st Settings) error { seen = st; return refused })
			if err != refused || seen.Model != "gpt-4o" {
				t.Fatalf("Open: %v, settings seen %+v", err, seen)
			}
			if recorded, reserved := f.ledger(t); recorded != 0 || reserved != 0 {
				t.Fatalf("a refused Open wrote %d/%d", recorded, reserved)
			}
		})
		t.Run("the built-in analyst reserves nothing and works over quota", func(t *testing.T) {
			f := newQuotaFixture(t, db, 0)
			if _, err := f.svc.Update(f.admin, UpdateInput{Provider: new(ProviderBuiltin)}); err != nil {
				t.Fatal(err)
			}
			p, err := f.open(t)
			if err != nil || !p.Builtin() {
				t.Fatalf("built-in: %v %v", p, err)
			}
			if err := p.Record(f.analyst, "", provider.Usage{PromptTokens: 5}); err != nil {
				t.Fatal(err)
			}
			if err := p.Release(f.analyst); err != nil {
				t.Fatal(err)
			}
			if recorded, reserved := f.ledger(t); recorded != 0 || reserved != 0 {
				t.Fatalf("built-in analyst: %d recorded, %d reserved", recorded, reserved)
			}
		})
	})
}

// TestCheckCountsReservations: a request that only checks (an analysis
// being queued) is refused while the quota is held by calls in progress,
// and told so.
func TestCheckCountsReservations(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newQuotaFixture(t, db, reservations[FeatureAnalysis])
		if _, err := f.svc.Check(f.analyst); err != nil {
			t.Fatal(err)
		}
		p, err := f.open(t)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Check(f.analyst)
		wantRateLimited(t, err)
		if ae, _ := apperr.As(err); ae == nil || !containsAll(ae.Message, "quota", "held by calls in progress", "built-in analyst") {
			t.Fatalf("message: %v", err)
		}
		if q, err := f.svc.MyQuota(f.analyst); err != nil || q.Used != 0 || q.Remaining != q.Limit {
			t.Fatalf("quota shows recorded tokens only: %+v %v", q, err)
		}
		if err := p.Release(f.analyst); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Check(f.analyst); err != nil {
			t.Fatalf("after Release: %v", err)
		}
	})
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
