package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
)

// DigestWorkflowID is the fixed id of the one digest workflow per
// deployment (after the engine's IDPrefix), so starting it is idempotent.
const DigestWorkflowID = "notify/digest"

// zeroIntervalTick is the tick of a run whose input has no interval. The
// interval is decided by the configuration (notify.tick_interval) and
// worker.StartDigest refuses none; this only keeps such a history, should
// one exist, replaying as it ran.
const zeroIntervalTick = 15 * time.Minute

// DigestInput starts a DigestWorkflow.
type DigestInput struct {
	// Interval between ticks (notify.tick_interval). Ticks are aligned to
	// multiples of it, so an interval that divides an hour ticks on the hour.
	Interval time.Duration `json:"interval,omitempty"`
	// TicksPerRun continues as new after that many ticks; 0 means a day's.
	TicksPerRun int `json:"ticks_per_run,omitempty"`
}

// DigestWorkflow runs for as long as the deployment does. On every tick it
// has the DeliverDue activity send what has come due by real time (not the
// demo plan clock): each person's daily digest at their hour (one message
// listing every held item), messages held by quiet hours once those end,
// and deliveries that a task workflow gave up on. A failed tick is logged
// and the next one carries on; DeliverDue is idempotent, because every
// delivery, digests included, is marked sent once its channel accepts it.
func DigestWorkflow(ctx workflow.Context, in DigestInput) error {
	interval := in.Interval
	if interval <= 0 {
		interval = zeroIntervalTick
	}
	ticks := in.TicksPerRun
	if ticks <= 0 {
		ticks = max(int(24*time.Hour/interval), 1)
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    10 * time.Second,
			BackoffCoefficient: 2,
			MaximumAttempts:    3,
		},
	})
	log := workflow.GetLogger(ctx)
	for range ticks {
		now := workflow.Now(ctx)
		var rep duban.DeliveryReport
		if err := workflow.ExecuteActivity(ctx, a.DeliverDue, activities.DeliverDueInput{At: now}).Get(ctx, &rep); err != nil {
			log.Warn("digest tick failed; the next tick retries", "error", err)
		}
		now = workflow.Now(ctx)
		next := now.Truncate(interval).Add(interval)
		if err := workflow.Sleep(ctx, next.Sub(now)); err != nil {
			return err
		}
	}
	return workflow.NewContinueAsNewError(ctx, DigestWorkflow, in)
}
