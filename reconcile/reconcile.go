// Package reconcile compares what the store says of every open task with
// its workflow, the rollup counters with a recount and the inbox with the
// timeline, reports every drift, and repairs what it can (idempotently,
// audited). `duban verify` runs it; the worker runs it on a schedule.
package reconcile

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/store"
)

// Drift is one disagreement found.
type Drift struct {
	Kind       string   `json:"kind"` // projection, workflow_missing, timeline_gap, rollup, inbox
	InstanceID string   `json:"instance_id,omitempty"`
	Unit       string   `json:"unit,omitempty"`
	Detail     []string `json:"detail"`
	Repaired   bool     `json:"repaired"`
}

// Report is one run.
type Report struct {
	Started      time.Time `json:"started"`
	Finished     time.Time `json:"finished"`
	Checked      int       `json:"checked"` // open instances compared with their workflows
	Drift        []Drift   `json:"drift"`
	InboxMissing int64     `json:"inbox_missing"`
	Repair       bool      `json:"repair"`
}

// Count is how many drifts were found, and how many of them repaired.
func (r Report) Count() (found, repaired int) {
	for _, d := range r.Drift {
		found++
		if d.Repaired {
			repaired++
		}
	}
	return
}

// Options tune a run.
type Options struct {
	Repair      bool
	Concurrency int // workflow queries at once (8)
	Actor       duban.Actor
	Now         func() time.Time
}

// Run compares and, with Repair, repairs. A run with nothing to repair
// changes nothing; running it again after a repair finds nothing.
func Run(ctx context.Context, db *store.DB, eng *engine.Engine, o Options) (Report, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Actor.Name == "" {
		o.Actor = duban.Actor{Name: "对账"}
	}
	r := Report{Started: o.Now(), Repair: o.Repair}
	if err := instances(ctx, db, eng, o, &r); err != nil {
		return r, err
	}
	gaps, err := db.TimelineGaps(ctx)
	if err != nil {
		return r, err
	}
	for _, g := range gaps {
		// A sequence number the timeline lacks cannot be written again: the
		// workflow keeps its state, not its past transitions.
		r.Drift = append(r.Drift, Drift{Kind: "timeline_gap", InstanceID: g.InstanceID,
			Detail: []string{fmt.Sprintf("时间线有 %d 条事件，最大序号 %d：序号不连续", g.Events, g.MaxSeq)}})
	}
	rollups, err := db.RollupDrift(ctx, o.Repair, o.Actor)
	if err != nil {
		return r, err
	}
	for _, d := range rollups {
		r.Drift = append(r.Drift, Drift{Kind: "rollup", Unit: d.Unit, Repaired: o.Repair,
			Detail: []string{fmt.Sprintf("%s/%d 计数 %+v，重新统计为 %+v", d.PlanID, d.Year, d.Stored, d.Counted)}})
	}
	if r.InboxMissing, err = db.InboxDrift(ctx, o.Repair, o.Actor); err != nil {
		return r, err
	}
	if r.InboxMissing > 0 {
		r.Drift = append(r.Drift, Drift{Kind: "inbox", Repaired: o.Repair, Detail: []string{fmt.Sprintf("站内通知缺 %d 条", r.InboxMissing)}})
	}
	r.Finished = o.Now()
	return r, nil
}

