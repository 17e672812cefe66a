// Package demo fills a database with realistic alerts from several
// connectors, for people trying Seliq and for benchmarks.
//
// Run creates one push connector per vendor ("Demo CrowdStrike", "Demo
// Wazuh", …) in the bootstrap organisation, generates alerts in each
// vendor's native format (Falcon Alerts API resources, SentinelOne threats,
// Graph security alerts, Wazuh alerts.json lines, Suricata EVE lines, the
// Alertmanager webhook, Kibana webhook documents, Splunk ES notables and
// reported phishing mail) and posts them through the real ingest pipeline,
// with a share of repeats for deduplication to merge. It then triages part
// of the queue as an analyst would. Generation is deterministic for a seed.
package demo

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/analysis"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/connectors"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/connector"
	"github.com/seliq/seliq/ent/organization"
	"github.com/seliq/seliq/ent/user"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/opt"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/storage"
)

// Defaults and bounds of Options.
const (
	DefaultAlerts    = 5000
	DefaultDays      = 14
	DefaultBatchSize = 200
	maxAlerts        = 1_000_000
	maxDays          = 365
	maxBatchSize     = 1000
)

// Independent random streams of one seed: the alerts do not change when
// the triage step does, and the other way round.
const (
	streamAlerts = iota + 1
	streamTriage
)

// Options of a demo run.
type Options struct {
	// Alerts is the number of distinct alerts to generate; about
	// RepeatPercent % more deliveries repeat earlier ones. Default 5000.
	Alerts int
	// Seed makes the run reproducible.
	Seed uint64
	// Days spreads the event times over the last Days days. Default 14.
	Days int
	// BatchSize is the number of alerts per ingest call, repeats included.
	// Default 200.
	BatchSize int
	// AdminEmail and AdminPassword are used if the run has to create the
	// bootstrap organisation, as `seliq serve` would.
	AdminEmail, AdminPassword string
	// Now anchors the event times; default time.Now.
	Now func() time.Time
	// Progress, when set, receives a line every few batches.
	Progress io.Writer
}

func (o Options) withDefaults() (Options, error) {
	if o.Alerts == 0 {
		o.Alerts = DefaultAlerts
	}
	if o.Days == 0 {
		o.Days = DefaultDays
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case o.Alerts < 1 || o.Alerts > maxAlerts:
		return o, apperr.Invalid("alerts", "must be between 1 and %d", maxAlerts)
	case o.Days < 1 || o.Days > maxDays:
		return o, apperr.Invalid("days", "must be between 1 and %d", maxDays)
	case o.BatchSize < 1 || o.BatchSize > maxBatchSize:
		return o, apperr.Invalid("batch_size", "must be between 1 and %d", maxBatchSize)
	}
	return o, nil
}

// Summary reports what a run did.
type Summary struct {
	Bootstrap      *directory.Bootstrap // what EnsureBootstrap did
	OrganizationID uuid.UUID
	AdminEmail     string // the admin the triage was done as
	Connectors     []ConnectorSummary

	Batches     int // ingest calls
	Sent        int // alerts posted, repeats included
	Repeats     int
	Created     int // new alerts
	Merged      int // deliveries deduplication merged into an alert
	DeadLetters int // bodies kept as dead letters (none expected)
	Triage      Triage
	Incidents   int           // incidents opened from the alerts
	Dashboards  int           // demo dashboards created (none when they exist)
	Ingest      time.Duration // time spent in ingest calls
	Triaged     time.Duration // time spent in the triage step
	Elapsed     time.Duration // the whole run
	Database    string        // the dialect: sqlite3 or postgres
}

// ConnectorSummary is one demo connector's share of a run.
type ConnectorSummary struct {
	ID      uuid.UUID
	Name    string
	Type    string
	New     bool // created by this run
	Sent    int
	Created int
	Merged  int
}

// Triage counts the alerts the run acknowledged, assigned and closed.
type Triage struct {
	Acknowledged int
	Assigned     int
	Closed       map[enum.Disposition]int
}

