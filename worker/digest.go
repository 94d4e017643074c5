package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/duban-dev/duban/workflows"
)

// StartDigest starts the deployment's digest workflow unless it runs
// already: the id is fixed, so `duban worker` replicas and `duban-dev dev`
// restarts all land on the same one. A run that ended (terminated, failed)
// is started afresh.
func StartDigest(ctx context.Context, c client.Client, taskQueue, idPrefix string, interval time.Duration) error {
	switch {
	case taskQueue == "":
		return errors.New("start digest workflow: no task queue (temporal.task_queue)")
	case interval <= 0:
		return fmt.Errorf("start digest workflow: tick interval %s is not positive (notify.tick_interval)", interval)
	}
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       idPrefix + workflows.DigestWorkflowID,
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.DigestWorkflow, workflows.DigestInput{Interval: interval})
	if err != nil {
		return fmt.Errorf("start digest workflow: %w", err)
	}
	return nil
}
