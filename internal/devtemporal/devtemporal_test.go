package devtemporal_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban/internal/devpg"
	"github.com/duban-dev/duban/internal/devtemporal"
)

// Nap is a workflow that holds a timer, as every task workflow does.
func Nap(ctx workflow.Context, d time.Duration) (string, error) {
	if err := workflow.Sleep(ctx, d); err != nil {
		return "", err
	}
	return "awake", nil
}

// TestTheServerPersistsToPostgreSQL starts the embedded server on
// PostgreSQL with two history shards: it creates Temporal's two databases
// and their schemas, runs a workflow with a timer, and after a restart is
// not fresh and still knows the workflow.
func TestTheServerPersistsToPostgreSQL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	pg := &devtemporal.Postgres{URL: devpg.ScratchAdminURL(), Database: "duban_temporal_test_" + hex.EncodeToString(b)}
	opts := devtemporal.Options{Namespace: "duban-pg", Postgres: pg, HistoryShards: 2}
	defer func() {
		if err := pg.Drop(); err != nil {
			t.Errorf("drop: %v", err)
		}
	}()

	srv, err := devtemporal.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !srv.Fresh() {
		t.Error("a new database is not reported fresh")
	}
	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: srv.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	w := sdkworker.New(c, "pg", sdkworker.Options{})
	w.RegisterWorkflow(Nap)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "nap", TaskQueue: "pg"}, Nap, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != "awake" {
		t.Fatalf("workflow: %q, %v", got, err)
	}
	w.Stop()
	c.Close()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}

	again, err := devtemporal.Start(ctx, opts)
	if err != nil {
		t.Fatalf("restart on the same database: %v", err)
	}
	defer again.Stop()
	if again.Fresh() {
		t.Error("a restart on the same database is reported fresh")
	}
	c, err = client.Dial(client.Options{HostPort: again.HostPort(), Namespace: again.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := c.DescribeWorkflowExecution(ctx, "nap", "")
	if err != nil {
		t.Fatalf("the workflow after the restart: %v", err)
	}
	if s := d.GetWorkflowExecutionInfo().GetStatus().String(); s != "Completed" {
		t.Errorf("the workflow after the restart: %s, want Completed", s)
	}
}
