package duban

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The task lifecycle, in one table: which actions exist, who may take each
// in which state, what each request must hold, and the Chinese sentence
// that refuses it. The workflow's validators, the API's list of actions a
// person may take, and the API's request checks all ask this table;
// nothing else decides.
//
//	              report_progress            submit
//	  assigned ──────────────────► in_progress ──────► submitted (step 1 … n)
//	     │                            ▲                   │  decide: approve → next step,
//	     │                            └───────────────────┤          or completed after step n
//	     │                                  decide: reject│          (reason required)
//	     └─ cancel (admin above) ─► cancelled ◄───────────┘
//	request_extension / decide_extension: while open, moving the deadline.

// Action is something a person does to a task.
type Action string

// Actions. The workflow's Update names are the same strings.
const (
	ActionReportProgress   Action = "report_progress"
	ActionSubmit           Action = "submit"
	ActionDecide           Action = "decide"
	ActionRequestExtension Action = "request_extension"
	ActionDecideExtension  Action = "decide_extension"
	ActionCancel           Action = "cancel"
	// ActionUploadEvidence attaches files without reporting (API only).
	ActionUploadEvidence Action = "upload_evidence"
)

// Facts are what the lifecycle needs to know of a task: the workflow
// builds them from its state, the API from the projection row.
type Facts struct {
	Spec         *TaskSpec
	Status       Status
	Due          time.Time // the deadline now (an extension may have moved it)
	Step         int       // the 1-based approval step waiting, 0 when none
	Progress     int
	ProgressBase int
	Evidence     int // files attached so far
	Extension    bool
}

// stepUnit is the unit deciding the step waiting.
func (f Facts) stepUnit() ApprovalStep {
	if f.Step < 1 || f.Step > len(f.Spec.Approval) {
		return ApprovalStep{}
	}
	return f.Spec.Approval[f.Step-1]
}

// Input is what a request carries; each action reads its own fields.
type Input struct {
	Note     string
	Reason   string
	Value    *int
	Base     *int
	Evidence []Evidence
	Step     int  // the step decided (decide)
	Approve  bool // decide, decide_extension
	NewDue   time.Time
}

// A check passes (nil) or refuses with an application error naming, where
// it can, the request field at fault. Its phase says what it reads.
type check struct {
	phase phase
	fn    func(a Actor, f Facts, in Input) *Error
}

type phase int

const (
	// who and when: the actor and the task, not the request. The API lists
	// the actions whose who-checks pass.
	who phase = iota
	// the request alone: the API runs these at the edge, naming every
	// field at fault, and the workflow runs them again.
	request
	// the request against the task (targets, evidence, dates, the step):
	// only the workflow, which holds the true state, runs them.
	task
)

func whoCheck(fn func(a Actor, f Facts) *Error) check {
	return check{who, func(a Actor, f Facts, _ Input) *Error { return fn(a, f) }}
}

func requestCheck(fn func(in Input) *Error) check {
	return check{request, func(_ Actor, _ Facts, in Input) *Error { return fn(in) }}
}

func taskCheck(fn func(f Facts, in Input) *Error) check {
	return check{task, func(_ Actor, f Facts, in Input) *Error { return fn(f, in) }}
}

// rule is one row of the table: the roles that may ever take the action
// (the API turns away anyone else before looking at the task), and the
// checks in the order they are told.
type rule struct {
	label  string
	roles  []Role
	checks []check
}

var (
	isOpen          = whoCheck(open)
	isOfficial      = whoCheck(byOfficial)
	isHeld          = whoCheck(heldByUnit)
	checkNote       = requestCheck(noteText)
	checkReasonText = requestCheck(reasonText)
)

var (
	official = []Role{RoleOfficial}
	approver = []Role{RoleApprover}
	admin    = []Role{RoleAdmin}
)

