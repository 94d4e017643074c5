// Package testenv gives integration tests the real things: a fresh
// PostgreSQL database per test binary (migrated, with Hunan's units) and an
// embedded Temporal server with a Duban worker.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/internal/devpg"
	"github.com/duban-dev/duban/internal/devtemporal"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/worker"
)

// OpenDB creates, migrates and seeds (with Hunan's units) a fresh database
// for one test, dropped when the test ends.
func OpenDB(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	dsn, drop, err := devpg.NewScratchDatabase(ctx, "duban_test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	db, err := store.Open(ctx, dsn, 16)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SeedUnits(ctx, org.Hunan(), false); err != nil {
		t.Fatal(err)
	}
	return db
}

var (
	temporalOnce sync.Once
	temporalSrv  *devtemporal.Server
	temporalErr  error
)

// Temporal returns the embedded Temporal server shared by a test binary.
// Each caller should use its own task queue.
func Temporal(t testing.TB) *devtemporal.Server {
	t.Helper()
	temporalOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		temporalSrv, temporalErr = devtemporal.Start(ctx, devtemporal.Options{Namespace: "default"})
	})
	if temporalErr != nil {
		t.Fatal(temporalErr)
	}
	return temporalSrv
}

// Stack is a database, a Temporal client, a running worker on a private
// task queue and an engine that targets it.
type Stack struct {
	DB        *store.DB
	Client    client.Client
	Engine    *engine.Engine
	TaskQueue string
	Worker    sdkworker.Worker

	acts *activities.Activities
	stop func()     // stops the running worker, once
	tb   testing.TB // the stack's owner: a worker started again lives as long
}

// RestartWorker starts a worker again after StopWorker, for as long as the
// stack lives (a shared stack's worker outlives the test that restarts it).
func (s *Stack) RestartWorker() { s.StartWorker(s.tb) }

// StopWorker stops the stack's worker, as a crashed worker process would
// stop polling: workflows wait, Updates sent meanwhile do not complete.
func (s *Stack) StopWorker() { s.stop() }

// StartWorker starts a new worker on the stack's task queue, as a
// restarted worker process would.
func (s *Stack) StartWorker(t testing.TB) {
	t.Helper()
	w, err := worker.New(s.Client, s.acts, worker.Options{TaskQueue: s.TaskQueue})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	s.Worker, s.stop = w, sync.OnceFunc(w.Stop)
	t.Cleanup(s.stop)
}

// NewStack starts a full engine stack for one test.
func NewStack(t testing.TB) *Stack {
	t.Helper()
	db := OpenDB(t)
	srv := Temporal(t)
	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: srv.Namespace(), Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := worker.EnsureSearchAttributes(context.Background(), c, srv.Namespace()); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	tq := "test-" + hex.EncodeToString(b)
	// Tests share one namespace: a prefix keeps their workflow ids apart.
	prefix := tq + "/"
	eng := &engine.Engine{Client: c, TaskQueue: tq, IDPrefix: prefix}
	acts := &activities.Activities{Store: db, Starter: worker.Starter{Client: c, TaskQueue: tq, IDPrefix: prefix, SearchAttributes: true}, Amender: eng, Mover: eng}
	s := &Stack{DB: db, Client: c, Engine: eng, TaskQueue: tq, acts: acts, tb: t}
	s.StartWorker(t)
	return s
}

// NewSharedStack starts a Stack that outlives any one test, for a package's
// shared fixture: each cleanup is handed to onCleanup (to run when the
// package's tests end), and a failure comes back as an error instead of
// failing a test.
func NewSharedStack(onCleanup func(func())) (s *Stack, err error) {
	t := &sharedTB{onCleanup: onCleanup}
	defer func() {
		if r := recover(); r != nil {
			if r == t {
				err = t.failed
				return
			}
			panic(r)
		}
	}()
	return NewStack(t), nil
}

// sharedTB is the testing.TB NewSharedStack gives NewStack: Fatal stops
// the setup with a panic that NewSharedStack turns back into an error.
type sharedTB struct {
	testing.TB
	onCleanup func(func())
	failed    error
}

func (t *sharedTB) Helper()          {}
func (t *sharedTB) Cleanup(f func()) { t.onCleanup(f) }
func (t *sharedTB) Fatal(args ...any) {
	t.failed = fmt.Errorf("%s", fmt.Sprint(args...))
	panic(t)
}
func (t *sharedTB) Fatalf(f string, args ...any) { t.Fatal(fmt.Sprintf(f, args...)) }

// quiet drops SDK logs in tests.
type quiet struct{}

func (quiet) Debug(string, ...interface{}) {}
func (quiet) Info(string, ...interface{})  {}
func (quiet) Warn(string, ...interface{})  {}
func (quiet) Error(string, ...interface{}) {}
