package worker

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/duban-dev/duban/workflows"
)

// StartDigest starts the deployment's digest workflow unless it runs
// already (see startSingleton).
func StartDigest(ctx context.Context, c client.Client, taskQueue, idPrefix string, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("start digest workflow: tick interval %s is not positive (notify.tick_interval)", interval)
	}
	return startSingleton(ctx, c, "digest", taskQueue, idPrefix+workflows.DigestWorkflowID, workflows.DigestWorkflow, workflows.DigestInput{Interval: interval})
}

// StartSnapshot starts the deployment's rollup-snapshot workflow unless it
// runs already (see startSingleton).
func StartSnapshot(ctx context.Context, c client.Client, taskQueue, idPrefix string) error {
	return startSingleton(ctx, c, "snapshot", taskQueue, idPrefix+workflows.SnapshotWorkflowID, workflows.SnapshotWorkflow, workflows.SnapshotInput{})
}

// StartReconcile starts the deployment's scheduled reconciliation unless
// it runs already (see startSingleton).
func StartReconcile(ctx context.Context, c client.Client, taskQueue, idPrefix string, interval time.Duration, repair bool) error {
	return startSingleton(ctx, c, "reconcile", taskQueue, idPrefix+workflows.ReconcileWorkflowID, workflows.ReconcileWorkflow,
		workflows.ReconcileInput{Interval: interval, Repair: repair})
}

// StartRetention starts the deployment's scheduled retention unless it
// runs already (see startSingleton).
func StartRetention(ctx context.Context, c client.Client, taskQueue, idPrefix string, interval time.Duration) error {
	return startSingleton(ctx, c, "retention", taskQueue, idPrefix+workflows.RetentionWorkflowID, workflows.RetentionWorkflow,
		workflows.RetentionInput{Interval: interval})
}

// startSingleton starts one of the deployment's long-running workflows
// unless it runs already: the id is fixed, so `duban worker` replicas and
// `duban-dev dev` restarts all land on the same one. A run that ended
// (terminated, failed) is started afresh.
func startSingleton(ctx context.Context, c client.Client, name, taskQueue, id string, workflow, input any) error {
	if taskQueue == "" {
		return fmt.Errorf("start %s workflow: no task queue (temporal.task_queue)", name)
	}
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflow, input)
	if err != nil {
		return fmt.Errorf("start %s workflow: %w", name, err)
	}
	return nil
}
