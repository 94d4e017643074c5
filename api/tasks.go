package api

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

// Task lights. A finished task is grey; an open one past its deadline red;
// one still with the unit (assigned or in progress) and due within
// dueSoon plan days yellow; anything else green.
const (
	lightRed    = "red"
	lightYellow = "yellow"
	lightGreen  = "green"
	lightGrey   = "grey"
	dueSoon     = 7 * 24 * time.Hour
)

var lightLabels = map[string]string{lightRed: "已逾期", lightYellow: "临近截止", lightGreen: "正常", lightGrey: "已结束"}

// unitRef names a unit for display.
type unitRef struct {
	Code       string      `json:"code"`
	Name       string      `json:"name"`
	Level      duban.Level `json:"level,omitempty"`
	LevelLabel string      `json:"level_label,omitempty"`
}

// taskView is an instance as lists show it: everything for a row with a
// countdown and a light, labels in Chinese.
type taskView struct {
	ID               string       `json:"id"`
	PlanID           string       `json:"plan_id"`
	Year             int          `json:"year"`
	TemplateID       string       `json:"template_id"`
	Section          string       `json:"section"`
	SectionTitle     string       `json:"section_title,omitempty"`
	Title            string       `json:"title"`
	Kind             duban.Kind   `json:"kind"`
	KindLabel        string       `json:"kind_label"`
	Period           string       `json:"period,omitempty"`
	PeriodLabel      string       `json:"period_label,omitempty"`
	Unit             unitRef      `json:"unit"`
	Status           duban.Status `json:"status"`
	StatusLabel      string       `json:"status_label"`
	Due              time.Time    `json:"due"`
	SecondsLeft      int64        `json:"seconds_left"` // plan time to the deadline; negative once past
	DaysLeft         int          `json:"days_left"`    // whole plan days left (0 on the last day), negative once past
	Overdue          bool         `json:"overdue"`
	OverdueSince     *time.Time   `json:"overdue_since,omitempty"`
	DaysLate         int          `json:"days_late,omitempty"`
	Light            string       `json:"light"`
	LightLabel       string       `json:"light_label"`
	CurrentStep      int          `json:"current_step"`
	StepCount        int          `json:"step_count"`
	ApproverUnit     *unitRef     `json:"approver_unit,omitempty"`
	StepDue          *time.Time   `json:"step_due,omitempty"`
	StepSecondsLeft  *int64       `json:"step_seconds_left,omitempty"`
	Progress         int          `json:"progress"`
	ProgressBase     int          `json:"progress_base"`
	Escalation       int          `json:"escalation"`
	ExtensionPending bool         `json:"extension_pending"`
	Seq              int64        `json:"seq"`
	AssignedAt       time.Time    `json:"assigned_at"`
	UpdatedAt        time.Time    `json:"updated_at"`
	CompletedAt      *time.Time   `json:"completed_at,omitempty"`
	// Returned says an approver sent the task back and the unit has not
	// submitted it again; LastReason is why.
	Returned   bool   `json:"returned"`
	LastReason string `json:"last_reason,omitempty"`
	// Extension is the pending extension request, if any.
	Extension *extensionView `json:"extension,omitempty"`
	// How often the task was urged (催办), and when last.
	UrgeCount   int        `json:"urge_count"`
	LastUrgedAt *time.Time `json:"last_urged_at,omitempty"`
	// Assignee is the 承办人 the unit named.
	Assignee *duban.Person `json:"assignee,omitempty"`
	// WaitingUnits are the units the step waiting waits on (several in
	// 会签/或签); WaitingFor the one approver it was handed to.
	WaitingUnits []unitRef   `json:"waiting_units,omitempty"`
	WaitingFor   *unitPerson `json:"waiting_for,omitempty"`
	// JointStep says the step waiting is signed by several units or
	// approvers together (会签/或签).
	JointStep bool `json:"joint_step,omitempty"`
}

// unitPerson is a person named on a task.
type unitPerson struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// taskViews are the list items of rows, at the same plan time.
func (s *server) taskViews(rows []store.Instance) []taskView {
	now := s.planNow()
	views := make([]taskView, len(rows))
	for i, r := range rows {
		views[i] = s.taskView(r, now)
	}
	return views
}