// ClosedTotal is the number of alerts closed, any disposition.
func (t Triage) ClosedTotal() int {
	n := 0
	for _, c := range t.Closed {
		n += c
	}
	return n
}

// Rate is the ingest throughput: alerts posted per second spent ingesting.
func (s *Summary) Rate() float64 {
	if s.Ingest <= 0 {
		return 0
	}
	return float64(s.Sent) / s.Ingest.Seconds()
}

// Run fills db with demo alerts; see the package documentation. Connectors
// are found by name, so running it again adds alerts but no connectors.
func Run(ctx context.Context, db *storage.DB, opts Options) (*Summary, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	boot, err := directory.EnsureBootstrap(ctx, db.Client, opts.AdminEmail, opts.AdminPassword)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	org, admin, err := bootstrapAdmin(ctx, db.Client)
	if err != nil {
		return nil, err
	}
	actx := adminContext(ctx, org, admin)
	sum := &Summary{Bootstrap: boot, OrganizationID: org.ID, AdminEmail: admin.Email, Database: db.Dialect}
	conns, err := ensureConnectors(actx, db.Client, sum)
	if err != nil {
		return nil, err
	}
	if err := ensureAssetProfile(actx, db.Client); err != nil {
		return nil, err
	}
	created, err := feed(ctx, db, conns, opts, sum)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if sum.Triage, err = triage(actx, db, admin.ID, created, opts.Seed); err != nil {
		return nil, err
	}
	if sum.Incidents, err = openIncidents(actx, db.Client); err != nil {
		return nil, err
	}
	sum.Triaged = time.Since(t0)
	if sum.Dashboards, err = ensureDashboards(actx, db); err != nil {
		return nil, fmt.Errorf("dashboards: %w", err)
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// demoAssetProfile describes the demo organisation to the analyst: its
// corporate domain and network, the jump host and deployment account its
// admins use and its vulnerability scanner.
var demoAssetProfile = analysis.UpdateAssetProfileInput{
	Domains:       []string{"example.com"},
	Networks:      []string{"10.0.0.0/8"},
	AdminHosts:    []string{"jump-01." + dnsSuffix},
	AdminAccounts: []string{"svc_sccm"},
	Scanners:      []string{"10.0.9.50"},
}

// ensureAssetProfile fills the organisation's asset profile unless an
// admin already set one (a second run keeps their changes).
func ensureAssetProfile(ctx context.Context, client *ent.Client) error {
	svc := analysis.New(client, nil, nil, nil)
	cur, err := svc.AssetProfile(ctx)
	if err != nil {
		return fmt.Errorf("asset profile: %w", err)
	}
	if len(cur.Domains)+len(cur.Networks)+len(cur.AdminHosts)+len(cur.AdminAccounts)+len(cur.Scanners) > 0 {
		return nil
	}
	if _, err := svc.UpdateAssetProfile(ctx, demoAssetProfile); err != nil {
		return fmt.Errorf("asset profile: %w", err)
	}
	return nil
}

// bootstrapAdmin finds the bootstrap organisation and its first active admin.
func bootstrapAdmin(ctx context.Context, client *ent.Client) (*ent.Organization, *ent.User, error) {
	sys := auth.System(ctx)
	org, err := client.Organization.Query().Where(organization.Slug(directory.DefaultSlug)).Only(sys)
	if err != nil {
		return nil, nil, fmt.Errorf("bootstrap organisation: %w", err)
	}
	admin, err := client.User.Query().
		Where(user.OrganizationID(org.ID), user.RoleEQ(enum.RoleAdmin), user.Active(true)).
		Order(user.ByCreatedAt(), user.ByID()).First(sys)
	if err != nil {
		return nil, nil, fmt.Errorf("bootstrap organisation has no active admin: %w", err)
	}
	return org, admin, nil
}

func adminContext(ctx context.Context, org *ent.Organization, admin *ent.User) context.Context {
	return viewer.NewContext(ctx, &viewer.Viewer{
		Kind: viewer.KindUser, UserID: admin.ID, Role: admin.Role,
		HomeOrgID: org.ID, OrgID: org.ID, VisibleOrgIDs: []uuid.UUID{org.ID}, TopLevel: org.ParentID == nil,
	})
}

// connectorContext is the viewer a connector posts as.
func connectorContext(ctx context.Context, c *ent.Connector) context.Context {
	return viewer.NewContext(ctx, &viewer.Viewer{
		Kind: viewer.KindConnector, ConnectorID: c.ID,
		HomeOrgID: c.OrganizationID, OrgID: c.OrganizationID, VisibleOrgIDs: []uuid.UUID{c.OrganizationID},
	})
}

// ensureConnectors returns the demo connector of every vendor by catalogue
// key, creating the missing ones through the connectors service (which
// validates them and records their activity).
// Their keys are not shown: the demo posts in process, and an admin can
// rotate a key to point a real sensor at one.
func ensureConnectors(ctx context.Context, client *ent.Client, sum *Summary) (map[string]*ent.Connector, error) {
	names := make([]string, len(vendors))
	for i, v := range vendors {
		names[i] = v.connector
	}
	existing, err := client.Connector.Query().Where(connector.NameIn(names...)).All(ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*ent.Connector, len(existing))
	for _, c := range existing {
		if prev, dup := byName[c.Name]; !dup || c.CreatedAt.Before(prev.CreatedAt) {
			byName[c.Name] = c
		}
	}
	// Check every existing connector before creating any, so a conflict
	// leaves the database as it was.
	for _, v := range vendors {
		if c, found := byName[v.connector]; found {
			if err := usable(c, v); err != nil {
				return nil, err
			}
		}
	}
	svc := connectors.New(client, nil) // demo connectors push: no secrets to seal
	mode := enum.ConnectorModePush
	out := make(map[string]*ent.Connector, len(vendors))
	for _, v := range vendors {
		c, found := byName[v.connector]
		if !found {
			created, err := svc.Create(ctx, connectors.CreateConnectorInput{Name: v.connector, Type: v.key, Mode: &mode})
			if err != nil {
				return nil, fmt.Errorf("create connector %q: %w", v.connector, err)
			}
			c = created.Connector
		}
		out[v.key] = c
		sum.Connectors = append(sum.Connectors, ConnectorSummary{ID: c.ID, Name: c.Name, Type: c.Type, New: !found})
	}
	return out, nil
}

// usable refuses an existing connector the demo cannot post through.
func usable(c *ent.Connector, v vendor) error {
	switch {
	case c.Type != v.key:
		return apperr.New(apperr.Conflict, "connector %q exists with type %q, not %q; rename or delete it", c.Name, c.Type, v.key)
	case !c.Enabled:
		return apperr.New(apperr.Conflict, "connector %q is disabled; enable or delete it", c.Name)
	}
	return nil
}

// feed posts the planned batches through the ingest pipeline, each as its
// connector, and returns the ids of the alerts it created.
func feed(ctx context.Context, db *storage.DB, conns map[string]*ent.Connector, opts Options, sum *Summary) (_ []uuid.UUID, err error) {
	// The demo's alerts are analysed as a server's would be: their pending
	// analyses commit with them (when the organisation's auto-analysis is
	// on, the default) and their jobs wait in the queue for a server to run
	// them, so the first `seliq serve` triages the demo queue.
	queue, err := jobs.New(db, jobs.Config{})
	if err != nil {
		return nil, err
	}
	analyst := analysis.New(db.Client, queue, nil, nil)
	defer func() {
		if derr := analyst.Drain(ctx); err == nil && derr != nil {
			err = fmt.Errorf("queue the demo's analyses: %w", derr)
		}
	}()
	svc := ingest.New(db, ingest.Options{AfterCreate: analyst})
	span := time.Duration(opts.Days) * 24 * time.Hour
	plan := NewPlan(rand.New(rand.NewPCG(opts.Seed, streamAlerts)), opts.Now(), opts.Alerts, span, opts.BatchSize)
	per := make(map[string]*ConnectorSummary, len(sum.Connectors))
	for i := range sum.Connectors {
		per[sum.Connectors[i].Type] = &sum.Connectors[i]
	}
	created := make([]uuid.UUID, 0, opts.Alerts)
	fresh := 0
	for {
		b, ok, err := plan.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return created, nil
		}
		c := conns[b.Vendor]
		t0 := time.Now()
		res, err := svc.Ingest(connectorContext(ctx, c), c, b.Body)
		sum.Ingest += time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("ingest through %q: %w", c.Name, err)
		}
		for _, r := range res.Results {
			if r.Status == ingest.StatusCreated {
				created = append(created, r.ID)
			}
		}
		cs := per[b.Vendor]
		cs.Sent += b.Fresh + b.Repeats
		cs.Created += res.Created
		cs.Merged += res.Merged
		sum.Batches++
		sum.Sent += b.Fresh + b.Repeats
		sum.Repeats += b.Repeats
		sum.Created += res.Created
		sum.Merged += res.Merged
		sum.DeadLetters += res.DeadLettered
		fresh += b.Fresh
		if opts.Progress != nil && sum.Batches%10 == 0 {
			fmt.Fprintf(opts.Progress, "  %d/%d alerts generated, %d posted (%.0f/s)\n", fresh, opts.Alerts, sum.Sent, sum.Rate())
		}
	}
}

