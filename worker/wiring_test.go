package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/worker"
)

// TestNothingGuessesItsTaskQueue: the task queue and the digest's tick come
// from the configuration; a worker, a starter, the digest and a launch
// without them are refused, not run on a name decided here.
func TestNothingGuessesItsTaskQueue(t *testing.T) {
	ctx := context.Background()
	_, err := worker.New(nil, &activities.Activities{}, worker.Options{})
	require.ErrorContains(t, err, "worker: no task queue")
	_, err = worker.Starter{}.StartTask(ctx, duban.TaskSpec{ID: "2021/2.1/430102"}, activities.LaunchBatch{}, false)
	require.ErrorContains(t, err, "starter: no task queue")
	require.ErrorContains(t, worker.StartDigest(ctx, nil, "", "", time.Minute), "no task queue")
	require.ErrorContains(t, worker.StartDigest(ctx, nil, "duban", "", 0), "tick interval 0s is not positive")
	_, err = (&engine.Engine{}).Launch(ctx, "hunan-2021", 2021, engine.LaunchOptions{})
	require.ErrorContains(t, err, "engine: no task queue")
}
