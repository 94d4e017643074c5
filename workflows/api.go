// Package workflows holds Duban's Temporal workflows: one TaskWorkflow per
// task instance and a LaunchWorkflow per plan launch. Everything here is
// deterministic; I/O happens in activities.
package workflows

import (
	"fmt"
	"slices"
	"time"

	"github.com/duban-dev/duban"
)

// Message names: one Update per lifecycle action, named after it, and the
// query.
const (
	UpdateReportProgress   = string(duban.ActionReportProgress)
	UpdateSubmit           = string(duban.ActionSubmit)
	UpdateDecide           = string(duban.ActionDecide)
	UpdateRequestExtension = string(duban.ActionRequestExtension)
	UpdateDecideExtension  = string(duban.ActionDecideExtension)
	UpdateCancel           = string(duban.ActionCancel)
	UpdateUrge             = string(duban.ActionUrge)
	UpdateWithdraw         = string(duban.ActionWithdraw)
	UpdateHandOver         = string(duban.ActionHandOver)
	UpdateAddSigner        = string(duban.ActionAddSigner)
	UpdateNameAssignee     = string(duban.ActionNameAssignee)
	UpdateAmend            = string(duban.ActionAmend)
	UpdateMoveUnit         = string(duban.ActionMoveUnit)
	QueryState             = "state"
)

// Clock is the plan clock; see duban.Clock.
type Clock = duban.Clock

// TaskInput starts a TaskWorkflow.
type TaskInput struct {
	Spec  duban.TaskSpec `json:"spec"`
	Clock Clock          `json:"clock"`
	// Recorded says the launcher already wrote the instance row and its
	// "assigned" event (sequence 1).
	Recorded bool `json:"recorded,omitempty"`
	// AssignedAt is the plan time the launcher assigned the task. Reminders
	// due before it are skipped; those due after it are sent even when a busy
	// worker runs the workflow's first task late. Zero means "when the
	// workflow starts".
	AssignedAt time.Time `json:"assigned_at,omitempty"`
	// Alarms, when set, are the deadline alarms the launcher computed with
	// DeadlineAlarms, so the workflow's first task needs no side effect.
	Alarms []Alarm `json:"alarms,omitempty"`
	// DeliverAssigned says the launcher's "assigned" event has email or
	// webhook deliveries for the workflow to send (from version 1 of
	// "release-2" on; before it, the workflow always tried).
	DeliverAssigned bool `json:"deliver_assigned,omitempty"`
	// State carries the state across continue-as-new.
	State *TaskState `json:"state,omitempty"`
	// HistoryLimit continues as new once the history grows past it; 0 means
	// the default. Tests set it low.
	HistoryLimit int `json:"history_limit,omitempty"`
}

// TaskResult is what a finished TaskWorkflow returns.
type TaskResult struct {
	Status      duban.Status `json:"status"`
	CompletedAt time.Time    `json:"completed_at"`
	Overdue     bool         `json:"overdue"`
}

// Alarm is one timed event of an instance.
type Alarm struct {
	At    time.Time       `json:"at"`
	Kind  duban.EventKind `json:"kind"` // reminder, overdue, escalated, sla_reminder, sla_breached, sla_escalated
	Index int             `json:"index"`
	Fired bool            `json:"fired,omitempty"`
}

// Decision is one approval step's outcome.
type Decision struct {
	Step    int         `json:"step"`
	Unit    string      `json:"unit"`
	Approve bool        `json:"approve"`
	Reason  string      `json:"reason,omitempty"`
	Actor   duban.Actor `json:"actor"`
	At      time.Time   `json:"at"`
}

// PendingExtension is an extension request waiting for a decision.
type PendingExtension struct {
	NewDue      time.Time   `json:"new_due"`
	Reason      string      `json:"reason"`
	RequestedBy duban.Actor `json:"requested_by"`
	RequestedAt time.Time   `json:"requested_at"`
}

