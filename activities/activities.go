// Package activities holds every Temporal activity Duban registers. They
// talk to interfaces (the store, the Temporal starter, delivery channels),
// never to a driver directly, so each can be tested on its own.
package activities

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/temporal"

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
	UpdateLaunch(ctx context.Context, p duban.LaunchProgress) error
}

// Activities holds the dependencies of every activity.
type Activities struct {
	Store   Store
	Starter Starter
	// Amender sends plan changes to running workflows, and Mover moves a
	// merged unit's tasks; nil: this worker does neither.
	Amender Amender
	Mover   Mover
	// Notifier sends deliveries on email and webhooks; nil sends nothing
	// (the inbox still has every notice).
	Notifier Notifier
	// Reconciler, when set, compares the store with the workflows for the
	// scheduled reconciliation.
	Reconciler Reconciler
	// Pruner, when set, deletes old rows for the scheduled retention.
	Pruner Pruner
	// Refused, when set, is told of every transition the store refused for
	// good, for operators: the worker logs it and counts it in a metric.
	Refused func(tr duban.Transition, err error)
}

// RecordResult says what a recorded transition left to do.
type RecordResult struct {
	// Deliver is true when the transition has email or webhook deliveries
	// to send; the workflow runs DeliverTransition only then.
	Deliver bool `json:"deliver,omitempty"`
}

// ErrRecordRefused is the type of the non-retryable error RecordTransition
// returns when the store refuses a transition's content for good (the
// database cannot hold it): retrying cannot help, so the workflow undoes the
// change instead of waiting forever with a gap in the timeline.
const ErrRecordRefused = "record_refused"

// RecordTransition writes one transition of a task instance. Retried or
// replayed, it never writes twice. Errors other than a refusal of the
// content (the database down, a deadlock) are retried by the workflow.
func (a *Activities) RecordTransition(ctx context.Context, tr duban.Transition) (RecordResult, error) {
	if _, err := a.Store.ApplyTransition(ctx, tr); err != nil {
		if duban.ErrorCode(err) == duban.EINVALID {
			if a.Refused != nil {
				a.Refused(tr, err)
			}
			return RecordResult{}, temporal.NewNonRetryableApplicationError(duban.ErrorMessage(err), ErrRecordRefused, err)
		}
		return RecordResult{}, err
	}
	if len(tr.Notices) == 0 || a.Notifier == nil {
		return RecordResult{}, nil
	}
	pending, err := a.Store.PendingDeliveries(ctx, tr.Seq, []string{tr.InstanceID})
	return RecordResult{Deliver: pending[tr.InstanceID]}, err
}

// RefusedRecorder is a Refused hook for a worker: it logs each refused
// transition and counts it in duban_transitions_refused_total (by event
// kind) on reg, when reg is set. A refusal means input got past the
// validators that the database cannot hold: a bug to look into.
func RefusedRecorder(log *slog.Logger, reg prometheus.Registerer) (func(duban.Transition, error), error) {
	var refused *prometheus.CounterVec
	if reg != nil {
		refused = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "duban_transitions_refused_total",
			Help: "Transitions the store refused for good (the workflow undid them); each is a validator gap.",
		}, []string{"kind"})
		if err := reg.Register(refused); err != nil {
			return nil, fmt.Errorf("refused transitions metric: %w", err)
		}
	}
	return func(tr duban.Transition, err error) {
		log.Error("transition refused by the store", "instance", tr.InstanceID, "seq", tr.Seq, "kind", tr.Kind, "err", err)
		if refused != nil {
			refused.WithLabelValues(string(tr.Kind)).Inc()
		}
	}, nil
}