func (s *server) taskView(in store.Instance, now time.Time) taskView {
	v := taskView{
		ID: in.ID, PlanID: in.PlanID, Year: in.Year, TemplateID: in.TemplateID, Section: in.Section, SectionTitle: in.Spec.SectionTitle,
		Title: in.Title, Kind: in.Kind, KindLabel: in.Kind.Label(), Period: in.Period, PeriodLabel: plan.PeriodLabel(in.Period),
		Unit:   unitRef{Code: in.UnitCode, Name: in.UnitName, Level: in.UnitLevel, LevelLabel: in.UnitLevel.Label()},
		Status: in.Status, StatusLabel: in.Status.Label(), Due: in.Due,
		CurrentStep: in.CurrentStep, StepCount: in.StepCount, StepDue: in.StepDue, Progress: in.Progress, ProgressBase: in.ProgressBase,
		Escalation: in.Escalation, ExtensionPending: in.Extension, Seq: in.Seq, AssignedAt: in.AssignedAt, UpdatedAt: in.UpdatedAt,
		CompletedAt: in.CompletedAt, Returned: in.LastReason != "", LastReason: in.LastReason,
	}
	if in.Extension && in.ExtensionNewDue != nil {
		v.Extension = &extensionView{NewDue: *in.ExtensionNewDue, Reason: in.ExtensionReason, RequestedBy: in.ExtensionRequestedBy}
		if in.ExtensionRequestedAt != nil {
			v.Extension.RequestedAt = *in.ExtensionRequestedAt
		}
	}
	left := in.Due.Sub(now)
	v.SecondsLeft = int64(left.Seconds())
	v.DaysLeft = int(left.Hours() / 24) // toward zero: -2 when two days late, as days_late
	open := !in.Status.Finished()
	if in.OverdueSince != nil && open {
		v.Overdue, v.OverdueSince = true, in.OverdueSince
		v.DaysLate = int(now.Sub(*in.OverdueSince).Hours() / 24)
	}
	switch {
	case !open:
		v.Light = lightGrey
	case v.Overdue || left < 0:
		v.Light = lightRed
	case in.Status != duban.StatusSubmitted && left < dueSoon:
		v.Light = lightYellow
	default:
		v.Light = lightGreen
	}
	v.LightLabel = lightLabels[v.Light]
	v.UrgeCount, v.LastUrgedAt, v.Assignee = in.UrgeCount, in.LastUrgedAt, in.Assignee
	if chain := in.ApprovalChain(); in.ApproverUnit != nil && in.CurrentStep >= 1 && in.CurrentStep <= len(chain) {
		st := chain[in.CurrentStep-1]
		v.ApproverUnit = &unitRef{Code: st.Unit, Name: st.UnitName}
		v.JointStep = len(st.Signers) > 0
		for _, sg := range st.SignerList() {
			for _, w := range in.WaitingUnits {
				if w == sg.Unit {
					v.WaitingUnits = append(v.WaitingUnits, unitRef{Code: sg.Unit, Name: sg.UnitName})
				}
			}
		}
		if st.Assignee != nil {
			v.WaitingFor = &unitPerson{ID: st.Assignee.UserID, Name: st.Assignee.Name}
		}
	}
	if in.StepDue != nil && in.Status == duban.StatusSubmitted {
		secs := int64(in.StepDue.Sub(now).Seconds())
		v.StepSecondsLeft = &secs
	}
	return v
}

