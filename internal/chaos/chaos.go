// Package chaos is the fault suite (`duban-dev chaos`): it runs the stack
// as separate processes — the Temporal server on a SQLite file, two
// workers, two API processes — against a throwaway database, drives
// approval chains through the HTTP API as a client that retries faults
// with the same Idempotency-Key, and meanwhile kills a worker, an API
// process and the Temporal server with SIGKILL (and restarts PostgreSQL),
// starting each again. Then it checks that no decision was lost or
// doubled and that the store agrees with the workflows. It belongs to the
// development kit: the production binary does not link it.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Fault kinds.
const (
	FaultWorker   = "worker"
	FaultAPI      = "api"
	FaultTemporal = "temporal"
	FaultPostgres = "postgres"
)

// Options configure a run.
type Options struct {
	// Chains is how many tasks are driven through submit and three
	// approval steps (four decisions each).
	Chains int
	// Concurrency is how many chains are driven at once.
	Concurrency int
	// Duration spreads the chains over at least this long (the client
	// paces itself); 0 drives them as fast as the stack answers.
	Duration time.Duration
	// FaultEvery is the pause between the recovery from one fault and the
	// next kill.
	FaultEvery time.Duration
	// Faults are the kinds injected, in turn (FaultWorker, FaultAPI,
	// FaultTemporal, FaultPostgres).
	Faults []string
	// Down is how long a killed process stays down before it is started
	// again.
	Down time.Duration
	// Postgres says where the database lives: "private" (a cluster of the
	// suite's own, which it may restart), "shared" (a throwaway database on
	// the local server, 127.0.0.1:5432 or DUBAN_TEST_DATABASE_URL), or
	// "auto" (private when initdb and pg_ctl are found).
	Postgres string
	// RestartSharedPostgres allows the PostgreSQL fault on the shared
	// server, through pg_ctlcluster (it cuts every other user of it).
	RestartSharedPostgres bool
	// Bin holds built duban and duban-dev binaries; empty builds them.
	Bin string
	// Dir keeps the logs and the Temporal file; empty uses a temporary
	// directory, removed after a run without findings.
	Dir string
	// Progress receives a line per fault and per stage; nil discards.
	Progress io.Writer
}

// Result is what a run found.
type Result struct {
	Chains, Decisions int
	// Settled are decisions the client got no 2xx for but found the task
	// past (a final step whose answer was lost to a fault).
	Settled   int
	Retries   int64
	ByCause   map[string]int64
	Faults    []Fault
	Took      time.Duration
	Postgres  string // how the database was provided, and whether it was restarted
	Problems  []string
	Checked   Checked
	Dir       string
	Processes map[string]int // starts per process
}

// Fault is one fault injected.
type Fault struct {
	Kind   string
	Target string
	At     time.Time
	// Down is how long the target was down (killed to ready again).
	Down time.Duration
	// Recovery is from the kill to the next decision answered 2xx; 0 when
	// none came after it.
	Recovery time.Duration
}

// Checked counts what the checks compared.
type Checked struct {
	Instances, Events, Inbox, Deliveries int
	// Received is what the webhook endpoint got; Repeats of them came
	// again with a key already received (at-least-once delivery: the
	// receiver drops them by X-Duban-Delivery).
	Received, Repeats int
	Reconcile         string
}

// OK reports a run with no loss, doubling or drift.
func (r Result) OK() bool { return len(r.Problems) == 0 }

func (o *Options) defaults() error {
	if o.Chains <= 0 {
		o.Chains = 12
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.FaultEvery <= 0 {
		o.FaultEvery = 3 * time.Second
	}
	if o.Down <= 0 {
		o.Down = time.Second
	}
	if o.Postgres == "" {
		o.Postgres = "auto"
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	for _, f := range o.Faults {
		switch f {
		case FaultWorker, FaultAPI, FaultTemporal, FaultPostgres:
		default:
			return fmt.Errorf("unknown fault %q: want worker, api, temporal or postgres", f)
		}
	}
	switch o.Postgres {
	case "auto", "private", "shared":
	default:
		return fmt.Errorf("postgres %q: want auto, private or shared", o.Postgres)
	}
	return nil
}

// Build compiles the duban and duban-dev binaries into dir.
func Build(ctx context.Context, moduleDir, dir string) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, name := range []string{"duban", "duban-dev"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, name), "./cmd/"+name)
			cmd.Dir = moduleDir
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go build ./cmd/%s: %w: %s", name, err, out)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ModuleDir finds the module's root from the working directory up.
func ModuleDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/duban-dev/duban\n") {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("not inside the duban module: pass the built binaries (--bin)")
		}
		dir = up
	}
}

// Print writes the result as the command shows it.
func (r Result) Print(w io.Writer) {
	fmt.Fprintf(w, "\n故障演练结果（用时 %s）\n", r.Took.Round(time.Second))
	fmt.Fprintf(w, "  审批链 %d 条，决定 %d 个（其中 %d 个应答因故障丢失、按任务状态确认），重试 %d 次", r.Chains, r.Decisions, r.Settled, r.Retries)
	if len(r.ByCause) > 0 {
		var causes []string
		for k := range r.ByCause {
			causes = append(causes, k)
		}
		sort.Strings(causes)
		var parts []string
		for _, k := range causes {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.ByCause[k]))
		}
		fmt.Fprintf(w, "（%s）", strings.Join(parts, "，"))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  PostgreSQL：%s\n", r.Postgres)
	kinds := map[string][]Fault{}
	for _, f := range r.Faults {
		kinds[f.Kind] = append(kinds[f.Kind], f)
	}
	fmt.Fprintf(w, "  注入故障 %d 次：\n", len(r.Faults))
	for _, k := range []string{FaultWorker, FaultAPI, FaultTemporal, FaultPostgres} {
		fs := kinds[k]
		if len(fs) == 0 {
			continue
		}
		var rec []string
		var worst time.Duration
		for _, f := range fs {
			if f.Recovery > worst {
				worst = f.Recovery
			}
			switch {
			case f.Recovery == 0:
				rec = append(rec, "—")
			case f.Recovery < 10*time.Millisecond:
				rec = append(rec, "<10ms")
			default:
				rec = append(rec, f.Recovery.Round(10*time.Millisecond).String())
			}
		}
		fmt.Fprintf(w, "    %-8s %d 次，恢复时间（从 kill 到下一个成功的决定）%s，最长 %s\n", k, len(fs), strings.Join(rec, " "), worst.Round(10*time.Millisecond))
	}
	var names []string
	for n := range r.Processes {
		names = append(names, n)
	}
	sort.Strings(names)
	var starts []string
	for _, n := range names {
		starts = append(starts, fmt.Sprintf("%s %d", n, r.Processes[n]))
	}
	if len(starts) > 0 {
		fmt.Fprintf(w, "  进程启动次数（含故障后重启）：%s\n", strings.Join(starts, "，"))
	}
	fmt.Fprintf(w, "  核对：任务 %d 项，时间线事件 %d 条，站内通知 %d 条，外发 %d 条（接收方收到 %d 次，其中同一去重键重发 %d 次）；%s\n",
		r.Checked.Instances, r.Checked.Events, r.Checked.Inbox, r.Checked.Deliveries, r.Checked.Received, r.Checked.Repeats, r.Checked.Reconcile)
	if r.OK() {
		fmt.Fprintln(w, "  结论：没有丢失、重复或不一致。")
		return
	}
	fmt.Fprintf(w, "  结论：发现 %d 处问题：\n", len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "    - %s\n", p)
	}
	if r.Dir != "" {
		fmt.Fprintf(w, "  日志：%s\n", r.Dir)
	}
}
