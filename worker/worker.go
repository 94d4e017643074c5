// Package worker builds the Temporal worker that runs Duban's workflows and
// activities, and the starter that launches task workflows.
package worker

import (
	"context"
	"errors"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/workflows"

	enumspb "go.temporal.io/api/enums/v1"
)

// Options tunes a worker.
type Options struct {
	// TaskQueue is the queue to poll (the configuration's temporal.task_queue).
	TaskQueue string
	// MaxConcurrentActivities and MaxConcurrentWorkflowTasks; 0 keeps the SDK defaults.
	MaxConcurrentActivities    int
	MaxConcurrentWorkflowTasks int
}

// Register adds every Duban workflow and activity to a registry.
func Register(r worker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.TaskWorkflow, workflow.RegisterOptions{Name: "TaskWorkflow"})
	r.RegisterWorkflowWithOptions(workflows.LaunchWorkflow, workflow.RegisterOptions{Name: "LaunchWorkflow"})
	r.RegisterWorkflowWithOptions(workflows.DigestWorkflow, workflow.RegisterOptions{Name: "DigestWorkflow"})
	r.RegisterWorkflowWithOptions(workflows.SnapshotWorkflow, workflow.RegisterOptions{Name: "SnapshotWorkflow"})
	r.RegisterWorkflowWithOptions(workflows.ReconcileWorkflow, workflow.RegisterOptions{Name: "ReconcileWorkflow"})
	r.RegisterWorkflowWithOptions(workflows.RetentionWorkflow, workflow.RegisterOptions{Name: "RetentionWorkflow"})
	r.RegisterWorkflowWithOptions(workflows.PlanChangeWorkflow, workflow.RegisterOptions{Name: "PlanChangeWorkflow"})
	r.RegisterWorkflowWithOptions(workflows.UnitMergeWorkflow, workflow.RegisterOptions{Name: "UnitMergeWorkflow"})
	r.RegisterActivity(acts)
}

// New builds a worker on the task queue with everything registered.
func New(c client.Client, acts *activities.Activities, opts Options) (worker.Worker, error) {
	if opts.TaskQueue == "" {
		return nil, errors.New("worker: no task queue (temporal.task_queue)")
	}
	w := worker.New(c, opts.TaskQueue, worker.Options{
		MaxConcurrentActivityExecutionSize:     opts.MaxConcurrentActivities,
		MaxConcurrentWorkflowTaskExecutionSize: opts.MaxConcurrentWorkflowTasks,
	})
	Register(w, acts)
	return w, nil
}

// Starter starts task workflows through a Temporal client.
type Starter struct {
	Client    client.Client
	TaskQueue string
	IDPrefix  string // see engine.Engine.IDPrefix
	// SearchAttributes sets DubanUnit, DubanCity, DubanCounty and DubanDue
	// on each workflow; they must be registered on the namespace.
	SearchAttributes bool
}

// StartTask starts the workflow of one instance. A workflow with the same id
// that is running or has ever run is left alone: started is false.
func (s Starter) StartTask(ctx context.Context, spec duban.TaskSpec, b activities.LaunchBatch, deliverAssigned bool) (bool, error) {
	if s.TaskQueue == "" {
		return false, errors.New("starter: no task queue (temporal.task_queue)")
	}
	opts := client.StartWorkflowOptions{
		ID:                       s.IDPrefix + spec.ID,
		TaskQueue:                s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// Without this the SDK hands back the running workflow as if started.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		// The first workflow task comes back in the start response to this
		// process's own worker, when it has a free slot, instead of
		// travelling through matching (the SDK asks only when it has one).
		EnableEagerStart: true,
	}
	if s.SearchAttributes {
		opts.TypedSearchAttributes = searchAttributes(spec)
	}
	_, err := s.Client.ExecuteWorkflow(ctx, opts, workflows.TaskWorkflow, workflows.TaskInput{
		Spec: spec, Clock: b.Clock, Recorded: true, AssignedAt: b.At, DeliverAssigned: deliverAssigned,
		Alarms: workflows.DeadlineAlarms(spec, spec.Due),
	})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return false, nil
	}
	return err == nil, err
}
