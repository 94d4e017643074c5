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
// at least n instances. Ratio templates are left as they are.
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
	for si := range p.Sections {
		for ti := range p.Sections[si].Templates {
			t := &p.Sections[si].Templates[ti]
			if count >= n {
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

// startEmpty starts n empty workflows with the given number of parallel
// starters, on a worker of their own, and returns how long the starts took
// and how long until every one had run (its first and only task).
func startEmpty(ctx context.Context, c client.Client, namespace string, n, starters int) (startTook, allTook time.Duration, err error) {
	tq := "bench-empty"
	w := sdkworker.New(c, tq, sdkworker.Options{})
	w.RegisterWorkflow(EmptyWorkflow)
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
					ID: fmt.Sprintf("bench/empty/%d", i), TaskQueue: tq,
					WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
					WorkflowExecutionErrorWhenAlreadyStarted: true,
					// As Duban's launcher does: the first task goes straight
					// to the local worker.
					EnableEagerStart: true,
				}, EmptyWorkflow)
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
	if err := drain(ctx, c, namespace, tq); err != nil {
		return startTook, 0, err
	}
	return startTook, time.Since(start), nil
}

func runLaunch(ctx context.Context, s *stack, o Options, rep *Report, logf func(string, ...any)) error {
	p, src, n, err := fanOutPlan(s.h, o.Instances)
	if err != nil {
		return err
	}
	if _, err := s.db.ImportPlan(ctx, p, src, "bench"); err != nil {
		return err
	}
	logf("plan %s: %d templates, %d instances", p.ID, len(p.Templates()), n)

	starters := o.Starters
	emptyStart, emptyAll, err := startEmpty(ctx, s.client, s.tc.Namespace, n, starters)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	emptyRate := float64(n) / emptyAll.Seconds()
	logf("baseline: %d empty workflows started in %s, all run in %s: %.0f/s", n, emptyStart.Round(time.Millisecond), emptyAll.Round(time.Millisecond), emptyRate)

	// Plan time starts at the beginning of the year and runs at the real
	// pace, so no instance is overdue at launch and no alarm adds load.
	clock := duban.Clock{Scale: 1, VirtualEpoch: time.Date(p.Year, 1, 1, 0, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}
	eng := &engine.Engine{Client: s.client, TaskQueue: s.tc.TaskQueue}
	start := time.Now()
	id, err := eng.Launch(ctx, p.ID, p.Year, engine.LaunchOptions{Clock: clock, Concurrency: starters})
	if err != nil {
		return err
	}
	res, err := eng.WaitLaunch(ctx, id)
	if err != nil {
		return err
	}
	launched := time.Since(start)
	if err := drain(ctx, s.client, s.tc.Namespace, s.tc.TaskQueue); err != nil {
		return err
	}
	took := time.Since(start)
	rate := float64(res.Started) / took.Seconds()
	logf("duban: %d instances launched (rows, events, inbox, rollups, workflow starts) in %s, all run their first task in %s: %.0f/s", res.Started, launched.Round(time.Millisecond), took.Round(time.Millisecond), rate)
	ratio := emptyRate / rate
	met := "yes"
	if ratio > 1.25 {
		met = fmt.Sprintf("no: %.2f× (%.0f%% over the 1.25× target)", ratio, (ratio/1.25-1)*100)
	}
	rep.add(Figure{Section: "Plan launch", Name: fmt.Sprintf("instances started per second, until every workflow has run its first task (%d instances, %d starters)", res.Started, starters),
		Value:    fmt.Sprintf("%.0f/s (%s; starts done at %s)", rate, took.Round(time.Second), launched.Round(time.Second)),
		Baseline: fmt.Sprintf("%.0f/s empty workflows (%s; starts done at %s)", emptyRate, emptyAll.Round(time.Second), emptyStart.Round(time.Second)),
		Ratio:    fmt.Sprintf("%.2f× the empty-workflow time", ratio), Target: "≤ 1.25×", Met: met})
	return nil
}
