// Package api is Duban's HTTP API: a Fiber app under /api/v1 that signs
// people in with short-lived JWTs and rotating refresh tokens, scopes every
// object to the caller's unit, reads lists and dashboards from Postgres and
// sends decisions to the workflows as Temporal Updates. Errors are RFC 9457
// problem documents; docs/api.md describes the whole surface and
// /api/v1/openapi.json lists every endpoint.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/blob"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/store"
)

// Deps is what the API needs from the running system.
type Deps struct {
	DB *store.DB
	// ReadDB, when set, serves the supervisor board (rollups, ranking,
	// overdue lists, exports): a streaming replica, so dashboards do not
	// load the primary. A replica lags by its replication delay.
	ReadDB *store.DB
	Engine *engine.Engine
	Blobs  blob.Store
	// Clock maps real time to plan time (the identity in production; the
	// demo clock in `duban dev`). Countdowns and overdue ages use it.
	Clock duban.Clock
	// JWTKey signs access tokens with HMAC-SHA256; at least 32 bytes.
	JWTKey []byte
	Logger *slog.Logger
	// Hierarchy, when set, is used as is; otherwise units are read from the
	// database and cached for HierarchyTTL.
	Hierarchy *org.Hierarchy
	// Static, when set, serves everything outside /api, /healthz and
	// /readyz: the place where the web UI is mounted.
	Static fiber.Handler
	// Registry collects the API's metrics; a new one when nil. The process
	// serves it on its admin address (config admin_addr), not on the app.
	Registry prometheus.Registerer
	// Now is real time; tests move it. time.Now when nil.
	Now    func() time.Time
	Limits Limits
	// Notify is what the notification configuration offers: the settings
	// page shows the channels it has not configured as unavailable.
	Notify NotifySetup
	// TemporalUI, when its URL is set, is Temporal's Web UI: admins' task
	// pages link to the task's workflow there.
	TemporalUI TemporalUI
}

// TemporalUI is where Temporal's Web UI is and the namespace Duban's
// workflows run in.
type TemporalUI struct {
	URL       string // such as http://127.0.0.1:8233
	Namespace string
}

// Limits tunes sign-in, sizes and timeouts; zero fields take the defaults.
type Limits struct {
	AccessTTL  time.Duration // access token lifetime (10 min)
	RefreshTTL time.Duration // one refresh token's lifetime (12 h)
	SessionTTL time.Duration // a sign-in's absolute lifetime (7 days)
	TicketTTL  time.Duration // event-stream ticket lifetime (60 s)
	Leeway     time.Duration // clock skew allowed on exp/nbf/iat (30 s)

	LoginPerIPPerMinute      int // sign-in attempts per client address (20)
	LoginPerAccountPerMinute int // sign-in attempts per username (10)
	LockoutFailures          int // consecutive failures that lock a username (5)
	LockoutFor               time.Duration
	HashConcurrency          int // argon2id hashes at once (4), bounding memory

	BodyLimit      int   // any request body (32 MiB)
	JSONLimit      int   // a JSON body (1 MiB)
	MaxUploadBytes int64 // one evidence file (20 MiB)
	MaxUploadFiles int   // files in one request (10)

	RequestTimeout time.Duration // a handler's context (30 s)
	StreamMaxAge   time.Duration // an event stream is closed after this (1 h); clients reconnect
	HierarchyTTL   time.Duration // units cache (1 min)
}