// listTasks lists tasks of a unit (the caller's by default), most urgent
// first: by deadline, then id, with a keyset cursor.
func (s *server) listTasks(c *fiber.Ctx) error {
	p, unit, err := s.scopeUnit(c)
	if err != nil {
		return err
	}
	f := store.InstanceFilter{Unit: unit.Code, PlanID: c.Query("plan"), Section: c.Query("section")}
	sub, err := input.BoolParam(c, "subtree")
	if err != nil {
		return err
	}
	if sub != nil && *sub {
		if !p.seesSubtree() {
			return apiError(duban.EFORBIDDEN, "承办人只能查看本单位的任务")
		}
		f.Subtree = true
	}
	if lvl := c.Query("level"); lvl != "" {
		if !duban.Level(lvl).Valid() {
			return input.Invalid("参数有误", input.FieldError{Field: "level", Message: "层级应为 province、city、county、township 之一"})
		}
		f.Level = duban.Level(lvl)
	}
	if f.Statuses, err = statusParam(c); err != nil {
		return err
	}
	if y, ok, err := input.IntParam(c, "year", 2000, 2100); err != nil {
		return err
	} else if ok {
		f.Year = y
	}
	before, err := input.DateParam(c, "due_before")
	if err != nil {
		return err
	}
	if before != nil {
		end := before.AddDate(0, 0, 1) // due on or before that day
		f.DueBefore = &end
	}
	if f.Overdue, err = input.BoolParam(c, "overdue"); err != nil {
		return err
	}
	limit, err := input.Limit(c)
	if err != nil {
		return err
	}
	f.Limit = limit + 1
	if f.After, err = parseKeyset(c.Query("cursor")); err != nil {
		return err
	}
	rows, err := s.DB.Instances(c.UserContext(), f)
	if err != nil {
		return err
	}
	views := s.taskViews(rows)
	return c.JSON(page(views, limit, func(v taskView) string { return keysetCursor(v.Due, v.ID) }))
}

// statusParam reads ?status=assigned,in_progress or the shorthands open and
// finished.
func statusParam(c *fiber.Ctx) ([]duban.Status, error) {
	v := c.Query("status")
	if v == "" {
		return nil, nil
	}
	var out []duban.Status
	for _, part := range strings.Split(v, ",") {
		switch st := duban.Status(strings.TrimSpace(part)); st {
		case "open":
			out = append(out, duban.StatusAssigned, duban.StatusInProgress, duban.StatusSubmitted)
		case "finished":
			out = append(out, duban.StatusCompleted, duban.StatusCancelled)
		case duban.StatusAssigned, duban.StatusInProgress, duban.StatusSubmitted, duban.StatusCompleted, duban.StatusCancelled:
			out = append(out, st)
		default:
			return nil, input.Invalid("参数有误", input.FieldError{Field: "status",
				Message: "状态应为 assigned、in_progress、submitted、completed、cancelled、open 或 finished"})
		}
	}
	return out, nil
}

// chainStep is one step of the approval chain as the detail page shows it.
type chainStep struct {
	Step       int          `json:"step"`
	Unit       unitRef      `json:"unit"`
	SLA        duban.Offset `json:"sla"`
	State      string       `json:"state"` // pending, waiting, approved, rejected, returned
	StateLabel string       `json:"state_label"`
	// Signers, Mode: a step several units sign (会签 all, 或签 any), with
	// the signatures it has so far.
	Signers   []unitRef     `json:"signers,omitempty"`
	Mode      string        `json:"mode,omitempty"`
	ModeLabel string        `json:"mode_label,omitempty"`
	Signed    []signatureOf `json:"signed,omitempty"`
	// Assignee is the one approver the step was handed to.
	Assignee *unitPerson `json:"assignee,omitempty"`
	// Added says an approver inserted the step (加签): who, and why.
	AddedBy     string `json:"added_by,omitempty"`
	AddedReason string `json:"added_reason,omitempty"`
	// ReturnedTo is the step this one sent the task back to (退回到指定步骤).
	ReturnedTo  int        `json:"returned_to,omitempty"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	DecidedUnit string     `json:"decided_unit,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	Due         *time.Time `json:"due,omitempty"` // SLA end, for the step waiting
}

var stepLabels = map[string]string{"pending": "未开始", "waiting": "待审批", "approved": "已通过", "rejected": "已退回"}

// decisionView is one decision in the history of the chain.
type decisionView struct {
	Step     int       `json:"step"`
	Approve  bool      `json:"approve"`
	Label    string    `json:"label"`
	Actor    string    `json:"actor"`
	UnitCode string    `json:"unit_code"`
	At       time.Time `json:"at"`
	Reason   string    `json:"reason,omitempty"`
	// ReturnedTo is the earlier step a return sent the task back to.
	ReturnedTo int `json:"returned_to,omitempty"`
}

