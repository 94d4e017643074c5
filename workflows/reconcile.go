package workflows

import (
	"time"

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
	err := everyInterval(ctx, in.Interval, in.RunsPerWorkflow, "reconciliation", func(ctx workflow.Context) error {
		var res activities.ReconcileResult
		return workflow.ExecuteActivity(ctx, a.Reconcile, activities.ReconcileInput{Repair: in.Repair}).Get(ctx, &res)
	})
	if err != nil {
		return err
	}
	return workflow.NewContinueAsNewError(ctx, ReconcileWorkflow, in)
}
