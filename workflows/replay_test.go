package workflows_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban/workflows"
)

// TestReplayRecordedHistories replays histories recorded on a real server
// (reminders, an extension, a rejection, a full approval) against the
// current workflow code. A change that is not behind workflow.GetVersion
// breaks determinism and fails here. Record new ones with
// DUBAN_RECORD_HISTORY=NAME go test ./worker/ -run TestRecordHistory.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*-history.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.TaskWorkflow, workflow.RegisterOptions{Name: "TaskWorkflow"})
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
