package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban/activities"
)

// ReconcileWorkflowID is the fixed id of the one reconciliation workflow
// per deployment (after the engine's IDPrefix).
const ReconcileWorkflowID = "reconcile"

// ReconcileInput starts a ReconcileWorkflow.
type ReconcileInput struct {
	// Interval between runs (real time); 0 means a day.
	Interval time.Duration `json:"interval,omitempty"`
	// Repair repairs what a run finds (audited); off, runs only report.
	Repair bool `json:"repair,omitempty"`
	// RunsPerWorkflow continues as new after that many runs; 0 means 30.
	RunsPerWorkflow int `json:"runs_per_workflow,omitempty"`
}

// ReconcileWorkflow runs the reconciliation on a schedule for as long as
// the deployment does: the worker's metric and log say what each run
// found (see docs/operations.md for the alert).
func ReconcileWorkflow(ctx workflow.Context, in ReconcileInput) error {
	interval := in.Interval
	if interval <= 0 {
		interval = 24 * time.Hour
	}
	runs := in.RunsPerWorkflow
	if runs <= 0 {
		runs = 30
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    0,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Minute, MaximumAttempts: 3},
	})
	for range runs {
		if err := workflow.Sleep(ctx, interval); err != nil {
			return err
		}
		var res activities.ReconcileResult
		if err := workflow.ExecuteActivity(ctx, a.Reconcile, activities.ReconcileInput{Repair: in.Repair}).Get(ctx, &res); err != nil {
			workflow.GetLogger(ctx).Warn("reconciliation failed; the next run retries", "error", err)
		}
	}
	return workflow.NewContinueAsNewError(ctx, ReconcileWorkflow, in)
}
