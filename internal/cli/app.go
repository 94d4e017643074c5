package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/config"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/reconcile"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/worker"
)

// ConfigFlag adds --config to a flag set.
func ConfigFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "configuration file (YAML); the environment overrides it")
}

// OpenStore connects to the database of the configuration and migrates it.
func OpenStore(ctx context.Context, cfg config.Config) (*store.DB, error) {
	if cfg.DatabaseURL == "" {
		return nil, errors.New("DATABASE_URL is not set (or database_url in the config file)")
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, int32(cfg.DatabaseMaxConns))
	if err != nil {
		return nil, err
	}
	if err := prepare(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// storeCommand is a command that takes only --config and works on the
// configured database, migrated.
func storeCommand(name string, run func(ctx context.Context, env *Env, db *store.DB) error) func(context.Context, *Env, []string) error {
	return func(ctx context.Context, env *Env, args []string) error {
		fs := NewFlags(env, name)
		cfgPath := ConfigFlag(fs)
		if err := Parse(fs, args); err != nil {
			return err
		}
		_, db, err := env.openStore(ctx, *cfgPath)
		if err != nil {
			return err
		}
		defer db.Close()
		return run(ctx, env, db)
	}
}

// running is what a long-running command (serve, worker) runs on: its
// configuration, the migrated database and a Temporal client.
type running struct {
	cfg config.Config
	db  *store.DB
	c   client.Client
}

// start reads a long-running command's --config and configuration (logged
// at debug, secrets masked), lets need refuse it before anything is
// opened, then opens the database and dials Temporal. close releases both.
func (env *Env) start(ctx context.Context, name string, args []string, need func(config.Config) error) (*running, error) {
	fs := NewFlags(env, name)
	cfgPath := ConfigFlag(fs)
	if err := Parse(fs, args); err != nil {
		return nil, err
	}
	cfg, err := env.LoadConfig(*cfgPath)
	if err != nil {
		return nil, err
	}
	for _, l := range cfg.Masked() {
		env.Log.Debug("config", "line", l)
	}
	if need != nil {
		if err := need(cfg); err != nil {
			return nil, err
		}
	}
	db, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c, err := DialTemporal(cfg, sdklog.NewStructuredLogger(env.Log.With("component", "temporal-client")))
	if err != nil {
		db.Close()
		return nil, err
	}
	return &running{cfg: cfg, db: db, c: c}, nil
}

func (r *running) close() {
	r.c.Close()
	r.db.Close()
}

// StartWorker starts a process's Temporal worker, with every workflow and
// activity registered and refused transitions logged and counted on reg,
// then the digest workflow (StartNotify). The caller stops the worker.
func StartWorker(ctx context.Context, env *Env, cfg config.Config, db *store.DB, c client.Client, reg prometheus.Registerer) (sdkworker.Worker, error) {
	acts := NewActivities(cfg, db, c)
	refused, err := activities.RefusedRecorder(env.Log, reg)
	if err != nil {
		return nil, err
	}
	acts.Refused = refused
	if acts.Reconciler, err = reconciler(env, db, NewEngine(cfg, c), reg); err != nil {
		return nil, err
	}
	acts.Pruner = pruner(env, db, cfg.Retention)
	w, err := worker.New(c, acts, worker.Options{TaskQueue: cfg.Temporal.TaskQueue})
	if err != nil {
		return nil, err
	}
	if err := w.Start(); err != nil {
		return nil, err
	}
	if err := StartNotify(ctx, env, cfg, c); err != nil {
		w.Stop()
		return nil, err
	}
	if cfg.Retention.Interval > 0 {
		if err := worker.StartRetention(ctx, c, cfg.Temporal.TaskQueue, cfg.Temporal.WorkflowIDPrefix, cfg.Retention.Interval); err != nil {
			w.Stop()
			return nil, err
		}
	}
	if cfg.Reconcile.Interval > 0 {
		if err := worker.StartReconcile(ctx, c, cfg.Temporal.TaskQueue, cfg.Temporal.WorkflowIDPrefix, cfg.Reconcile.Interval, cfg.Reconcile.Repair); err != nil {
			w.Stop()
			return nil, err
		}
	}
	return w, nil
}

// reconciler runs package reconcile for the scheduled reconciliation,
// logging each run and setting duban_reconcile_drift (what the last run
// found) and duban_reconcile_runs_total on reg.
func reconciler(env *Env, db *store.DB, eng *engine.Engine, reg prometheus.Registerer) (activities.Reconciler, error) {
	drift := prometheus.NewGauge(prometheus.GaugeOpts{Name: "duban_reconcile_drift",
		Help: "Disagreements the last reconciliation found between the store and the workflows (0 when they agree)."})
	runs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "duban_reconcile_runs_total",
		Help: "Reconciliation runs by outcome."}, []string{"outcome"})
	if reg != nil {
		for _, c := range []prometheus.Collector{drift, runs} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register reconcile metrics: %w", err)
			}
		}
	}
	return func(ctx context.Context, repair bool) (activities.ReconcileResult, error) {
		r, err := reconcile.Run(ctx, db, eng, reconcile.Options{Repair: repair})
		if err != nil {
			runs.WithLabelValues("error").Inc()
			env.Log.Error("reconciliation failed", "err", err)
			return activities.ReconcileResult{}, err
		}
		found, repaired := r.Count()
		drift.Set(float64(found))
		runs.WithLabelValues("ok").Inc()
		level := slog.LevelInfo
		if found > 0 {
			level = slog.LevelWarn
		}
		env.Log.Log(ctx, level, "reconciliation", "checked", r.Checked, "drift", found, "repaired", repaired, "inbox_missing", r.InboxMissing)
		return activities.ReconcileResult{Checked: r.Checked, Found: found, Repaired: repaired}, nil
	}, nil
}

