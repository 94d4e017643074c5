package workflows

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/calendar"
)

// defaultHistoryLimit keeps histories far below Temporal's 50k-event limit
// and well under the 10k events the design allows.
const defaultHistoryLimit = 4000

var a *activities.Activities

// recordOptions apply to RecordTransition: projection writes must land
// eventually, so they retry without limit, backing off to a minute.
var recordOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
	},
}

// localRecordOptions apply to RecordTransition run as a local activity.
// The worker retries it without limit; past the workflow task's timeout the
// SDK backs off with timers, so a long Postgres outage holds the instance,
// never loses the transition.
var localRecordOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    500 * time.Millisecond,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
	},
}

// deliverOptions apply to DeliverTransition. The activity fails while a
// message failed temporarily, so these retries are the backoff between
// attempts (5 s doubling to 5 min); after the dispatcher's attempts run out
// (8 by default, about ten minutes) a message falls back to the inbox.
var deliverOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 2 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    5 * time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Minute,
		MaximumAttempts:    12,
	},
}

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
const (
	versionMarker = "release-2"
	versionLatest = 2
)

// TaskWorkflow runs one task instance from assignment to completion or
// cancellation: deadline reminders, the escalation ladder, the approval chain
// with its SLAs, extensions, and every decision as a validated Update.
func TaskWorkflow(ctx workflow.Context, in TaskInput) (TaskResult, error) {
	t := &task{ctx: ctx, in: in, spec: in.Spec}
	v := workflow.GetVersion(ctx, versionMarker, workflow.DefaultVersion, versionLatest)
	t.deliver = v >= 1
	t.localRecord = v >= 1
	t.serial = v >= 2
	if in.State != nil {
		t.st = *in.State
	} else {
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
			t.st.DeadlineAlarms = markPast(append([]Alarm(nil), in.Alarms...), now)
		} else {
			t.st.DeadlineAlarms = t.deadlineAlarms(ctx, t.st.Due, now)
		}
		if in.Recorded {
			t.st.Seq = 1
			// The launcher wrote the "assigned" event and its outbox rows;
			// since "release-2" it also says whether there are any.
			if !t.localRecord || in.DeliverAssigned {
				t.deliverNotices(1, true)
			}
		} else {
			spec := in.Spec
			if err := t.record(ctx, duban.Transition{Kind: duban.EventAssigned, Actor: duban.System, From: "", To: duban.StatusAssigned, Spec: &spec,
				Notices: []duban.Notice{{Kind: duban.EventAssigned, Recipients: []duban.Recipients{{Unit: in.Spec.UnitCode, Roles: []duban.Role{duban.RoleOfficial}}}}}}); err != nil {
				return TaskResult{}, err
			}
		}
	}
	if err := t.registerHandlers(); err != nil {
		return TaskResult{}, err
	}

	limit := in.HistoryLimit
	if limit == 0 {
		limit = defaultHistoryLimit
	}
	for !t.st.Status.Finished() {
		if err := t.waitForNextAlarm(); err != nil {
			return TaskResult{}, err
		}
		if t.st.Status.Finished() {
			break
		}
		info := workflow.GetInfo(ctx)
		if info.GetCurrentHistoryLength() > limit || info.GetContinueAsNewSuggested() {
			// Let running updates finish so none is lost across the new run.
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && t.deliveries == 0 }); err != nil {
				return TaskResult{}, err
			}
			next := in
			state := t.st
			next.State = &state
			next.Recorded = true
			return TaskResult{}, workflow.NewContinueAsNewError(ctx, TaskWorkflow, next)
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && t.deliveries == 0 }); err != nil {
		return TaskResult{}, err
	}
	return TaskResult{Status: t.st.Status, CompletedAt: t.st.CompletedAt, Overdue: t.st.OverdueSince != nil}, nil
}

// now is the current plan time.
func (t *task) now() time.Time { return t.in.Clock.Virtual(workflow.Now(t.ctx)).In(duban.Shanghai) }

// waitForNextAlarm sleeps until the next alarm or until an update changes
// the state, then fires whatever alarms are due.
func (t *task) waitForNextAlarm() error {
	seen := t.dirty
	next, ok := t.nextAlarm()
	if !ok {
		return workflow.Await(t.ctx, func() bool { return t.dirty != seen || t.st.Status.Finished() })
	}
	if wait := next.Sub(t.now()); wait > 0 {
		woke, err := workflow.AwaitWithTimeout(t.ctx, t.in.Clock.Real(wait), func() bool { return t.dirty != seen || t.st.Status.Finished() })
		if err != nil || woke {
			return err
		}
	}
	return t.fireDueAlarms()
}

