package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/seliq/seliq/automation"
	"github.com/seliq/seliq/automation/action"
	"github.com/seliq/seliq/automation/trigger"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"

	aiconfig "github.com/seliq/seliq/ai/config"
	"github.com/seliq/seliq/alerts"
	"github.com/seliq/seliq/alertviews"
	"github.com/seliq/seliq/analysis"
	"github.com/seliq/seliq/audit"
	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/chat"
	"github.com/seliq/seliq/connectors"
	"github.com/seliq/seliq/dashboard"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/features"
	"github.com/seliq/seliq/gqlserver"
	"github.com/seliq/seliq/gqlserver/stream"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/ingest"
	"github.com/seliq/seliq/ingest/mailin"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/busy"
	"github.com/seliq/seliq/internal/ratelimit"
	"github.com/seliq/seliq/internal/reqctx"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/jobs"
	"github.com/seliq/seliq/loaders"
	"github.com/seliq/seliq/mail"
	socmetrics "github.com/seliq/seliq/metrics"
	"github.com/seliq/seliq/nodes"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/outbound/orgallow"
	"github.com/seliq/seliq/pull"
	"github.com/seliq/seliq/query"
	"github.com/seliq/seliq/realtime/hub"
	"github.com/seliq/seliq/realtime/live"
	"github.com/seliq/seliq/report"
	"github.com/seliq/seliq/resolvers"
	"github.com/seliq/seliq/rest"
	"github.com/seliq/seliq/rest/download"
	"github.com/seliq/seliq/rest/webhook"
	"github.com/seliq/seliq/security"
	"github.com/seliq/seliq/sla"
	"github.com/seliq/seliq/storage"
	"github.com/seliq/seliq/tenancy"
	"github.com/seliq/seliq/webui"
)

// Server is the assembled application.
type Server struct {
	DB      *storage.DB
	Auth    *auth.Service
	Handler http.Handler
	// Jobs works the durable job queue between Start and Stop.
	Jobs    *jobs.Runner
	Reports *report.Service
	Analyst *analysis.Service
	// Pull polls the pull connectors (jobs on Jobs).
	Pull *pull.Service
	// SLA fires the incidents' SLA timers (jobs on Jobs).
	SLA *sla.Service
	// Hub fans realtime events out to this replica's subscribers.
	Hub *hub.Hub
	// Revocations tells this replica that a user's standing changed, on
	// whichever replica the change was made; Connections (this replica's
	// WebSockets and SSE streams) closes what no longer holds.
	Revocations *auth.Revocations
	Connections *stream.Conns
	// Metrics serves the Prometheus registry (on Handler too unless
	// Config.MetricsAddr moves it to a listener of its own).
	Metrics http.Handler
	log     *slog.Logger
	// sealSecrets seals webhook secrets stored in clear by older versions.
	sealSecrets func(context.Context) (int, error)
	// stopCompactor ends the alert counters' compaction loop and waits for it.
	stopCompactor func()
}

// compactEvery is how often a replica folds the alert counters' deltas:
// often enough that a facets read adds up at most a few seconds of ingest.
const compactEvery = 2 * time.Second

// ingestGrace is how long after a payload is stored the replica still
// counts as ingesting: a connector's next payload follows within a round
// trip, and a pause that short is no pause.
const ingestGrace = 100 * time.Millisecond

// Start begins working background jobs and re-queues the work a previous
// process left unfinished.
func (s *Server) Start(ctx context.Context) error {
	if err := s.Hub.Start(ctx); err != nil {
		return err
	}
	if err := s.Jobs.Start(ctx); err != nil {
		return err
	}
	n, err := s.Reports.Resume(ctx)
	if err != nil {
		return err
	}
	m, err := s.Analyst.Resume(ctx)
	if err != nil {
		return err
	}
	p, err := s.Pull.Resume(ctx)
	if err != nil {
		return err
	}
	q, err := s.SLA.Resume(ctx)
	if err != nil {
		return err
	}
	if sealed, err := s.sealSecrets(ctx); err != nil {
		return err
	} else if sealed > 0 {
		s.log.Info("sealed webhook secrets stored in clear", "triggers", sealed)
	}
	// Alerts stored before alerts kept their attributes get them mapped again.
	if err := s.Jobs.Enqueue(ctx, ingest.BackfillArgs{}, nil); err != nil {
		return err
	}
	if n+m+p+q > 0 {
		s.log.Info("resumed unfinished work", "reports", n, "analyses", m, "pull connectors", p, "sla timers", q)
	}
	s.startCompactor(ctx)
	return nil
}

// startCompactor runs the alert counters' compaction until Stop.
func (s *Server) startCompactor(ctx context.Context) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.DB.CompactAlertCountsEvery(ctx, compactEvery, s.log)
	}()
	s.stopCompactor = func() { cancel(); <-done }
}

