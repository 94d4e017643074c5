package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
)

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

// projection is the row the store keeps for this state.
func (t *task) projection() duban.Projection {
	p := duban.Projection{
		Status:       t.st.Status,
		Due:          t.st.Due,
		OverdueSince: t.st.OverdueSince,
		StepCount:    len(t.chain()),
		Progress:     t.st.Progress,
		ProgressBase: t.st.ProgressBase,
		Escalation:   t.st.Escalation,
		Extension:    t.st.Extension != nil,
		Seq:          t.st.Seq,
	}
	if t.st.Status == duban.StatusSubmitted {
		p.CurrentStep = t.st.Step + 1
		st := t.chain()[t.st.Step]
		p.ApproverUnit = st.Unit
		p.WaitingUnits = duban.Waiting(st, t.st.Signed)
		if st.Assignee != nil {
			p.WaitingUser = st.Assignee.UserID
		}
		p.Signed = slices.Clone(t.st.Signed)
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
	p.Chain = cloneChain(t.st.Chain)
	p.UrgeCount = t.st.UrgeCount
	if t.st.UrgeCount > 0 {
		at := t.st.LastUrgedAt
		p.LastUrgedAt = &at
	}
	p.Assignee = t.st.Assignee
	if ext := t.st.Extension; ext != nil {
		due, at := ext.NewDue, ext.RequestedAt
		p.ExtensionNewDue, p.ExtensionRequestedAt = &due, &at
		p.ExtensionReason = ext.Reason
		p.ExtensionRequestedBy = ext.RequestedBy.Name
	}
	return p
}

func (t *task) view() View {
	return View{InstanceID: t.spec.ID, Projection: t.projection(), State: t.st.clone()}
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
		t.useSpec()
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

// handle runs an Update's change: from version 2 on it waits for the
// transition in flight and checks the request again against the state as
// it now is (the validator ran before, and an earlier change may have been
// undone since), then commits.
func (t *task) handle(ctx workflow.Context, action duban.Action, m Message, apply func() duban.Transition) (View, error) {
	if err := t.acquire(ctx); err != nil {
		return t.view(), err
	}
	defer t.release()
	if t.carriedOut(m) {
		return t.view(), nil
	}
	if t.serial {
		if err := t.validate(action, m); err != nil {
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

// refusal carries a lifecycle refusal to the caller: its code as the
// error's type, its message, and the request field at fault as the detail.
func refusal(err error) error {
	var de *duban.Error
	if !errors.As(err, &de) {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(de.Message, de.Code, temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{de.Field}})
}