// activeAlarms are the alarms that apply in the current status: deadline
// alarms while the unit holds the task, step alarms while an approver does.
func (t *task) activeAlarms() []Alarm {
	switch t.st.Status {
	case duban.StatusAssigned, duban.StatusInProgress:
		return t.st.DeadlineAlarms
	case duban.StatusSubmitted:
		return t.st.StepAlarms
	}
	return nil
}

func (t *task) nextAlarm() (time.Time, bool) {
	for _, al := range t.activeAlarms() {
		if !al.Fired {
			return al.At, true
		}
	}
	return time.Time{}, false
}

// fireDueAlarms fires every active alarm whose time has come. When several
// of a kind are due at once (a worker that was down, a task back from
// approval), only the latest is sent: one "overdue" beats three stale reminders.
func (t *task) fireDueAlarms() error {
	for {
		if err := t.acquire(t.ctx); err != nil {
			return err
		}
		al, ok := t.nextDueAlarm()
		if !ok {
			t.release()
			return nil
		}
		// Firing yields to the activity; an update may change the status
		// meanwhile (before version 2), so the active list is looked up
		// afresh each round.
		err := t.commit(t.ctx, func() duban.Transition { return t.fire(al) })
		t.release()
		if err != nil && !refusedByStore(err) {
			return err
		}
	}
}

// nextDueAlarm marks the next due alarm fired and returns it. Stale alarms
// (a later one of the same kind is due too) are marked and skipped.
func (t *task) nextDueAlarm() (Alarm, bool) {
	now := t.now()
	alarms := t.activeAlarms()
	for i := range alarms {
		if alarms[i].Fired || alarms[i].At.After(now) {
			continue
		}
		alarms[i].Fired = true
		if i+1 < len(alarms) && !alarms[i+1].Fired && alarms[i+1].Kind == alarms[i].Kind && !alarms[i+1].At.After(now) {
			continue // stale: a later alarm of the same kind is due too
		}
		return alarms[i], true
	}
	return Alarm{}, false
}

// fire changes the state for an alarm and returns its transition.
func (t *task) fire(al Alarm) duban.Transition {
	status := t.st.Status
	// The event is dated when it was due, not when a busy server got to it.
	tr := duban.Transition{Kind: al.Kind, Actor: duban.System, From: status, To: status, At: al.At}
	unitPeople := []duban.Recipients{{Unit: t.spec.UnitCode, Roles: []duban.Role{duban.RoleOfficial}}}
	switch al.Kind {
	case duban.EventReminder:
		// Say the days really left: a reminder moved off a holiday is earlier
		// than its nominal offset.
		off := duban.Offset{Days: int(math.Ceil(t.st.Due.Sub(al.At).Hours() / 24))}
		tr.Notices = []duban.Notice{{Kind: al.Kind, Recipients: unitPeople, Offset: &off}}
	case duban.EventOverdue:
		due := t.st.Due
		t.st.OverdueSince = &due
		tr.Notices = []duban.Notice{{Kind: al.Kind, Recipients: unitPeople, Urgent: true}}
	case duban.EventEscalated:
		step := t.spec.Escalation[al.Index]
		t.st.Escalation = al.Index + 1
		off := step.After
		tr.Notices = []duban.Notice{{Kind: al.Kind, Recipients: step.Notify, Urgent: true, Offset: &off}}
	case duban.EventSLAReminder, duban.EventSLABreached, duban.EventSLAEscalated:
		st := t.spec.Approval[t.st.Step]
		tr.Step = t.st.Step + 1
		approvers := []duban.Recipients{{Unit: st.Unit, Roles: []duban.Role{duban.RoleApprover}}}
		switch al.Kind {
		case duban.EventSLAReminder:
			off := st.Reminders[al.Index]
			tr.Notices = []duban.Notice{{Kind: al.Kind, Recipients: approvers, Offset: &off}}
		case duban.EventSLABreached:
			tr.Notices = []duban.Notice{{Kind: al.Kind, Recipients: approvers, Urgent: true}}
		default:
			esc := st.Escalation[al.Index]
			off := esc.After
			tr.Notices = []duban.Notice{{Kind: al.Kind, Recipients: esc.Notify, Urgent: true, Offset: &off}}
		}
	}
	return tr
}

