package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/duban-dev/duban"
)

// Notifier sends the deliveries the store wrote with each transition
// (notify.Dispatcher implements it).
type Notifier interface {
	DeliverTransition(ctx context.Context, instanceID string, seq int64) (duban.DeliveryReport, error)
	DeliverDue(ctx context.Context, now time.Time, budget time.Duration, heartbeat func(duban.DeliveryReport)) (duban.DeliveryReport, error)
}

// DeliverInput names the transition whose notices to deliver.
type DeliverInput struct {
	InstanceID string `json:"instance_id"`
	Seq        int64  `json:"seq"`
}

// DeliverDueInput is one tick of the digest workflow.
type DeliverDueInput struct {
	At time.Time `json:"at"` // real time of the tick
}

// ErrDeliveryUnfinished is the error type that asks Temporal to run a
// delivery activity again: some message failed for a reason that may pass,
// or another attempt still holds it.
const ErrDeliveryUnfinished = "DeliveryUnfinished"

// DeliverTransition sends a transition's email and webhook deliveries, or
// sets them aside for a digest or the end of quiet hours. Retried, it skips
// every delivery already marked sent, so a message the server accepted
// before a failure is not sent again. It fails (to be retried with backoff)
// while a delivery failed temporarily and has attempts left; once a
// delivery runs out of attempts, or fails permanently, it falls back to the
// inbox and is reported here and in the deliveries table.
func (a *Activities) DeliverTransition(ctx context.Context, in DeliverInput) (duban.DeliveryReport, error) {
	if a.Notifier == nil {
		return duban.DeliveryReport{}, nil
	}
	rep, err := a.Notifier.DeliverTransition(ctx, in.InstanceID, in.Seq)
	logFailures(ctx, rep)
	if err != nil {
		return rep, err
	}
	if rep.Unfinished() {
		return rep, unfinished(rep)
	}
	return rep, nil
}

// DeliverDue sends what has come due: digests, messages held by quiet
// hours, and deliveries left behind by a workflow that gave up on them.
func (a *Activities) DeliverDue(ctx context.Context, in DeliverDueInput) (duban.DeliveryReport, error) {
	if a.Notifier == nil {
		return duban.DeliveryReport{}, nil
	}
	// Stop well within the start-to-close timeout; the next tick goes on.
	budget := 4 * time.Minute
	if deadline, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(deadline)/2)
	}
	rep, err := a.Notifier.DeliverDue(ctx, in.At, budget, func(r duban.DeliveryReport) { activity.RecordHeartbeat(ctx, r.Sent) })
	logFailures(ctx, rep)
	return rep, err
}

func logFailures(ctx context.Context, rep duban.DeliveryReport) {
	log := activity.GetLogger(ctx)
	for _, f := range rep.Failures {
		log.Warn("notice not delivered; the person has it in the inbox", "key", f.Key, "user", f.UserID, "channel", f.Channel, "target", f.Target, "reason", f.Reason)
	}
}

func unfinished(rep duban.DeliveryReport) error {
	return temporal.NewApplicationError(fmt.Sprintf("%d deliveries to retry, %d held by another attempt", rep.Retrying, rep.Busy), ErrDeliveryUnfinished)
}
