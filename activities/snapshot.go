package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/plan"
)

// SnapshotStore is what the snapshot activity needs from persistence. The
// PostgreSQL store implements it; a Store that does not cannot take
// snapshots.
type SnapshotStore interface {
	// PlanClock returns the clock plan time runs on (a demo's, or real time).
	PlanClock(ctx context.Context) (duban.Clock, error)
	// TakeSnapshot copies the rollup counters into the day's snapshot,
	// replacing what that day had.
	TakeSnapshot(ctx context.Context, day plan.Date) (int, error)
}

// SnapshotInput is one tick of the snapshot workflow.
type SnapshotInput struct {
	At time.Time `json:"at"` // real time of the tick (workflow time)
}

// SnapshotResult says which plan day was taken, how many rows, and the
// clock it was read on (so the workflow can wait a plan interval).
type SnapshotResult struct {
	Day   string      `json:"day"`
	Rows  int         `json:"rows"`
	Clock duban.Clock `json:"clock"`
}

// ErrNoSnapshots is the type of the error returned when the store cannot
// take snapshots.
const ErrNoSnapshots = "no_snapshots"

// TakeRollupSnapshot snapshots the rollup counters for the plan day it is at
// the tick (the demo clock's day under `duban dev`). Taking the same day
// again replaces its rows, so retries and ticks within a day are harmless.
func (a *Activities) TakeRollupSnapshot(ctx context.Context, in SnapshotInput) (SnapshotResult, error) {
	s, ok := a.Store.(SnapshotStore)
	if !ok {
		return SnapshotResult{}, temporal.NewNonRetryableApplicationError("store cannot take snapshots", ErrNoSnapshots, errors.New("no SnapshotStore"))
	}
	clock, err := s.PlanClock(ctx)
	if err != nil {
		return SnapshotResult{}, err
	}
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	day := plan.Today(clock, at)
	n, err := s.TakeSnapshot(ctx, day)
	if err != nil {
		return SnapshotResult{}, err
	}
	return SnapshotResult{Day: day.String(), Rows: n, Clock: clock}, nil
}