var lifecycle = map[Action]rule{
	ActionReportProgress: {"报告进展", official, []check{isOfficial, isOpen, isHeld,
		requestCheck(reportNotEmpty), checkNote, requestCheck(valueRange), requestCheck(baseRange),
		taskCheck(baseAllowed), taskCheck(valueWithinBase), taskCheck(evidenceValid)}},
	ActionSubmit: {"提交审批", official, []check{isOfficial, isOpen, isHeld,
		checkNote, taskCheck(evidenceValid), taskCheck(evidenceAttached), taskCheck(targetMet)}},
	ActionDecide: {"审批", approver, []check{isOpen, whoCheck(inApproval),
		requestCheck(stepGiven), taskCheck(stepWaiting), whoCheck(byStepApprover),
		requestCheck(reasonWhenReturning), checkReasonText}},
	ActionRequestExtension: {"申请延期", official, []check{isOfficial, isOpen, whoCheck(noExtensionPending),
		requestCheck(extensionReason), checkReasonText, requestCheck(newDueInRange), taskCheck(newDueLater)}},
	ActionDecideExtension: {"审批延期", approver, []check{isOpen, whoCheck(extensionPending), whoCheck(byExtensionApprover),
		requestCheck(reasonWhenRefusingExtension), checkReasonText}},
	ActionCancel: {"撤销任务", admin, []check{whoCheck(byAdminAbove), isOpen,
		requestCheck(cancelReason), checkReasonText}},
	ActionUploadEvidence: {"上传佐证材料", official, []check{whoCheck(byOfficialToUpload), whoCheck(openToUpload)}},
}

// actionOrder is the order actions are listed in.
var actionOrder = []Action{ActionReportProgress, ActionSubmit, ActionRequestExtension, ActionDecide, ActionDecideExtension, ActionCancel}

// Roles are the roles that may ever take the action.
func (a Action) Roles() []Role { return lifecycle[a].roles }

// Label is the action's Chinese name.
func (a Action) Label() string {
	if r, ok := lifecycle[a]; ok {
		return r.label
	}
	return string(a)
}

// Permit reports whether actor may take action on the task now, as far as
// who and when go: nil, or the refusal (conflict, forbidden) with its
// Chinese message.
func Permit(action Action, actor Actor, f Facts) error {
	return run(action, actor, f, Input{}, who)
}

// Allowed lists the actions actor may take on the task now, for the UI to
// offer (the workflow decides in the end).
func Allowed(actor Actor, f Facts) []Action {
	out := []Action{}
	for _, a := range actionOrder {
		if Permit(a, actor, f) == nil {
			out = append(out, a)
		}
	}
	return out
}

// CheckRequest checks a request on its own, before the task is consulted:
// every problem, each naming its field. The API answers them all at once.
func CheckRequest(action Action, in Input) []*Error {
	var out []*Error
	for _, c := range lifecycle[action].checks {
		if c.phase != request {
			continue
		}
		if err := c.fn(Actor{}, Facts{}, in); err != nil {
			out = append(out, err)
		}
	}
	return out
}

// Validate is the whole decision, as the workflow's validator makes it:
// who and when, the request, and the request against the task, in the
// table's order. It returns the first refusal.
func Validate(action Action, actor Actor, f Facts, in Input) error {
	return run(action, actor, f, in, who, request, task)
}

func run(action Action, actor Actor, f Facts, in Input, phases ...phase) error {
	r, ok := lifecycle[action]
	if !ok {
		return Errorf(EINVALID, "未知操作 %s", action)
	}
	for _, c := range r.checks {
		if !slices.Contains(phases, c.phase) {
			continue
		}
		if err := c.fn(actor, f, in); err != nil {
			return err
		}
	}
	return nil
}

// --- who and when ---

func open(_ Actor, f Facts) *Error {
	switch f.Status {
	case StatusCompleted:
		return Errorf(ECONFLICT, "任务已办结，不能再操作")
	case StatusCancelled:
		return Errorf(ECONFLICT, "任务已撤销，不能再操作")
	}
	return nil
}

func byOfficial(a Actor, f Facts) *Error {
	if a.UnitCode != f.Spec.UnitCode || !a.Has(RoleOfficial) {
		return Errorf(EFORBIDDEN, "只有%s的承办人可以办理此任务", f.Spec.UnitName)
	}
	return nil
}

func heldByUnit(_ Actor, f Facts) *Error {
	if f.Status == StatusSubmitted {
		return Errorf(ECONFLICT, "任务正在审批中（第 %d 步），请等待审批结果", f.Step)
	}
	return nil
}

