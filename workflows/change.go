package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban/activities"
)

// PlanChangeWorkflowID is the workflow id of a plan change (after the
// engine's IDPrefix).
func PlanChangeWorkflowID(changeID int64) string { return fmt.Sprintf("plan-change/%d", changeID) }

// PlanChangeInput starts a PlanChangeWorkflow.
type PlanChangeInput struct {
	ChangeID    int64 `json:"change_id"`
	BatchSize   int   `json:"batch_size,omitempty"`  // instances per activity; 0 means 200
	Concurrency int   `json:"concurrency,omitempty"` // Updates in flight; 0 means 8
}

// PlanChangeResult counts what a run did.
type PlanChangeResult struct {
	Applied int `json:"applied"`
	Skipped int `json:"skipped"`
	Failed  int `json:"failed"`
}

// PlanChangeWorkflow carries a recorded plan change to the instances it
// reaches, batch by batch, each by an Update that is idempotent on the
// change; then it sweeps for instances launched meanwhile, and marks the
// change done. The store holds what became of each instance, so a run
// started again (the same change recorded twice, a crash) sends only what
// is still pending, and an instance that has the change changes no more.
func PlanChangeWorkflow(ctx workflow.Context, in PlanChangeInput) (PlanChangeResult, error) {
	if in.BatchSize <= 0 {
		in.BatchSize = 200
	}
	if in.Concurrency <= 0 {
		in.Concurrency = 8
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		// Temporal or the database away: keep trying, backing off to five
		// minutes; what was settled stays settled between attempts.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrNoChanges}},
	})
	var res PlanChangeResult
	batch := activities.PlanChangeBatch{ChangeID: in.ChangeID, Limit: in.BatchSize, Concurrency: in.Concurrency}
	for round := 0; ; round++ {
		var p activities.PlanChangeProgress
		if err := workflow.ExecuteActivity(ctx, a.ApplyPlanChange, batch).Get(ctx, &p); err != nil {
			return res, err
		}
		res.Applied += p.Applied
		res.Skipped += p.Skipped
		res.Failed += p.Failed
		if p.More {
			if round >= 200 {
				// A very large change: a fresh history for the rest.
				return res, workflow.NewContinueAsNewError(ctx, PlanChangeWorkflow, in)
			}
			continue
		}
		var added int
		if err := workflow.ExecuteActivity(ctx, a.SweepPlanChange, in.ChangeID).Get(ctx, &added); err != nil {
			return res, err
		}
		if added == 0 {
			break
		}
	}
	return res, workflow.ExecuteActivity(ctx, a.FinishPlanChange, in.ChangeID).Get(ctx, nil)
}

// UnitMergeInput and UnitMergeResult are the merge's (see
// activities.MoveUnitTasks).
type (
	UnitMergeInput  = activities.UnitMergeInput
	UnitMergeResult = activities.UnitMergeResult
)

// UnitMergeWorkflow moves the open tasks of a unit merged into another to
// the unit it joined (or cancels those the joined unit has too). The
// activity is idempotent, so it is retried until Temporal and the database
// answer.
func UnitMergeWorkflow(ctx workflow.Context, in UnitMergeInput) (UnitMergeResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrNoChanges}},
	})
	var res UnitMergeResult
	err := workflow.ExecuteActivity(ctx, a.MoveUnitTasks, in).Get(ctx, &res)
	return res, err
}
