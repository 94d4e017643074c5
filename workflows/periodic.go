package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// everyInterval runs run once per interval (a day when 0), runs times (30
// when 0), each run an hour-long activity retried three times; a run that
// still fails is logged and the next one tries again. The caller continues
// as new afterwards, so the history stays short however long the
// deployment lives. The reconciliation and retention schedules share it.
func everyInterval(ctx workflow.Context, interval time.Duration, runs int, what string, run func(workflow.Context) error) error {
	if interval <= 0 {
		interval = 24 * time.Hour
	}
	if runs <= 0 {
		runs = 30
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Minute, MaximumAttempts: 3},
	})
	for range runs {
		if err := workflow.Sleep(ctx, interval); err != nil {
			return err
		}
		if err := run(ctx); err != nil {
			workflow.GetLogger(ctx).Warn(what+" failed; the next run retries", "error", err)
		}
	}
	return nil
}
