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
//	     │                            ▲  ▲                │  decide: approve → next step,
//	     │                            │  └── withdraw ────┤          or completed after step n
//	     │                            └── decide: return ─┤  decide: return to step j < k
//	     │                                (reason)        │  hand_over, add_signer (加签)
//	     └─ cancel (admin above) ─► cancelled ◄───────────┘
//	While open: request_extension / decide_extension move the deadline;
//	urge (催办) by a supervisor or an approver above; name_assignee (承办人).

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
	ActionUrge             Action = "urge"          // 催办
	ActionWithdraw         Action = "withdraw"      // 撤回 a submission
	ActionHandOver         Action = "hand_over"     // 转交 a pending step
	ActionAddSigner        Action = "add_signer"    // 加签
	ActionNameAssignee     Action = "name_assignee" // 指定承办人
	// ActionAmend carries a plan change (文号) to the task: the province's
	// admins record it once for a template and Duban sends it to each open
	// instance; nobody takes it on one task.
	ActionAmend Action = "amend"
	// ActionMoveUnit moves a task to the unit its unit merged into (单位合并);
	// Duban sends it to each open task of the merged unit.
	ActionMoveUnit Action = "move_unit"
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
	// Chain is the approval chain as it now is (handed over, signers
	// added); nil means the spec's.
	Chain []ApprovalStep
	// Signed are the approvals the step waiting has collected so far.
	Signed []Actor
	// Urged lists the units that urged the task, and the day (YYYY-MM-DD,
	// plan time) each last did.
	Urged []Urging
	// Now is the plan time now.
	Now time.Time
}

// Urging is one unit's last urge of a task.
type Urging struct {
	Unit string `json:"unit"`
	Day  string `json:"day"`
}

// chain is the approval chain as it now is.
func (f Facts) chain() []ApprovalStep {
	if f.Chain != nil {
		return f.Chain
	}
	return f.Spec.Approval
}

// stepUnit is the step waiting.
func (f Facts) stepUnit() ApprovalStep {
	c := f.chain()
	if f.Step < 1 || f.Step > len(c) {
		return ApprovalStep{}
	}
	return c[f.Step-1]
}

// Input is what a request carries; each action reads its own fields.
type Input struct {
	Note     string
	Reason   string
	Value    *int
	Base     *int
	Evidence []Evidence
	Step     int  // the step decided, handed over or added to
	Approve  bool // decide, decide_extension
	NewDue   time.Time
	// ReturnTo is the earlier step a return sends the task back to; 0 the
	// unit (decide).
	ReturnTo int
	// To is the colleague a step is handed to, or named 承办人; the API
	// fills it from the user's row.
	To *Actor
	// ToUnit is the unit a step is handed to (the unit above), or the unit
	// a step is added for (加签).
	ToUnit *Signer
	// Before puts an added step before the approver's own (加签).
	Before bool
	// WithApprovers also tells the unit's approvers (催办).
	WithApprovers bool
	// Change is the plan change an amendment carries.
	Change *PlanChange
	// From is the merged unit a task moves from; ToUnit the unit it joined.
	From string
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
	overseer = []Role{RoleSupervisor, RoleApprover}
)

