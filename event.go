package duban

import "time"

// EventKind names a timeline event.
type EventKind string

// Timeline event kinds.
const (
	EventAssigned           EventKind = "assigned"
	EventProgress           EventKind = "progress"
	EventSubmitted          EventKind = "submitted"
	EventApproved           EventKind = "approved" // one step signed off
	EventRejected           EventKind = "rejected"
	EventCompleted          EventKind = "completed" // the last step signed off
	EventReminder           EventKind = "reminder"
	EventOverdue            EventKind = "overdue"
	EventEscalated          EventKind = "escalated"
	EventSLAReminder        EventKind = "sla_reminder"
	EventSLABreached        EventKind = "sla_breached"
	EventSLAEscalated       EventKind = "sla_escalated"
	EventExtensionRequested EventKind = "extension_requested"
	EventExtensionGranted   EventKind = "extension_granted"
	EventExtensionRefused   EventKind = "extension_refused"
	EventCancelled          EventKind = "cancelled"
	EventUrged              EventKind = "urged"          // 催办
	EventWithdrawn          EventKind = "withdrawn"      // the official took a submission back
	EventReturned           EventKind = "returned"       // sent back to an earlier approval step
	EventSigned             EventKind = "signed"         // one signature on a step that needs more (会签)
	EventHandedOver         EventKind = "handed_over"    // a pending step handed to another approver
	EventSignerAdded        EventKind = "signer_added"   // 加签: a step inserted into the chain
	EventAssigneeNamed      EventKind = "assignee_named" // the unit named its 承办人
	EventAmended            EventKind = "amended"        // a plan change (文号) moved the deadline, reminders or evidence note
	EventUnitMoved          EventKind = "unit_moved"     // the task's unit merged into another, which holds it now
	// EventCommented is a mention in a task's discussion: a notice only,
	// never a timeline event (comments live beside the timeline).
	EventCommented EventKind = "commented"
)

// Label is the Chinese name of the event.
func (k EventKind) Label() string {
	switch k {
	case EventAssigned:
		return "任务下达"
	case EventProgress:
		return "报告进展"
	case EventSubmitted:
		return "提交审批"
	case EventApproved:
		return "审批通过"
	case EventRejected:
		return "退回修改"
	case EventCompleted:
		return "办结"
	case EventReminder:
		return "到期提醒"
	case EventOverdue:
		return "已逾期"
	case EventEscalated:
		return "逾期督办升级"
	case EventSLAReminder:
		return "审批时限提醒"
	case EventSLABreached:
		return "审批超时"
	case EventSLAEscalated:
		return "审批超时升级"
	case EventExtensionRequested:
		return "申请延期"
	case EventExtensionGranted:
		return "同意延期"
	case EventExtensionRefused:
		return "不同意延期"
	case EventCancelled:
		return "撤销"
	case EventUrged:
		return "催办"
	case EventWithdrawn:
		return "撤回"
	case EventReturned:
		return "退回到指定步骤"
	case EventSigned:
		return "会签同意"
	case EventHandedOver:
		return "转交"
	case EventSignerAdded:
		return "加签"
	case EventAssigneeNamed:
		return "指定承办人"
	case EventAmended:
		return "计划变更"
	case EventUnitMoved:
		return "单位合并"
	case EventCommented:
		return "讨论提及"
	}
	return string(k)
}

