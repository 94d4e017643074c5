package workflows_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/workflows"
)

// launchRun runs a LaunchWorkflow of total instances in batches of 500 on
// the given side of the "launch-overlap" change, with StartBatch answered by
// batch (nil: every instance of the batch is new).
type launchRun struct {
	mu       sync.Mutex
	batches  []activities.LaunchBatch
	progress []duban.LaunchProgress
}

func runLaunch(t *testing.T, version workflow.Version, total int, batch func(activities.LaunchBatch) (activities.LaunchBatchResult, error)) (*launchRun, workflows.LaunchResult, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.LaunchWorkflow)
	env.OnGetVersion("launch-overlap", workflow.DefaultVersion, 1).Return(version)
	run := &launchRun{}
	env.OnActivity(a.PrepareLaunch, mock.Anything, mock.Anything).Return(activities.PrepareLaunchResult{Total: total}, nil)
	env.OnActivity(a.StartBatch, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.LaunchBatch) (activities.LaunchBatchResult, error) {
		run.mu.Lock()
		run.batches = append(run.batches, in)
		run.mu.Unlock()
		if batch != nil {
			return batch(in)
		}
		return activities.LaunchBatchResult{Started: min(in.Limit, in.Total-in.Offset)}, nil
	})
	env.OnActivity(a.UpdateLaunch, mock.Anything, mock.Anything).Return(func(_ context.Context, p duban.LaunchProgress) error {
		run.mu.Lock()
		run.progress = append(run.progress, p)
		run.mu.Unlock()
		return nil
	})
	env.ExecuteWorkflow(workflows.LaunchWorkflow, workflows.LaunchInput{LaunchID: "launch/p/2021", PlanID: "p", Year: 2021, Concurrency: 16})
	require.True(t, env.IsWorkflowCompleted())
	var res workflows.LaunchResult
	err := env.GetWorkflowError()
	if err == nil {
		require.NoError(t, env.GetWorkflowResult(&res))
	}
	return run, res, err
}

func TestLaunchStartsEveryBatchOnBothSidesOfTheOverlapChange(t *testing.T) {
	for _, tc := range []struct {
		name        string
		version     workflow.Version
		concurrency int
	}{
		{"one batch at a time (first release)", workflow.DefaultVersion, 16},
		{"two batches in flight, half the starters each", 1, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The middle batch finds ten of its instances already started.
			run, res, err := runLaunch(t, tc.version, 1234, func(in activities.LaunchBatch) (activities.LaunchBatchResult, error) {
				n := min(in.Limit, in.Total-in.Offset)
				if in.Offset == 500 {
					return activities.LaunchBatchResult{Started: n - 10, Existing: 10}, nil
				}
				return activities.LaunchBatchResult{Started: n}, nil
			})
			require.NoError(t, err)
			require.Equal(t, workflows.LaunchResult{Total: 1234, Started: 1224, Existing: 10}, res)

			var offsets []int
			for _, b := range run.batches {
				offsets = append(offsets, b.Offset)
				require.Equal(t, 500, b.Limit)
				require.Equal(t, 1234, b.Total)
				require.Equal(t, tc.concurrency, b.Concurrency)
			}
			slices.Sort(offsets)
			require.Equal(t, []int{0, 500, 1000}, offsets, "every batch exactly once")

			// Progress grows batch by batch and says done once, at the end.
			require.Len(t, run.progress, 3)
			for i, p := range run.progress {
				require.Equal(t, 1234, p.Total)
				if i > 0 {
					require.GreaterOrEqual(t, p.Started+p.Existing, run.progress[i-1].Started+run.progress[i-1].Existing)
				}
				if i < len(run.progress)-1 {
					require.Equal(t, "running", p.Status)
				}
			}
			last := run.progress[len(run.progress)-1]
			require.Equal(t, "done", last.Status)
			require.Equal(t, 1224, last.Started)
			require.Equal(t, 10, last.Existing)
		})
	}
}

func TestLaunchRecordsAFailedBatch(t *testing.T) {
	for _, version := range []workflow.Version{workflow.DefaultVersion, 1} {
		run, _, err := runLaunch(t, version, 1234, func(in activities.LaunchBatch) (activities.LaunchBatchResult, error) {
			if in.Offset == 500 {
				return activities.LaunchBatchResult{}, temporal.NewNonRetryableApplicationError("数据库不可用", "test", nil)
			}
			return activities.LaunchBatchResult{Started: min(in.Limit, in.Total-in.Offset)}, nil
		})
		require.ErrorContains(t, err, "数据库不可用", "version %d", version)
		last := run.progress[len(run.progress)-1]
		require.Equal(t, "failed", last.Status, "version %d", version)
		require.Contains(t, last.Error, "数据库不可用")
		for _, p := range run.progress {
			require.NotEqual(t, "done", p.Status, "a failed launch never says done")
		}
	}
}