var lifecycle = map[Action]rule{
	ActionReportProgress: {"报告进展", official, []check{isOfficial, isOpen, isHeld,
		requestCheck(reportNotEmpty), checkNote, requestCheck(valueRange), requestCheck(baseRange),
		taskCheck(baseAllowed), taskCheck(valueWithinBase), taskCheck(evidenceValid)}},
	ActionSubmit: {"提交审批", official, []check{isOfficial, isOpen, isHeld,
		checkNote, taskCheck(evidenceValid), taskCheck(evidenceAttached), taskCheck(targetMet)}},
	ActionDecide: {"审批", approver, []check{isOpen, whoCheck(inApproval),
		requestCheck(stepGiven), taskCheck(stepWaiting), whoCheck(byStepApprover), check{task, notSignedYet},
		requestCheck(reasonWhenReturning), checkReasonText, requestCheck(returnToRequest), taskCheck(returnToEarlier)}},
	ActionRequestExtension: {"申请延期", official, []check{isOfficial, isOpen, whoCheck(noExtensionPending),
		requestCheck(extensionReason), checkReasonText, requestCheck(newDueInRange), taskCheck(newDueLater)}},
	ActionDecideExtension: {"审批延期", approver, []check{isOpen, whoCheck(extensionPending), whoCheck(byExtensionApprover),
		requestCheck(reasonWhenRefusingExtension), checkReasonText}},
	ActionCancel: {"撤销任务", admin, []check{whoCheck(byAdminAbove), isOpen,
		requestCheck(cancelReason), checkReasonText}},
	ActionUploadEvidence: {"上传佐证材料", official, []check{whoCheck(byOfficialToUpload), whoCheck(openToUpload)}},
	ActionUrge: {"催办", overseer, []check{isOpen, whoCheck(byOverseer),
		checkNote, check{task, notUrgedToday}}},
	ActionWithdraw: {"撤回", official, []check{isOfficial, isOpen, whoCheck(inApproval), whoCheck(stepUndecided),
		checkReasonText}},
	ActionHandOver: {"转交", approver, []check{isOpen, whoCheck(inApproval),
		requestCheck(stepGiven), taskCheck(stepWaiting), whoCheck(byStepApprover), requestCheck(handOverTarget), checkReasonText,
		check{task, handOverTargetValid}}},
	ActionAddSigner: {"加签", approver, []check{isOpen, whoCheck(inApproval), whoCheck(addSignerAllowed),
		requestCheck(stepGiven), taskCheck(stepWaiting), whoCheck(byStepApprover), requestCheck(addSignerRequest), checkReasonText,
		check{task, addedSignerValid}}},
	ActionNameAssignee: {"指定承办人", official, []check{isOfficial, isOpen, check{task, assigneeValid}}},
	ActionAmend: {"计划变更", admin, []check{whoCheck(byPlanAdmin), isOpen,
		requestCheck(changeValid), taskCheck(changeCovers)}},
	ActionMoveUnit: {"单位合并", admin, []check{whoCheck(byMergingAdmin), isOpen,
		requestCheck(moveTarget), checkReasonText, taskCheck(movesFromTaskUnit)}},
}

// actionOrder is the order actions are listed in.
var actionOrder = []Action{ActionReportProgress, ActionSubmit, ActionWithdraw, ActionRequestExtension, ActionNameAssignee,
	ActionDecide, ActionHandOver, ActionAddSigner, ActionDecideExtension, ActionUrge, ActionCancel}

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

// byStepApprover: an approver of one of the step's signer units (or the
// one approver it was handed to), or a delegate acting for one.
func byStepApprover(a Actor, f Facts) *Error {
	st := f.stepUnit()
	sig := a.Signature()
	if st.Assignee != nil {
		if sig.UserID != st.Assignee.UserID {
			return Errorf(EFORBIDDEN, "第 %d 步已转交给%s审批", f.Step, st.Assignee.Name)
		}
		return nil
	}
	if !sig.Has(RoleApprover) || !st.Signs(sig.UnitCode) {
		return Errorf(EFORBIDDEN, "第 %d 步应由%s的审核人审批", f.Step, signerNames(st))
	}
	return nil
}

// signerNames are a step's signer units, for messages: 芙蓉区, or 芙蓉区、天心区.
func signerNames(st ApprovalStep) string {
	var names []string
	for _, sg := range st.SignerList() {
		names = append(names, sg.UnitName)
	}
	return strings.Join(names, "、")
}

