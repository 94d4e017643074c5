package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
)

// LaunchInput starts a LaunchWorkflow.
type LaunchInput struct {
	LaunchID    string      `json:"launch_id"`
	PlanID      string      `json:"plan_id"`
	Year        int         `json:"year"`
	Clock       duban.Clock `json:"clock"`
	BatchSize   int         `json:"batch_size,omitempty"`
	Concurrency int         `json:"concurrency,omitempty"`
	Templates   []string    `json:"templates,omitempty"`
}

// LaunchResult is the outcome of a launch.
type LaunchResult struct {
	Total    int `json:"total"`
	Started  int `json:"started"`
	Existing int `json:"existing"`
}

// LaunchID is the workflow id of a plan's launch for a year.
func LaunchID(planID string, year int) string { return fmt.Sprintf("launch/%s/%d", planID, year) }

// LaunchWorkflow starts every instance of a plan for a year, batch by batch.
// It survives a crash of the process that asked for it, and because both the
// rows and the workflow starts are idempotent, running it again for the same
// plan and year starts nothing twice.
func LaunchWorkflow(ctx workflow.Context, in LaunchInput) (LaunchResult, error) {
	if in.BatchSize <= 0 {
		in.BatchSize = 500
	}
	if in.Concurrency <= 0 {
		in.Concurrency = 16
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, InitialInterval: time.Second},
	})
	batch := activities.LaunchBatch{
		LaunchID: in.LaunchID, PlanID: in.PlanID, Year: in.Year,
		Limit: in.BatchSize, Concurrency: in.Concurrency, Templates: in.Templates,
		At: in.Clock.Virtual(workflow.Now(ctx)), Clock: in.Clock,
	}
	var prep activities.PrepareLaunchResult
	if err := workflow.ExecuteActivity(ctx, a.PrepareLaunch, batch).Get(ctx, &prep); err != nil {
		return LaunchResult{}, err
	}
	progress := duban.LaunchProgress{ID: in.LaunchID, PlanID: in.PlanID, Year: in.Year, Status: "running", Total: prep.Total}
	batch.Total = prep.Total
	res := LaunchResult{Total: prep.Total}
	if workflow.GetVersion(ctx, "launch-overlap", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		if err := launchInOrder(ctx, in, batch, prep.Total, &res, &progress); err != nil {
			return res, err
		}
	} else if err := launchOverlapped(ctx, in, batch, prep.Total, &res, &progress); err != nil {
		return res, err
	}
	if prep.Total == 0 {
		progress.Status = "done"
		if err := workflow.ExecuteActivity(ctx, a.UpdateLaunch, progress).Get(ctx, nil); err != nil {
			return res, err
		}
	}
	return res, nil
}

// launchInOrder runs the batches one after the other (the first release).
func launchInOrder(ctx workflow.Context, in LaunchInput, batch activities.LaunchBatch, total int, res *LaunchResult, progress *duban.LaunchProgress) error {
	for off := 0; off < total; off += in.BatchSize {
		batch.Offset = off
		batch.Done = activities.LaunchBatchResult{Started: res.Started, Existing: res.Existing}
		var r activities.LaunchBatchResult
		if err := workflow.ExecuteActivity(ctx, a.StartBatch, batch).Get(ctx, &r); err != nil {
			return failLaunch(ctx, progress, err)
		}
		if err := batchDone(ctx, r, off+in.BatchSize >= total, res, progress); err != nil {
			return err
		}
	}
	return nil
}

// launchOverlapped keeps two batches in flight, each with half the
// starters: while one writes its rows, the other starts workflows, so the
// database and Temporal work at the same time with the same concurrency.
func launchOverlapped(ctx workflow.Context, in LaunchInput, batch activities.LaunchBatch, total int, res *LaunchResult, progress *duban.LaunchProgress) error {
	const width = 2
	batch.Concurrency = max(in.Concurrency/width, 1)
	var inflight []workflow.Future
	next := 0
	for next < total || len(inflight) > 0 {
		for len(inflight) < width && next < total {
			batch.Offset = next
			batch.Done = activities.LaunchBatchResult{Started: res.Started, Existing: res.Existing}
			inflight = append(inflight, workflow.ExecuteActivity(ctx, a.StartBatch, batch))
			next += in.BatchSize
		}
		var r activities.LaunchBatchResult
		if err := inflight[0].Get(ctx, &r); err != nil {
			return failLaunch(ctx, progress, err)
		}
		inflight = inflight[1:]
		if err := batchDone(ctx, r, next >= total && len(inflight) == 0, res, progress); err != nil {
			return err
		}
	}
	return nil
}

func batchDone(ctx workflow.Context, r activities.LaunchBatchResult, last bool, res *LaunchResult, progress *duban.LaunchProgress) error {
	res.Started += r.Started
	res.Existing += r.Existing
	progress.Started, progress.Existing = res.Started, res.Existing
	if last {
		progress.Status = "done"
	}
	return workflow.ExecuteActivity(ctx, a.UpdateLaunch, *progress).Get(ctx, nil)
}

func failLaunch(ctx workflow.Context, progress *duban.LaunchProgress, err error) error {
	progress.Status, progress.Error = "failed", err.Error()
	_ = workflow.ExecuteActivity(ctx, a.UpdateLaunch, *progress).Get(ctx, nil)
	return err
}
