package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/duban-dev/duban"
)

// MergeStore is what moving a merged unit's tasks needs from persistence.
type MergeStore interface {
	OpenTasksOf(ctx context.Context, unit, into string) ([]duban.UnitTask, error)
}

// Mover moves and cancels tasks by their workflows (the engine).
type Mover interface {
	MoveTask(ctx context.Context, instanceID, from string, to duban.Signer, reason string, actor duban.Actor) error
	CancelTask(ctx context.Context, instanceID, key, reason string, actor duban.Actor) error
}

// UnitMergeInput names the merged unit, the unit it joined, why, and who
// merged them.
type UnitMergeInput struct {
	From   string       `json:"from"`
	Into   duban.Signer `json:"into"`
	Reason string       `json:"reason"`
	Actor  duban.Actor  `json:"actor"`
}

// UnitMergeResult counts what became of the merged unit's open tasks.
type UnitMergeResult struct {
	Moved     int `json:"moved"`
	Cancelled int `json:"cancelled"` // the joined unit has the same task
	Skipped   int `json:"skipped"`   // finished meanwhile, or refused
}

// MoveUnitTasks hands every open task of a merged unit to the unit it
// joined, or cancels it when that unit has the same task. Both are
// idempotent (a moved task is no longer the merged unit's; a cancelled one
// is no longer open), so a retry after a fault does only what is left.
func (a *Activities) MoveUnitTasks(ctx context.Context, in UnitMergeInput) (UnitMergeResult, error) {
	ms, ok := a.Store.(MergeStore)
	if !ok || a.Mover == nil {
		return UnitMergeResult{}, temporal.NewNonRetryableApplicationError("this worker cannot move tasks", ErrNoChanges, nil)
	}
	tasks, err := ms.OpenTasksOf(ctx, in.From, in.Into.Unit)
	if err != nil {
		return UnitMergeResult{}, err
	}
	var res UnitMergeResult
	for i, tk := range tasks {
		activity.RecordHeartbeat(ctx, i)
		var err error
		if tk.Duplicate != "" {
			reason := fmt.Sprintf("单位合并：并入%s，由其同项任务承接。%s", in.Into.UnitName, in.Reason)
			err = a.Mover.CancelTask(ctx, tk.InstanceID, "unit-merge/"+in.From, reason, in.Actor)
		} else {
			err = a.Mover.MoveTask(ctx, tk.InstanceID, in.From, in.Into, in.Reason, in.Actor)
		}
		var de *duban.Error
		switch {
		case err == nil && tk.Duplicate != "":
			res.Cancelled++
		case err == nil:
			res.Moved++
		case errors.As(err, &de) && de.Code != duban.EUNAVAILABLE && de.Code != duban.ETIMEOUT:
			activity.GetLogger(ctx).Warn("a merged unit's task was not moved", "instance", tk.InstanceID, "error", err)
			res.Skipped++
		default:
			return res, fmt.Errorf("move %s: %w", tk.InstanceID, err)
		}
	}
	return res, nil
}