// notSignedYet: in a step that needs several signatures, each approver
// signs once, and a unit that has given what it must gives no more. A
// return is always possible.
func notSignedYet(a Actor, f Facts, in Input) *Error {
	if !in.Approve {
		return nil
	}
	sig := a.Signature()
	st := f.stepUnit()
	for _, s := range f.Signed {
		if s.UserID == sig.UserID {
			return Errorf(ECONFLICT, "您已签署第 %d 步，正在等待其他单位或审核人签署", f.Step)
		}
	}
	for _, sg := range st.SignerList() {
		if sg.Unit == sig.UnitCode && SignaturesOf(f.Signed, sg.Unit) >= sg.Need() {
			return Errorf(ECONFLICT, "%s已签署第 %d 步", sg.UnitName, f.Step)
		}
	}
	return nil
}

// SignaturesOf counts the different approvers of unit among signed.
func SignaturesOf(signed []Actor, unit string) int {
	seen := map[int64]bool{}
	for _, s := range signed {
		if s.UnitCode == unit {
			seen[s.UserID] = true
		}
	}
	return len(seen)
}

// StepComplete reports whether a step has the signatures it needs: one
// signer unit's (或签), or every signer unit's (会签).
func StepComplete(st ApprovalStep, signed []Actor) bool {
	signers := st.SignerList()
	done := 0
	for _, sg := range signers {
		if SignaturesOf(signed, sg.Unit) >= sg.Need() {
			done++
		}
	}
	if st.Mode == SignAll {
		return done == len(signers)
	}
	return done > 0
}

// Waiting lists the signer units a step still waits on.
func Waiting(st ApprovalStep, signed []Actor) []string {
	if StepComplete(st, signed) {
		return nil
	}
	var out []string
	for _, sg := range st.SignerList() {
		if SignaturesOf(signed, sg.Unit) < sg.Need() {
			out = append(out, sg.Unit)
		}
	}
	return out
}

func byOverseer(a Actor, f Facts) *Error {
	unit := f.Spec.UnitCode
	under := strings.HasPrefix(unit, a.UnitCode)
	if (a.Has(RoleSupervisor) && under) || (a.Has(RoleApprover) && under && a.UnitCode != unit) {
		return nil
	}
	return Errorf(EFORBIDDEN, "只有%s或上级单位的督查人、上级单位的审核人可以催办", f.Spec.UnitName)
}

// notUrgedToday: one urge per task per urging unit per day (plan time).
func notUrgedToday(a Actor, f Facts, _ Input) *Error {
	today := f.Now.In(Shanghai).Format("2006-01-02")
	for _, u := range f.Urged {
		if u.Unit == a.UnitCode && u.Day == today {
			next := f.Now.In(Shanghai).AddDate(0, 0, 1).Format("2006-01-02")
			return Errorf(ECONFLICT, "本单位今天已催办过此任务，%s 起可再次催办", next)
		}
	}
	return nil
}

func stepUndecided(_ Actor, f Facts) *Error {
	if len(f.Signed) > 0 {
		return Errorf(ECONFLICT, "第 %d 步已有审批意见，不能撤回", f.Step)
	}
	return nil
}

func handOverTarget(in Input) *Error {
	if (in.To == nil) == (in.ToUnit == nil) {
		return FieldError("to", "请选择转交给本单位的另一位审核人，或转交上一级单位")
	}
	return nil
}

func handOverTargetValid(a Actor, f Facts, in Input) *Error {
	sig := a.Signature()
	if in.To != nil {
		if in.To.UnitCode != sig.UnitCode || !in.To.Has(RoleApprover) || in.To.UserID == sig.UserID {
			return FieldError("to", "只能转交给本单位的另一位审核人")
		}
		return nil
	}
	parent := ParentCode(sig.UnitCode)
	if in.ToUnit.Unit != parent || parent == "" {
		return FieldError("to", "只能转交给本单位的另一位审核人，或上一级单位")
	}
	if f.stepUnit().Signs(parent) {
		return &Error{Code: ECONFLICT, Field: "to", Message: fmt.Sprintf("%s已是第 %d 步的签署单位", in.ToUnit.UnitName, f.Step)}
	}
	return nil
}

