package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/rest"
)

// /metrics is served on the API listener without credentials by default, as
// before: what it holds is operational (request counts by route, latency,
// Go runtime and process figures), and every label takes its values from a
// fixed set, so no request can grow it. Operators who would rather not
// expose even that set SELIQ_METRICS_TOKEN (scrapers send it as a bearer
// token) and/or SELIQ_METRICS_ADDR (a listener of its own, e.g. on an
// internal interface; /metrics then leaves the API listener).

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seliq_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seliq_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// middleware labels by route pattern (not raw path), standard method and
// status code, each from a set fixed by the code, so what clients send
// cannot explode the label cardinality.
func (m *metrics) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		method := methodLabel(r.Method)
		m.requests.WithLabelValues(method, route, statusLabel(ww.Status())).Inc()
		m.latency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
	})
}

// otherLabel stands for any value outside a label's fixed set.
const otherLabel = "OTHER"

// standardMethods are the methods labelled as themselves.
var standardMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
	http.MethodConnect: true, http.MethodTrace: true,
}

// methodLabel is the method, or OTHER for any non-standard one (a client
// may send any token as the method, 50 KB long).
func methodLabel(method string) string {
	if standardMethods[method] {
		return method
	}
	return otherLabel
}

// statusLabel is a registered status code, or OTHER.
func statusLabel(code int) string {
	if code == 0 {
		code = http.StatusOK // nothing written: net/http answers 200
	}
	if http.StatusText(code) == "" {
		return otherLabel
	}
	return strconv.Itoa(code)
}

// metricsHandler serves the registry, behind token when one is set.
func metricsHandler(reg *prometheus.Registry, token string) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		// Compared as digests so the comparison's time reveals neither the
		// token's length nor its prefix.
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !strings.EqualFold(scheme, "bearer") || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			rest.WriteError(w, apperr.New(apperr.Unauthenticated, "metrics require the metrics bearer token"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// StartMetrics serves /metrics on addr until ctx ends and returns the
// address it listens on; an empty addr does nothing (then /metrics is on the
// API listener).
func (s *Server) StartMetrics(ctx context.Context, addr string, t Timeouts) (string, error) {
	if addr == "" {
		return "", nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("SELIQ_METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.Metrics)
	hs := &http.Server{Handler: mux}
	t.Apply(hs)
	go func() { _ = hs.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = hs.Close()
	}()
	s.log.Info("metrics listening", "addr", ln.Addr().String())
	return ln.Addr().String(), nil
}
