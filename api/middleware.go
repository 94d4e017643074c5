package api

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

const headerRequestID = "X-Request-ID"

// requestID takes a sane incoming X-Request-ID (from a proxy) or makes one,
// and echoes it on the response; logs and problem documents carry it.
func (s *server) requestID(c *fiber.Ctx) error {
	id := c.Get(headerRequestID)
	if !saneID(id) {
		id = randomID(12)
	} else {
		id = string([]byte(id)) // the header's bytes are reused after the request
	}
	c.Locals(localRequestID, id)
	c.Set(headerRequestID, id)
	return c.Next()
}

func saneID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// observe logs each request (slog, with its id and the signed-in user) and
// records its metrics by route pattern, so ids never become label values.
func (s *server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		// Let the error handler write the response now so status is known.
		if herr := s.handleError(c, err); herr != nil {
			s.log.Error("error handler", "err", herr)
		}
	}
	status := c.Response().StatusCode()
	route := "unmatched"
	if r := c.Route(); r != nil && r.Path != "/" && r.Path != "" {
		route = r.Path
	}
	elapsed := time.Since(start)
	// Label values are kept: copy them out of fiber's reused buffers.
	method := strings.Clone(c.Method())
	route = strings.Clone(route)
	s.metrics.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	s.metrics.latency.WithLabelValues(method, route).Observe(elapsed.Seconds())
	id, _ := c.Locals(localRequestID).(string)
	attrs := []any{"request_id", id, "method", c.Method(), "path", c.Path(), "route", route, "status", status,
		"ms", float64(elapsed.Microseconds()) / 1000, "ip", c.IP()}
	if p, ok := c.Locals(localPrincipal).(*principal); ok && p != nil {
		attrs = append(attrs, "user", p.User.ID)
	}
	// The query string is left out: event-stream tickets travel there.
	switch {
	case status >= 500:
		s.log.Error("request", attrs...)
	case route == "/healthz" || route == "/readyz":
		s.log.Debug("request", attrs...)
	default:
		s.log.Info("request", attrs...)
	}
	return nil
}

// withTimeout bounds each handler's context; database and Temporal calls
// made with c.UserContext() give up when it ends.
func (s *server) withTimeout(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.lim.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

type metrics struct {
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	logins       *prometheus.CounterVec
	authFailures *prometheus.CounterVec
	decisions    *prometheus.CounterVec
	hashSeconds  prometheus.Histogram
	streams      prometheus.Gauge
}

// newMetrics registers the API's metrics on reg. The process serves the
// registry on its admin address, never on the public router.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "duban_http_requests_total",
			Help: "HTTP requests by method, route pattern and status."}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "duban_http_request_duration_seconds",
			Help: "HTTP request latency by method and route pattern.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}, []string{"method", "route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "duban_logins_total",
			Help: "Sign-in attempts by result: ok, failed, locked, rate_limited, disabled."}, []string{"result"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "duban_auth_failures_total",
			Help: "Refused credentials by kind: token, session, refresh, refresh_reused."}, []string{"kind"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "duban_updates_total",
			Help: "Updates sent to task workflows by name and outcome code."}, []string{"update", "code"}),
		hashSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "duban_password_hash_seconds",
			Help: "argon2id password check time.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 10)}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "duban_notification_streams", Help: "Open notification event streams."}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.logins, m.authFailures, m.decisions, m.hashSeconds, m.streams} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("api metrics: %w", err)
		}
	}
	return m, nil
}
