// Package webui serves Temporal's own Web UI for the dev stack: the UI
// server Temporal ships (github.com/temporalio/ui-server), its pages
// embedded in the binary, nothing fetched at run time. `duban-dev dev`
// starts it beside the embedded server so that a developer or an admin can
// read a task's workflow, its history and its timers; production runs the
// UI Temporal's operators deploy, and the production binary links none of
// this.
package webui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/temporalio/ui-server/v2/server/auth"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/cors"
	"github.com/temporalio/ui-server/v2/server/csrf"
	"github.com/temporalio/ui-server/v2/server/headers"
	"github.com/temporalio/ui-server/v2/server/route"
	uiassets "github.com/temporalio/ui-server/v2/ui"

	uiapi "github.com/temporalio/ui-server/v2/server/api"
)

// Options configures the Web UI.
type Options struct {
	// Addr is host:port to listen on; port 0 picks a free one.
	Addr string
	// Temporal is the frontend's gRPC host:port the UI reads from.
	Temporal string
	// Namespace is the one the UI opens first.
	Namespace string
}

// Server is a running Web UI.
type Server struct {
	http *http.Server
	cfg  *uiconfig.ConfigProviderWithRefresh
	addr string
	done chan error
}

// Start listens on opts.Addr and serves the UI until Stop. An address in
// use is an error here (the UI server's own Start would exit the process).
func Start(opts Options) (*Server, error) {
	if opts.Temporal == "" {
		return nil, errors.New("webui: no Temporal address")
	}
	cfg := &uiconfig.Config{
		TemporalGRPCAddress: opts.Temporal,
		EnableUI:            true,
		DefaultNamespace:    opts.Namespace,
		// Plain HTTP on the loopback: the CSRF cookie must go without TLS.
		CORS:     uiconfig.CORS{CookieInsecure: true},
		HideLogs: true,
		// The UI would fetch Temporal's news feed from the internet.
		DisableNewsFetch: true,
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("webui: %w", err)
	}
	provider, err := uiconfig.NewConfigProviderWithRefresh(cfg)
	if err != nil {
		return nil, fmt.Errorf("webui: %w", err)
	}
	e, err := handler(provider)
	if err != nil {
		provider.Close()
		return nil, err
	}
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		provider.Close()
		return nil, fmt.Errorf("temporal web UI on %s: %w", opts.Addr, err)
	}
	s := &Server{
		http: &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second},
		cfg:  provider,
		addr: l.Addr().String(),
		done: make(chan error, 1),
	}
	go func() { s.done <- s.http.Serve(l) }()
	return s, nil
}

// handler is the UI server's routes and middleware, as its own NewServer
// sets them up, on an echo instance this package serves.
func handler(provider *uiconfig.ConfigProviderWithRefresh) (*echo.Echo, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover())
	e.Use(middleware.Gzip())
	e.Use(cors.CORSMiddleware(cors.CORSConfig{
		AllowHeaders: []string{
			echo.HeaderOrigin, echo.HeaderContentType, echo.HeaderAccept,
			echo.HeaderXCSRFToken, echo.HeaderAuthorization, auth.AuthorizationExtrasHeader,
			"Caller-Type",
		},
		AllowCredentials: true,
		ConfigProvider:   provider,
	}))
	e.Use(middleware.Secure())
	e.Use(middleware.CSRFWithConfig(middleware.CSRFConfig{
		CookiePath:     "/",
		CookieHTTPOnly: false,
		CookieSameSite: http.SameSiteStrictMode,
		CookieSecure:   false,
		Skipper:        csrf.SkipOnAuthorizationHeader,
	}))
	route.SetHealthRoute(e)
	forward := []uiapi.Middleware{headers.WithForwardHeaders([]string{auth.AuthorizationExtrasHeader, "Caller-Type"})}
	if err := route.SetAPIRoutes(e, provider, forward); err != nil {
		return nil, fmt.Errorf("webui: %w", err)
	}
	route.SetAuthRoutes(e, provider)
	assets, err := uiassets.Assets()
	if err == nil {
		assets, err = fs.Sub(assets, "local")
	}
	if err != nil {
		return nil, fmt.Errorf("webui assets: %w", err)
	}
	if err := route.SetUIRoutes(e, "", assets); err != nil {
		return nil, fmt.Errorf("webui: %w", err)
	}
	route.SetRenderRoute(e, "")
	return e, nil
}

// Addr is the address the UI listens on.
func (s *Server) Addr() string { return s.addr }

// URL is the UI's address for a browser.
func (s *Server) URL() string { return "http://" + s.addr }

// Stop shuts the UI down: requests under way get two seconds, then every
// connection is closed (a browser tab keeps one open).
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.http.Close()
	}
	s.cfg.Close()
	if served := <-s.done; !errors.Is(served, http.ErrServerClosed) && err == nil {
		err = served
	}
	return err
}