func addSignerAllowed(_ Actor, f Facts) *Error {
	if f.Spec.NoAddSigner {
		return Errorf(EFORBIDDEN, "此任务的审批链不允许加签")
	}
	return nil
}

func addSignerRequest(in Input) *Error {
	if in.ToUnit == nil || in.ToUnit.Unit == "" {
		return FieldError("unit", "请选择加签的单位")
	}
	if strings.TrimSpace(in.Reason) == "" {
		return FieldError("reason", "加签必须填写理由")
	}
	return nil
}

func addedSignerValid(a Actor, f Facts, in Input) *Error {
	own := a.Signature().UnitCode
	target := in.ToUnit.Unit
	peer := target != own && ParentCode(target) == ParentCode(own) && ParentCode(own) != ""
	if !peer && target != ParentCode(own) {
		return FieldError("unit", "加签只能加同级单位或上一级单位")
	}
	if len(f.chain()) >= MaxApprovalSteps {
		return FieldError("unit", "审批链最多 %d 步", MaxApprovalSteps)
	}
	if f.stepUnit().Signs(target) {
		return &Error{Code: ECONFLICT, Field: "unit", Message: fmt.Sprintf("%s已是第 %d 步的签署单位", in.ToUnit.UnitName, f.Step)}
	}
	if in.Before && len(f.Signed) > 0 {
		return &Error{Code: ECONFLICT, Field: "before", Message: fmt.Sprintf("第 %d 步已有签署意见，只能在本步之后加签", f.Step)}
	}
	return nil
}

func assigneeValid(_ Actor, f Facts, in Input) *Error {
	if in.To == nil {
		return nil // cleared: the unit's officials again
	}
	if in.To.UnitCode != f.Spec.UnitCode || !in.To.Has(RoleOfficial) {
		return FieldError("to", "承办人应为%s的承办人", f.Spec.UnitName)
	}
	return nil
}

func returnToRequest(in Input) *Error {
	switch {
	case in.ReturnTo < 0 || in.ReturnTo > MaxApprovalSteps:
		return FieldError("return_to", "退回步骤无效")
	case in.Approve && in.ReturnTo != 0:
		return FieldError("return_to", "通过时不能指定退回步骤")
	}
	return nil
}

func returnToEarlier(f Facts, in Input) *Error {
	if in.ReturnTo > 0 && in.ReturnTo >= f.Step {
		return FieldError("return_to", "只能退回到第 %d 步之前的步骤，或退回承办单位", f.Step)
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

func byPlanAdmin(a Actor, f Facts) *Error {
	if !a.Has(RoleAdmin) || !strings.HasPrefix(f.Spec.UnitCode, a.UnitCode) {
		return Errorf(EFORBIDDEN, "只有管理员可以变更计划")
	}
	return nil
}

func byMergingAdmin(a Actor, f Facts) *Error {
	if !a.Has(RoleAdmin) || !strings.HasPrefix(f.Spec.UnitCode, a.UnitCode) || a.UnitCode == f.Spec.UnitCode {
		return Errorf(EFORBIDDEN, "只有上级单位的管理员可以合并单位")
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

func changeValid(in Input) *Error {
	if in.Change == nil {
		return FieldError("change", "缺少计划变更内容")
	}
	if errs := in.Change.Check(); len(errs) > 0 {
		return errs[0]
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

func moveTarget(in Input) *Error {
	if in.From == "" || in.ToUnit == nil || in.ToUnit.Unit == "" || in.ToUnit.Unit == in.From {
		return FieldError("into", "请选择合并到的单位")
	}
	return nil
}

func movesFromTaskUnit(f Facts, in Input) *Error {
	if f.Spec.UnitCode != in.From {
		return Errorf(EINVALID, "此任务不属于被合并的单位")
	}
	return nil
}

func changeCovers(f Facts, in Input) *Error {
	if !in.Change.Covers(*f.Spec) {
		return Errorf(EINVALID, "计划变更（%s）不适用于此任务", in.Change.DocNo)
	}
	return nil
}

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
