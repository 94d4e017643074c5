package cli

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/store"
)

// Admin is the server of a process's operator endpoints, on the admin
// address (config admin_addr) apart from the public one: /metrics for
// Prometheus, /healthz while the process runs and /readyz when PostgreSQL
// and Temporal answer. `duban serve` and `duban worker` each run one.
type Admin struct {
	addr string
	srv  *http.Server
	done chan struct{}
}

// StartAdmin serves reg (with the Go runtime and process figures added)
// and the probes on addr. With addr empty it serves nothing and returns a
// nil *Admin, whose Stop does nothing.
func StartAdmin(env *Env, addr string, reg *prometheus.Registry, ready func(context.Context) error) (*Admin, error) {
	if addr == "" {
		return nil, nil
	}
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return nil, err
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		rctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := ready(rctx); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	a := &Admin{addr: ln.Addr().String(), srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			env.Log.Error("admin server", "err", err)
		}
	}()
	env.Log.Info("admin endpoint", "addr", a.addr, "paths", "/metrics /healthz /readyz")
	return a, nil
}

// Addr is the address the server listens on.
func (a *Admin) Addr() string { return a.addr }

// Stop ends the server, waiting up to five seconds for requests in flight.
func (a *Admin) Stop() {
	if a == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.srv.Shutdown(ctx)
	<-a.done
}

// Readiness is ready when the database and Temporal both answer.
func Readiness(db *store.DB, eng *engine.Engine) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := db.Ping(ctx); err != nil {
			return errors.New("postgres: " + err.Error())
		}
		if err := eng.Healthy(ctx); err != nil {
			return errors.New("temporal: " + err.Error())
		}
		return nil
	}
}