func inApproval(_ Actor, f Facts) *Error {
	if f.Status != StatusSubmitted {
		return Errorf(ECONFLICT, "任务当前不在审批中（%s）", f.Status.Label())
	}
	return nil
}

// byStepApprover: the approvers of the unit deciding the step waiting.
func byStepApprover(a Actor, f Facts) *Error {
	st := f.stepUnit()
	if !a.Has(RoleApprover) || a.UnitCode != st.Unit {
		return Errorf(EFORBIDDEN, "第 %d 步应由%s的审核人审批", f.Step, st.UnitName)
	}
	return nil
}

func noExtensionPending(_ Actor, f Facts) *Error {
	if f.Extension {
		return Errorf(ECONFLICT, "已有延期申请等待审批")
	}
	return nil
}

func extensionPending(_ Actor, f Facts) *Error {
	if !f.Extension {
		return Errorf(ECONFLICT, "没有待审批的延期申请")
	}
	return nil
}

func byExtensionApprover(a Actor, f Facts) *Error {
	if a.UnitCode != f.Spec.ExtensionUnit || !a.Has(RoleApprover) {
		return Errorf(EFORBIDDEN, "延期申请应由上一级单位的审核人审批")
	}
	return nil
}

// byAdminAbove: the admins of the task's unit or of a unit above it (a
// division code is a prefix of every code under it).
func byAdminAbove(a Actor, f Facts) *Error {
	if !a.Has(RoleAdmin) || !strings.HasPrefix(f.Spec.UnitCode, a.UnitCode) {
		return Errorf(EFORBIDDEN, "只有管理员可以撤销任务")
	}
	return nil
}

func byOfficialToUpload(a Actor, f Facts) *Error {
	if a.UnitCode != f.Spec.UnitCode || !a.Has(RoleOfficial) {
		return Errorf(EFORBIDDEN, "只有%s的承办人可以上传佐证材料", f.Spec.UnitName)
	}
	return nil
}

func openToUpload(_ Actor, f Facts) *Error {
	if f.Status.Finished() {
		return Errorf(ECONFLICT, "任务已%s，不能再上传佐证材料", strings.TrimPrefix(f.Status.Label(), "已"))
	}
	return nil
}

// --- the request ---

func reportNotEmpty(in Input) *Error {
	if in.Value == nil && in.Base == nil && strings.TrimSpace(in.Note) == "" && len(in.Evidence) == 0 {
		return FieldError("note", "进展报告不能为空：请填写进度、说明或上传佐证材料")
	}
	return nil
}

func noteText(in Input) *Error { return textField("note", "说明", in.Note, MaxNoteLength) }

func reasonText(in Input) *Error {
	return textField("reason", "理由", in.Reason, MaxReasonLength)
}

func textField(field, what, s string, max int) *Error {
	if msg := TextProblem(s, max, true); msg != "" {
		return FieldError(field, "%s%s", what, msg)
	}
	return nil
}

func valueRange(in Input) *Error {
	if in.Value != nil && (*in.Value < 0 || *in.Value > MaxCount) {
		return FieldError("value", "进度应为 0 到 %d 的整数", MaxCount)
	}
	return nil
}

func baseRange(in Input) *Error {
	if in.Base != nil && (*in.Base < 1 || *in.Base > MaxCount) {
		return FieldError("base", "基数应为 1 到 %d 的整数", MaxCount)
	}
	return nil
}

func stepGiven(in Input) *Error {
	if in.Step < 1 || in.Step > MaxApprovalSteps {
		return FieldError("step", "步骤应为 1 到 %d 的整数", MaxApprovalSteps)
	}
	return nil
}

func reasonWhenReturning(in Input) *Error {
	if !in.Approve && strings.TrimSpace(in.Reason) == "" {
		return FieldError("reason", "退回时必须填写理由")
	}
	return nil
}

func reasonWhenRefusingExtension(in Input) *Error {
	if !in.Approve && strings.TrimSpace(in.Reason) == "" {
		return FieldError("reason", "不同意延期时必须填写理由")
	}
	return nil
}

func extensionReason(in Input) *Error {
	if strings.TrimSpace(in.Reason) == "" {
		return FieldError("reason", "申请延期必须填写理由")
	}
	return nil
}

