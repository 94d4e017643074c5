package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
)

// TaskWorkflow runs one task instance from assignment to completion or
// cancellation. Its lifecycle (which action, by whom, when) is the domain's
// table (duban.Validate); this file is the process that table describes:
//
//	         report_progress             submit
//	assigned ───────────────► in_progress ──────► submitted, step 1 … n ──► completed
//	   │                          ▲                     │ decide: approve → next step
//	   │                          └─────────────────────┘ decide: return (reason)
//	   └──── cancel (an admin above, any open state) ────► cancelled
//
// While the unit holds the task, its deadline alarms run (reminders before
// it, overdue when it passes, the escalation ladder after); while an
// approver holds it, the step's SLA alarms run instead. An extension,
// requested by the unit and decided by the unit above, moves the deadline.
// Every change arrives as a validated Update and is written by one
// transition (commit), in order, with nothing skipped.
func TaskWorkflow(ctx workflow.Context, in TaskInput) (TaskResult, error) {
	t, err := startTask(ctx, in)
	if err != nil {
		return TaskResult{}, err
	}
	for !t.st.Status.Finished() {
		if err := t.waitForNextAlarm(); err != nil {
			return TaskResult{}, err
		}
		if t.st.Status.Finished() {
			break
		}
		if t.historyFull() {
			return TaskResult{}, t.continueAsNew()
		}
	}
	if err := t.drain(); err != nil {
		return TaskResult{}, err
	}
	return TaskResult{Status: t.st.Status, CompletedAt: t.st.CompletedAt, Overdue: t.st.OverdueSince != nil}, nil
}

// The changes each Update makes. Each runs inside commit: it changes the
// state before its first yield (so an update validated right after sees
// the change) and returns the transition to record.

func (t *task) reportProgress(_ workflow.Context, r ProgressReport) duban.Transition {
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
}

func (t *task) submit(ctx workflow.Context, s Submission) duban.Transition {
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
		Notices: []duban.Notice{{Kind: duban.EventSubmitted, Recipients: t.approvers(0)}}}
}

// startStep hands the task to an approval step and starts its SLA alarms.
func (t *task) startStep(ctx workflow.Context, step int) {
	t.st.Status = duban.StatusSubmitted
	t.st.Step = step
	t.st.StepStarted = t.now()
	t.st.StepDue, t.st.StepAlarms = t.stepAlarms(ctx, step, t.st.StepStarted)
}

func (t *task) decide(ctx workflow.Context, d DecisionRequest) duban.Transition {
	now := t.now()
	stepIdx := t.st.Step
	t.st.Decisions = append(t.st.Decisions, Decision{Step: d.Step, Unit: t.spec.Approval[stepIdx].Unit, Approve: d.Approve, Reason: d.Reason, Actor: d.Actor, At: now})
	tr := duban.Transition{Actor: d.Actor, From: t.st.Status, Step: d.Step, Reason: d.Reason}
	switch {
	case !d.Approve:
		t.st.Status = duban.StatusInProgress
		t.st.Step = 0
		t.st.StepAlarms = nil
		t.st.LastReason = d.Reason
		tr.Kind = duban.EventRejected
		tr.Notices = []duban.Notice{{Kind: duban.EventRejected, Recipients: t.officials(), Urgent: true}}
	case stepIdx+1 == len(t.spec.Approval):
		t.st.Status = duban.StatusCompleted
		t.st.CompletedAt = now
		t.st.StepAlarms = nil
		tr.Kind = duban.EventCompleted
		tr.Notices = []duban.Notice{{Kind: duban.EventCompleted, Recipients: t.officials()}}
	default:
		t.startStep(ctx, stepIdx+1)
		tr.Kind = duban.EventApproved
		tr.Notices = []duban.Notice{{Kind: duban.EventSubmitted, Recipients: t.approvers(stepIdx + 1)}}
	}
	tr.To = t.st.Status
	return tr
}

func (t *task) requestExtension(_ workflow.Context, r ExtensionRequest) duban.Transition {
	newDue := duban.DayEnd(r.NewDue)
	t.st.Extension = &PendingExtension{NewDue: newDue, Reason: r.Reason, RequestedBy: r.Actor, RequestedAt: t.now()}
	return duban.Transition{Kind: duban.EventExtensionRequested, Actor: r.Actor, From: t.st.Status, To: t.st.Status, Reason: r.Reason, NewDue: &newDue,
		Notices: []duban.Notice{{Kind: duban.EventExtensionRequested, Recipients: []duban.Recipients{{Unit: t.spec.ExtensionUnit, Roles: []duban.Role{duban.RoleApprover}}}}}}
}

func (t *task) decideExtension(ctx workflow.Context, d ExtensionDecision) duban.Transition {
	ext := *t.st.Extension
	t.st.Extension = nil
	tr := duban.Transition{Kind: duban.EventExtensionRefused, Actor: d.Actor, From: t.st.Status, To: t.st.Status, Reason: d.Reason, NewDue: &ext.NewDue}
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
	}
	tr.Notices = []duban.Notice{{Kind: tr.Kind, Recipients: t.officials()}}
	return tr
}

func (t *task) cancel(_ workflow.Context, c Cancellation) duban.Transition {
	from := t.st.Status
	t.st.Status = duban.StatusCancelled
	return duban.Transition{Kind: duban.EventCancelled, Actor: c.Actor, From: from, To: t.st.Status, Reason: c.Reason,
		Notices: []duban.Notice{{Kind: duban.EventCancelled, Recipients: t.officials()}}}
}

// officials are the unit's officials; approvers(i) the approvers of step i.
func (t *task) officials() []duban.Recipients {
	return []duban.Recipients{{Unit: t.spec.UnitCode, Roles: []duban.Role{duban.RoleOfficial}}}
}

func (t *task) approvers(step int) []duban.Recipients {
	return []duban.Recipients{{Unit: t.spec.Approval[step].Unit, Roles: []duban.Role{duban.RoleApprover}}}
}