// DeadlineAlarms computes an instance's reminders before due, the overdue
// moment and the escalation ladder after it, sorted. It reads the holiday
// calendar, so workflow code calls it only through a side effect (or takes
// its result from the launcher, in TaskInput.Alarms).
func DeadlineAlarms(spec duban.TaskSpec, due time.Time) []Alarm {
	var out []Alarm
	for i, off := range spec.Reminders {
		at := calendar.Before(due, off)
		if spec.RemindersOnWorkingDays {
			at = calendar.PreviousWorkingDay(at)
		}
		out = append(out, Alarm{At: at, Kind: duban.EventReminder, Index: i})
	}
	out = append(out, Alarm{At: due, Kind: duban.EventOverdue})
	for i, step := range spec.Escalation {
		at := calendar.After(due, step.After)
		if !at.After(due) {
			// Day 0 of the ladder fires just after the overdue notice.
			at = due.Add(time.Second)
		}
		out = append(out, Alarm{At: at, Kind: duban.EventEscalated, Index: i})
	}
	sortAlarms(out)
	return out
}

// deadlineAlarms computes the alarms of a deadline through a side effect,
// so that a later change to holiday data cannot alter a running history.
// Reminders already in the past at now are marked fired: a task assigned a
// week before its deadline gets no "30 days left" reminder.
func (t *task) deadlineAlarms(ctx workflow.Context, due, now time.Time) []Alarm {
	spec := t.spec
	var alarms []Alarm
	_ = workflow.SideEffect(ctx, func(workflow.Context) any { return DeadlineAlarms(spec, due) }).Get(&alarms)
	sortAlarms(alarms)
	return markPast(alarms, now)
}

// markPast marks reminders at or before now as fired (skipped).
func markPast(alarms []Alarm, now time.Time) []Alarm {
	for i := range alarms {
		if alarms[i].Kind == duban.EventReminder && !alarms[i].At.After(now) {
			alarms[i].Fired = true
		}
	}
	return alarms
}

// stepAlarms computes an approval step's SLA end, its reminders and ladder.
func (t *task) stepAlarms(ctx workflow.Context, step int, start time.Time) (time.Time, []Alarm) {
	st := t.spec.Approval[step]
	var res struct {
		Due    time.Time
		Alarms []Alarm
	}
	_ = workflow.SideEffect(ctx, func(workflow.Context) any {
		r := res
		d := calendar.After(start, st.SLA)
		r.Due = duban.EndOfDay(d.Year(), d.Month(), d.Day())
		for i, off := range st.Reminders {
			r.Alarms = append(r.Alarms, Alarm{At: calendar.Before(r.Due, off), Kind: duban.EventSLAReminder, Index: i})
		}
		r.Alarms = append(r.Alarms, Alarm{At: r.Due, Kind: duban.EventSLABreached})
		for i, esc := range st.Escalation {
			at := calendar.After(r.Due, esc.After)
			if !at.After(r.Due) {
				at = r.Due.Add(time.Second)
			}
			r.Alarms = append(r.Alarms, Alarm{At: at, Kind: duban.EventSLAEscalated, Index: i})
		}
		return r
	}).Get(&res)
	sortAlarms(res.Alarms)
	for i := range res.Alarms {
		if res.Alarms[i].Kind == duban.EventSLAReminder && !res.Alarms[i].At.After(start) {
			res.Alarms[i].Fired = true
		}
	}
	return res.Due, res.Alarms
}

func sortAlarms(al []Alarm) {
	sort.SliceStable(al, func(i, j int) bool { return al[i].At.Before(al[j].At) })
}

// projection is the row the store keeps for this state.
func (t *task) projection() duban.Projection {
	p := duban.Projection{
		Status:       t.st.Status,
		Due:          t.st.Due,
		OverdueSince: t.st.OverdueSince,
		StepCount:    len(t.spec.Approval),
		Progress:     t.st.Progress,
		ProgressBase: t.st.ProgressBase,
		Escalation:   t.st.Escalation,
		Extension:    t.st.Extension != nil,
		Seq:          t.st.Seq,
	}
	if t.st.Status == duban.StatusSubmitted {
		p.CurrentStep = t.st.Step + 1
		p.ApproverUnit = t.spec.Approval[t.st.Step].Unit
		due := t.st.StepDue
		p.StepDue = &due
	}
	if t.st.Status == duban.StatusCompleted {
		at := t.st.CompletedAt
		p.CompletedAt = &at
	}
	// A reason is shown while the unit holds the task it was sent back.
	// (Instances from before "release-2" keep LastReason past the next
	// submission; the status keeps their rows right.)
	if t.st.Status == duban.StatusAssigned || t.st.Status == duban.StatusInProgress {
		p.LastReason = t.st.LastReason
	}
	if ext := t.st.Extension; ext != nil {
		due, at := ext.NewDue, ext.RequestedAt
		p.ExtensionNewDue, p.ExtensionRequestedAt = &due, &at
		p.ExtensionReason = ext.Reason
		p.ExtensionRequestedBy = ext.RequestedBy.Name
	}
	return p
}

