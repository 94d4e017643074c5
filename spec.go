package duban

import "time"

// Offset is a distance in days, in calendar days or in working days
// (weekends and statutory holidays skipped, make-up days counted). Plan files
// write it as "3d" or "5wd".
type Offset struct {
	Days    int  `json:"days"`
	Working bool `json:"working,omitempty"`
}

// Kind is the shape of an obligation.
type Kind string

// Kinds of task template.
const (
	KindDeadline  Kind = "deadline"  // done once by a date
	KindCount     Kind = "count"     // reach a number (e.g. 1 training) by a date
	KindRatio     Kind = "ratio"     // cover a share of child units (e.g. ≥ 1/3 of villages)
	KindEvent     Kind = "event"     // hold an event on a given day
	KindRecurring Kind = "recurring" // one obligation per period (e.g. each quarter)
)

// Kinds lists every kind.
var Kinds = []Kind{KindDeadline, KindCount, KindRatio, KindEvent, KindRecurring}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Label is the Chinese name of the kind.
func (k Kind) Label() string {
	switch k {
	case KindDeadline:
		return "限期完成"
	case KindCount:
		return "数量目标"
	case KindRatio:
		return "覆盖比例"
	case KindEvent:
		return "定日活动"
	case KindRecurring:
		return "定期任务"
	}
	return string(k)
}

// Recipients are the people holding some roles at one unit, or, when
// UserID is set, that one person (if they still hold one of the roles
// there).
type Recipients struct {
	Unit   string `json:"unit"`
	Roles  []Role `json:"roles"`
	UserID int64  `json:"user_id,omitempty"`
}

// Person names one user: who a step was handed to, who holds a task.
type Person struct {
	UserID   int64  `json:"user_id"`
	Name     string `json:"name"`
	UnitCode string `json:"unit_code"`
}

// EscalationStep notifies more people once a deadline or SLA is passed by After.
type EscalationStep struct {
	After  Offset       `json:"after"`
	Notify []Recipients `json:"notify"`
}

// ApprovalStep is one sign-off in an instance's chain, resolved to the unit
// whose approver decides it (or, with Signers, the units who sign it
// together).
type ApprovalStep struct {
	Unit       string           `json:"unit"`
	UnitName   string           `json:"unit_name"`
	SLA        Offset           `json:"sla"`
	Reminders  []Offset         `json:"reminders,omitempty"` // before the SLA ends
	Escalation []EscalationStep `json:"escalation,omitempty"`
	// Signers, when set, are the units who sign this step (Unit is the
	// first of them), and Mode says whether all must approve (会签) or any
	// one may (或签). Empty: Unit's approvers, any one of them.
	Signers []Signer `json:"signers,omitempty"`
	Mode    SignMode `json:"mode,omitempty"`
	// Assignee, when set, is the one approver this step was handed to.
	Assignee *Person `json:"assignee,omitempty"`
	// Added says an approver inserted this step (加签): who, and why.
	Added *Addition `json:"added,omitempty"`
}

// Signer is a unit whose approvers sign a step; Required is how many
// different approvers of it must approve (default 1).
type Signer struct {
	Unit     string `json:"unit"`
	UnitName string `json:"unit_name"`
	Required int    `json:"required,omitempty"`
}

// Need is how many approvals the signer gives.
func (s Signer) Need() int { return max(s.Required, 1) }

// SignMode says how a step with several signers completes.
type SignMode string

// Modes.
const (
	SignAny SignMode = "any" // 或签: any one signer's approval completes the step
	SignAll SignMode = "all" // 会签: every signer must approve; one return returns the task
)

// Label is the Chinese name of the mode.
func (m SignMode) Label() string {
	if m == SignAll {
		return "会签"
	}
	return "或签"
}

// Addition records who inserted a step, and why.
type Addition struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// SignerList is who signs the step: its Signers, or its Unit alone.
func (s ApprovalStep) SignerList() []Signer {
	if len(s.Signers) == 0 {
		return []Signer{{Unit: s.Unit, UnitName: s.UnitName, Required: 1}}
	}
	return s.Signers
}

// Signs reports whether unit is one of the step's signers.
func (s ApprovalStep) Signs(unit string) bool {
	for _, sg := range s.SignerList() {
		if sg.Unit == unit {
			return true
		}
	}
	return false
}

// Ratio is a share of child units to cover: Num/Den of the units at level Of
// below the responsible unit. Base is their number when the hierarchy knows it;
// 0 means the official reports it.
type Ratio struct {
	Num  int   `json:"num"`
	Den  int   `json:"den"`
	Of   Level `json:"of"`
	Base int   `json:"base,omitempty"`
}

// Met reports whether value covered units out of base satisfy the ratio.
func (r Ratio) Met(value, base int) bool {
	return base > 0 && value*r.Den >= r.Num*base
}

// TaskSpec is one task instance fully resolved from its template: everything
// its workflow needs, so the workflow never consults the plan or hierarchy.
type TaskSpec struct {
	ID           string `json:"id"` // also the workflow id, e.g. 2021/2.1/430102
	PlanID       string `json:"plan_id"`
	Year         int    `json:"year"`
	TemplateID   string `json:"template_id"`
	Section      string `json:"section"`
	SectionTitle string `json:"section_title,omitempty"`
	Title        string `json:"title"`
	Quote        string `json:"quote"`
	Kind         Kind   `json:"kind"`
	Period       string `json:"period,omitempty"` // Q1..Q4, H1, M01..; empty for one-off

	UnitCode  string `json:"unit_code"`
	UnitName  string `json:"unit_name"`
	UnitLevel Level  `json:"unit_level"`

	Due      time.Time `json:"due"`                 // the deadline instant (23:59:59 of the due day)
	DueBasis string    `json:"due_basis,omitempty"` // stated, or year_end when the document names no date
	DueNote  string    `json:"due_note,omitempty"`  // the plan's explanation of the due rule
	Target   int       `json:"target,omitempty"`    // count kind
	Ratio    *Ratio    `json:"ratio,omitempty"`     // ratio kind

	Reminders              []Offset         `json:"reminders,omitempty"` // before Due
	RemindersOnWorkingDays bool             `json:"reminders_on_working_days,omitempty"`
	Escalation             []EscalationStep `json:"escalation,omitempty"` // after Due
	Approval               []ApprovalStep   `json:"approval"`
	ExtensionUnit          string           `json:"extension_unit"` // whose approver decides extensions

	EvidenceRequired bool   `json:"evidence_required,omitempty"`
	EvidenceNote     string `json:"evidence_note,omitempty"`
	// NoAddSigner forbids approvers to insert steps (加签).
	NoAddSigner bool `json:"no_add_signer,omitempty"`
	// Changes are the plan changes applied to the instance (PlanChange.ID),
	// at its launch or since.
	Changes []int64 `json:"changes,omitempty"`
}