// Evidence is a file attached to a report, stored by content hash.
type Evidence struct {
	SHA256      string `json:"sha256"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
}

// Projection is the state of an instance as the API reads it: the row the
// workflow keeps up to date after every transition.
type Projection struct {
	Status       Status     `json:"status"`
	Due          time.Time  `json:"due"`
	OverdueSince *time.Time `json:"overdue_since,omitempty"`
	// CurrentStep is the 1-based approval step waiting for a decision, 0 if none.
	CurrentStep  int        `json:"current_step"`
	StepCount    int        `json:"step_count"`
	ApproverUnit string     `json:"approver_unit,omitempty"` // unit deciding CurrentStep
	StepDue      *time.Time `json:"step_due,omitempty"`      // end of CurrentStep's SLA
	Progress     int        `json:"progress"`
	ProgressBase int        `json:"progress_base"` // target (count) or base (ratio)
	Escalation   int        `json:"escalation"`    // escalation steps fired so far
	Extension    bool       `json:"extension_pending,omitempty"`
	Seq          int64      `json:"seq"`
	CompletedAt  *time.Time `json:"completed_at,omitempty"`
	// LastReason is why an approver last sent the task back, while the unit
	// holds it again; the next submission clears it.
	LastReason string `json:"last_reason,omitempty"`
	// The pending extension request, when Extension is set: the deadline
	// asked for (end of that day), why, who asked and when (plan time).
	ExtensionNewDue      *time.Time `json:"extension_new_due,omitempty"`
	ExtensionReason      string     `json:"extension_reason,omitempty"`
	ExtensionRequestedBy string     `json:"extension_requested_by,omitempty"` // the requester's name
	ExtensionRequestedAt *time.Time `json:"extension_requested_at,omitempty"`
	// How often the task was urged (催办) and when last.
	UrgeCount   int        `json:"urge_count,omitempty"`
	LastUrgedAt *time.Time `json:"last_urged_at,omitempty"`
	// Assignee is the 承办人 the unit named, if any.
	Assignee *Person `json:"assignee,omitempty"`
	// WaitingUnits are the units whose approvers the current step waits
	// on (several in 会签 and 或签); WaitingUser, when set, the one
	// approver it was handed to.
	WaitingUnits []string `json:"waiting_units,omitempty"`
	WaitingUser  int64    `json:"waiting_user,omitempty"`
	// Signed are the approvals the step waiting has so far.
	Signed []Actor `json:"signed,omitempty"`
	// Chain is the approval chain once it changed (handed over, signers
	// added); nil while it is the spec's.
	Chain []ApprovalStep `json:"chain,omitempty"`
}

// Overdue reports whether the instance is open and past its deadline.
func (p Projection) Overdue() bool { return p.OverdueSince != nil && !p.Status.Finished() }

// Notice asks for people to be told about a transition. The workflow says
// who and why; rendering the message and finding the users happen outside it.
type Notice struct {
	Kind       EventKind    `json:"kind"`
	Recipients []Recipients `json:"recipients"`
	Urgent     bool         `json:"urgent,omitempty"`
	// Offset is the reminder or escalation distance that fired, if any.
	Offset *Offset `json:"offset,omitempty"`
}

// Transition is one state change of an instance: a timeline event, the
// projection after it, and the notices it sends. Applying it is idempotent on
// (InstanceID, Seq).
type Transition struct {
	InstanceID string     `json:"instance_id"`
	Seq        int64      `json:"seq"`
	At         time.Time  `json:"at"`
	Kind       EventKind  `json:"kind"`
	Actor      Actor      `json:"actor"`
	From       Status     `json:"from"`
	To         Status     `json:"to"`
	Step       int        `json:"step,omitempty"` // approval step concerned, 1-based
	Reason     string     `json:"reason,omitempty"`
	Note       string     `json:"note,omitempty"`
	Evidence   []Evidence `json:"evidence,omitempty"`
	NewDue     *time.Time `json:"new_due,omitempty"` // extension asked or granted
	// ToStep is the step a return sent the task back to (0: the unit).
	ToStep int `json:"to_step,omitempty"`
	// Person is who a step was handed to, or who was named 承办人.
	Person     *Person    `json:"person,omitempty"`
	Projection Projection `json:"projection"`
	Notices    []Notice   `json:"notices,omitempty"`
	// Spec is set on the first transition of an instance the launcher did not
	// record, so the store can create the row, and on a plan change, so the
	// row holds the spec as changed.
	Spec *TaskSpec `json:"spec,omitempty"`
	// Change is the plan change (文号) the transition carried out.
	Change *ChangeRef `json:"change,omitempty"`
}

// Clock maps real time to plan ("virtual") time. The zero Clock is the
// identity, as in production. A demo sets VirtualEpoch (plan time at
// RealEpoch) and a Scale: 1440 runs a plan day per real minute.
// virtual = VirtualEpoch + (now - RealEpoch) × Scale.
type Clock struct {
	Scale        float64   `json:"scale,omitempty"`
	VirtualEpoch time.Time `json:"virtual_epoch,omitempty"`
	RealEpoch    time.Time `json:"real_epoch,omitempty"`
}

func (c Clock) scale() float64 {
	if c.Scale <= 0 {
		return 1
	}
	return c.Scale
}

// Virtual returns the plan time at real time t.
func (c Clock) Virtual(t time.Time) time.Time {
	if c.VirtualEpoch.IsZero() {
		return t
	}
	return c.VirtualEpoch.Add(time.Duration(float64(t.Sub(c.RealEpoch)) * c.scale()))
}

// Real returns how long to wait in real time for d of plan time to pass.
func (c Clock) Real(d time.Duration) time.Duration {
	if c.VirtualEpoch.IsZero() {
		return d
	}
	return time.Duration(float64(d) / c.scale())
}