// TaskState is the workflow's state; the query returns it.
type TaskState struct {
	Status       duban.Status      `json:"status"`
	AssignedAt   time.Time         `json:"assigned_at"`
	Due          time.Time         `json:"due"`
	OverdueSince *time.Time        `json:"overdue_since,omitempty"`
	Step         int               `json:"step"` // 0-based index of the step waiting, when submitted
	StepStarted  time.Time         `json:"step_started,omitempty"`
	StepDue      time.Time         `json:"step_due,omitempty"`
	Progress     int               `json:"progress"`
	ProgressBase int               `json:"progress_base"`
	Note         string            `json:"note,omitempty"`
	Evidence     []duban.Evidence  `json:"evidence,omitempty"`
	Decisions    []Decision        `json:"decisions,omitempty"`
	Extension    *PendingExtension `json:"extension,omitempty"`
	LastReason   string            `json:"last_reason,omitempty"` // set when sent back; cleared on submission (from "release-2" on)
	Escalation   int               `json:"escalation"`
	Seq          int64             `json:"seq"`
	CompletedAt  time.Time         `json:"completed_at,omitempty"`

	DeadlineAlarms []Alarm `json:"deadline_alarms,omitempty"`
	StepAlarms     []Alarm `json:"step_alarms,omitempty"`

	// Chain is the approval chain once a step was handed over or a signer
	// added; nil while it is the spec's.
	Chain []duban.ApprovalStep `json:"chain,omitempty"`
	// Signed are the approvals the step waiting has so far (会签, or a
	// unit that must give several).
	Signed []duban.Actor `json:"signed,omitempty"`
	// Urged is each urging unit's last day; UrgeCount and LastUrgedAt
	// count them all.
	Urged       []duban.Urging `json:"urged,omitempty"`
	UrgeCount   int            `json:"urge_count,omitempty"`
	LastUrgedAt time.Time      `json:"last_urged_at,omitempty"`
	// Assignee is the 承办人 the unit named.
	Assignee *duban.Person `json:"assignee,omitempty"`
	// Spec is the task's spec as plan changes left it; nil while it is the
	// launch's (TaskInput.Spec).
	Spec *duban.TaskSpec `json:"spec,omitempty"`
}

// clone copies the state deeply enough that changing the copy's slices in
// place (alarms marked fired, evidence appended) leaves the original alone.
func (s TaskState) clone() TaskState {
	c := s
	c.Evidence = slices.Clone(s.Evidence)
	c.Decisions = slices.Clone(s.Decisions)
	c.DeadlineAlarms = slices.Clone(s.DeadlineAlarms)
	c.StepAlarms = slices.Clone(s.StepAlarms)
	c.Chain = cloneChain(s.Chain)
	c.Signed = slices.Clone(s.Signed)
	c.Urged = slices.Clone(s.Urged)
	if s.Spec != nil {
		spec := *s.Spec
		c.Spec = &spec
	}
	return c
}

// cloneChain copies a chain so that changing a step of the copy (its
// signers, its assignee) leaves the original alone.
func cloneChain(chain []duban.ApprovalStep) []duban.ApprovalStep {
	if chain == nil {
		return nil
	}
	out := slices.Clone(chain)
	for i := range out {
		out[i].Signers = slices.Clone(out[i].Signers)
	}
	return out
}

// ProgressReport is an official's report of progress.
type ProgressReport struct {
	Actor duban.Actor `json:"actor"`
	// Value is the count reached (count kind) or units covered (ratio kind).
	Value *int `json:"value,omitempty"`
	// Base is the number of child units, for a ratio whose base the hierarchy
	// does not know (e.g. villages).
	Base     *int             `json:"base,omitempty"`
	Note     string           `json:"note,omitempty"`
	Evidence []duban.Evidence `json:"evidence,omitempty"`
}

// Submission hands the task to its approval chain.
type Submission struct {
	Actor    duban.Actor      `json:"actor"`
	Note     string           `json:"note,omitempty"`
	Evidence []duban.Evidence `json:"evidence,omitempty"`
}

// DecisionRequest approves or returns the step the approver is looking at.
type DecisionRequest struct {
	Actor   duban.Actor `json:"actor"`
	Step    int         `json:"step"` // 1-based; must be the step waiting
	Approve bool        `json:"approve"`
	Reason  string      `json:"reason,omitempty"`
	// ReturnTo, on a return, is the earlier step to send the task back to
	// (退回到指定步骤); 0 sends it back to the unit.
	ReturnTo int `json:"return_to,omitempty"`
}

// Urge presses the unit to act (催办).
type Urge struct {
	Actor         duban.Actor `json:"actor"`
	Note          string      `json:"note,omitempty"`
	WithApprovers bool        `json:"with_approvers,omitempty"` // tell the unit's approvers too
}

// Withdrawal takes a submission back before its step is decided (撤回).
type Withdrawal struct {
	Actor  duban.Actor `json:"actor"`
	Reason string      `json:"reason,omitempty"`
}

