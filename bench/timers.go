package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/worker"
)

// TimerProbe is the reminder baseline: a bare workflow timer, reporting how
// late it woke.
func TimerProbe(ctx workflow.Context, target time.Time) (time.Duration, error) {
	if d := target.Sub(workflow.Now(ctx)); d > 0 {
		if err := workflow.Sleep(ctx, d); err != nil {
			return 0, err
		}
	}
	return workflow.Now(ctx).Sub(target), nil
}

// timerSpec is a one-step task at a village whose one reminder falls at remindAt.
func timerSpec(v org.Unit, remindAt time.Time) duban.TaskSpec {
	return duban.TaskSpec{
		ID: "bench/timer/" + v.Code, PlanID: "bench-timers", Year: remindAt.Year(), TemplateID: "bench", Section: "0",
		Title: "提醒精度测试", Kind: duban.KindDeadline, UnitCode: v.Code, UnitName: v.Name, UnitLevel: v.Level,
		Due:           remindAt.Add(24 * time.Hour),
		Reminders:     []duban.Offset{{Days: 1}},
		Approval:      []duban.ApprovalStep{{Unit: v.Code, UnitName: v.Name, SLA: duban.Offset{Days: 5}}},
		ExtensionUnit: v.ParentCode,
	}
}

// startSpecs records and starts task workflows the way a launch does.
func startSpecs(ctx context.Context, s *stack, specs []duban.TaskSpec) error {
	starter := worker.Starter{Client: s.client, TaskQueue: s.tc.TaskQueue, SearchAttributes: true}
	for off := 0; off < len(specs); off += 500 {
		batch := specs[off:min(off+500, len(specs))]
		at := time.Now()
		if _, err := s.db.RecordAssigned(ctx, batch, at); err != nil {
			return err
		}
		var wg sync.WaitGroup
		var next atomic.Int64
		errs := make(chan error, 16)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(batch) {
						return
					}
					if _, err := starter.StartTask(ctx, batch[i], activities.LaunchBatch{At: at}, false); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func runTimers(ctx context.Context, s *stack, o Options, rep *Report, logf func(string, ...any)) error {
	villages := org.WithVillages(s.h).AtLevel(duban.LevelVillage)
	if o.Timers > len(villages) {
		return fmt.Errorf("%d timers asked, only %d synthetic villages", o.Timers, len(villages))
	}
	fire := min(o.Fire, o.Timers)
	// Every open task workflow holds a pending timer (its next alarm): the
	// launch section's count toward the load, and only what is missing is
	// started here, with reminders 60 days away.
	var open int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM instances WHERE status IN ('assigned', 'in_progress', 'submitted')`).Scan(&open); err != nil {
		return err
	}
	background := max(o.Timers-fire-open, 0)
	far := time.Now().Add(60 * 24 * time.Hour)
	var specs []duban.TaskSpec
	for _, v := range villages[:background] {
		specs = append(specs, timerSpec(v, far))
	}
	start := time.Now()
	if err := startSpecs(ctx, s, specs); err != nil {
		return err
	}
	took := time.Since(start)
	logf("timers: %d open task workflows from earlier sections, %d more started in %s", open, background, took.Round(time.Second))

	// The sample: reminders spread over a minute, starting once all are
	// started. Starts go at 40 a second on an idle machine; at the rate
	// just measured, with room to spare, when that was slower (a busy
	// machine), so that the sample is started and drained before its first
	// reminder is due.
	const window = 60 * time.Second
	rate := 40.0
	if background > 0 {
		rate = min(rate, float64(background)/took.Seconds()/2)
	}
	startEstimate := time.Duration(float64(fire) / rate * float64(time.Second))
	// (The drain after the starts reads the queue's backlog, which the
	// server reports with a delay of its own: 15 s was not enough on a busy
	// machine.)
	anchor := time.Now().Add(startEstimate + 60*time.Second)
	specs = specs[:0]
	for i, v := range villages[background : background+fire] {
		specs = append(specs, timerSpec(v, anchor.Add(window*time.Duration(i)/time.Duration(fire))))
	}
	if err := startSpecs(ctx, s, specs); err != nil {
		return err
	}
	if err := drain(ctx, s.client, s.tc.Namespace, s.tc.TaskQueue); err != nil {
		return err
	}
	if time.Now().After(anchor) {
		return fmt.Errorf("starting the sample took past its first reminder; lower --fire")
	}
	pending := open + background + fire
	logf("timers: %d pending; %d reminders fire between %s and %s", pending, fire, anchor.Format("15:04:05"), anchor.Add(window).Format("15:04:05"))
	// Wait for the window to pass, then for stragglers (up to two minutes):
	// a late reminder counts with its real lateness, not as missing.
	select {
	case <-time.After(time.Until(anchor.Add(window + 5*time.Second))):
	case <-ctx.Done():
		return ctx.Err()
	}
	for give := time.Now().Add(2 * time.Minute); time.Now().Before(give); {
		var n int
		if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE kind = 'reminder' AND instance_id LIKE 'bench/timer/%'`).Scan(&n); err != nil {
			return err
		}
		if n >= fire {
			break
		}
		time.Sleep(2 * time.Second)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT recorded_at - at FROM events WHERE kind = 'reminder' AND instance_id LIKE 'bench/timer/%'`)
	if err != nil {
		return err
	}
	var late []time.Duration
	for rows.Next() {
		var d time.Duration
		if err := rows.Scan(&d); err != nil {
			return err
		}
		late = append(late, d)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	p50, p99, worst := percentiles(late)
	logf("timers: %d of %d reminders in the inbox; late p50 %s p99 %s max %s", len(late), fire, ms(p50), ms(p99), ms(worst))

	// Baseline: bare timers under the same pending load.
	base, err := probeTimers(ctx, s.client, fire, window)
	if err != nil {
		return err
	}
	b50, b99, bmax := percentiles(base)
	logf("timers baseline: %d bare timers late p50 %s p99 %s max %s", len(base), ms(b50), ms(b99), ms(bmax))
	met := "yes"
	if p99 > 2*time.Second {
		met = fmt.Sprintf("no: p99 %s over the 2 s target", ms(p99-2*time.Second))
	}
	if len(late) < fire {
		met = fmt.Sprintf("no: %d of %d reminders had not arrived two minutes after the window", fire-len(late), fire)
	}
	rep.add(Figure{Section: "Reminder accuracy", Name: fmt.Sprintf("lateness from due time to inbox row (%d reminders, %d timers pending)", fire, pending),
		Value: fmt.Sprintf("p50 %s, p99 %s, max %s", ms(p50), ms(p99), ms(worst)), Baseline: fmt.Sprintf("bare Temporal timer: p50 %s, p99 %s, max %s", ms(b50), ms(b99), ms(bmax)),
		Target: "p99 < 2 s", Met: met})
	return nil
}

// probeTimers starts n TimerProbe workflows whose timers fall across the
// window and returns how late each woke.
func probeTimers(ctx context.Context, c client.Client, n int, window time.Duration) ([]time.Duration, error) {
	tq := "bench-timers"
	w := sdkworker.New(c, tq, sdkworker.Options{})
	w.RegisterWorkflow(TimerProbe)
	if err := w.Start(); err != nil {
		return nil, err
	}
	defer w.Stop()
	anchor := time.Now().Add(time.Duration(float64(n)/40)*time.Second + 10*time.Second)
	runs := make([]client.WorkflowRun, n)
	for i := range n {
		target := anchor.Add(window * time.Duration(i) / time.Duration(n))
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench/probe/%d/%d", time.Now().UnixNano(), i), TaskQueue: tq}, TimerProbe, target)
		if err != nil {
			return nil, err
		}
		runs[i] = run
	}
	out := make([]time.Duration, 0, n)
	for _, r := range runs {
		var d time.Duration
		if err := r.Get(ctx, &d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
