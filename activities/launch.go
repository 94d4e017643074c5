package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/plan"
)

// Starter starts one task workflow; started is false when a workflow with
// that id already exists (running or finished).
type Starter interface {
	// deliverAssigned says the "assigned" event has email or webhook
	// deliveries for the workflow to send.
	StartTask(ctx context.Context, spec duban.TaskSpec, launch LaunchBatch, deliverAssigned bool) (started bool, err error)
}

// LaunchBatch asks for instances [Offset, Offset+Limit) of a plan's expansion
// to be recorded and started.
type LaunchBatch struct {
	LaunchID    string      `json:"launch_id"`
	PlanID      string      `json:"plan_id"`
	Year        int         `json:"year"`
	Offset      int         `json:"offset"`
	Limit       int         `json:"limit"`
	Concurrency int         `json:"concurrency"`
	At          time.Time   `json:"at"` // plan time of the launch
	Clock       duban.Clock `json:"clock"`
	// Templates limits the launch to some template ids (all when empty).
	Templates []string `json:"templates,omitempty"`
	// Total and Done are the launch's size and what earlier batches did,
	// so that a batch can report the launch's progress as it goes.
	Total int               `json:"total,omitempty"`
	Done  LaunchBatchResult `json:"done"`
}

// LaunchBatchResult counts what one batch did.
type LaunchBatchResult struct {
	Started  int `json:"started"`
	Existing int `json:"existing"`
}

// PrepareLaunchResult is the size of a launch.
type PrepareLaunchResult struct {
	Total int `json:"total"`
}

// expand returns a plan's instances for a year from the stored plan, the
// current hierarchy and the plan changes made so far, and the ids of those
// whose template was withdrawn (kept in the list, so that offsets into it
// do not move when a withdrawal is made during a launch).
func (a *Activities) expand(ctx context.Context, planID string, year int, only []string) ([]duban.TaskSpec, map[string]bool, error) {
	p, err := a.Store.Plan(ctx, planID)
	if err != nil {
		return nil, nil, err
	}
	h, err := a.Store.Hierarchy(ctx)
	if err != nil {
		return nil, nil, err
	}
	specs, err := plan.Expand(p, h, year)
	if err != nil {
		return nil, nil, err
	}
	withdrawn, err := a.applyChanges(ctx, planID, year, specs)
	if err != nil || len(only) == 0 {
		return specs, withdrawn, err
	}
	keep := specs[:0]
	for _, s := range specs {
		if slices.Contains(only, s.TemplateID) {
			keep = append(keep, s)
		}
	}
	return keep, withdrawn, nil
}

// PrepareLaunch counts a launch's instances and marks it running.
func (a *Activities) PrepareLaunch(ctx context.Context, in LaunchBatch) (PrepareLaunchResult, error) {
	specs, _, err := a.expand(ctx, in.PlanID, in.Year, in.Templates)
	if err != nil {
		return PrepareLaunchResult{}, err
	}
	err = a.Store.UpdateLaunch(ctx, duban.LaunchProgress{ID: in.LaunchID, PlanID: in.PlanID, Year: in.Year, Status: "running", Total: len(specs)})
	return PrepareLaunchResult{Total: len(specs)}, err
}

// StartBatch records the batch's instance rows, then starts their workflows
// with parallel starters. Both steps are idempotent, so a retried batch
// starts nothing twice.
func (a *Activities) StartBatch(ctx context.Context, in LaunchBatch) (LaunchBatchResult, error) {
	specs, withdrawn, err := a.expand(ctx, in.PlanID, in.Year, in.Templates)
	if err != nil {
		return LaunchBatchResult{}, err
	}
	if in.Offset >= len(specs) {
		return LaunchBatchResult{}, nil
	}
	end := min(in.Offset+in.Limit, len(specs))
	batch := slices.DeleteFunc(slices.Clone(specs[in.Offset:end]), func(s duban.TaskSpec) bool { return withdrawn[s.ID] })
	// A withdrawn template's instances count as there already: nothing is
	// left to start for them.
	skipped := end - in.Offset - len(batch)
	if _, err := a.Store.RecordAssigned(ctx, batch, in.At); err != nil {
		return LaunchBatchResult{}, fmt.Errorf("record batch at %d: %w", in.Offset, err)
	}
	var deliver map[string]bool
	if a.Notifier != nil {
		ids := make([]string, len(batch))
		for i, s := range batch {
			ids[i] = s.ID
		}
		if deliver, err = a.Store.PendingDeliveries(ctx, 1, ids); err != nil {
			return LaunchBatchResult{}, err
		}
	}
	workers := max(in.Concurrency, 1)
	var (
		mu     sync.Mutex
		res    LaunchBatchResult
		errs   []error
		wg     sync.WaitGroup
		next   = make(chan duban.TaskSpec)
		ticker = time.NewTicker(time.Second)
	)
	defer ticker.Stop()
	res.Existing = skipped
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for spec := range next {
				started, err := a.Starter.StartTask(ctx, spec, in, deliver[spec.ID])
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, fmt.Errorf("start %s: %w", spec.ID, err))
				case started:
					res.Started++
				default:
					res.Existing++
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, s := range batch {
		select {
		case next <- s:
		case <-ticker.C:
			activity.RecordHeartbeat(ctx, in.Offset)
			mu.Lock()
			p := duban.LaunchProgress{ID: in.LaunchID, PlanID: in.PlanID, Year: in.Year, Status: "running", Total: in.Total,
				Started: in.Done.Started + res.Started, Existing: in.Done.Existing + res.Existing}
			mu.Unlock()
			_ = a.Store.UpdateLaunch(ctx, p) // progress only; the batch's end writes it for sure
			next <- s
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	return res, ctx.Err()
}

// UpdateLaunch records launch progress (an activity so the launch workflow can call it).
func (a *Activities) UpdateLaunch(ctx context.Context, p duban.LaunchProgress) error {
	p.Updated = time.Now()
	return a.Store.UpdateLaunch(ctx, p)
}