func (t *task) view() View {
	return View{InstanceID: t.spec.ID, Projection: t.projection(), State: t.st}
}

// acquire waits until no other transition is in flight and holds the task
// for the caller's (from version 2 on; before it, transitions interleaved
// at their record and acquire does nothing).
func (t *task) acquire(ctx workflow.Context) error {
	if !t.serial {
		return nil
	}
	if err := workflow.Await(ctx, func() bool { return !t.busy }); err != nil {
		return err
	}
	t.busy = true
	return nil
}

func (t *task) release() {
	if t.serial {
		t.busy = false
	}
}

// commit applies one change to the state and records the transition it
// returns. apply changes the state before the first yield, so an update
// validated meanwhile sees the change. If the store refuses the transition
// for good (it holds something the database cannot store), the state is put
// back as it was: the sequence number is not spent, the projection keeps
// matching the workflow, and the caller gets the refusal.
func (t *task) commit(ctx workflow.Context, apply func() duban.Transition) error {
	before := t.st.clone()
	tr := apply()
	t.dirty++
	err := t.record(ctx, tr)
	if err == nil || !refusedByStore(err) {
		return err
	}
	if t.st.Seq == before.Seq+1 {
		// Nothing else was recorded meanwhile (always so from version 2 on).
		t.st = before
		t.dirty++
	}
	workflow.GetLogger(ctx).Error("transition refused by the store; the task's state is left as it was before it",
		"kind", tr.Kind, "seq", before.Seq+1, "error", err)
	return refuse(duban.EINVALID, "内容无法保存，任务未作任何更改，请检查填写的内容后重试")
}

// refusedByStore reports whether recording failed for good: the store
// refused the transition's content, and retrying cannot help.
func refusedByStore(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == activities.ErrRecordRefused
}

// handle runs an update's change: from version 2 on it waits for the
// transition in flight, checks the request again against the state as it
// now is (the validator ran before), then commits.
func (t *task) handle(ctx workflow.Context, check func() error, apply func() duban.Transition) (View, error) {
	if err := t.acquire(ctx); err != nil {
		return t.view(), err
	}
	defer t.release()
	if t.serial {
		if err := check(); err != nil {
			return t.view(), err
		}
	}
	err := t.commit(ctx, apply)
	return t.view(), err
}

// record gives the transition the next sequence number and writes it through
// the RecordTransition activity, which is idempotent on (instance, seq).
func (t *task) record(ctx workflow.Context, tr duban.Transition) error {
	t.st.Seq++
	tr.InstanceID = t.spec.ID
	tr.Seq = t.st.Seq
	if tr.At.IsZero() {
		tr.At = t.now()
	}
	tr.Projection = t.projection()
	if t.localRecord {
		ctx = workflow.WithLocalActivityOptions(ctx, localRecordOptions)
		var res activities.RecordResult
		if err := workflow.ExecuteLocalActivity(ctx, a.RecordTransition, tr).Get(ctx, &res); err != nil {
			return err
		}
		if res.Deliver {
			t.deliverNotices(tr.Seq, false)
		}
		return nil
	}
	ctx = workflow.WithActivityOptions(ctx, recordOptions)
	if err := workflow.ExecuteActivity(ctx, a.RecordTransition, tr).Get(ctx, nil); err != nil {
		return err
	}
	if len(tr.Notices) > 0 {
		t.deliverNotices(tr.Seq, false)
	}
	return nil
}

