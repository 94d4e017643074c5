// Package activities holds every Temporal activity Duban registers. They
// talk to interfaces (the store, the Temporal starter, delivery channels),
// never to a driver directly, so each can be tested on its own.
package activities

import (
	"context"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
)

// Store is what activities need from persistence.
type Store interface {
	// ApplyTransition writes a transition in one transaction: the timeline
	// event, the instance row (if the transition is newer than it), rollup
	// counters and inbox entries. It is idempotent on (instance, seq) and
	// reports whether anything new was written.
	ApplyTransition(ctx context.Context, tr duban.Transition) (bool, error)
	// RecordAssigned creates instance rows in status assigned with their first
	// event, skipping those that exist. It returns how many were new.
	RecordAssigned(ctx context.Context, specs []duban.TaskSpec, at time.Time) (int, error)
	// Plan returns a stored plan.
	Plan(ctx context.Context, id string) (*plan.Plan, error)
	// Hierarchy returns the current unit hierarchy.
	Hierarchy(ctx context.Context) (*org.Hierarchy, error)
	// PendingDeliveries reports, for each instance, whether the transition
	// with that sequence number has email or webhook deliveries to send.
	PendingDeliveries(ctx context.Context, seq int64, instanceIDs []string) (map[string]bool, error)
	// UpdateLaunch records a launch's progress.
	UpdateLaunch(ctx context.Context, p LaunchProgress) error
}

// LaunchProgress is the state of one plan launch.
type LaunchProgress struct {
	ID       string    `json:"id"`
	PlanID   string    `json:"plan_id"`
	Year     int       `json:"year"`
	Status   string    `json:"status"` // pending (written by the API before the workflow starts), running, done, failed
	Total    int       `json:"total"`
	Started  int       `json:"started"`  // workflows started by this launch
	Existing int       `json:"existing"` // already running or finished before
	Failed   int       `json:"failed"`
	Error    string    `json:"error,omitempty"`
	Updated  time.Time `json:"updated"`
}

// Activities holds the dependencies of every activity.
type Activities struct {
	Store   Store
	Starter Starter
	// Notifier sends deliveries on email and webhooks; nil sends nothing
	// (the inbox still has every notice).
	Notifier Notifier
}

// RecordResult says what a recorded transition left to do.
type RecordResult struct {
	// Deliver is true when the transition has email or webhook deliveries
	// to send; the workflow runs DeliverTransition only then.
	Deliver bool `json:"deliver,omitempty"`
}

// RecordTransition writes one transition of a task instance. Retried or
// replayed, it never writes twice.
func (a *Activities) RecordTransition(ctx context.Context, tr duban.Transition) (RecordResult, error) {
	if _, err := a.Store.ApplyTransition(ctx, tr); err != nil {
		return RecordResult{}, err
	}
	if len(tr.Notices) == 0 || a.Notifier == nil {
		return RecordResult{}, nil
	}
	pending, err := a.Store.PendingDeliveries(ctx, tr.Seq, []string{tr.InstanceID})
	return RecordResult{Deliver: pending[tr.InstanceID]}, err
}
