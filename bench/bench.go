// Package bench measures Duban on the real stack — an embedded Temporal
// server persisted to SQLite (in memory or a file) or to PostgreSQL, a real
// PostgreSQL database, the worker (and the
// API) as separate processes — and reports each figure beside a baseline
// measured in the same run.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/duban-dev/duban/config"
	"github.com/duban-dev/duban/internal/devpg"
	"github.com/duban-dev/duban/internal/devtemporal"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/worker"
)

// Options sizes a run.
type Options struct {
	// Binary is the duban executable used for the worker and API processes.
	Binary string
	// Instances is the size of the plan launch (the 2021 plan fanned out to
	// townships until it reaches this many instances).
	Instances int
	// Timers is how many workflows hold a pending timer during the reminder
	// measurement; Fire of them fire their reminder inside the window.
	Timers, Fire int
	// Rows are the projection sizes for the supervisor queries.
	Rows []int
	// Approvers are the concurrency levels of the decision round trip, and
	// Decisions how many decisions each level makes.
	Approvers []int
	Decisions int
	// Starters is how many workflow starts are in flight at once, for the
	// baseline and for Duban's launch alike.
	Starters int
	// Skip names sections not to run: launch, decisions, queries, timers, memory.
	Skip []string
	// TemporalStore is where the embedded server keeps its state: "memory"
	// (SQLite in memory, as the tests do; the default), "sqlite" (a SQLite
	// file, as `duban-dev dev` does) or "postgres" (PostgreSQL databases of
	// the run's own, on the server the benchmark uses).
	TemporalStore string
	// HistoryShards is the embedded server's number of history shards (1).
	HistoryShards int
	// Shards, when set, replaces the run: the plan launch only, on a fresh
	// server with each of these history shard counts.
	Shards []int
	// Out, when set, is the markdown file whose generated section is replaced.
	Out string
	Log io.Writer
}

// Defaults are sized to finish in under 15 minutes on two cores.
func Defaults() Options {
	return Options{Instances: 10000, Starters: 16, Timers: 10000, Fire: 1000, Rows: []int{100000}, Approvers: []int{1, 8, 32}, Decisions: 150, Log: os.Stdout}
}

// Figure is one measured number with its baseline.
type Figure struct {
	Section  string
	Name     string
	Value    string
	Baseline string
	Ratio    string
	Target   string
	Met      string // "yes", "no: …", or "" when there is no target
}

// Report is everything a run measured.
type Report struct {
	Machine  []string
	Options  Options
	Figures  []Figure
	Notes    []string
	Started  time.Time
	Duration time.Duration
}

func (r *Report) add(f Figure) { r.Figures = append(r.Figures, f) }

// stack is the real system the benchmark runs against.
type stack struct {
	dir      string
	temporal *devtemporal.Server
	// temporalPG is the run's Temporal databases on PostgreSQL, dropped at the end.
	temporalPG *devtemporal.Postgres
	client     client.Client
	db         *store.DB
	dbURL      string
	dropDB     func()
	worker     *process
	api        *apiProcess
	binary     string
	h          *org.Hierarchy
	// tc is the configuration's Temporal settings (namespace, task queue)
	// that the worker and API processes read as well.
	tc config.Temporal
}

func (s *stack) close() {
	if s.api != nil {
		s.api.proc.stop()
	}
	if s.worker != nil {
		s.worker.stop()
	}
	if s.client != nil {
		s.client.Close()
	}
	if s.db != nil {
		s.db.Close()
	}
	if s.dropDB != nil {
		s.dropDB()
	}
	if s.temporal != nil {
		_ = s.temporal.Stop()
	}
	if s.temporalPG != nil {
		_ = s.temporalPG.Drop()
	}
	_ = os.RemoveAll(s.dir)
}

// stores are the embedded server's persistence choices, as the report names them.
var stores = map[string]string{
	"memory":   "SQLite in memory",
	"sqlite":   "SQLite file (WAL)",
	"postgres": "PostgreSQL, the server's postgres12_pgx persistence",
}

func (o Options) storeLabel() string {
	if l, ok := stores[o.TemporalStore]; ok {
		return l
	}
	return stores["memory"]
}

func (o Options) skip(section string) bool {
	for _, s := range o.Skip {
		if s == section {
			return true
		}
	}
	return false
}