// deliverNotices sends a recorded transition's email and webhook messages
// in a coroutine of its own, so that an update's response never waits for
// a mail server. The workflow waits for them before it completes or
// continues as new. A delivery that still fails after its retries is left
// to the digest workflow's sweep; it never fails the task.
//
// The launcher's "assigned" event is first tried by a local activity in
// the workflow's first task: a launch starts thousands of workflows, most of
// whose units have nobody with email or a webhook, and a local activity
// costs the server one marker event instead of an activity task. No update
// can be waiting on that first task. The local attempt is tried once, so it
// never holds the task through a backoff; what it leaves unfinished goes on
// as an ordinary activity.
func (t *task) deliverNotices(seq int64, local bool) {
	if !t.deliver {
		return
	}
	t.deliveries++
	workflow.Go(t.ctx, func(ctx workflow.Context) {
		defer func() { t.deliveries-- }()
		in := activities.DeliverInput{InstanceID: t.spec.ID, Seq: seq}
		if local {
			lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
				StartToCloseTimeout: 30 * time.Second,
				RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
			})
			if workflow.ExecuteLocalActivity(lctx, a.DeliverTransition, in).Get(ctx, nil) == nil {
				return
			}
		}
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, deliverOptions), a.DeliverTransition, in).Get(ctx, nil)
		if err != nil {
			workflow.GetLogger(ctx).Warn("notices not delivered yet; the digest workflow's sweep will retry", "seq", seq, "error", err)
		}
	})
}

// refuse builds the error a validator returns: its type is the domain error
// code, which the API turns into a status.
func refuse(code, format string, args ...any) error {
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf(format, args...), code, temporal.ApplicationErrorOptions{NonRetryable: true})
}

func (t *task) registerHandlers() error {
	if err := workflow.SetQueryHandler(t.ctx, QueryState, func() (View, error) { return t.view(), nil }); err != nil {
		return err
	}
	handlers := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateReportProgress, t.reportProgress, t.validateProgress},
		{UpdateSubmit, t.submit, t.validateSubmit},
		{UpdateDecide, t.decide, t.validateDecision},
		{UpdateRequestExtension, t.requestExtension, t.validateExtensionRequest},
		{UpdateDecideExtension, t.decideExtension, t.validateExtensionDecision},
		{UpdateCancel, t.cancel, t.validateCancel},
	}
	for _, h := range handlers {
		if err := workflow.SetUpdateHandlerWithOptions(t.ctx, h.name, h.handler, workflow.UpdateHandlerOptions{Validator: h.validator}); err != nil {
			return err
		}
	}
	return nil
}

// --- validators: they read state and never change it ---

func (t *task) checkOpen() error {
	switch t.st.Status {
	case duban.StatusCompleted:
		return refuse(duban.ECONFLICT, "任务已办结，不能再操作")
	case duban.StatusCancelled:
		return refuse(duban.ECONFLICT, "任务已撤销，不能再操作")
	}
	return nil
}

func (t *task) checkOfficial(actor duban.Actor) error {
	if actor.UnitCode != t.spec.UnitCode || !actor.Has(duban.RoleOfficial) {
		return refuse(duban.EFORBIDDEN, "只有%s的承办人可以办理此任务", t.spec.UnitName)
	}
	return nil
}

func (t *task) checkHeld() error {
	if err := t.checkOpen(); err != nil {
		return err
	}
	if t.st.Status == duban.StatusSubmitted {
		return refuse(duban.ECONFLICT, "任务正在审批中（第 %d 步），请等待审批结果", t.st.Step+1)
	}
	return nil
}

func (t *task) validateProgress(r ProgressReport) error {
	if err := t.checkOfficial(r.Actor); err != nil {
		return err
	}
	if err := t.checkHeld(); err != nil {
		return err
	}
	if r.Value == nil && r.Note == "" && len(r.Evidence) == 0 {
		return refuse(duban.EINVALID, "进展报告不能为空：请填写进度、说明或上传佐证材料")
	}
	if err := checkText("说明", r.Note, duban.MaxNoteLength); err != nil {
		return err
	}
	if r.Value != nil && *r.Value < 0 {
		return refuse(duban.EINVALID, "进度不能为负数")
	}
	if r.Value != nil && *r.Value > duban.MaxCount {
		return refuse(duban.EINVALID, "进度不能超过 %d", duban.MaxCount)
	}
	if r.Base != nil {
		if t.spec.Ratio == nil || t.spec.Ratio.Base != 0 {
			return refuse(duban.EINVALID, "此任务的基数由系统确定，不需填写")
		}
		if *r.Base <= 0 || *r.Base > duban.MaxCount {
			return refuse(duban.EINVALID, "基数应为 1 到 %d 的整数", duban.MaxCount)
		}
	}
	if r.Value != nil && t.spec.Ratio != nil {
		base := t.st.ProgressBase
		if r.Base != nil {
			base = *r.Base
		}
		if base > 0 && *r.Value > base {
			return refuse(duban.EINVALID, "已覆盖数 %d 超过总数 %d", *r.Value, base)
		}
	}
	return t.validEvidence(r.Evidence)
}

