package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/duban-dev/duban"
)

// ChangeStore is what carrying out plan changes needs from persistence. The
// PostgreSQL store implements it.
type ChangeStore interface {
	Change(ctx context.Context, id int64) (duban.PlanChange, error)
	ChangesOf(ctx context.Context, planID string, year int) ([]duban.PlanChange, error)
	PendingChangeItems(ctx context.Context, id int64, limit int) ([]string, error)
	SettleChangeItems(ctx context.Context, id int64, items []duban.ChangeItem) error
	SweepPlanChange(ctx context.Context, id int64) (int, error)
	FinishPlanChange(ctx context.Context, id int64) error
}

// Amender sends a plan change to one instance's workflow (the engine,
// wired by the worker's command). It returns nil when the instance carries
// the change, now or before.
type Amender interface {
	Amend(ctx context.Context, instanceID string, c duban.PlanChange) error
}

// ErrNoChanges is the type of the error returned when the worker cannot
// carry out plan changes (no ChangeStore or no Amender).
const ErrNoChanges = "no_plan_changes"

// PlanChangeBatch asks for up to Limit of a change's pending instances to
// be sent the change, Concurrency at a time.
type PlanChangeBatch struct {
	ChangeID    int64 `json:"change_id"`
	Limit       int   `json:"limit"`
	Concurrency int   `json:"concurrency"`
}

// PlanChangeProgress is what a batch did and what is left.
type PlanChangeProgress struct {
	Applied int `json:"applied"`
	Skipped int `json:"skipped"`
	Failed  int `json:"failed"`
	// Pending is how many instances the batch looked at and left pending
	// (a fault it will retry); More says there may be pending ones it did
	// not look at.
	Pending int  `json:"pending"`
	More    bool `json:"more"`
}

func (a *Activities) changes() (ChangeStore, error) {
	cs, ok := a.Store.(ChangeStore)
	if !ok || a.Amender == nil {
		return nil, temporal.NewNonRetryableApplicationError("this worker cannot carry out plan changes", ErrNoChanges, nil)
	}
	return cs, nil
}

// ApplyPlanChange sends a change to a batch of its pending instances and
// records what became of each: applied; skipped when the task finished
// meanwhile (nothing to change); failed when the workflow refused it for
// another reason. An instance Temporal could not be reached for stays
// pending, and the activity fails so that its retry sends it again.
func (a *Activities) ApplyPlanChange(ctx context.Context, in PlanChangeBatch) (PlanChangeProgress, error) {
	cs, err := a.changes()
	if err != nil {
		return PlanChangeProgress{}, err
	}
	change, err := cs.Change(ctx, in.ChangeID)
	if err != nil {
		return PlanChangeProgress{}, err
	}
	ids, err := cs.PendingChangeItems(ctx, in.ChangeID, in.Limit)
	if err != nil {
		return PlanChangeProgress{}, err
	}
	var (
		mu      sync.Mutex
		settled []duban.ChangeItem
		faults  []error
		next    = make(chan string)
		wg      sync.WaitGroup
	)
	for range max(in.Concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				it, fault := a.amendOne(ctx, id, change)
				mu.Lock()
				if fault != nil {
					faults = append(faults, fault)
				} else {
					settled = append(settled, it)
				}
				mu.Unlock()
			}
		}()
	}
	ticker := time.NewTicker(5 * time.Second)
	defer ticker.Stop()
feed:
	for _, id := range ids {
		for {
			select {
			case next <- id:
				continue feed
			case <-ticker.C:
				activity.RecordHeartbeat(ctx, id)
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(next)
	wg.Wait()
	// What was settled is recorded even when some failed for a fault: the
	// retry then sends only the rest.
	if err := cs.SettleChangeItems(context.WithoutCancel(ctx), in.ChangeID, settled); err != nil {
		return PlanChangeProgress{}, err
	}
	var p PlanChangeProgress
	for _, it := range settled {
		switch it.Status {
		case "applied":
			p.Applied++
		case "skipped":
			p.Skipped++
		default:
			p.Failed++
		}
	}
	p.Pending = len(ids) - len(settled)
	p.More = len(ids) == in.Limit
	if len(faults) > 0 {
		return p, fmt.Errorf("plan change %d: %d instances not reached: %w", in.ChangeID, len(faults), errors.Join(faults[:min(len(faults), 3)]...))
	}
	if err := ctx.Err(); err != nil {
		return p, err
	}
	return p, nil
}

// amendOne sends the change to one instance and says what became of it, or
// returns the fault that kept it from being sent.
func (a *Activities) amendOne(ctx context.Context, id string, c duban.PlanChange) (duban.ChangeItem, error) {
	err := a.Amender.Amend(ctx, id, c)
	it := duban.ChangeItem{InstanceID: id, Status: "applied"}
	if err == nil {
		return it, nil
	}
	var de *duban.Error
	switch {
	case !errors.As(err, &de):
		return it, err
	case de.Code == duban.EUNAVAILABLE || de.Code == duban.ETIMEOUT:
		return it, err
	case de.Code == duban.ECONFLICT || de.Code == duban.ENOTFOUND:
		// Finished (办结 or 撤销) since the change was recorded: there is
		// nothing left to change.
		it.Status, it.Detail = "skipped", de.Message
	default:
		it.Status, it.Detail = "failed", de.Message
	}
	return it, nil
}

// SweepPlanChange adds the instances launched while the change ran, and
// reports how many.
func (a *Activities) SweepPlanChange(ctx context.Context, changeID int64) (int, error) {
	cs, err := a.changes()
	if err != nil {
		return 0, err
	}
	return cs.SweepPlanChange(ctx, changeID)
}

// FinishPlanChange marks a change done.
func (a *Activities) FinishPlanChange(ctx context.Context, changeID int64) error {
	cs, err := a.changes()
	if err != nil {
		return err
	}
	return cs.FinishPlanChange(ctx, changeID)
}

// applyChanges applies a plan year's changes to the instances a launch
// expands: a launch after a change starts its instances changed (and
// marked so: the change's sweep leaves them alone). It returns the ids of
// instances of withdrawn templates, which are not launched.
func (a *Activities) applyChanges(ctx context.Context, planID string, year int, specs []duban.TaskSpec) (map[string]bool, error) {
	cs, ok := a.Store.(ChangeStore)
	if !ok {
		return nil, nil
	}
	changes, err := cs.ChangesOf(ctx, planID, year)
	if err != nil || len(changes) == 0 {
		return nil, err
	}
	return duban.ApplyChanges(specs, changes), nil
}
