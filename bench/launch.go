package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goccy/go-yaml"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
)

// EmptyWorkflow is the baseline: a workflow that does nothing.
func EmptyWorkflow(ctx workflow.Context) error { return nil }

// fanOutPlan is the 2021 plan with its county-level obligations carried down
// to every township as well, template by template, until the plan expands to
// at least n instances. Ratio templates are left as they are. When n is
// below the plan's own size, the plan keeps its first templates only, as
// many as stay within n (a smaller launch for quick runs).
func fanOutPlan(h *org.Hierarchy, n int) (*plan.Plan, []byte, int, error) {
	p, _, err := plan.Shipped("hunan-2021")
	if err != nil {
		return nil, nil, 0, err
	}
	p.ID = "hunan-2021-townships"
	p.Title += "（下沉到乡镇，压测用）"
	total := func() int {
		specs, err := plan.Expand(p, h, p.Year)
		if err != nil {
			return -1
		}
		return len(specs)
	}
	count := total()
	trimmed := count > n
	for count > n {
		p.Scoring = nil // it names templates that go
		last := len(p.Sections) - 1
		if len(p.Sections) == 1 && len(p.Sections[0].Templates) == 1 {
			break
		}
		if k := len(p.Sections[last].Templates); k > 1 {
			p.Sections[last].Templates = p.Sections[last].Templates[:k-1]
		} else {
			p.Sections = p.Sections[:last]
		}
		count = total()
	}
	for si := range p.Sections {
		for ti := range p.Sections[si].Templates {
			t := &p.Sections[si].Templates[ti]
			if count >= n || trimmed {
				break
			}
			if t.Kind == duban.KindRatio || !slices.Contains(t.Responsible.Levels, duban.LevelCounty) || slices.Contains(t.Responsible.Levels, duban.LevelTownship) {
				continue
			}
			t.Responsible.Levels = append(t.Responsible.Levels, duban.LevelTownship)
			count = total()
		}
	}
	src, err := yaml.Marshal(p)
	if err != nil {
		return nil, nil, 0, err
	}
	// Round-trip through the validator, as an imported file would.
	parsed, err := plan.Parse(p.ID+".yaml", src, h)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("fanned-out plan does not validate: %w", err)
	}
	specs, err := plan.Expand(parsed, h, parsed.Year)
	if err != nil {
		return nil, nil, 0, err
	}
	return parsed, src, len(specs), nil
}

// OpenTimerWorkflow is the second baseline: a workflow that stays open
// holding one timer, as every task workflow does (its next reminder) — the
// floor any design with a workflow per task pays, beside the empty
// workflow that closes at once.
func OpenTimerWorkflow(ctx workflow.Context) error {
	return workflow.Sleep(ctx, 365*24*time.Hour)
}

// baseline is one of the launch's baselines: a workflow, and the task
// queue and id prefix its starts use.
type baseline struct {
	name, taskQueue string
	workflow        any
}

var (
	emptyBaseline = baseline{"empty", "bench-empty", EmptyWorkflow}
	timerBaseline = baseline{"open-timer", "bench-open-timer", OpenTimerWorkflow}
)

// startBaseline starts n workflows of a baseline with the given number of
// parallel starters, on a worker of their own, and returns how long the
// starts took and how long until every one had run its first task.
func startBaseline(ctx context.Context, c client.Client, namespace string, b baseline, n, starters int) (startTook, allTook time.Duration, err error) {
	w := sdkworker.New(c, b.taskQueue, sdkworker.Options{})
	w.RegisterWorkflow(b.workflow)
	if err := w.Start(); err != nil {
		return 0, 0, err
	}
	defer w.Stop()
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range starters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
					ID: fmt.Sprintf("bench/%s/%d", b.name, i), TaskQueue: b.taskQueue,
					WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
					WorkflowExecutionErrorWhenAlreadyStarted: true,
					// As Duban's launcher does: the first task goes straight
					// to the local worker.
					EnableEagerStart: true,
				}, b.workflow)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, 0, firstErr
	}
	startTook = time.Since(start)
	if err := drain(ctx, c, namespace, b.taskQueue); err != nil {
		return startTook, 0, err
	}
	return startTook, time.Since(start), nil
}

// launchResult is what one launch measurement took: the two baselines and
// Duban's launch of the same number of instances.
type launchResult struct {
	instances, starters  int
	emptyStart, emptyAll time.Duration
	timerStart, timerAll time.Duration
	launched, took       time.Duration
	emptyRate, timerRate float64
	rate                 float64
}