// validEvidence checks files attached to a report: each well formed, and no
// more than the task may carry in all.
func (t *task) validEvidence(ev []duban.Evidence) error {
	if len(t.st.Evidence)+len(ev) > duban.MaxEvidence {
		return refuse(duban.EINVALID, "一项任务最多附 %d 个佐证材料", duban.MaxEvidence)
	}
	for _, e := range ev {
		if len(e.SHA256) != 64 || e.Name == "" || e.Size < 0 || duban.TextProblem(e.Name, duban.MaxNameLength, false) != "" || duban.HasControl(e.ContentType) {
			return refuse(duban.EINVALID, "佐证材料 %q 无效", strings.ToValidUTF8(strings.Map(printable, e.Name), ""))
		}
	}
	return nil
}

// printable drops control characters, for quoting a bad value back.
func printable(r rune) rune {
	if duban.HasControl(string(r)) {
		return -1
	}
	return r
}

// checkText refuses a text a person typed that the store could not hold:
// control characters (NUL above all), invalid UTF-8, too long.
func checkText(what, s string, max int) error {
	if msg := duban.TextProblem(s, max, true); msg != "" {
		return refuse(duban.EINVALID, "%s%s", what, msg)
	}
	return nil
}

func (t *task) validateSubmit(s Submission) error {
	if err := t.checkOfficial(s.Actor); err != nil {
		return err
	}
	if err := t.checkHeld(); err != nil {
		return err
	}
	if err := checkText("说明", s.Note, duban.MaxNoteLength); err != nil {
		return err
	}
	if err := t.validEvidence(s.Evidence); err != nil {
		return err
	}
	if t.spec.EvidenceRequired && len(t.st.Evidence)+len(s.Evidence) == 0 {
		note := t.spec.EvidenceNote
		if note == "" {
			note = "佐证材料"
		}
		return refuse(duban.EINVALID, "此任务须附佐证材料（%s）才能提交", note)
	}
	switch t.spec.Kind {
	case duban.KindCount:
		if t.st.Progress < t.spec.Target {
			return refuse(duban.EINVALID, "目标为 %d，当前进度 %d，未达到目标不能提交", t.spec.Target, t.st.Progress)
		}
	case duban.KindRatio:
		r := *t.spec.Ratio
		if !r.Met(t.st.Progress, t.st.ProgressBase) {
			return refuse(duban.EINVALID, "须覆盖 %d/%d 以上，当前 %d/%d，未达到目标不能提交", r.Num, r.Den, t.st.Progress, t.st.ProgressBase)
		}
	}
	return nil
}

func (t *task) validateDecision(d DecisionRequest) error {
	if err := t.checkOpen(); err != nil {
		return err
	}
	if t.st.Status != duban.StatusSubmitted {
		return refuse(duban.ECONFLICT, "任务当前不在审批中（%s）", t.st.Status.Label())
	}
	waiting := t.st.Step + 1
	if d.Step != waiting {
		if d.Step >= 1 && d.Step < waiting {
			return refuse(duban.ECONFLICT, "第 %d 步已审批，当前等待第 %d 步", d.Step, waiting)
		}
		return refuse(duban.ECONFLICT, "当前等待第 %d 步审批，不是第 %d 步", waiting, d.Step)
	}
	step := t.spec.Approval[t.st.Step]
	if d.Actor.UnitCode != step.Unit || !d.Actor.Has(duban.RoleApprover) {
		return refuse(duban.EFORBIDDEN, "第 %d 步应由%s的审核人审批", waiting, step.UnitName)
	}
	if !d.Approve && strings.TrimSpace(d.Reason) == "" {
		return refuse(duban.EINVALID, "退回时必须填写理由")
	}
	return checkText("理由", d.Reason, duban.MaxReasonLength)
}