// Shares of the created alerts the triage step touches.
const (
	olderShare  = 0.6  // the oldest 60 % are candidates for closing…
	closeShare  = 0.5  // …and half of them are closed: about 30 % in all
	ackShare    = 0.2  // acknowledged, of all
	assignShare = 0.25 // assigned to the admin, of all
	bulkChunk   = 2000 // ids per bulk action
)

// dispositions of closed alerts: most alerts are noise.
var dispositions = []struct {
	d enum.Disposition
	w int
}{
	{enum.DispositionFalsePositive, 45},
	{enum.DispositionBenign, 35},
	{enum.DispositionTruePositive, 15},
	{enum.DispositionDuplicate, 5},
}

// triage makes the queue look worked on, as the admin and through the same
// bulk actions an analyst uses: it assigns a quarter, closes about a third
// of the older alerts with a disposition and acknowledges a fifth.
func triage(ctx context.Context, db *storage.DB, adminID uuid.UUID, ids []uuid.UUID, seed uint64) (Triage, error) {
	t := Triage{Closed: map[enum.Disposition]int{}}
	list, err := byEventTime(ctx, db.Client, ids)
	if err != nil {
		return t, err
	}
	r := rand.New(rand.NewPCG(seed, streamTriage))
	older := int(float64(len(list)) * olderShare)
	ackRest := ackShare / (1 - olderShare*closeShare) // of those left open
	var assign, ack []uuid.UUID
	closing := map[enum.Disposition][]uuid.UUID{}
	for i, id := range list {
		if r.Float64() < assignShare {
			assign = append(assign, id)
		}
		switch {
		case i < older && r.Float64() < closeShare:
			d := disposition(r)
			closing[d] = append(closing[d], id)
		case r.Float64() < ackRest:
			ack = append(ack, id)
		}
	}
	steps := []bulkStep{
		{assign, enum.BulkAlertActionAssign, alerts.BulkAlertChanges{AssigneeID: opt.Of(&adminID)}, func(n int) { t.Assigned += n }},
		{ack, enum.BulkAlertActionUpdate, alerts.BulkAlertChanges{Status: ptr(enum.AlertStatusAcknowledged)}, func(n int) { t.Acknowledged += n }},
	}
	for _, dw := range dispositions {
		d := dw.d
		steps = append(steps, bulkStep{closing[d], enum.BulkAlertActionClose, alerts.BulkAlertChanges{Disposition: &d}, func(n int) { t.Closed[d] += n }})
	}
	svc := alerts.New(db.Client, db.Dialect)
	for _, st := range steps {
		if err := st.run(ctx, svc); err != nil {
			return t, err
		}
	}
	return t, nil
}

