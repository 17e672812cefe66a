package analysis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	entanalysis "github.com/seliq/seliq/ent/analysis"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/jobs"
)

// The backlog policy: what auto-analysis does when the built-in analyses
// cannot keep up with ingest. Every alert is stored and stays in the alert
// queue either way; what changes is which new alerts get an automatic
// analysis. Under PolicyDeferLowValue, once an organisation's backlog of
// open analyses reaches DeferAbove, new `info` alerts and repeats of a
// dedup group (a fingerprint) that already has an analysis, done or
// queued, get none: they are analysed on demand (analyseAlert, POST
// /alerts/{id}/analyse). PolicyAnalyseAll analyses every new alert however
// long the backlog grows.
const (
	PolicyAnalyseAll    = "analyse_all"
	PolicyDeferLowValue = "defer_low_value"
)

// Policy is the backlog policy (SELIQ_ANALYSIS_BACKLOG_POLICY and
// SELIQ_ANALYSIS_DEFER_ABOVE).
type Policy struct {
	Mode string
	// DeferAbove is the organisation's backlog (open analyses) from which
	// low-value alerts are deferred; 0 defers them always.
	DeferAbove int
}

// DefaultPolicy defers low-value alerts once an organisation has 5,000
// analyses waiting: at 200 analyses a second that is 25 s of work, so a
// quiet system analyses everything and a flood keeps its critical and
// high alerts' analyses minutes, not hours, behind.
var DefaultPolicy = Policy{Mode: PolicyDeferLowValue, DeferAbove: 5000}

// ParsePolicy reads the policy's settings as the environment gives them;
// empty strings keep the defaults.
func ParsePolicy(mode, above string) (Policy, error) {
	p := DefaultPolicy
	switch m := strings.ToLower(strings.TrimSpace(mode)); m {
	case "":
	case PolicyAnalyseAll, PolicyDeferLowValue:
		p.Mode = m
	default:
		return p, fmt.Errorf("SELIQ_ANALYSIS_BACKLOG_POLICY: %q is not %s or %s", mode, PolicyAnalyseAll, PolicyDeferLowValue)
	}
	if above = strings.TrimSpace(above); above != "" {
		n, err := strconv.Atoi(above)
		if err != nil || n < 0 {
			return p, fmt.Errorf("SELIQ_ANALYSIS_DEFER_ABOVE: %q is not a whole number of analyses ≥ 0", above)
		}
		p.DeferAbove = n
	}
	return p, nil
}

// WithPolicy sets the backlog policy.
func (s *Service) WithPolicy(p Policy) *Service {
	s.policy = newPolicy(p)
	return s
}

// depthTTL is how long ingest trusts an organisation's backlog count: one
// count a second per organisation, whatever the payload rate.
const depthTTL = time.Second

type policy struct {
	Policy
	now func() time.Time
	mu  sync.Mutex
	// depth is each organisation's backlog as last counted.
	depth map[uuid.UUID]depthEntry
}

type depthEntry struct {
	n  int
	at time.Time
}

func newPolicy(p Policy) *policy {
	return &policy{Policy: p, now: time.Now, depth: map[uuid.UUID]depthEntry{}}
}

// filter returns the new alerts (id, severity, fingerprint read) that get
// an automatic analysis, counting the others in s.stats.
func (p *policy) filter(ctx context.Context, s *Service, tx *ent.Tx, created []*ent.Alert) ([]*ent.Alert, error) {
	if p.Mode != PolicyDeferLowValue {
		return created, nil
	}
	behind, err := p.behind(ctx, tx.Client())
	if err != nil || !behind {
		return created, err
	}
	// The fingerprints already analysed or queued: by alerts created
	// before this payload, or earlier in it.
	var fps []string
	for _, a := range created {
		if a.Fingerprint != "" {
			fps = append(fps, a.Fingerprint)
		}
	}
	analysed, err := analysedFingerprints(ctx, tx.Client(), fps)
	if err != nil {
		return nil, err
	}
	keep := created[:0:0]
	for _, a := range created {
		switch {
		case a.Severity == enum.SeverityInfo:
			s.stats.deferredInfo.Add(1)
		case a.Fingerprint != "" && analysed[a.Fingerprint]:
			s.stats.deferredRepeat.Add(1)
		default:
			if a.Fingerprint != "" {
				analysed[a.Fingerprint] = true
			}
			keep = append(keep, a)
		}
	}
	return keep, nil
}

// analysedFingerprints is which of fps have an alert with an analysis.
func analysedFingerprints(ctx context.Context, c *ent.Client, fps []string) (map[string]bool, error) {
	analysed := map[string]bool{}
	if len(fps) == 0 {
		return analysed, nil
	}
	var rows []struct {
		Fingerprint string `json:"fingerprint"`
	}
	err := c.Alert.Query().Where(alert.FingerprintIn(fps...), hasAnalysis()).
		Modify(func(s *sql.Selector) { s.Select(s.C(alert.FieldFingerprint)).Distinct() }).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("analysed fingerprints: %w", err)
	}
	for _, r := range rows {
		analysed[r.Fingerprint] = true
	}
	return analysed, nil
}

// hasAnalysis matches alerts with at least one analysis (the analysis of
// an alert belongs to the alert's organisation).
func hasAnalysis() func(*sql.Selector) {
	return func(s *sql.Selector) {
		t := sql.Table(entanalysis.Table)
		s.Where(sql.Exists(sql.Select(t.C(entanalysis.FieldID)).From(t).Where(sql.ColumnsEQ(t.C(entanalysis.FieldAlertID), s.C(alert.FieldID)))))
	}
}

