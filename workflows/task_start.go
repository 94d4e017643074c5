package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
)

// defaultHistoryLimit keeps histories far below Temporal's 50k-event limit
// and well under the 10k events the design allows.
const defaultHistoryLimit = 4000

// task is one running TaskWorkflow: its input, state and helpers.
type task struct {
	ctx   workflow.Context // the main coroutine's; update handlers use their own
	in    TaskInput
	spec  duban.TaskSpec
	st    TaskState
	dirty int // bumped on every change an update makes, to wake the timer loop
	// deliver is set from version 1 of "release-2" on: recorded
	// notices also go out by email and webhook. deliveries counts those
	// still running.
	deliver bool
	// localRecord is set from version 1 of "release-2" on: transitions
	// are written by a local activity, inside the workflow task that made
	// them, instead of a scheduled activity. An Update then completes in one
	// workflow task: a decision costs one round trip to the server less.
	localRecord bool
	deliveries  int
	// serial is set from version 2 of the marker on: transitions run one at
	// a time (busy is held from a handler's re-check until its record has
	// committed), and a transition the store refuses for good is undone.
	serial bool
	busy   bool
}

// versionMarker is the change id of the one version marker every
// TaskWorkflow history carries; its version says which release started the
// run. (Markers are batched per release, not per change: each is an event
// in every history.)
//
//	DefaultVersion  the initial release
//	1               notices delivered by email and webhooks; transitions
//	                written by a local activity; the return reason cleared
//	                on submission
//	2               transitions one at a time, re-checked in the handler;
//	                a transition the store refuses is undone
//	3               the everyday actions: urge, withdraw, return to a
//	                step, hand over, add a signer, sign together, name
//	                the 承办人 (reminders go to them)
//	4               plan changes (amend): a 文号 moves the deadline,
//	                changes reminders or the evidence note, or withdraws
//	                the task; a merged unit's task moves to the unit it
//	                joined (move_unit)
//
// The Updates of versions 3 and 4 are registered on every run: no history
// recorded before holds one, and each existing handler takes its old path
// while the state fields they add are empty, so older runs replay
// unchanged and still gain the new actions.
const (
	versionMarker = "release-2"
	versionLatest = 4
)

// startTask sets up a run: its version, its state (new, or carried over a
// continue-as-new), the "assigned" transition when the launcher did not
// write it, and the query and Update handlers.
func startTask(ctx workflow.Context, in TaskInput) (*task, error) {
	t := &task{ctx: ctx, in: in, spec: in.Spec}
	v := workflow.GetVersion(ctx, versionMarker, workflow.DefaultVersion, versionLatest)
	t.deliver = v >= 1
	t.localRecord = v >= 1
	t.serial = v >= 2
	if in.State != nil {
		t.st = *in.State
		t.useSpec()
	} else if err := t.assign(); err != nil {
		return nil, err
	}
	return t, t.registerHandlers()
}

// assign builds the first state: assigned, due as the plan says, with the
// deadline's alarms (reminders already past at assignment skipped).
func (t *task) assign() error {
	in := t.in
	now := t.now()
	if !in.AssignedAt.IsZero() && in.AssignedAt.Before(now) {
		now = in.AssignedAt
	}
	t.st = TaskState{
		Status:       duban.StatusAssigned,
		AssignedAt:   now,
		Due:          in.Spec.Due,
		ProgressBase: in.Spec.Target,
	}
	if r := in.Spec.Ratio; r != nil {
		t.st.ProgressBase = r.Base
	}
	if len(in.Alarms) > 0 {
		t.st.DeadlineAlarms = markPast(append([]Alarm(nil), in.Alarms...), duban.EventReminder, now)
	} else {
		t.st.DeadlineAlarms = t.deadlineAlarms(t.ctx, t.st.Due, now)
	}
	if in.Recorded {
		t.st.Seq = 1
		// The launcher wrote the "assigned" event and its outbox rows;
		// since version 1 it also says whether there are any.
		if !t.localRecord || in.DeliverAssigned {
			t.deliverNotices(1, true)
		}
		return nil
	}
	spec := in.Spec
	return t.record(t.ctx, duban.Transition{Kind: duban.EventAssigned, Actor: duban.System, From: "", To: duban.StatusAssigned, Spec: &spec,
		Notices: []duban.Notice{{Kind: duban.EventAssigned, Recipients: t.officials()}}})
}