// bulkStep is one bulk action over many alerts, in chunks.
type bulkStep struct {
	ids     []uuid.UUID
	action  enum.BulkAlertAction
	changes alerts.BulkAlertChanges
	count   func(updated int)
}

func (st bulkStep) run(ctx context.Context, svc *alerts.Service) error {
	for chunk := range slices.Chunk(st.ids, bulkChunk) {
		changes := st.changes
		res, err := svc.Bulk(ctx, alerts.BulkAlertsInput{AlertIDs: chunk, Action: st.action, Changes: &changes})
		if err != nil {
			return fmt.Errorf("triage (%s): %w", st.action, err)
		}
		st.count(res.Updated)
	}
	return nil
}

func disposition(r *rand.Rand) enum.Disposition {
	n := r.IntN(100)
	for _, dw := range dispositions {
		if n -= dw.w; n < 0 {
			return dw.d
		}
	}
	return dispositions[0].d
}

func ptr[T any](v T) *T { return &v }

// byEventTime returns ids ordered by the event time of their alerts, oldest
// first (alerts without one last).
func byEventTime(ctx context.Context, client *ent.Client, ids []uuid.UUID) ([]uuid.UUID, error) {
	type row struct {
		id uuid.UUID
		at time.Time
	}
	rows := make([]row, 0, len(ids))
	for chunk := range slices.Chunk(ids, bulkChunk) {
		list, err := client.Alert.Query().Where(alert.IDIn(chunk...)).Select(alert.FieldID, alert.FieldEventTime).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			at := time.Unix(1<<40, 0) // after any real time
			if a.EventTime != nil {
				at = *a.EventTime
			}
			rows = append(rows, row{a.ID, at})
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return slices.Compare(a.id[:], b.id[:])
	})
	out := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		out[i] = r.id
	}
	return out, nil
}