// openStore reads the configuration at path and opens its database, migrated.
func (env *Env) openStore(ctx context.Context, path string) (config.Config, *store.DB, error) {
	cfg, err := env.LoadConfig(path)
	if err != nil {
		return cfg, nil, err
	}
	db, err := OpenStore(ctx, cfg)
	return cfg, db, err
}

// prepare migrates the schema and seeds the units if none are stored.
func prepare(ctx context.Context, db *store.DB) error {
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	if _, err := db.Hierarchy(ctx); err == nil {
		return nil
	}
	_, err := db.SeedUnits(ctx, org.Hunan(), false)
	return err
}

// DialTemporal connects to the configured Temporal cluster.
func DialTemporal(cfg config.Config, logger sdklog.Logger) (client.Client, error) {
	if cfg.Temporal.Address == "" {
		return nil, errors.New("TEMPORAL_ADDRESS is not set (or temporal.address in the config file)")
	}
	opts, err := clientOptions(cfg.Temporal)
	if err != nil {
		return nil, err
	}
	opts.Logger = logger
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", cfg.Temporal.Address, err)
	}
	return c, nil
}

// NewEngine and NewActivities wire the engine and the activities for one
// configuration.
func NewEngine(cfg config.Config, c client.Client) *engine.Engine {
	return &engine.Engine{Client: c, TaskQueue: cfg.Temporal.TaskQueue, IDPrefix: cfg.Temporal.WorkflowIDPrefix,
		LaunchConcurrency: cfg.Temporal.LaunchConcurrency, UpdateTimeout: cfg.Temporal.UpdateTimeout}
}

func NewActivities(cfg config.Config, db *store.DB, c client.Client) *activities.Activities {
	return &activities.Activities{
		Store:    db,
		Starter:  worker.Starter{Client: c, TaskQueue: cfg.Temporal.TaskQueue, IDPrefix: cfg.Temporal.WorkflowIDPrefix, SearchAttributes: cfg.Temporal.SearchAttributes},
		Notifier: newNotifier(cfg, db),
		Amender:  NewEngine(cfg, c),
		Mover:    NewEngine(cfg, c),
	}
}

// clientOptions builds the Temporal client options of the configuration:
// address, namespace, TLS (a private CA, mTLS) and an API key.
func clientOptions(t config.Temporal) (client.Options, error) {
	opts := client.Options{HostPort: t.Address, Namespace: t.Namespace}
	if t.TLS || t.TLSCAFile != "" || t.TLSCertFile != "" || t.APIKey != "" {
		tc := &tls.Config{ServerName: t.TLSServerName, MinVersion: tls.VersionTLS12}
		if t.TLSCAFile != "" {
			pem, err := os.ReadFile(t.TLSCAFile)
			if err != nil {
				return opts, fmt.Errorf("temporal CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return opts, errors.New("temporal CA: no certificate in " + t.TLSCAFile)
			}
			tc.RootCAs = pool
		}
		if (t.TLSCertFile == "") != (t.TLSKeyFile == "") {
			return opts, errors.New("temporal mTLS needs both tls_cert_file and tls_key_file")
		}
		if t.TLSCertFile != "" {
			cert, err := tls.LoadX509KeyPair(t.TLSCertFile, t.TLSKeyFile)
			if err != nil {
				return opts, fmt.Errorf("temporal client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opts.ConnectionOptions.TLS = tc
	}
	if t.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(t.APIKey)
	}
	return opts, nil
}