// registerHandlers binds the query and one Update per action. Each
// Update's validator asks the lifecycle table; its handler applies the
// change through commit.
func (t *task) registerHandlers() error {
	if err := workflow.SetQueryHandler(t.ctx, QueryState, func() (View, error) { return t.view(), nil }); err != nil {
		return err
	}
	for _, err := range []error{
		register(t, t.reportProgress),
		register(t, t.submit),
		register(t, t.decide),
		register(t, t.requestExtension),
		register(t, t.decideExtension),
		register(t, t.cancel),
		register(t, t.urge),
		register(t, t.withdraw),
		register(t, t.handOver),
		register(t, t.addSigner),
		register(t, t.nameAssignee),
		register(t, t.amend),
		register(t, t.moveUnit),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// register binds the Update of M's action: its validator asks the
// lifecycle table, its handler applies the change through handle.
func register[M Message](t *task, apply func(workflow.Context, M) duban.Transition) error {
	var zero M
	action := zero.Action()
	return workflow.SetUpdateHandlerWithOptions(t.ctx, string(action),
		func(ctx workflow.Context, m M) (View, error) {
			return t.handle(ctx, action, m, func() duban.Transition { return apply(ctx, m) })
		},
		workflow.UpdateHandlerOptions{Validator: func(m M) error { return t.validate(action, m) }})
}

// validate asks the lifecycle table about an Update against the state now.
// Validators read the state and never change it. A message the task has
// already carried out (a plan change sent again) passes, and changes
// nothing.
func (t *task) validate(action duban.Action, m Message) error {
	if t.carriedOut(m) {
		return nil
	}
	return refusal(duban.Validate(action, m.actor(), t.facts(), m.input()))
}

// settler is a message that may have been carried out already (a plan
// change, a unit's merge): sent again, it changes nothing.
type settler interface {
	settledIn(spec duban.TaskSpec) bool
}

func (m Amendment) settledIn(spec duban.TaskSpec) bool { return m.Change.Applied(spec) }
func (m UnitMove) settledIn(spec duban.TaskSpec) bool  { return spec.UnitCode != m.From }

// carriedOut reports whether m was carried out already.
func (t *task) carriedOut(m Message) bool {
	s, ok := m.(settler)
	return ok && s.settledIn(t.spec)
}

// facts are what the lifecycle table needs to know of the task now.
func (t *task) facts() duban.Facts {
	f := duban.Facts{Spec: &t.spec, Status: t.st.Status, Due: t.st.Due, Progress: t.st.Progress, ProgressBase: t.st.ProgressBase,
		Evidence: len(t.st.Evidence), Extension: t.st.Extension != nil, Chain: t.st.Chain, Signed: t.st.Signed, Urged: t.st.Urged, Now: t.now()}
	if t.st.Status == duban.StatusSubmitted {
		f.Step = t.st.Step + 1
	}
	return f
}

// historyFull reports whether the run should continue as new: past the
// history limit, or when the server suggests it.
func (t *task) historyFull() bool {
	limit := t.in.HistoryLimit
	if limit == 0 {
		limit = defaultHistoryLimit
	}
	info := workflow.GetInfo(t.ctx)
	return info.GetCurrentHistoryLength() > limit || info.GetContinueAsNewSuggested()
}

// continueAsNew carries the state into a new run, once running updates and
// deliveries have finished so that none is lost across it.
func (t *task) continueAsNew() error {
	if err := t.drain(); err != nil {
		return err
	}
	next := t.in
	state := t.st
	next.State = &state
	next.Recorded = true
	return workflow.NewContinueAsNewError(t.ctx, TaskWorkflow, next)
}

// drain waits for running Update handlers and deliveries to finish.
func (t *task) drain() error {
	return workflow.Await(t.ctx, func() bool { return workflow.AllHandlersFinished(t.ctx) && t.deliveries == 0 })
}

// now is the current plan time.
func (t *task) now() time.Time { return t.in.Clock.Virtual(workflow.Now(t.ctx)).In(duban.Shanghai) }