// behind reports whether the acting organisation's backlog has reached
// DeferAbove, counting it at most once per depthTTL.
func (p *policy) behind(ctx context.Context, c *ent.Client) (bool, error) {
	if p.DeferAbove == 0 {
		return true, nil
	}
	v := viewer.FromContext(ctx)
	if v == nil {
		return false, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	now := p.now()
	p.mu.Lock()
	e, ok := p.depth[v.OrgID]
	p.mu.Unlock()
	if !ok || now.Sub(e.at) >= depthTTL {
		n, err := c.Analysis.Query().Where(entanalysis.OrganizationID(v.OrgID), openStatus()).Count(ctx)
		if err != nil {
			return false, fmt.Errorf("analysis backlog: %w", err)
		}
		e = depthEntry{n: n, at: now}
		p.mu.Lock()
		p.depth[v.OrgID] = e
		p.mu.Unlock()
	}
	return e.n >= p.DeferAbove, nil
}

// stats are the process's analysis counters, for /metrics.
type stats struct {
	completed      atomic.Uint64
	deferredInfo   atomic.Uint64
	deferredRepeat atomic.Uint64
	ingestWait     atomic.Uint64 // nanoseconds batches waited for a pause in ingest
}

// Counters are the analyses this process completed and the new alerts the
// backlog policy left for analysis on demand, by reason.
type Counters struct {
	Completed      uint64
	DeferredInfo   uint64
	DeferredRepeat uint64
	// IngestWait is how long batches waited for a pause in ingest, in all.
	IngestWait time.Duration
}

// Counters returns the process's analysis counters.
func (s *Service) Counters() Counters {
	return Counters{Completed: s.stats.completed.Load(), DeferredInfo: s.stats.deferredInfo.Load(), DeferredRepeat: s.stats.deferredRepeat.Load(),
		IngestWait: time.Duration(s.stats.ingestWait.Load())}
}

// QueueDepth is the backlog of open (pending or running) analyses of one
// organisation's alerts.
type QueueDepth struct {
	Depth      int             `json:"depth"`
	BySeverity []SeverityCount `json:"bySeverity"`
	// OldestAt is when the oldest open analysis was queued; nil when none.
	OldestAt *time.Time `json:"oldestAt"`
}

// SeverityCount is the backlog of one alert severity.
type SeverityCount struct {
	Severity enum.Severity `json:"severity"`
	Count    int           `json:"count"`
}

// Queue returns the acting organisation's analysis backlog (analysts and
// admins): its own organisation only, not the organisations it manages.
func (s *Service) Queue(ctx context.Context) (*QueueDepth, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser || !v.HasRole(enum.RoleAnalyst) {
		return nil, apperr.New(apperr.Forbidden, "only analysts and admins see the analysis queue")
	}
	return s.depth(ctx, v.OrgID)
}

// depth counts orgID's open alert analyses by their alert's severity (one
// grouped join) and finds the oldest; ctx must act in orgID.
func (s *Service) depth(ctx context.Context, orgID uuid.UUID) (*QueueDepth, error) {
	var rows []struct {
		Severity string `json:"severity"`
		N        int    `json:"n"`
	}
	err := s.client.Analysis.Query().Where(entanalysis.OrganizationID(orgID), openStatus(), entanalysis.AlertIDNotNil()).
		Modify(func(q *sql.Selector) {
			t := sql.Table(alert.Table)
			q.Join(t).On(q.C(entanalysis.FieldAlertID), t.C(alert.FieldID))
			q.Select(sql.As(t.C(alert.FieldSeverity), "severity"), sql.As(sql.Count("*"), "n")).GroupBy(t.C(alert.FieldSeverity))
		}).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("analysis backlog: %w", err)
	}
	out := &QueueDepth{BySeverity: []SeverityCount{}}
	counts := map[enum.Severity]int{}
	for _, r := range rows {
		counts[enum.Severity(r.Severity)] += r.N
		out.Depth += r.N
	}
	// Every severity, critical first, zeros included: a dashboard's series
	// do not come and go.
	for _, sev := range severitiesByRank() {
		out.BySeverity = append(out.BySeverity, SeverityCount{Severity: sev, Count: counts[sev]})
	}
	if out.Depth > 0 {
		oldest, err := s.client.Analysis.Query().Where(entanalysis.OrganizationID(orgID), openStatus(), entanalysis.AlertIDNotNil()).
			Order(ent.Asc(entanalysis.FieldCreatedAt)).Select(entanalysis.FieldCreatedAt).First(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return nil, fmt.Errorf("oldest open analysis: %w", err)
		}
		if oldest != nil {
			at := oldest.CreatedAt
			out.OldestAt = &at
		}
	}
	return out, nil
}

// severitiesByRank lists the severities, critical first.
func severitiesByRank() []enum.Severity {
	return []enum.Severity{enum.SeverityCritical, enum.SeverityHigh, enum.SeverityMedium, enum.SeverityLow, enum.SeverityInfo}
}

// Backlog is every organisation's backlog summed (each counted as that
// organisation's job), for /metrics.
func (s *Service) Backlog(ctx context.Context) (*QueueDepth, error) {
	total := &QueueDepth{}
	counts := map[enum.Severity]int{}
	err := jobs.ForEachOrganization(ctx, s.client, func(ctx context.Context, orgID uuid.UUID) error {
		d, err := s.depth(ctx, orgID)
		if err != nil {
			return err
		}
		total.Depth += d.Depth
		for _, c := range d.BySeverity {
			counts[c.Severity] += c.Count
		}
		if d.OldestAt != nil && (total.OldestAt == nil || d.OldestAt.Before(*total.OldestAt)) {
			total.OldestAt = d.OldestAt
		}
		return nil
	})
	for _, sev := range severitiesByRank() {
		total.BySeverity = append(total.BySeverity, SeverityCount{Severity: sev, Count: counts[sev]})
	}
	return total, err
}