// instances compares each open row with its workflow's projection.
func instances(ctx context.Context, db *store.DB, eng *engine.Engine, o Options, r *Report) error {
	var mu sync.Mutex
	after := ""
	for {
		rows, err := db.OpenInstancesAfter(ctx, after, 500)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		after = rows[len(rows)-1].ID
		sem := make(chan struct{}, o.Concurrency)
		var wg sync.WaitGroup
		var firstErr error
		for _, row := range rows {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				d, err := one(ctx, db, eng, o, row)
				mu.Lock()
				defer mu.Unlock()
				r.Checked++
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if d != nil {
					r.Drift = append(r.Drift, *d)
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
	}
}

func one(ctx context.Context, db *store.DB, eng *engine.Engine, o Options, row store.Instance) (*Drift, error) {
	view, err := eng.State(ctx, row.ID)
	if err != nil {
		if duban.ErrorCode(err) == duban.ECONFLICT { // the workflow is gone
			return &Drift{Kind: "workflow_missing", InstanceID: row.ID, Unit: row.UnitCode, Detail: []string{"找不到任务的流程（已结束或不存在），库中仍为未办结"}}, nil
		}
		return nil, fmt.Errorf("state of %s: %w", row.ID, err)
	}
	diff := Compare(row, view.Projection)
	if len(diff) == 0 {
		return nil, nil
	}
	d := &Drift{Kind: "projection", InstanceID: row.ID, Unit: row.UnitCode, Detail: diff}
	if view.Projection.Seq > row.Seq {
		d.Detail = append(d.Detail, fmt.Sprintf("流程已有 %d 次状态变化，时间线只记到 %d：中间的事件无法补写", view.Projection.Seq, row.Seq))
	}
	if o.Repair {
		if err := db.RepairProjection(ctx, row.ID, view.Projection, view.Projection.Seq, o.Actor, diff, o.Now()); err != nil {
			return d, err
		}
		d.Repaired = true
	}
	return d, nil
}

// Compare lists, in Chinese, every field where a row differs from the
// workflow's projection; nothing when they agree.
func Compare(row store.Instance, p duban.Projection) []string {
	var out []string
	diff := func(name string, stored, flow any) {
		out = append(out, fmt.Sprintf("%s：库中 %v，流程中 %v", name, stored, flow))
	}
	if row.Status != p.Status {
		diff("状态", row.Status, p.Status)
	}
	if row.Seq != p.Seq {
		diff("序号", row.Seq, p.Seq)
	}
	if !row.Due.Equal(p.Due) {
		diff("截止时间", row.Due.In(duban.Shanghai).Format(time.DateTime), p.Due.In(duban.Shanghai).Format(time.DateTime))
	}
	if (row.OverdueSince == nil) != (p.OverdueSince == nil) || (row.OverdueSince != nil && !row.OverdueSince.Equal(*p.OverdueSince)) {
		diff("逾期", row.OverdueSince != nil, p.OverdueSince != nil)
	}
	if row.CurrentStep != p.CurrentStep {
		diff("当前审批步骤", row.CurrentStep, p.CurrentStep)
	}
	if row.StepCount != p.StepCount {
		diff("审批步骤数", row.StepCount, p.StepCount)
	}
	if row.Progress != p.Progress || row.ProgressBase != p.ProgressBase {
		diff("进度", fmt.Sprintf("%d/%d", row.Progress, row.ProgressBase), fmt.Sprintf("%d/%d", p.Progress, p.ProgressBase))
	}
	if row.Escalation != p.Escalation {
		diff("已升级次数", row.Escalation, p.Escalation)
	}
	if row.Extension != p.Extension {
		diff("延期申请", row.Extension, p.Extension)
	}
	if row.UrgeCount != p.UrgeCount {
		diff("催办次数", row.UrgeCount, p.UrgeCount)
	}
	approver := ""
	if row.ApproverUnit != nil {
		approver = *row.ApproverUnit
	}
	if approver != p.ApproverUnit {
		diff("审批单位", approver, p.ApproverUnit)
	}
	if p.Status == duban.StatusSubmitted && !slices.Equal(row.WaitingUnits, waiting(p)) {
		diff("待签单位", row.WaitingUnits, waiting(p))
	}
	return out
}

// waiting is what the store writes for the step's units (see store).
func waiting(p duban.Projection) []string {
	if len(p.WaitingUnits) > 0 {
		return p.WaitingUnits
	}
	if p.ApproverUnit != "" {
		return []string{p.ApproverUnit}
	}
	return nil
}
