package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban/activities"
)

// SnapshotWorkflowID is the fixed id of the one rollup-snapshot workflow per
// deployment (after the engine's IDPrefix), so starting it is idempotent.
const SnapshotWorkflowID = "score/snapshot"

// Snapshot ticks: an hour of plan time, but never more often than every ten
// real seconds (a demo runs a plan day in ten seconds).
const (
	defaultSnapshotInterval = time.Hour
	minSnapshotWait         = 10 * time.Second
	defaultSnapshotTicks    = 200
)

// SnapshotInput starts a SnapshotWorkflow.
type SnapshotInput struct {
	// Interval between snapshots in plan time; 0 means an hour.
	Interval time.Duration `json:"interval,omitempty"`
	// TicksPerRun continues as new after that many ticks; 0 means 200.
	TicksPerRun int `json:"ticks_per_run,omitempty"`
}

// SnapshotWorkflow runs for as long as the deployment does. Each tick has
// the TakeRollupSnapshot activity copy the rollup counters into the
// snapshot of the plan day it is, so the last tick of a day leaves that
// day's closing figures; the board's trends read them. It waits an
// interval of plan time between ticks, on the clock the activity read (real
// time in production, the demo's under `duban dev`). A failed tick is
// logged and the next one carries on.
func SnapshotWorkflow(ctx workflow.Context, in SnapshotInput) error {
	interval := in.Interval
	if interval <= 0 {
		interval = defaultSnapshotInterval
	}
	ticks := in.TicksPerRun
	if ticks <= 0 {
		ticks = defaultSnapshotTicks
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        10 * time.Second,
			BackoffCoefficient:     2,
			MaximumAttempts:        3,
			NonRetryableErrorTypes: []string{activities.ErrNoSnapshots},
		},
	})
	log := workflow.GetLogger(ctx)
	for range ticks {
		var res activities.SnapshotResult
		err := workflow.ExecuteActivity(ctx, a.TakeRollupSnapshot, activities.SnapshotInput{At: workflow.Now(ctx)}).Get(ctx, &res)
		if err != nil {
			log.Warn("snapshot tick failed; the next tick retries", "error", err)
		}
		wait := max(res.Clock.Real(interval), minSnapshotWait)
		if err := workflow.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	return workflow.NewContinueAsNewError(ctx, SnapshotWorkflow, in)
}