// extensionView is a pending extension request. Lists leave out the
// deciding unit (the approvals list is that unit's own); the task page
// names it.
type extensionView struct {
	NewDue      time.Time `json:"new_due"`
	Reason      string    `json:"reason"`
	RequestedBy string    `json:"requested_by"` // the requester's name
	RequestedAt time.Time `json:"requested_at"`
	Decider     *unitRef  `json:"decider,omitempty"`
}

type evidenceView struct {
	duban.Evidence
	URL string `json:"url"`
}

// taskDetail is one task with everything its page shows.
type taskDetail struct {
	taskView
	Quote            string          `json:"quote"`
	DueNote          string          `json:"due_note,omitempty"`
	DueBasis         string          `json:"due_basis,omitempty"`
	Target           int             `json:"target,omitempty"`
	Ratio            *duban.Ratio    `json:"ratio,omitempty"`
	EvidenceRequired bool            `json:"evidence_required"`
	EvidenceNote     string          `json:"evidence_note,omitempty"`
	ExtensionUnit    unitRef         `json:"extension_unit"`
	Chain            []chainStep     `json:"chain"`
	Decisions        []decisionView  `json:"decisions"`
	Evidence         []evidenceView  `json:"evidence"`
	Timeline         []store.Event   `json:"timeline"`
	Actions          []duban.Action  `json:"actions"` // what the caller may do now
	ReminderOffsets  []duban.Offset  `json:"reminders,omitempty"`
	Escalations      []escalationRef `json:"escalation_ladder,omitempty"`
}

type escalationRef struct {
	After  duban.Offset       `json:"after"`
	Notify []duban.Recipients `json:"notify"`
}

// getTask returns one task with its chain, decisions, evidence and timeline.
func (s *server) getTask(c *fiber.Ctx) error {
	p, in, err := s.callerTask(c)
	if err != nil {
		return err
	}
	d, err := s.taskDetail(c.UserContext(), p, in)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *server) taskDetail(ctx context.Context, p *principal, in store.Instance) (taskDetail, error) {
	timeline, err := s.DB.Timeline(ctx, in.ID)
	if err != nil {
		return taskDetail{}, err
	}
	files, err := s.DB.InstanceEvidence(ctx, in.ID)
	if err != nil {
		return taskDetail{}, err
	}
	now := s.planNow()
	sp := in.Spec
	d := taskDetail{
		taskView: s.taskView(in, now), Quote: sp.Quote, DueNote: sp.DueNote, DueBasis: sp.DueBasis, Target: sp.Target, Ratio: sp.Ratio,
		EvidenceRequired: sp.EvidenceRequired, EvidenceNote: sp.EvidenceNote, Timeline: timeline, ReminderOffsets: sp.Reminders,
		ExtensionUnit: unitRef{Code: sp.ExtensionUnit, Name: s.unitName(ctx, sp.ExtensionUnit)},
		Decisions:     []decisionView{}, Evidence: []evidenceView{},
	}
	if d.Timeline == nil {
		d.Timeline = []store.Event{}
	}
	for _, e := range sp.Escalation {
		d.Escalations = append(d.Escalations, escalationRef{After: e.After, Notify: e.Notify})
	}
	for _, f := range files {
		d.Evidence = append(d.Evidence, evidenceView{Evidence: f, URL: "/api/v1/tasks/" + url.PathEscape(in.ID) + "/evidence/" + f.SHA256})
	}
	d.Chain, d.Decisions = s.chainCard(ctx, in, timeline)
	if d.Extension != nil {
		decider := d.ExtensionUnit
		d.Extension.Decider = &decider
	}
	d.Actions = actionsFor(p, in)
	return d, nil
}