// Run starts the stack, runs every section and returns the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.TemporalStore == "" {
		o.TemporalStore = "memory"
	}
	if _, ok := stores[o.TemporalStore]; !ok {
		return nil, fmt.Errorf("temporal store %q: want memory, sqlite or postgres", o.TemporalStore)
	}
	rep := &Report{Options: o, Started: time.Now(), Machine: describeMachine(ctx, o)}
	logf := func(format string, args ...any) {
		fmt.Fprintf(o.Log, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	for _, m := range rep.Machine {
		logf("machine: %s", m)
	}
	if len(o.Shards) > 0 {
		return rep, runShards(ctx, o, rep, logf)
	}
	s, err := startStack(ctx, o, logf)
	if err != nil {
		return nil, err
	}
	defer s.close()

	type section struct {
		name string
		run  func(context.Context, *stack, Options, *Report, func(string, ...any)) error
	}
	for _, sec := range []section{
		{"launch", runLaunch},
		{"decisions", runDecisions},
		{"timers", runTimers},
		{"queries", runQueries},
		{"memory", runMemory},
	} {
		if o.skip(sec.name) {
			continue
		}
		if quiet, err := settle(ctx, 5*time.Minute, os.Getpid(), s.worker.pid()); err != nil {
			logf("settle: %v", err)
		} else if quiet > 3*time.Second {
			logf("waited %s for the server and worker to go quiet", quiet.Round(time.Second))
		}
		start := time.Now()
		logf("== %s", sec.name)
		if err := sec.run(ctx, s, o, rep, logf); err != nil {
			return rep, fmt.Errorf("%s: %w", sec.name, err)
		}
		logf("== %s done in %s", sec.name, time.Since(start).Round(time.Second))
	}
	rep.Duration = time.Since(rep.Started)
	return rep, nil
}

func startStack(ctx context.Context, o Options, logf func(string, ...any)) (*stack, error) {
	dir, err := os.MkdirTemp("", "duban-bench-")
	if err != nil {
		return nil, err
	}
	s := &stack{dir: dir, h: org.Hunan(), binary: o.Binary, tc: config.Default().Temporal}
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	opts := devtemporal.Options{Namespace: s.tc.Namespace, HistoryShards: o.HistoryShards}
	switch o.TemporalStore {
	case "sqlite":
		opts.DatabaseFile = filepath.Join(dir, "temporal.db")
	case "postgres":
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		opts.Postgres = &devtemporal.Postgres{URL: devpg.ScratchAdminURL(), Database: "duban_bench_temporal_" + hex.EncodeToString(b)}
		s.temporalPG = opts.Postgres
	}
	s.temporal, err = devtemporal.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	logf("temporal: embedded at %s, %s, history shards: %d", s.temporal.HostPort(), o.storeLabel(), max(o.HistoryShards, 1))
	s.client, err = client.Dial(client.Options{HostPort: s.temporal.HostPort(), Namespace: s.tc.Namespace, Logger: quietLogger{}})
	if err != nil {
		return nil, err
	}
	if err := worker.EnsureSearchAttributes(ctx, s.client, s.tc.Namespace); err != nil {
		return nil, err
	}
	s.dbURL, s.dropDB, err = devpg.NewScratchDatabase(ctx, "duban_bench")
	if err != nil {
		return nil, err
	}
	s.db, err = store.Open(ctx, s.dbURL, 32)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.Migrate(ctx); err != nil {
		return nil, err
	}
	if _, err := s.db.SeedUnits(ctx, s.h, false); err != nil {
		return nil, err
	}
	logf("postgres: fresh database, migrated, %d units", s.h.Len())
	s.worker, err = startProcess(ctx, o.Binary, []string{"worker"}, s.env(), filepath.Join(dir, "worker.log"))
	if err != nil {
		return nil, fmt.Errorf("start worker process: %w", err)
	}
	logf("worker: process %d", s.worker.pid())
	ok = true
	return s, nil
}

// env is the environment of the worker and API processes.
func (s *stack) env() []string {
	return []string{
		"DATABASE_URL=" + s.dbURL,
		"TEMPORAL_ADDRESS=" + s.temporal.HostPort(),
		"TEMPORAL_NAMESPACE=" + s.tc.Namespace,
		"DUBAN_TASK_QUEUE=" + s.tc.TaskQueue,
		// As operators who find workflows by unit in the Temporal UI run
		// it (off by default); the visibility baseline needs them.
		"DUBAN_TEMPORAL_SEARCH_ATTRIBUTES=true",
		"DUBAN_DATA_DIR=" + filepath.Join(s.dir, "data"),
		"DUBAN_LOG_LEVEL=warn",
	}
}

// percentiles returns p50, p99 and max of durations.
func percentiles(d []time.Duration) (p50, p99, worst time.Duration) {
	if len(d) == 0 {
		return
	}
	sorted := append([]time.Duration(nil), d...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	at := func(q float64) time.Duration {
		i := int(q*float64(len(sorted))+0.5) - 1
		return sorted[min(max(i, 0), len(sorted)-1)]
	}
	return at(0.50), at(0.99), sorted[len(sorted)-1]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}

// drain waits until the task queue's workflow-task backlog is empty (seen
// twice in a row), so that everything started has run its first task.
func drain(ctx context.Context, c client.Client, namespace, taskQueue string) error {
	empty := 0
	for empty < 2 {
		resp, err := c.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
			Namespace:     namespace,
			TaskQueue:     &taskqueuepb.TaskQueue{Name: taskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			TaskQueueType: enumspb.TASK_QUEUE_TYPE_WORKFLOW,
			ReportStats:   true,
		})
		if err != nil {
			return fmt.Errorf("describe task queue %s: %w", taskQueue, err)
		}
		if resp.GetStats().GetApproximateBacklogCount() == 0 {
			empty++
		} else {
			empty = 0
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}