// Stop stops working jobs; ones still running when ctx ends are cancelled
// and picked up again by the next process. Automatic analyses handed over
// by ingest are queued first (or, if ctx ends, resumed at the next start).
func (s *Server) Stop(ctx context.Context) error {
	if s.stopCompactor != nil {
		s.stopCompactor()
	}
	return errors.Join(s.Analyst.Drain(ctx), s.Jobs.Stop(ctx), s.Hub.Stop(ctx))
}

// New wires the application over an open, migrated database.
func New(cfg Config, db *storage.DB, log *slog.Logger) (*Server, error) {
	box, err := secrets.NewBox(cfg.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("secret key (SELIQ_SECRET_KEY): %w", err)
	}
	authSvc := auth.New(db.Client, auth.Config{SessionTTL: cfg.SessionTTL, LoginLimit: cfg.LoginLimit, LoginIPLimit: cfg.LoginIPLimit, Box: box})
	if cfg.HashConcurrency > 0 || cfg.HashWait > 0 {
		auth.LimitHashing(cfg.HashConcurrency, cfg.HashWait)
	}
	timeouts := cfg.Timeouts.withDefaults()
	// Workers register after the runner exists: the report service queues
	// on the runner, and the runner works the report service's jobs.
	workers := river.NewWorkers()
	// River rescues a job whose replica died once it has run longer than
	// this and than its worker's own timeout (every worker sets one), so
	// a pull connector whose replica crashed mid-poll resumes within
	// minutes rather than River's default hour.
	runner, err := jobs.New(db, jobs.Config{Workers: workers, Logger: log, RescueStuckJobsAfter: 10 * time.Minute})
	if err != nil {
		return nil, err
	}
	reports := report.New(db.Client, runner, log)
	allowlists := orgallow.New(db.Client, outbound.NewPolicy(cfg.OutboundAllow...))
	ai := aiconfig.New(db.Client, box, allowlists, log)
	policy := cfg.AnalysisPolicy
	if policy.Mode == "" {
		policy = analysis.DefaultPolicy // a Config built in code, not by LoadConfig
	}
	// Batches of automatic analyses wait for a pause in this replica's
	// ingest (analysis/yield.go); ingestGrace after a payload is stored the
	// replica still counts as ingesting.
	ingestLoad := busy.New(ingestGrace)
	analyst := analysis.New(db.Client, runner, ai, log).WithPolicy(policy).WithIngest(ingestLoad, cfg.AnalysisIngestYield).
		WithPendingLists(db.PendingLists(storage.DefaultMergeEvery, log))
	river.AddWorker(workers, analyst.Worker())
	river.AddWorker(workers, analyst.BatchWorker())
	// A subscriber's buffer of 64 events keeps an idle subscription small
	// (about 7 KiB) while absorbing bursts; a client slower than that is
	// dropped and resumes from its cursor.
	events := hub.New(db, hub.Config{Logger: log, Buffer: 64})
	// Writers record events in their transactions; the hook wakes the hub
	// once those commit.
	db.Client.Event.Use(events.CommitHook())
	revocations := auth.NewRevocations(events)
	conns := stream.NewConns(cfg.WSMaxConnectionsPerUser, log)
	// The cached principals go first, so that the streams' recheck reads
	// the change; every organisation-wide change (no user) evicts, and the
	// users it concerns are announced one by one where connections matter.
	auth.TrackOrganizations(db.Client)
	revocations.Subscribe(func(c auth.PrincipalChange) {
		authSvc.Forget(c)
		if c.UserID != uuid.Nil {
			conns.Recheck(c.UserID)
		}
	})
	river.AddWorker(workers, reports.Worker())
	river.AddWorker(workers, ingest.NewBackfillWorker(db.Client))
	// Auto-analysis: ingest tells the analyst of each payload's new alerts.
	// and the on-duty group of its critical ones.
	// Triggers run first: an alert is born routed (a suppressed one is
	// closed before the on-duty group would hear of it). Every replica's
	// engine follows trigger changes through the outbox.
	engine := trigger.NewEngine(cfg.AutomationActions, log)
	engine.Watch(events)
	ingestion := ingest.New(db, ingest.Options{MaxBodyBytes: cfg.IngestMaxBytes, AfterCreate: ingest.Chain{engine, analyst, notify.CriticalAlerts{}}, Busy: ingestLoad})
	mailer := mail.New(db.Client, box, allowlists, cfg.Mail, log)
	river.AddWorker(workers, mailer.Worker())
	puller := pull.New(db.Client, ingestion, box, allowlists, runner, cfg.Pull, log)
	river.AddWorker(workers, puller.Worker())
	timers := sla.New(db.Client, runner, nil).WithLogger(log).WithTriggers(engine)
	river.AddWorker(workers, timers.Worker())
	incidentsSvc := incidents.New(db.Client).WithSLA(timers).WithTriggers(engine)
	analyst.WithIncidents(incidentsSvc)
	querySvc, metricsSvc := query.New(db.Client, db.Dialect), socmetrics.New(db.Client, db.Dialect)
	alertsSvc := alerts.New(db.Client, db.Dialect).WithBulkLimit(ratelimit.New(cfg.BulkLimit, time.Minute)).WithTriggers(engine)
	actions := action.NewExecutor(action.Deps{Incidents: incidentsSvc, Analysis: analyst, Policies: allowlists})
	if cfg.AutomationActions != nil {
		engine.WithActions(cfg.AutomationActions)
	} else {
		engine.WithActions(trigger.Vocabulary{Exec: actions, Max: cfg.Automation.MaxActions, Box: box})
	}
	river.AddWorker(workers, action.NewWebhookWorker(box, allowlists))
	res := &resolvers.Resolver{Services: &resolvers.Services{
		Auth:          authSvc,
		Directory:     directory.New(db.Client),
		Nodes:         nodes.New(db.Client),
		Alerts:        alertsSvc,
		AlertViews:    alertviews.New(db.Client),
		Audit:         audit.New(db.Client),
		Connectors:    connectors.New(db.Client, box).WithScheduler(puller).WithInboundBaseURL(cfg.Mail.PublicURL),
		Pull:          puller,
		Incidents:     incidentsSvc,
		SLA:           timers,
		Reports:       reports,
		Notifications: notify.NewService(db.Client),
		Analysis:      analyst,
		AI:            ai,
		Outbound:      allowlists,
		Chat:          chat.New(db.Client, ai, analyst, log),
		Live:          live.New(db.Client, events, log),
		Query:         querySvc,
		Mail:          mailer,
		Features:      features.New(db.Client),
		Security:      security.New(db.Client),
		Metrics:       metricsSvc,
		Dashboards:    dashboard.New(db.Client, metricsSvc, querySvc, timers),
		Triggers:      trigger.New(db.Client, engine, cfg.Automation),
		Macros:        automation.New(db.Client, actions, box).WithTriggers(engine),
	}}
	refs := loaders.NewRefCache()
	refs.Track(db.Client)
	gcfg := gqlserver.Config{Resolvers: res, Logger: log, AllowedOrigins: cfg.AllowedOrigins, OperationContext: alertviews.WithCache, Authenticate: authSvc.AuthenticateFresh, Timeout: cfg.GraphQLTimeout, Connections: conns,
		Loaders: &loaders.Sources{Client: db.Client, Alerts: alertsSvc, Refs: refs}}
	es := gqlserver.NewSchema(res)
	api, err := rest.New(gqlserver.NewExecutor(gcfg, es), es, rest.Routes)
	if err != nil {
		return nil, err
	}
	openapi, err := rest.OpenAPI(es.Schema(), rest.Routes, rest.ServerOptions())
	if err != nil {
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg)
	reg.MustRegister(newAnalysisCollector(analyst, log))
	metricsH := metricsHandler(reg, cfg.MetricsToken)

	r := chi.NewRouter()
	r.Use(bodyDeadline(timeouts.Read), middleware.RequestID, reqctx.Trusting(cfg.TrustedProxies), accessLog(log), m.middleware, recoverer(log))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		rest.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			w.Header().Set("Retry-After", strconv.Itoa(int(storage.RetryAfter.Seconds())))
			rest.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "detail": "database unreachable"})
			return
		}
		rest.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	if cfg.MetricsAddr == "" {
		r.Handle("/metrics", metricsH)
	}
	r.Handle("/playground", http.RedirectHandler("/playground/", http.StatusMovedPermanently))
	r.Handle("/playground/*", http.StripPrefix("/playground", webui.Playground("/graphql")))
	r.Handle("/docs", http.RedirectHandler("/docs/", http.StatusMovedPermanently))
	r.Handle("/docs/*", http.StripPrefix("/docs", webui.APIDocs("/api/v1/openapi.json")))

	// Streams keep no write deadline: they have keep-alives and drop slow
	// subscribers themselves.
	r.With(writeDeadline(0, isStream), authenticate(authSvc), limitBody).Handle("/graphql", gqlserver.NewServer(gcfg, es))
	// Inbound email: the URL token is the credential (mail services
	// cannot send headers), so no other authentication; the receiver
	// applies its own body limit.
	inbound := mailin.NewReceiver(ingestion, authSvc, mailin.Config{
		MaxBytes:     int64(cfg.InboundEmailMaxBytes),
		OwnAddresses: mailer.OwnAddresses,
	})
	r.Route("/webhooks", func(r chi.Router) {
		r.Use(middleware.StripSlashes)
		h := webhook.InboundEmail(inbound)
		r.Handle(connectors.InboundEmailPath[len("/webhooks"):]+"{url_token}", h)
		// Mailgun posts the raw message (body-mime) to a URL ending in "mime".
		r.Handle(connectors.InboundEmailPath[len("/webhooks"):]+"{url_token}/mime", h)
		r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
			rest.WriteError(w, apperr.NotFoundf("no such endpoint"))
		})
	})
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(middleware.StripSlashes)
		// Connectors authenticate with their key and send larger bodies;
		// the ingest handler applies both itself.
		r.Method(http.MethodPost, "/alerts/ingest", webhook.Handler(ingestion, authSvc))
		r.Group(func(r chi.Router) {
			r.Use(authenticate(authSvc), limitBody)
			r.Get("/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(openapi)
			})
			r.With(writeDeadline(timeouts.Download, always), refuseEnrolOnly).
				Method(http.MethodGet, "/incidents/{incident_id}/reports/{report_id}/download", download.Report(reports))
			r.With(refuseEnrolOnly).Method(http.MethodGet, "/settings/report/template", download.Template(reports))
			r.With(refuseEnrolOnly).Method(http.MethodPost, "/settings/report/template", download.TemplateUpload(reports))
			api.Mount(r, "/api/v1")
		})
		r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
			rest.WriteError(w, apperr.NotFoundf("no such endpoint"))
		})
		api := r
		r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
			// RFC 9110: a 405 lists the methods the resource supports.
			w.Header().Set("Allow", strings.Join(allowedMethods(api, strings.TrimPrefix(req.URL.Path, "/api/v1")), ", "))
			rest.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": "method not allowed", "code": "METHOD_NOT_ALLOWED"})
		})
	})
	return &Server{DB: db, Auth: authSvc, Handler: r, Metrics: metricsH, Jobs: runner, Reports: reports, Analyst: analyst, Pull: puller, SLA: timers, Hub: events,
		Revocations: revocations, Connections: conns, log: log,
		sealSecrets: func(ctx context.Context) (int, error) {
			return trigger.SealStoredSecrets(auth.System(ctx), db.Client, box)
		}}, nil
}