// measureLaunch imports the fanned-out plan, starts as many empty
// workflows, then as many workflows that stay open holding a timer, then
// launches the plan, each until every workflow has run its first task.
func measureLaunch(ctx context.Context, s *stack, o Options, logf func(string, ...any)) (launchResult, error) {
	var r launchResult
	p, src, n, err := fanOutPlan(s.h, o.Instances)
	if err != nil {
		return r, err
	}
	if _, err := s.db.ImportPlan(ctx, p, src, "bench"); err != nil {
		return r, err
	}
	logf("plan %s: %d templates, %d instances", p.ID, len(p.Templates()), n)
	r.instances, r.starters = n, o.Starters

	if r.emptyStart, r.emptyAll, err = startBaseline(ctx, s.client, s.tc.Namespace, emptyBaseline, n, r.starters); err != nil {
		return r, fmt.Errorf("baseline: %w", err)
	}
	r.emptyRate = float64(n) / r.emptyAll.Seconds()
	logf("baseline: %d empty workflows started in %s, all run in %s: %.0f/s", n, r.emptyStart.Round(time.Millisecond), r.emptyAll.Round(time.Millisecond), r.emptyRate)
	if r.timerStart, r.timerAll, err = startBaseline(ctx, s.client, s.tc.Namespace, timerBaseline, n, r.starters); err != nil {
		return r, fmt.Errorf("timer baseline: %w", err)
	}
	r.timerRate = float64(n) / r.timerAll.Seconds()
	logf("baseline: %d workflows that stay open holding a timer started in %s, all run in %s: %.0f/s", n, r.timerStart.Round(time.Millisecond), r.timerAll.Round(time.Millisecond), r.timerRate)

	// Plan time starts at the beginning of the year and runs at the real
	// pace, so no instance is overdue at launch and no alarm adds load.
	clock := duban.Clock{Scale: 1, VirtualEpoch: time.Date(p.Year, 1, 1, 0, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}
	eng := &engine.Engine{Client: s.client, TaskQueue: s.tc.TaskQueue}
	start := time.Now()
	id, err := eng.Launch(ctx, p.ID, p.Year, engine.LaunchOptions{Clock: clock, Concurrency: r.starters})
	if err != nil {
		return r, err
	}
	res, err := eng.WaitLaunch(ctx, id)
	if err != nil {
		return r, err
	}
	r.launched = time.Since(start)
	if err := drain(ctx, s.client, s.tc.Namespace, s.tc.TaskQueue); err != nil {
		return r, err
	}
	r.took = time.Since(start)
	r.instances = res.Started
	r.rate = float64(res.Started) / r.took.Seconds()
	logf("duban: %d instances launched (rows, events, inbox, rollups, workflow starts) in %s, all run their first task in %s: %.0f/s", res.Started, r.launched.Round(time.Millisecond), r.took.Round(time.Millisecond), r.rate)
	return r, nil
}

func runLaunch(ctx context.Context, s *stack, o Options, rep *Report, logf func(string, ...any)) error {
	r, err := measureLaunch(ctx, s, o, logf)
	if err != nil {
		return err
	}
	ratio := r.emptyRate / r.rate
	met := "yes"
	if ratio > 1.25 {
		met = fmt.Sprintf("no: %.2f× (%.0f%% over the 1.25× target)", ratio, (ratio/1.25-1)*100)
	}
	value := fmt.Sprintf("%.0f/s (%s; starts done at %s)", r.rate, r.took.Round(time.Second), r.launched.Round(time.Second))
	rep.add(Figure{Section: "Plan launch", Name: fmt.Sprintf("instances started per second, until every workflow has run its first task (%d instances, %d starters)", r.instances, r.starters),
		Value:    value,
		Baseline: fmt.Sprintf("%.0f/s empty workflows (%s; starts done at %s)", r.emptyRate, r.emptyAll.Round(time.Second), r.emptyStart.Round(time.Second)),
		Ratio:    fmt.Sprintf("%.2f× the empty-workflow time", ratio), Target: "≤ 1.25×", Met: met})
	rep.add(Figure{Section: "Plan launch", Name: "the same launch against workflows that stay open holding one timer (the floor of a workflow per task)",
		Value:    value,
		Baseline: fmt.Sprintf("%.0f/s open workflows with a timer (%s; starts done at %s)", r.timerRate, r.timerAll.Round(time.Second), r.timerStart.Round(time.Second)),
		Ratio:    fmt.Sprintf("%.2f× the open-timer time", r.timerRate/r.rate)})
	return nil
}

// runShards measures the launch on a fresh server (and database) with each
// history shard count in o.Shards.
func runShards(ctx context.Context, o Options, rep *Report, logf func(string, ...any)) error {
	for _, n := range o.Shards {
		o.HistoryShards = n
		logf("== launch, history shards: %d", n)
		s, err := startStack(ctx, o, logf)
		if err != nil {
			return err
		}
		r, err := measureLaunch(ctx, s, o, logf)
		s.close()
		if err != nil {
			return fmt.Errorf("%d shards: %w", n, err)
		}
		rep.add(Figure{Section: "Launch by history shards", Name: fmt.Sprintf("history shards: %d; instances per second until every workflow has run its first task (%d instances, %d starters)", n, r.instances, r.starters),
			Value:    fmt.Sprintf("%.0f/s (%s)", r.rate, r.took.Round(time.Second)),
			Baseline: fmt.Sprintf("empty %.0f/s; open with a timer %.0f/s", r.emptyRate, r.timerRate),
			Ratio:    fmt.Sprintf("%.2f× the empty-workflow time", r.emptyRate/r.rate)})
	}
	rep.Duration = time.Since(rep.Started)
	return nil
}