// HandOver hands the step waiting to a colleague of the same unit, or to
// the unit above (转交).
type HandOver struct {
	Actor  duban.Actor   `json:"actor"`
	Step   int           `json:"step"`
	To     *duban.Actor  `json:"to,omitempty"`
	ToUnit *duban.Signer `json:"to_unit,omitempty"`
	Reason string        `json:"reason,omitempty"`
}

// SignerAddition inserts a step for another unit before or after the
// approver's own (加签).
type SignerAddition struct {
	Actor  duban.Actor  `json:"actor"`
	Step   int          `json:"step"`
	Unit   duban.Signer `json:"unit"`
	Before bool         `json:"before,omitempty"`
	Reason string       `json:"reason"`
}

// AssigneeChange names (or, To nil, clears) the unit's 承办人 for the task.
type AssigneeChange struct {
	Actor duban.Actor  `json:"actor"`
	To    *duban.Actor `json:"to,omitempty"`
}

// Amendment carries a plan change (文号) to the task: a new deadline,
// reminders or evidence note, or the template withdrawn. A change already
// applied changes nothing: sending it again is safe.
type Amendment struct {
	Change duban.PlanChange `json:"change"`
}

// UnitMove moves the task of a unit merged into another to the unit it
// joined (单位合并). A task no longer the merged unit's changes no more.
type UnitMove struct {
	Actor  duban.Actor  `json:"actor"`
	From   string       `json:"from"`
	To     duban.Signer `json:"to"`
	Reason string       `json:"reason,omitempty"`
}

// ExtensionRequest asks to move the deadline to the end of NewDue's day.
type ExtensionRequest struct {
	Actor  duban.Actor `json:"actor"`
	NewDue time.Time   `json:"new_due"`
	Reason string      `json:"reason"`
}

// ExtensionDecision grants or refuses the pending extension.
type ExtensionDecision struct {
	Actor   duban.Actor `json:"actor"`
	Approve bool        `json:"approve"`
	Reason  string      `json:"reason,omitempty"`
}

// Cancellation withdraws the task (admins only).
type Cancellation struct {
	Actor  duban.Actor `json:"actor"`
	Reason string      `json:"reason"`
}

// View is what every update returns and the query shows: the state with the
// projection the store now holds.
type View struct {
	InstanceID string           `json:"instance_id"`
	Projection duban.Projection `json:"projection"`
	State      TaskState        `json:"state"`
}

// Message is an Update's argument: one type per lifecycle action, saying
// who sends it and what it asks. The set is closed: only this package's
// types implement it.
type Message interface {
	Action() duban.Action
	actor() duban.Actor
	input() duban.Input
}

// NewMessage builds the Update argument of an action from what a request
// asked.
func NewMessage(action duban.Action, actor duban.Actor, in duban.Input) (Message, error) {
	switch action {
	case duban.ActionReportProgress:
		return ProgressReport{Actor: actor, Value: in.Value, Base: in.Base, Note: in.Note, Evidence: in.Evidence}, nil
	case duban.ActionSubmit:
		return Submission{Actor: actor, Note: in.Note, Evidence: in.Evidence}, nil
	case duban.ActionDecide:
		return DecisionRequest{Actor: actor, Step: in.Step, Approve: in.Approve, Reason: in.Reason, ReturnTo: in.ReturnTo}, nil
	case duban.ActionRequestExtension:
		return ExtensionRequest{Actor: actor, NewDue: in.NewDue, Reason: in.Reason}, nil
	case duban.ActionDecideExtension:
		return ExtensionDecision{Actor: actor, Approve: in.Approve, Reason: in.Reason}, nil
	case duban.ActionCancel:
		return Cancellation{Actor: actor, Reason: in.Reason}, nil
	case duban.ActionUrge:
		return Urge{Actor: actor, Note: in.Note, WithApprovers: in.WithApprovers}, nil
	case duban.ActionWithdraw:
		return Withdrawal{Actor: actor, Reason: in.Reason}, nil
	case duban.ActionHandOver:
		return HandOver{Actor: actor, Step: in.Step, To: in.To, ToUnit: in.ToUnit, Reason: in.Reason}, nil
	case duban.ActionAddSigner:
		if in.ToUnit == nil {
			return nil, fmt.Errorf("add_signer without a unit")
		}
		return SignerAddition{Actor: actor, Step: in.Step, Unit: *in.ToUnit, Before: in.Before, Reason: in.Reason}, nil
	case duban.ActionNameAssignee:
		return AssigneeChange{Actor: actor, To: in.To}, nil
	case duban.ActionMoveUnit:
		if in.ToUnit == nil {
			return nil, fmt.Errorf("move_unit without a unit")
		}
		return UnitMove{Actor: actor, From: in.From, To: *in.ToUnit, Reason: in.Reason}, nil
	case duban.ActionAmend:
		if in.Change == nil {
			return nil, fmt.Errorf("amend without a change")
		}
		return Amendment{Change: *in.Change}, nil
	}
	return nil, fmt.Errorf("no workflow message for action %q", action)
}