// allowedMethods lists the methods routes serves path with, for a 405's
// Allow header.
func allowedMethods(routes chi.Routes, path string) []string {
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		if routes.Match(chi.NewRouteContext(), m, path) {
			out = append(out, m)
		}
	}
	return out
}

// authenticate resolves the credential into a viewer. No credential leaves
// the request anonymous (every protected field then refuses it); a bad one
// is refused here with 401, an out-of-scope X-Seliq-Org with 403.
func authenticate(svc *auth.Service) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := r.Header.Get("Authorization")
			if h == "" {
				next.ServeHTTP(w, r)
				return
			}
			v, err := svc.Authenticate(r.Context(), h, r.Header.Get(tenancy.HeaderOrg))
			if err != nil {
				if r.URL.Path == "/graphql" {
					gqlserver.WriteError(w, err)
					return
				}
				rest.WriteError(w, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), v)))
		})
	}
}

// refuseEnrolOnly guards the hand-written routes the way gqlserver's
// requireViewer guards GraphQL: an enrol-only session reaches none of them.
func refuseEnrolOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := viewer.FromContext(r.Context()); v != nil && v.EnrolOnly {
			rest.WriteError(w, auth.ErrEnrolOnly)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies; the REST layer answers 413 when exceeded,
// and GraphQL's transport fails the read.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > rest.MaxBodyBytes {
			rest.WriteError(w, apperr.New(apperr.TooLarge, "request body exceeds %d bytes", rest.MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, rest.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// logPath is the request path as logs may show it: an inbound email URL's
// token is a credential, so it is replaced, and so is the rest of any
// other /webhooks path (a mistyped URL may still hold a token).
func logPath(p string) string {
	switch {
	case strings.HasPrefix(p, connectors.InboundEmailPath):
		return connectors.InboundEmailPath + "{url_token}"
	case strings.HasPrefix(p, "/webhooks/"):
		return "/webhooks/{redacted}"
	}
	return p
}

func accessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			if strings.HasPrefix(r.URL.Path, "/healthz") || r.URL.Path == "/metrics" {
				return
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", methodLabel(r.Method)), slog.String("path", logPath(r.URL.Path)),
				slog.String("client_ip", reqctx.From(r.Context()).ClientIP),
				slog.Int("status", ww.Status()), slog.Duration("duration", time.Since(start)),
				slog.String("request_id", middleware.GetReqID(r.Context())))
		})
	}
}

func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.ErrorContext(r.Context(), "panic", "panic", p, "path", logPath(r.URL.Path))
					rest.WriteError(w, apperr.New(apperr.Internal, "internal error"))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}
