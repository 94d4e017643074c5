package chaos_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/duban-dev/duban/internal/chaos"
)

// TestNoDecisionIsLostOrDoubledThroughFaults is the short run of the fault
// suite: the stack as separate processes, a dozen approval chains through
// the two API processes while a worker, an API process and the Temporal
// server are killed with SIGKILL and PostgreSQL is restarted (a cluster of
// the run's own, when initdb is found; otherwise that fault is left out).
// Every decision answered 2xx is on the timeline once, none twice, and the
// store agrees with the workflows.
func TestNoDecisionIsLostOrDoubledThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault suite builds and runs the whole stack")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	res, err := chaos.Run(ctx, chaos.Options{
		Chains:      12,
		Concurrency: 4,
		Duration:    40 * time.Second,
		FaultEvery:  2 * time.Second,
		Faults:      []string{chaos.FaultWorker, chaos.FaultAPI, chaos.FaultTemporal, chaos.FaultPostgres},
		Progress:    &progress,
	})
	var out bytes.Buffer
	res.Print(&out)
	t.Logf("%s%s", progress.String(), out.String())
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("%d problems (logs in %s)", len(res.Problems), res.Dir)
	}
	if res.Decisions != 4*12 {
		t.Errorf("%d decisions settled, want %d", res.Decisions, 4*12)
	}
	kinds := map[string]int{}
	for _, f := range res.Faults {
		kinds[f.Kind]++
	}
	for _, k := range []string{chaos.FaultWorker, chaos.FaultAPI, chaos.FaultTemporal} {
		if kinds[k] == 0 {
			t.Errorf("no %s fault injected: %v", k, kinds)
		}
	}
	if kinds[chaos.FaultPostgres] == 0 {
		t.Logf("PostgreSQL was not restarted: %s", res.Postgres)
	}
}