// What each Update asks, for the lifecycle table.

func (ProgressReport) Action() duban.Action { return duban.ActionReportProgress }
func (r ProgressReport) actor() duban.Actor { return r.Actor }
func (r ProgressReport) input() duban.Input {
	return duban.Input{Note: r.Note, Value: r.Value, Base: r.Base, Evidence: r.Evidence}
}

func (Submission) Action() duban.Action { return duban.ActionSubmit }
func (s Submission) actor() duban.Actor { return s.Actor }
func (s Submission) input() duban.Input { return duban.Input{Note: s.Note, Evidence: s.Evidence} }

func (DecisionRequest) Action() duban.Action { return duban.ActionDecide }
func (d DecisionRequest) actor() duban.Actor { return d.Actor }
func (d DecisionRequest) input() duban.Input {
	return duban.Input{Step: d.Step, Approve: d.Approve, Reason: d.Reason, ReturnTo: d.ReturnTo}
}

func (ExtensionRequest) Action() duban.Action { return duban.ActionRequestExtension }
func (r ExtensionRequest) actor() duban.Actor { return r.Actor }
func (r ExtensionRequest) input() duban.Input { return duban.Input{Reason: r.Reason, NewDue: r.NewDue} }

func (ExtensionDecision) Action() duban.Action { return duban.ActionDecideExtension }
func (d ExtensionDecision) actor() duban.Actor { return d.Actor }
func (d ExtensionDecision) input() duban.Input {
	return duban.Input{Approve: d.Approve, Reason: d.Reason}
}

func (Cancellation) Action() duban.Action { return duban.ActionCancel }
func (c Cancellation) actor() duban.Actor { return c.Actor }
func (c Cancellation) input() duban.Input { return duban.Input{Reason: c.Reason} }

func (Urge) Action() duban.Action       { return duban.ActionUrge }
func (u Urge) actor() duban.Actor       { return u.Actor }
func (u Urge) input() duban.Input       { return duban.Input{Note: u.Note, WithApprovers: u.WithApprovers} }
func (Withdrawal) Action() duban.Action { return duban.ActionWithdraw }
func (w Withdrawal) actor() duban.Actor { return w.Actor }
func (w Withdrawal) input() duban.Input { return duban.Input{Reason: w.Reason} }
func (HandOver) Action() duban.Action   { return duban.ActionHandOver }
func (h HandOver) actor() duban.Actor   { return h.Actor }
func (h HandOver) input() duban.Input {
	return duban.Input{Step: h.Step, To: h.To, ToUnit: h.ToUnit, Reason: h.Reason}
}
func (SignerAddition) Action() duban.Action { return duban.ActionAddSigner }
func (a SignerAddition) actor() duban.Actor { return a.Actor }
func (a SignerAddition) input() duban.Input {
	unit := a.Unit
	return duban.Input{Step: a.Step, ToUnit: &unit, Before: a.Before, Reason: a.Reason}
}
func (Amendment) Action() duban.Action { return duban.ActionAmend }
func (m Amendment) actor() duban.Actor { return m.Change.By }
func (m Amendment) input() duban.Input {
	c := m.Change
	return duban.Input{Change: &c}
}
func (UnitMove) Action() duban.Action { return duban.ActionMoveUnit }
func (m UnitMove) actor() duban.Actor { return m.Actor }
func (m UnitMove) input() duban.Input {
	to := m.To
	return duban.Input{From: m.From, ToUnit: &to, Reason: m.Reason}
}
func (AssigneeChange) Action() duban.Action { return duban.ActionNameAssignee }
func (c AssigneeChange) actor() duban.Actor { return c.Actor }
func (c AssigneeChange) input() duban.Input { return duban.Input{To: c.To} }