// chainCard is the approval chain as the task page shows it, and the
// decisions made: the chain of the current round (decisions after the
// latest submission; a return to an earlier step undoes the decisions from
// that step on).
func (s *server) chainCard(ctx context.Context, in store.Instance, timeline []store.Event) ([]chainStep, []decisionView) {
	// Units are named as they are called now (a unit renamed since the
	// launch keeps its code).
	name := func(code, was string) string {
		if n := s.unitName(ctx, code); n != code {
			return n
		}
		return was
	}
	decisions := []decisionView{}
	round := map[int]store.Event{}
	returnedTo := map[int]int{}
	for _, e := range timeline {
		switch e.Kind {
		case duban.EventSubmitted:
			round, returnedTo = map[int]store.Event{}, map[int]int{}
		case duban.EventReturned:
			for step := range round {
				if step >= e.ToStep {
					delete(round, step)
				}
			}
			returnedTo[e.Step] = e.ToStep
		}
		switch e.Kind {
		case duban.EventApproved, duban.EventCompleted, duban.EventRejected, duban.EventReturned, duban.EventSigned:
			if e.Kind != duban.EventReturned {
				round[e.Step] = e
			}
			actor := e.ActorName
			if e.OnBehalfOf != nil {
				actor = fmt.Sprintf("%s（代%s）", e.ActorName, e.OnBehalfOf.Name)
			}
			decisions = append(decisions, decisionView{Step: e.Step, Approve: e.Kind != duban.EventRejected && e.Kind != duban.EventReturned,
				Label: e.KindLabel, Actor: actor, UnitCode: e.ActorUnit, At: e.At, Reason: e.Reason, ReturnedTo: e.ToStep})
		}
	}
	var out []chainStep
	for i, st := range in.ApprovalChain() {
		step := chainStep{Step: i + 1, Unit: unitRef{Code: st.Unit, Name: name(st.Unit, st.UnitName)}, SLA: st.SLA, State: "pending", ReturnedTo: returnedTo[i+1]}
		if len(st.Signers) > 0 {
			step.Mode, step.ModeLabel = string(st.Mode), st.Mode.Label()
			for _, sg := range st.Signers {
				step.Signers = append(step.Signers, unitRef{Code: sg.Unit, Name: name(sg.Unit, sg.UnitName)})
			}
		}
		if st.Assignee != nil {
			step.Assignee = &unitPerson{ID: st.Assignee.UserID, Name: st.Assignee.Name}
		}
		if st.Added != nil {
			step.AddedBy, step.AddedReason = st.Added.By, st.Added.Reason
		}
		waiting := in.Status == duban.StatusSubmitted && in.CurrentStep == i+1
		if e, ok := round[i+1]; ok && !(waiting && e.Kind == duban.EventSigned) {
			step.State = "approved"
			if e.Kind == duban.EventRejected {
				step.State = "rejected"
			}
			at := e.At
			step.DecidedBy, step.DecidedUnit, step.DecidedAt, step.Reason = e.ActorName, e.ActorUnit, &at, e.Reason
		} else if waiting {
			step.State, step.Due = "waiting", in.StepDue
			for _, sig := range in.Signed {
				step.Signed = append(step.Signed, signatureOf{Name: sig.Name, Unit: sig.UnitCode})
			}
		}
		step.StateLabel = stepLabels[step.State]
		out = append(out, step)
	}
	return out, decisions
}

// signatureOf is one signature a step waiting has (会签).
type signatureOf struct {
	Name string `json:"name"`
	Unit string `json:"unit"`
}

// actionsFor lists what the caller may do to the task now, as the
// lifecycle table says. The workflow decides in the end; this spares the UI
// buttons that can only fail.
func actionsFor(p *principal, in store.Instance) []duban.Action {
	return duban.Allowed(p.actor(), factsOf(in))
}

// factsOf is what the lifecycle table needs of a task, from its row.
func factsOf(in store.Instance) duban.Facts {
	return duban.Facts{Spec: &in.Spec, Status: in.Status, Due: in.Due, Step: in.CurrentStep,
		Progress: in.Progress, ProgressBase: in.ProgressBase, Extension: in.Extension, Chain: in.Chain, Signed: in.Signed}
}

// getTimeline returns a task's events in order.
func (s *server) getTimeline(c *fiber.Ctx) error {
	_, in, err := s.callerTask(c)
	if err != nil {
		return err
	}
	events, err := s.DB.Timeline(c.UserContext(), in.ID)
	if err != nil {
		return err
	}
	if events == nil {
		events = []store.Event{}
	}
	return c.JSON(fiber.Map{"items": events})
}