func (t *task) validateExtensionRequest(r ExtensionRequest) error {
	if err := t.checkOfficial(r.Actor); err != nil {
		return err
	}
	if err := t.checkOpen(); err != nil {
		return err
	}
	if t.st.Extension != nil {
		return refuse(duban.ECONFLICT, "已有延期申请等待审批")
	}
	if strings.TrimSpace(r.Reason) == "" {
		return refuse(duban.EINVALID, "申请延期必须填写理由")
	}
	if err := checkText("理由", r.Reason, duban.MaxReasonLength); err != nil {
		return err
	}
	if !duban.DateInRange(r.NewDue) {
		return refuse(duban.EINVALID, "新的截止日期无效：%s", duban.DateRangeProblem())
	}
	newDue := dayEnd(r.NewDue)
	if !newDue.After(t.st.Due) {
		return refuse(duban.EINVALID, "新的截止日期必须晚于当前截止日期 %s", t.st.Due.Format("2006-01-02"))
	}
	if latest := t.st.Due.AddDate(0, 0, duban.MaxExtensionDays); newDue.After(latest) {
		return refuse(duban.EINVALID, "一次延期不能超过 %d 天：新的截止日期最晚为 %s", duban.MaxExtensionDays, latest.Format("2006-01-02"))
	}
	return nil
}

func (t *task) validateExtensionDecision(d ExtensionDecision) error {
	if err := t.checkOpen(); err != nil {
		return err
	}
	if t.st.Extension == nil {
		return refuse(duban.ECONFLICT, "没有待审批的延期申请")
	}
	if d.Actor.UnitCode != t.spec.ExtensionUnit || !d.Actor.Has(duban.RoleApprover) {
		return refuse(duban.EFORBIDDEN, "延期申请应由上一级单位的审核人审批")
	}
	if !d.Approve && strings.TrimSpace(d.Reason) == "" {
		return refuse(duban.EINVALID, "不同意延期时必须填写理由")
	}
	return checkText("理由", d.Reason, duban.MaxReasonLength)
}

func (t *task) validateCancel(c Cancellation) error {
	if !c.Actor.Has(duban.RoleAdmin) {
		return refuse(duban.EFORBIDDEN, "只有管理员可以撤销任务")
	}
	if err := t.checkOpen(); err != nil {
		return err
	}
	if strings.TrimSpace(c.Reason) == "" {
		return refuse(duban.EINVALID, "撤销必须填写理由")
	}
	return checkText("理由", c.Reason, duban.MaxReasonLength)
}

// --- handlers: each changes state (in handle's apply) before its first
// yield, so an update validated right after sees the change, then records
// the transition ---

func (t *task) reportProgress(ctx workflow.Context, r ProgressReport) (View, error) {
	return t.handle(ctx, func() error { return t.validateProgress(r) }, func() duban.Transition {
		from := t.st.Status
		t.st.Status = duban.StatusInProgress
		if r.Base != nil {
			t.st.ProgressBase = *r.Base
		}
		if r.Value != nil {
			t.st.Progress = *r.Value
		}
		if r.Note != "" {
			t.st.Note = r.Note
		}
		t.st.Evidence = append(t.st.Evidence, r.Evidence...)
		return duban.Transition{Kind: duban.EventProgress, Actor: r.Actor, From: from, To: t.st.Status, Note: r.Note, Evidence: r.Evidence}
	})
}

func (t *task) submit(ctx workflow.Context, s Submission) (View, error) {
	return t.handle(ctx, func() error { return t.validateSubmit(s) }, func() duban.Transition {
		from := t.st.Status
		t.st.Evidence = append(t.st.Evidence, s.Evidence...)
		if s.Note != "" {
			t.st.Note = s.Note
		}
		if t.localRecord {
			// Submitted again: the reason it was sent back is dealt with. (A
			// state change, so behind version 1 like the rest.)
			t.st.LastReason = ""
		}
		t.startStep(ctx, 0)
		return duban.Transition{Kind: duban.EventSubmitted, Actor: s.Actor, From: from, To: t.st.Status, Step: 1, Note: s.Note, Evidence: s.Evidence,
			Notices: []duban.Notice{{Kind: duban.EventSubmitted, Recipients: []duban.Recipients{{Unit: t.spec.Approval[0].Unit, Roles: []duban.Role{duban.RoleApprover}}}}}}
	})
}

func (t *task) startStep(ctx workflow.Context, step int) {
	t.st.Status = duban.StatusSubmitted
	t.st.Step = step
	t.st.StepStarted = t.now()
	t.st.StepDue, t.st.StepAlarms = t.stepAlarms(ctx, step, t.st.StepStarted)
}

