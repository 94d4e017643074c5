package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban/activities"
)

// RetentionWorkflowID is the fixed id of the one retention workflow per
// deployment (after the engine's IDPrefix).
const RetentionWorkflowID = "retention"

// RetentionInput starts a RetentionWorkflow.
type RetentionInput struct {
	// Interval between runs (real time); 0 means a day.
	Interval time.Duration `json:"interval,omitempty"`
	// RunsPerWorkflow continues as new after that many runs; 0 means 30.
	RunsPerWorkflow int `json:"runs_per_workflow,omitempty"`
}

// RetentionWorkflow deletes read inbox rows, finished deliveries and ended
// sessions past their ages (config retention.*) on a schedule, as
// `duban prune` does by hand. Audit rows and timelines are never touched.
func RetentionWorkflow(ctx workflow.Context, in RetentionInput) error {
	err := everyInterval(ctx, in.Interval, in.RunsPerWorkflow, "retention run", func(ctx workflow.Context) error {
		var res activities.PruneResult
		return workflow.ExecuteActivity(ctx, a.Prune).Get(ctx, &res)
	})
	if err != nil {
		return err
	}
	return workflow.NewContinueAsNewError(ctx, RetentionWorkflow, in)
}
