package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api"
	"github.com/duban-dev/duban/blob"
	"github.com/duban-dev/duban/config"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/ui"
)

// DemoClockKey is the setting in which `duban-dev dev` keeps its demo clock.
// `duban serve` honours a stored one, so a database a demo ran on keeps its
// time; production databases have none and run on real time.
const DemoClockKey = "dev_clock"

// APIDeps is what the API needs from the running stack.
type APIDeps struct {
	DB     *store.DB
	Engine *engine.Engine
	Clock  duban.Clock
	// Registry collects the API's metrics; the process serves it on its
	// admin address.
	Registry *prometheus.Registry
}

// serve runs the API against a configured database and Temporal cluster
// until SIGINT or SIGTERM, then drains requests in flight.
func serve(ctx context.Context, env *Env, args []string) error {
	r, err := env.start(ctx, "serve", args, func(cfg config.Config) error {
		if cfg.JWTKey == "" {
			return errors.New("DUBAN_JWT_KEY is not set (or jwt_key in the config file): at least 32 random bytes, e.g. openssl rand -hex 32")
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer r.close()
	cfg, db := r.cfg, r.db
	// A database a demo ran on keeps its demo clock; production has none and
	// runs on real time.
	var clock duban.Clock
	if _, err := db.Setting(ctx, DemoClockKey, &clock); err != nil {
		return fmt.Errorf("read %s: %w", DemoClockKey, err)
	}
	reg := prometheus.NewRegistry()
	eng := NewEngine(cfg, r.c)
	stop, err := StartAPI(ctx, env, cfg, APIDeps{DB: db, Engine: eng, Clock: clock, Registry: reg})
	if err != nil {
		return err
	}
	if err := StartAuditSealer(ctx, env, cfg.Audit, db, reg); err != nil {
		stop()
		return err
	}
	admin, err := StartAdmin(env, cfg.AdminAddr, reg, Readiness(db, eng))
	if err != nil {
		stop()
		return err
	}
	defer admin.Stop()
	<-ctx.Done()
	env.Log.Info("shutting down")
	stop()
	return nil
}

// StartAPI serves the API on cfg.HTTPAddr for `duban serve` and
// `duban-dev dev`. Evidence files go under DataDir/blobs. The stop function drains
// requests for up to 10 seconds.
func StartAPI(ctx context.Context, env *Env, cfg config.Config, deps APIDeps) (func(), error) {
	blobs, err := blob.NewFS(filepath.Join(cfg.DataDir, "blobs"))
	if err != nil {
		return nil, err
	}
	d := api.Deps{
		DB: deps.DB, Engine: deps.Engine, Blobs: blobs, Clock: deps.Clock, JWTKey: []byte(cfg.JWTKey),
		Logger:     env.Log.With("component", "api"),
		Static:     ui.Handler(),
		Limits:     api.Limits{LoginPerIPPerMinute: cfg.LoginPerIPPerMinute},
		Registry:   deps.Registry,
		Notify:     notifySetup(cfg.Notify, cfg.PublicURL),
		TemporalUI: api.TemporalUI{URL: cfg.Temporal.UIURL, Namespace: cfg.Temporal.Namespace},
	}
	if cfg.DatabaseReplicaURL != "" {
		// Dashboards read the replica; it is migrated through the primary.
		replica, err := store.Open(ctx, cfg.DatabaseReplicaURL, int32(cfg.DatabaseMaxConns))
		if err != nil {
			return nil, fmt.Errorf("database replica: %w", err)
		}
		d.ReadDB = replica
	}
	closeReplica := func() {
		if d.ReadDB != nil {
			d.ReadDB.Close()
		}
	}
	app, err := api.New(d)
	if err != nil {
		closeReplica()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		closeReplica()
		return nil, fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := app.Listener(ln); err != nil {
			env.Log.Error("api server", "err", err)
		}
	}()
	env.Log.Info("api listening", "addr", ln.Addr().String(), "openapi", "/api/v1/openapi.json")
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := app.Shutdown(sctx); err != nil {
			env.Log.Warn("api shutdown", "err", err)
		}
		<-done
		closeReplica()
	}, nil
}
