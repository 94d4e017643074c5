package workflows_test

import (
	"context"
	"errors"
	"sync"
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

func TestEveryRecordedNoticeIsDelivered(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	spec.Approval = spec.Approval[:2]
	day := func(dd int) time.Time { return time.Date(2021, 6, dd, 10, 0, 0, 0, duban.Shanghai) }
	h.update(day(1), "progress", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Note: "起草中", Evidence: []duban.Evidence{proof}})
	h.update(day(2), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official})
	h.update(day(3), "county", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(day(4), "city", workflows.UpdateDecide, workflows.DecisionRequest{Actor: cityHead, Step: 2, Approve: true})
	h.run(spec)

	var want []int64
	for _, tr := range h.transitions {
		if len(tr.Notices) > 0 {
			want = append(want, tr.Seq)
		}
	}
	// assigned, submitted, approved (to the city), completed; the progress
	// report tells nobody, so it sends nothing.
	require.Equal(t, []int64{1, 3, 4, 5}, want)
	var got []int64
	for _, d := range h.delivered {
		require.Equal(t, spec.ID, d.InstanceID)
		got = append(got, d.Seq)
	}
	require.Equal(t, want, got)
}

// deliveryEnv runs a TaskWorkflow whose deliveries take a while.
func deliveryEnv(t *testing.T, deliverTakes time.Duration) (*testsuite.TestWorkflowEnvironment, *[]activities.DeliverInput, *sync.Mutex) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterWorkflow(workflows.TaskWorkflow)
	env.OnActivity(a.RecordTransition, mock.Anything, mock.Anything).Return(activities.RecordResult{Deliver: true}, nil)
	var (
		mu        sync.Mutex
		delivered []activities.DeliverInput
	)
	env.OnActivity(a.DeliverTransition, mock.Anything, mock.Anything).After(deliverTakes).Return(func(_ context.Context, in activities.DeliverInput) (duban.DeliveryReport, error) {
		mu.Lock()
		defer mu.Unlock()
		delivered = append(delivered, in)
		return duban.DeliveryReport{Sent: 1}, nil
	})
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env, &delivered, &mu
}

func TestAnUpdateDoesNotWaitForDeliveryButCompletionDoes(t *testing.T) {
	env, delivered, mu := deliveryEnv(t, 30*time.Minute)
	spec := countySpec()
	spec.Approval = spec.Approval[:1]
	submitAt := time.Date(2021, 3, 1, 9, 0, 0, 0, duban.Shanghai)
	decideAt := submitAt.Add(24 * time.Hour)
	var submitAnswered, decideAnswered time.Time
	send := func(at time.Time, name, id string, arg any, answered *time.Time) {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { t.Errorf("%s refused: %v", id, err) },
				OnComplete: func(_ any, err error) { require.NoError(t, err); *answered = env.Now() },
			}, arg)
		}, at.Sub(start))
	}
	send(submitAt, workflows.UpdateSubmit, "submit", workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}}, &submitAnswered)
	send(decideAt, workflows.UpdateDecide, "decide", workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true}, &decideAnswered)
	env.ExecuteWorkflow(workflows.TaskWorkflow, workflows.TaskInput{Spec: spec})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	// Each decision is answered as soon as it is recorded, not after the
	// half hour its messages take to send.
	require.True(t, submitAnswered.Equal(submitAt), "submit answered at %v", submitAnswered)
	require.True(t, decideAnswered.Equal(decideAt), "decide answered at %v", decideAnswered)
	// The workflow ends only once the last message (the completion) is out.
	require.False(t, env.Now().Before(decideAt.Add(30*time.Minute)), "workflow ended at %v", env.Now())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, *delivered, 3) // assigned, submitted, completed
}

func TestLaunchedInstanceDeliversItsAssignment(t *testing.T) {
	env, delivered, mu := deliveryEnv(t, 0)
	spec := countySpec()
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateCancel, "cancel", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("cancel refused: %v", err) }, OnComplete: func(any, error) {},
		}, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	}, time.Hour)
	env.ExecuteWorkflow(workflows.TaskWorkflow, workflows.TaskInput{Spec: spec, Recorded: true, DeliverAssigned: true})
	require.NoError(t, env.GetWorkflowError())
	mu.Lock()
	defer mu.Unlock()
	// The launcher recorded seq 1 ("assigned"); the workflow sends it.
	require.Equal(t, []activities.DeliverInput{{InstanceID: spec.ID, Seq: 1}, {InstanceID: spec.ID, Seq: 2}}, *delivered)
}

func TestDigestWorkflowTicksOnTheQuarterHourAndContinuesAsNew(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(time.Date(2026, 3, 2, 7, 40, 12, 0, duban.Shanghai))
	env.RegisterWorkflow(workflows.DigestWorkflow)
	var ticks []time.Time
	env.OnActivity(a.DeliverDue, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DeliverDueInput) (duban.DeliveryReport, error) {
		ticks = append(ticks, in.At.In(duban.Shanghai))
		if len(ticks) == 2 {
			return duban.DeliveryReport{}, errors.New("database restarting") // logged; the next tick goes on
		}
		return duban.DeliveryReport{Digests: 1}, nil
	})
	env.ExecuteWorkflow(workflows.DigestWorkflow, workflows.DigestInput{TicksPerRun: 4})
	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "got %v", env.GetWorkflowError())
	var next workflows.DigestInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, 4, next.TicksPerRun)
	at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, duban.Shanghai) }
	require.Equal(t, time.Date(2026, 3, 2, 7, 40, 12, 0, duban.Shanghai), ticks[0])
	// The failed second tick is retried (3 attempts) before the loop moves on.
	var distinct []time.Time
	for _, tk := range ticks {
		if len(distinct) == 0 || !distinct[len(distinct)-1].Equal(tk) {
			distinct = append(distinct, tk)
		}
	}
	require.Equal(t, []time.Time{ticks[0], at(7, 45), at(8, 0), at(8, 15)}, distinct)
}

func TestALaunchedAssignmentLeftUnfinishedGoesOnAsAnActivity(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterWorkflow(workflows.TaskWorkflow)
	env.OnActivity(a.RecordTransition, mock.Anything, mock.Anything).Return(activities.RecordResult{Deliver: true}, nil)
	calls := 0
	env.OnActivity(a.DeliverTransition, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DeliverInput) (duban.DeliveryReport, error) {
		calls++
		if calls == 1 {
			return duban.DeliveryReport{Sent: 1, Retrying: 1}, errors.New("1 deliveries to retry")
		}
		return duban.DeliveryReport{Sent: 1}, nil
	})
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateCancel, "cancel", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("cancel refused: %v", err) }, OnComplete: func(any, error) {},
		}, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	}, time.Hour)
	env.ExecuteWorkflow(workflows.TaskWorkflow, workflows.TaskInput{Spec: countySpec(), Recorded: true, DeliverAssigned: true})
	require.NoError(t, env.GetWorkflowError())
	// The local attempt, then the activity that finishes seq 1; then seq 2 (the cancellation).
	require.Equal(t, 3, calls)
}
