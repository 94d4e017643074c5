package activities

import (
	"context"
	"errors"
)

// ReconcileResult is what one reconciliation found and repaired.
type ReconcileResult struct {
	Checked  int `json:"checked"`
	Found    int `json:"found"`
	Repaired int `json:"repaired"`
}

// Reconciler compares the store with the workflows and, with repair,
// repairs it (package reconcile, wired by the worker's command).
type Reconciler func(ctx context.Context, repair bool) (ReconcileResult, error)

// ReconcileInput is one scheduled run.
type ReconcileInput struct {
	Repair bool `json:"repair,omitempty"`
}

// Reconcile runs the reconciler the worker was given.
func (a *Activities) Reconcile(ctx context.Context, in ReconcileInput) (ReconcileResult, error) {
	if a.Reconciler == nil {
		return ReconcileResult{}, errors.New("this worker has no reconciler")
	}
	return a.Reconciler(ctx, in.Repair)
}
