package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/workflows"
)

// On real time the workflow snapshots every hour; a failed tick is retried
// and then left to the next one; it continues as new after its ticks.
func TestSnapshotWorkflowHourlyOnRealTime(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	start := time.Date(2021, 6, 30, 22, 30, 0, 0, duban.Shanghai)
	env.SetStartTime(start)
	env.RegisterWorkflow(workflows.SnapshotWorkflow)
	var ticks []time.Time
	env.OnActivity(a.TakeRollupSnapshot, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SnapshotInput) (activities.SnapshotResult, error) {
		ticks = append(ticks, in.At.In(duban.Shanghai))
		if len(ticks) == 2 {
			return activities.SnapshotResult{}, errors.New("database restarting")
		}
		return activities.SnapshotResult{Day: in.At.In(duban.Shanghai).Format("2006-01-02"), Rows: 10}, nil
	})
	env.ExecuteWorkflow(workflows.SnapshotWorkflow, workflows.SnapshotInput{TicksPerRun: 3})
	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "got %v", env.GetWorkflowError())
	var next workflows.SnapshotInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, 3, next.TicksPerRun)
	var distinct []time.Time
	for _, tk := range ticks {
		if len(distinct) == 0 || distinct[len(distinct)-1].Sub(tk).Abs() > time.Minute {
			distinct = append(distinct, tk)
		}
	}
	require.Len(t, distinct, 3)
	require.Equal(t, start, distinct[0])
	// The failed tick retried for a while; the next one is an hour after it.
	require.WithinDuration(t, start.Add(time.Hour), distinct[1], 2*time.Minute)
	require.WithinDuration(t, distinct[1].Add(time.Hour), distinct[2], 2*time.Minute)
}

// On a demo clock a plan hour passes in under a second: ticks come every
// ten real seconds instead.
func TestSnapshotWorkflowOnADemoClock(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, duban.Shanghai)
	env.SetStartTime(start)
	env.RegisterWorkflow(workflows.SnapshotWorkflow)
	demo := duban.Clock{Scale: 8640, VirtualEpoch: time.Date(2026, 3, 25, 0, 0, 0, 0, duban.Shanghai), RealEpoch: start}
	var ticks []time.Time
	env.OnActivity(a.TakeRollupSnapshot, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SnapshotInput) (activities.SnapshotResult, error) {
		ticks = append(ticks, in.At)
		return activities.SnapshotResult{Clock: demo}, nil
	})
	env.ExecuteWorkflow(workflows.SnapshotWorkflow, workflows.SnapshotInput{TicksPerRun: 4})
	require.Len(t, ticks, 4)
	for i := 1; i < len(ticks); i++ {
		require.Equal(t, 10*time.Second, ticks[i].Sub(ticks[i-1]))
	}
}
