package activities

import (
	"context"
	"errors"
)

// PruneResult is what one retention run deleted.
type PruneResult struct {
	Inbox      int64 `json:"inbox"`
	Deliveries int64 `json:"deliveries"`
	Sessions   int64 `json:"sessions"`
}

// Pruner deletes the rows the retention rules let go (store.DB.Prune with
// the configured ages, wired by the worker's command).
type Pruner func(ctx context.Context) (PruneResult, error)

// Prune runs the pruner the worker was given.
func (a *Activities) Prune(ctx context.Context) (PruneResult, error) {
	if a.Pruner == nil {
		return PruneResult{}, errors.New("this worker has no pruner")
	}
	return a.Pruner(ctx)
}