// Print writes the summary for a terminal.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "\nDemo data loaded into %s in %s.\n", s.Database, s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  posted   %d alerts (%d repeats) in %d batches; ingest took %s: %.0f alerts/s\n",
		s.Sent, s.Repeats, s.Batches, s.Ingest.Round(time.Millisecond), s.Rate())
	fmt.Fprintf(w, "  alerts   %d created, %d merged by deduplication", s.Created, s.Merged)
	if s.DeadLetters > 0 {
		fmt.Fprintf(w, ", %d dead letters", s.DeadLetters)
	}
	fmt.Fprintln(w)
	for _, c := range s.Connectors {
		state := ""
		if c.New {
			state = " (new)"
		}
		fmt.Fprintf(w, "    %-24s %-13s sent %6d  created %6d  merged %5d%s\n", c.Name, c.Type, c.Sent, c.Created, c.Merged, state)
	}
	fmt.Fprintf(w, "  triage   as %s in %s: %d assigned, %d acknowledged, %d closed (",
		s.AdminEmail, s.Triaged.Round(time.Millisecond), s.Triage.Assigned, s.Triage.Acknowledged, s.Triage.ClosedTotal())
	for i, dw := range dispositions {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%d %s", s.Triage.Closed[dw.d], dw.d)
	}
	fmt.Fprintln(w, ")")
	fmt.Fprintf(w, "  incidents %d opened from critical and high alerts, with timeline entries and notes\n", s.Incidents)
	fmt.Fprintf(w, "  dashboards %d created (SOC overview, MSSP SLA)\n", s.Dashboards)
	fmt.Fprintf(w, "  analyses  queued for every new alert (when auto-analysis is on); the server runs them when it starts\n")
}
