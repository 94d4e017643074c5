package worker

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/duban-dev/duban/workflows"
)

// StartSnapshot starts the deployment's rollup-snapshot workflow unless it
// runs already (fixed id, as StartDigest does): `duban worker` replicas and
// `duban dev` restarts all land on the same one.
func StartSnapshot(ctx context.Context, c client.Client, taskQueue, idPrefix string) error {
	if taskQueue == "" {
		taskQueue = workflows.TaskQueue
	}
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       idPrefix + workflows.SnapshotWorkflowID,
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.SnapshotWorkflow, workflows.SnapshotInput{})
	if err != nil {
		return fmt.Errorf("start snapshot workflow: %w", err)
	}
	return nil
}
