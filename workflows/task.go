package workflows

import (
	"slices"

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
	t.st.Signed = nil
	t.st.StepStarted = t.now()
	t.st.StepDue, t.st.StepAlarms = t.stepAlarms(ctx, step, t.st.StepStarted)
}

func (t *task) decide(ctx workflow.Context, d DecisionRequest) duban.Transition {
	now := t.now()
	stepIdx := t.st.Step
	chain := t.chain()
	st := chain[stepIdx]
	sig := d.Actor.Signature()
	unit := st.Unit
	if len(st.Signers) > 0 {
		unit = sig.UnitCode
	}
	t.st.Decisions = append(t.st.Decisions, Decision{Step: d.Step, Unit: unit, Approve: d.Approve, Reason: d.Reason, Actor: d.Actor, At: now})
	tr := duban.Transition{Actor: d.Actor, From: t.st.Status, Step: d.Step, Reason: d.Reason}
	// A step handed to one approver was handed over for this round only:
	// decided (or sent back), it is its units' again.
	if st.Assignee != nil && (!d.Approve || duban.StepComplete(st, append(slices.Clone(t.st.Signed), sig))) {
		t.ownChain()[stepIdx].Assignee = nil
	}
	switch {
	case !d.Approve && d.ReturnTo == 0:
		t.st.Status = duban.StatusInProgress
		t.st.Step = 0
		t.st.StepAlarms = nil
		t.st.Signed = nil
		t.st.LastReason = d.Reason
		tr.Kind = duban.EventRejected
		tr.Notices = []duban.Notice{{Kind: duban.EventRejected, Recipients: t.officials(), Urgent: true}}
	case !d.Approve:
		// Back to an earlier step: it and the steps after it are decided
		// again.
		t.startStep(ctx, d.ReturnTo-1)
		tr.Kind = duban.EventReturned
		tr.ToStep = d.ReturnTo
		tr.Notices = []duban.Notice{{Kind: duban.EventReturned, Recipients: t.approvers(d.ReturnTo - 1), Urgent: true}}
	case !duban.StepComplete(st, append(slices.Clone(t.st.Signed), sig)):
		// One signature of several the step needs (会签).
		t.st.Signed = append(t.st.Signed, sig)
		tr.Kind = duban.EventSigned
	case stepIdx+1 == len(chain):
		t.st.Status = duban.StatusCompleted
		t.st.CompletedAt = now
		t.st.StepAlarms = nil
		t.st.Signed = nil
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

func (t *task) urge(_ workflow.Context, u Urge) duban.Transition {
	now := t.now()
	day := now.Format("2006-01-02")
	unit := u.Actor.UnitCode
	i := slices.IndexFunc(t.st.Urged, func(x duban.Urging) bool { return x.Unit == unit })
	if i < 0 {
		t.st.Urged = append(t.st.Urged, duban.Urging{Unit: unit, Day: day})
	} else {
		t.st.Urged[i].Day = day
	}
	t.st.UrgeCount++
	t.st.LastUrgedAt = now
	people := t.officials()
	if u.WithApprovers {
		people = append(people, duban.Recipients{Unit: t.spec.UnitCode, Roles: []duban.Role{duban.RoleApprover}})
	}
	return duban.Transition{Kind: duban.EventUrged, Actor: u.Actor, From: t.st.Status, To: t.st.Status, Note: u.Note,
		Notices: []duban.Notice{{Kind: duban.EventUrged, Recipients: people, Urgent: true}}}
}

func (t *task) withdraw(_ workflow.Context, w Withdrawal) duban.Transition {
	step := t.st.Step
	waiting := t.waitingOn()
	from := t.st.Status
	t.st.Status = duban.StatusInProgress
	t.st.Step = 0
	t.st.StepAlarms = nil
	t.st.Signed = nil
	return duban.Transition{Kind: duban.EventWithdrawn, Actor: w.Actor, From: from, To: t.st.Status, Step: step + 1, Reason: w.Reason,
		Notices: []duban.Notice{{Kind: duban.EventWithdrawn, Recipients: waiting}}}
}

func (t *task) handOver(_ workflow.Context, h HandOver) duban.Transition {
	chain := t.ownChain()
	st := &chain[t.st.Step]
	tr := duban.Transition{Kind: duban.EventHandedOver, Actor: h.Actor, From: t.st.Status, To: t.st.Status, Step: t.st.Step + 1, Reason: h.Reason}
	if h.To != nil {
		p := h.To.Person()
		st.Assignee = &p
		tr.Person = &p
		tr.Notices = []duban.Notice{{Kind: duban.EventHandedOver, Recipients: []duban.Recipients{{Unit: p.UnitCode, Roles: []duban.Role{duban.RoleApprover}, UserID: p.UserID}}}}
		return tr
	}
	// To the unit above: it signs in place of the approver's unit.
	from := h.Actor.Signature().UnitCode
	st.Assignee = nil
	if st.Unit == from {
		st.Unit, st.UnitName = h.ToUnit.Unit, h.ToUnit.UnitName
	}
	for i := range st.Signers {
		if st.Signers[i].Unit == from {
			st.Signers[i].Unit, st.Signers[i].UnitName = h.ToUnit.Unit, h.ToUnit.UnitName
		}
	}
	tr.Notices = []duban.Notice{{Kind: duban.EventHandedOver, Recipients: []duban.Recipients{{Unit: h.ToUnit.Unit, Roles: []duban.Role{duban.RoleApprover}}}}}
	return tr
}

func (t *task) addSigner(ctx workflow.Context, a SignerAddition) duban.Transition {
	chain := t.ownChain()
	cur := chain[t.st.Step]
	added := duban.ApprovalStep{Unit: a.Unit.Unit, UnitName: a.Unit.UnitName, SLA: cur.SLA, Reminders: cur.Reminders,
		Added: &duban.Addition{By: a.Actor.Name, Reason: a.Reason}}
	at := t.st.Step + 1
	if a.Before {
		at = t.st.Step
	}
	t.st.Chain = slices.Insert(chain, at, added)
	tr := duban.Transition{Kind: duban.EventSignerAdded, Actor: a.Actor, From: t.st.Status, To: t.st.Status, Step: at + 1, Reason: a.Reason}
	if a.Before {
		// The added unit signs first; the approver's own step follows.
		t.startStep(ctx, at)
		tr.Notices = []duban.Notice{{Kind: duban.EventSubmitted, Recipients: t.approvers(at)}}
	}
	return tr
}

func (t *task) nameAssignee(_ workflow.Context, c AssigneeChange) duban.Transition {
	tr := duban.Transition{Kind: duban.EventAssigneeNamed, Actor: c.Actor, From: t.st.Status, To: t.st.Status}
	t.st.Assignee = nil
	if c.To != nil {
		p := c.To.Person()
		t.st.Assignee = &p
		tr.Person = &p
		tr.Notices = []duban.Notice{{Kind: duban.EventAssigneeNamed, Recipients: t.holders()}}
	}
	return tr
}

// amend carries a plan change out: the spec as changed becomes the
// task's; a new deadline or new reminders rebuild the deadline's alarms
// (an overdue task due again in the future is no longer overdue); a
// withdrawal cancels the task.
func (t *task) amend(ctx workflow.Context, m Amendment) duban.Transition {
	c := m.Change
	spec := t.spec
	c.ApplyTo(&spec)
	t.st.Spec = &spec
	t.spec = spec
	from := t.st.Status
	tr := duban.Transition{Actor: c.By, From: from, Reason: c.Reason, Note: c.Summary(), Change: c.Ref(), Spec: &spec}
	if c.Withdraw {
		t.st.Status = duban.StatusCancelled
		tr.Kind, tr.To = duban.EventCancelled, duban.StatusCancelled
		tr.Notices = []duban.Notice{{Kind: duban.EventCancelled, Recipients: t.officials()}}
		return tr
	}
	tr.Kind = duban.EventAmended
	if c.NewDue != nil || c.Reminders != nil {
		now := t.now()
		if c.NewDue != nil {
			t.st.Due = spec.Due
			due := spec.Due
			tr.NewDue = &due
			if ext := t.st.Extension; ext != nil && !ext.NewDue.After(due) {
				// The request asked for no more than the change gives.
				t.st.Extension = nil
			}
		}
		t.st.DeadlineAlarms = t.deadlineAlarms(ctx, t.st.Due, now)
		if t.st.OverdueSince != nil {
			if t.st.Due.After(now) {
				t.st.OverdueSince = nil
				t.st.Escalation = 0
			} else {
				// Still past due: overdue since the new deadline, and the
				// ladder's steps already behind are not sent again.
				due := t.st.Due
				t.st.OverdueSince = &due
				for i := range t.st.DeadlineAlarms {
					if !t.st.DeadlineAlarms[i].At.After(now) {
						t.st.DeadlineAlarms[i].Fired = true
					}
				}
			}
		}
	}
	tr.To = t.st.Status
	tr.Notices = []duban.Notice{{Kind: duban.EventAmended, Recipients: t.holders()}}
	return tr
}

// moveUnit hands the task of a merged unit to the unit it joined: the spec
// (and the chain, if it is the task's own) names the new unit wherever it
// named the merged one, and the new unit's officials are told.
func (t *task) moveUnit(_ workflow.Context, m UnitMove) duban.Transition {
	spec := t.spec
	spec.MoveUnit(m.From, m.To)
	t.st.Spec = &spec
	t.spec = spec
	if t.st.Chain != nil {
		moved := false
		t.st.Chain = duban.MoveUnitInChain(t.st.Chain, m.From, m.To, &moved)
	}
	return duban.Transition{Kind: duban.EventUnitMoved, Actor: m.Actor, From: t.st.Status, To: t.st.Status, Reason: m.Reason,
		Spec: &spec, Notices: []duban.Notice{{Kind: duban.EventUnitMoved, Recipients: t.officials()}}}
}

// useSpec makes the spec the state holds (as plan changes left it) the
// task's, or the launch's when no change was applied.
func (t *task) useSpec() {
	t.spec = t.in.Spec
	if t.st.Spec != nil {
		t.spec = *t.st.Spec
	}
}

// chain is the approval chain as it now is; ownChain makes it the state's
// own, to change.
func (t *task) chain() []duban.ApprovalStep {
	if t.st.Chain != nil {
		return t.st.Chain
	}
	return t.spec.Approval
}

func (t *task) ownChain() []duban.ApprovalStep {
	if t.st.Chain == nil {
		t.st.Chain = cloneChain(t.spec.Approval)
	}
	return t.st.Chain
}

// officials are the unit's officials; holders the 承办人 the unit named, or
// its officials; approvers(i) the approvers who sign step i (or the one it
// was handed to); waitingOn those the step waiting still waits on.
func (t *task) officials() []duban.Recipients {
	return []duban.Recipients{{Unit: t.spec.UnitCode, Roles: []duban.Role{duban.RoleOfficial}}}
}

func (t *task) holders() []duban.Recipients {
	if a := t.st.Assignee; a != nil {
		return []duban.Recipients{{Unit: t.spec.UnitCode, Roles: []duban.Role{duban.RoleOfficial}, UserID: a.UserID}}
	}
	return t.officials()
}

func (t *task) approvers(step int) []duban.Recipients {
	st := t.chain()[step]
	if st.Assignee != nil {
		return []duban.Recipients{{Unit: st.Assignee.UnitCode, Roles: []duban.Role{duban.RoleApprover}, UserID: st.Assignee.UserID}}
	}
	var out []duban.Recipients
	for _, sg := range st.SignerList() {
		out = append(out, duban.Recipients{Unit: sg.Unit, Roles: []duban.Role{duban.RoleApprover}})
	}
	return out
}

func (t *task) waitingOn() []duban.Recipients {
	st := t.chain()[t.st.Step]
	if st.Assignee != nil {
		return t.approvers(t.st.Step)
	}
	var out []duban.Recipients
	for _, u := range duban.Waiting(st, t.st.Signed) {
		out = append(out, duban.Recipients{Unit: u, Roles: []duban.Role{duban.RoleApprover}})
	}
	return out
}