func (l Limits) withDefaults() Limits {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.AccessTTL, 10*time.Minute)
	def(&l.RefreshTTL, 12*time.Hour)
	def(&l.SessionTTL, 7*24*time.Hour)
	def(&l.TicketTTL, time.Minute)
	def(&l.Leeway, 30*time.Second)
	def(&l.LockoutFor, 15*time.Minute)
	def(&l.RequestTimeout, 30*time.Second)
	def(&l.StreamMaxAge, time.Hour)
	def(&l.HierarchyTTL, time.Minute)
	defInt(&l.LoginPerIPPerMinute, 20)
	defInt(&l.LoginPerAccountPerMinute, 10)
	defInt(&l.LockoutFailures, 5)
	defInt(&l.HashConcurrency, 4)
	defInt(&l.BodyLimit, 32<<20)
	defInt(&l.JSONLimit, 1<<20)
	defInt(&l.MaxUploadFiles, 10)
	if l.MaxUploadBytes <= 0 {
		l.MaxUploadBytes = 20 << 20
	}
	return l
}

// Validate reports a configuration the API cannot run with.
func (d Deps) Validate() error {
	switch {
	case d.DB == nil:
		return errors.New("api: no database")
	case d.Engine == nil:
		return errors.New("api: no engine")
	case d.Blobs == nil:
		return errors.New("api: no blob store")
	case len(d.JWTKey) < 32:
		return fmt.Errorf("api: the JWT signing key must be at least 32 bytes, got %d (set DUBAN_JWT_KEY)", len(d.JWTKey))
	}
	return nil
}

// server holds the handlers' shared state.
type server struct {
	Deps
	lim      Limits
	log      *slog.Logger
	metrics  *metrics
	tokens   *tokens
	ipLimit  *keyedLimiter
	accLimit *keyedLimiter
	hashSem  chan struct{}
	hub      *hub
	units    *unitCache
	dummy    string // a password hash to check against for unknown usernames

	stopOnce sync.Once
	stop     context.CancelFunc
	ctx      context.Context
}

// App is the API: the Fiber app with every route, and what its shutdown
// must end before the server stops.
type App struct {
	*fiber.App
	s *server
}

// New builds the whole app: middleware, every route, the error handler. It
// refuses dependencies Validate refuses.
func New(d Deps) (*App, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &server{Deps: d, lim: d.Limits.withDefaults(), log: d.Logger}
	var err error
	if s.metrics, err = newMetrics(d.Registry); err != nil {
		return nil, err
	}
	if s.dummy, err = dummyHash(); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.tokens = &tokens{key: d.JWTKey, now: d.Now, leeway: s.lim.Leeway}
	s.ipLimit = newKeyedLimiter(s.lim.LoginPerIPPerMinute, time.Minute)
	s.accLimit = newKeyedLimiter(s.lim.LoginPerAccountPerMinute, time.Minute)
	s.hashSem = make(chan struct{}, s.lim.HashConcurrency)
	s.hub = newHub(s)
	s.units = &unitCache{db: d.DB, fixed: d.Hierarchy, ttl: s.lim.HierarchyTTL}

	app := fiber.New(fiber.Config{
		AppName:               "duban",
		ErrorHandler:          s.handleError,
		BodyLimit:             s.lim.BodyLimit,
		ReadBufferSize:        16 << 10,
		ReadTimeout:           30 * time.Second,
		IdleTimeout:           2 * time.Minute,
		DisableStartupMessage: true,
	})
	app.Hooks().OnShutdown(func() error {
		s.stopOnce.Do(s.stop)
		return nil
	})

	// Order: recover, request id and logging, security headers, limits, auth.
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: s.logPanic}))
	app.Use(s.requestID, s.observe, input.RefuseControl)
	app.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "no-referrer",
		HSTSMaxAge:            31536000,
	}))

	s.routes(app)
	return &App{App: app, s: s}, nil
}

// Shutdown stops the app gracefully: event streams are told to end first
// (they would otherwise hold their connections open), then the server stops
// accepting and waits for requests in flight until ctx ends.
func (a *App) Shutdown(ctx context.Context) error {
	a.s.stopOnce.Do(a.s.stop)
	return a.App.ShutdownWithContext(ctx)
}

func (s *server) now() time.Time { return s.Now() }

// planNow is the current plan time.
func (s *server) planNow() time.Time { return s.Clock.Virtual(s.Now()).In(duban.Shanghai) }