func (t *task) decide(ctx workflow.Context, d DecisionRequest) (View, error) {
	return t.handle(ctx, func() error { return t.validateDecision(d) }, func() duban.Transition {
		now := t.now()
		stepIdx := t.st.Step
		t.st.Decisions = append(t.st.Decisions, Decision{Step: d.Step, Unit: t.spec.Approval[stepIdx].Unit, Approve: d.Approve, Reason: d.Reason, Actor: d.Actor, At: now})
		official := []duban.Recipients{{Unit: t.spec.UnitCode, Roles: []duban.Role{duban.RoleOfficial}}}
		tr := duban.Transition{Actor: d.Actor, From: t.st.Status, Step: d.Step, Reason: d.Reason}
		switch {
		case !d.Approve:
			t.st.Status = duban.StatusInProgress
			t.st.Step = 0
			t.st.StepAlarms = nil
			t.st.LastReason = d.Reason
			tr.Kind = duban.EventRejected
			tr.Notices = []duban.Notice{{Kind: duban.EventRejected, Recipients: official, Urgent: true}}
		case stepIdx+1 == len(t.spec.Approval):
			t.st.Status = duban.StatusCompleted
			t.st.CompletedAt = now
			t.st.StepAlarms = nil
			tr.Kind = duban.EventCompleted
			tr.Notices = []duban.Notice{{Kind: duban.EventCompleted, Recipients: official}}
		default:
			t.startStep(ctx, stepIdx+1)
			tr.Kind = duban.EventApproved
			next := t.spec.Approval[stepIdx+1]
			tr.Notices = []duban.Notice{{Kind: duban.EventSubmitted, Recipients: []duban.Recipients{{Unit: next.Unit, Roles: []duban.Role{duban.RoleApprover}}}}}
		}
		tr.To = t.st.Status
		return tr
	})
}

func (t *task) requestExtension(ctx workflow.Context, r ExtensionRequest) (View, error) {
	return t.handle(ctx, func() error { return t.validateExtensionRequest(r) }, func() duban.Transition {
		newDue := dayEnd(r.NewDue)
		t.st.Extension = &PendingExtension{NewDue: newDue, Reason: r.Reason, RequestedBy: r.Actor, RequestedAt: t.now()}
		return duban.Transition{Kind: duban.EventExtensionRequested, Actor: r.Actor, From: t.st.Status, To: t.st.Status, Reason: r.Reason, NewDue: &newDue,
			Notices: []duban.Notice{{Kind: duban.EventExtensionRequested, Recipients: []duban.Recipients{{Unit: t.spec.ExtensionUnit, Roles: []duban.Role{duban.RoleApprover}}}}}}
	})
}

// dayEnd is the end of t's day in Shanghai: when a deadline on that day ends.
func dayEnd(t time.Time) time.Time {
	d := t.In(duban.Shanghai)
	return duban.EndOfDay(d.Year(), d.Month(), d.Day())
}

func (t *task) decideExtension(ctx workflow.Context, d ExtensionDecision) (View, error) {
	return t.handle(ctx, func() error { return t.validateExtensionDecision(d) }, func() duban.Transition {
		ext := *t.st.Extension
		t.st.Extension = nil
		tr := duban.Transition{Actor: d.Actor, From: t.st.Status, To: t.st.Status, Reason: d.Reason, NewDue: &ext.NewDue,
			Notices: []duban.Notice{{Recipients: []duban.Recipients{{Unit: t.spec.UnitCode, Roles: []duban.Role{duban.RoleOfficial}}}}}}
		if d.Approve {
			tr.Kind = duban.EventExtensionGranted
			t.st.Due = ext.NewDue
			now := t.now()
			if t.st.OverdueSince != nil && ext.NewDue.After(now) {
				t.st.OverdueSince = nil
			}
			if t.st.OverdueSince == nil {
				t.st.Escalation = 0
			}
			t.st.DeadlineAlarms = t.deadlineAlarms(ctx, ext.NewDue, now)
		} else {
			tr.Kind = duban.EventExtensionRefused
		}
		tr.Notices[0].Kind = tr.Kind
		return tr
	})
}

func (t *task) cancel(ctx workflow.Context, c Cancellation) (View, error) {
	return t.handle(ctx, func() error { return t.validateCancel(c) }, func() duban.Transition {
		from := t.st.Status
		t.st.Status = duban.StatusCancelled
		return duban.Transition{Kind: duban.EventCancelled, Actor: c.Actor, From: from, To: t.st.Status, Reason: c.Reason,
			Notices: []duban.Notice{{Kind: duban.EventCancelled, Recipients: []duban.Recipients{{Unit: t.spec.UnitCode, Roles: []duban.Role{duban.RoleOfficial}}}}}}
	})
}