func cancelReason(in Input) *Error {
	if strings.TrimSpace(in.Reason) == "" {
		return FieldError("reason", "撤销必须填写理由")
	}
	return nil
}

func newDueInRange(in Input) *Error {
	if !DateInRange(in.NewDue) {
		return FieldError("new_due", "新的截止日期无效：%s", DateRangeProblem())
	}
	return nil
}

// --- the request against the task ---

func baseAllowed(f Facts, in Input) *Error {
	if in.Base != nil && (f.Spec.Ratio == nil || f.Spec.Ratio.Base != 0) {
		return FieldError("base", "此任务的基数由系统确定，不需填写")
	}
	return nil
}

func valueWithinBase(f Facts, in Input) *Error {
	if in.Value == nil || f.Spec.Ratio == nil {
		return nil
	}
	base := f.ProgressBase
	if in.Base != nil {
		base = *in.Base
	}
	if base > 0 && *in.Value > base {
		return FieldError("value", "已覆盖数 %d 超过总数 %d", *in.Value, base)
	}
	return nil
}

func evidenceValid(f Facts, in Input) *Error {
	if f.Evidence+len(in.Evidence) > MaxEvidence {
		return FieldError("evidence", "一项任务最多附 %d 个佐证材料", MaxEvidence)
	}
	for _, e := range in.Evidence {
		if len(e.SHA256) != 64 || e.Name == "" || e.Size < 0 || TextProblem(e.Name, MaxNameLength, false) != "" || HasControl(e.ContentType) {
			return FieldError("evidence", "佐证材料 %q 无效", strings.ToValidUTF8(strings.Map(printable, e.Name), ""))
		}
	}
	return nil
}

// printable drops control characters, for quoting a bad value back.
func printable(r rune) rune {
	if HasControl(string(r)) {
		return -1
	}
	return r
}

func evidenceAttached(f Facts, in Input) *Error {
	if f.Spec.EvidenceRequired && f.Evidence+len(in.Evidence) == 0 {
		note := f.Spec.EvidenceNote
		if note == "" {
			note = "佐证材料"
		}
		return FieldError("evidence", "此任务须附佐证材料（%s）才能提交", note)
	}
	return nil
}

func targetMet(f Facts, _ Input) *Error {
	switch f.Spec.Kind {
	case KindCount:
		if f.Progress < f.Spec.Target {
			return Errorf(EINVALID, "目标为 %d，当前进度 %d，未达到目标不能提交", f.Spec.Target, f.Progress)
		}
	case KindRatio:
		r := *f.Spec.Ratio
		if !r.Met(f.Progress, f.ProgressBase) {
			return Errorf(EINVALID, "须覆盖 %d/%d 以上，当前 %d/%d，未达到目标不能提交", r.Num, r.Den, f.Progress, f.ProgressBase)
		}
	}
	return nil
}

func stepWaiting(f Facts, in Input) *Error {
	if in.Step == f.Step {
		return nil
	}
	if in.Step >= 1 && in.Step < f.Step {
		return &Error{Code: ECONFLICT, Field: "step", Message: fmt.Sprintf("第 %d 步已审批，当前等待第 %d 步", in.Step, f.Step)}
	}
	return &Error{Code: ECONFLICT, Field: "step", Message: fmt.Sprintf("当前等待第 %d 步审批，不是第 %d 步", f.Step, in.Step)}
}

func newDueLater(f Facts, in Input) *Error {
	newDue := DayEnd(in.NewDue)
	if !newDue.After(f.Due) {
		return FieldError("new_due", "新的截止日期必须晚于当前截止日期 %s", f.Due.In(Shanghai).Format("2006-01-02"))
	}
	if latest := f.Due.AddDate(0, 0, MaxExtensionDays); newDue.After(latest) {
		return FieldError("new_due", "一次延期不能超过 %d 天：新的截止日期最晚为 %s", MaxExtensionDays, latest.In(Shanghai).Format("2006-01-02"))
	}
	return nil
}

// DayEnd is the end of t's day in Asia/Shanghai: when a deadline on that
// day ends.
func DayEnd(t time.Time) time.Time {
	d := t.In(Shanghai)
	return EndOfDay(d.Year(), d.Month(), d.Day())
}
