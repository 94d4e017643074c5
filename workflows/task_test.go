package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/workflows"
)

var a *activities.Activities

var (
	sha     = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	proof   = duban.Evidence{SHA256: sha, Name: "改革方案.pdf", Size: 1024, ContentType: "application/pdf"}
	start   = time.Date(2021, 1, 4, 9, 0, 0, 0, duban.Shanghai)
	yearEnd = duban.EndOfDay(2021, 12, 31)

	official   = duban.Actor{UserID: 1, Name: "王芳", UnitCode: "430102", Roles: []duban.Role{duban.RoleOfficial}}
	countyHead = duban.Actor{UserID: 2, Name: "李明", UnitCode: "430102", Roles: []duban.Role{duban.RoleApprover}}
	cityHead   = duban.Actor{UserID: 3, Name: "张伟", UnitCode: "4301", Roles: []duban.Role{duban.RoleApprover}}
	provHead   = duban.Actor{UserID: 4, Name: "刘洋", UnitCode: "43", Roles: []duban.Role{duban.RoleApprover}}
	admin      = duban.Actor{UserID: 5, Name: "管理员", UnitCode: "43", Roles: []duban.Role{duban.RoleAdmin}}
	otherOff   = duban.Actor{UserID: 6, Name: "赵强", UnitCode: "430103", Roles: []duban.Role{duban.RoleOfficial}}
)

func d(n int) duban.Offset  { return duban.Offset{Days: n} }
func wd(n int) duban.Offset { return duban.Offset{Days: n, Working: true} }

func roles(rs ...duban.Role) []duban.Role { return rs }

// countySpec is 芙蓉区's reform plan: due at the end of 2021, approved by the
// county, then Changsha, then the province.
func countySpec() duban.TaskSpec {
	slaLadder := func(unit, parent string) []duban.EscalationStep {
		out := []duban.EscalationStep{{After: d(0), Notify: []duban.Recipients{{Unit: unit, Roles: roles(duban.RoleApprover, duban.RoleSupervisor)}}}}
		if parent != "" {
			out = append(out, duban.EscalationStep{After: d(3), Notify: []duban.Recipients{{Unit: parent, Roles: roles(duban.RoleSupervisor)}}})
		}
		return out
	}
	return duban.TaskSpec{
		ID: "2021/2.1/430102", PlanID: "hunan-2021", Year: 2021, TemplateID: "2.1", Section: "2",
		Title: "出台改革方案", Quote: "推动市、县两级于今年底前全部出台改革方案。", Kind: duban.KindDeadline,
		UnitCode: "430102", UnitName: "芙蓉区", UnitLevel: duban.LevelCounty,
		Due:       yearEnd,
		Reminders: []duban.Offset{d(30), d(7), d(1)},
		Escalation: []duban.EscalationStep{
			{After: d(0), Notify: []duban.Recipients{{Unit: "430102", Roles: roles(duban.RoleOfficial, duban.RoleApprover, duban.RoleSupervisor)}}},
			{After: d(3), Notify: []duban.Recipients{{Unit: "4301", Roles: roles(duban.RoleApprover, duban.RoleSupervisor)}}},
			{After: d(7), Notify: []duban.Recipients{{Unit: "43", Roles: roles(duban.RoleSupervisor)}}},
		},
		Approval: []duban.ApprovalStep{
			{Unit: "430102", UnitName: "芙蓉区", SLA: wd(5), Reminders: []duban.Offset{wd(2)}, Escalation: slaLadder("430102", "4301")},
			{Unit: "4301", UnitName: "长沙市", SLA: wd(5), Reminders: []duban.Offset{wd(2)}, Escalation: slaLadder("4301", "43")},
			{Unit: "43", UnitName: "湖南省", SLA: wd(10), Reminders: []duban.Offset{wd(2)}, Escalation: slaLadder("43", "")},
		},
		ExtensionUnit:    "4301",
		EvidenceRequired: true, EvidenceNote: "改革方案正式印发文件",
	}
}

// harness runs one TaskWorkflow in the time-skipping test environment and
// records every transition the workflow writes.
type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu          sync.Mutex
	transitions []duban.Transition
	delivered   []activities.DeliverInput
	outcomes    map[string]outcome
	queries     map[string]workflows.View
	// refuse, when set, makes the store refuse the transitions it picks
	// for good, as the database refuses content it cannot hold.
	refuse      func(duban.Transition) bool
	refusedSeqs []int64
}

type outcome struct {
	view workflows.View
	err  error
}

func newHarness(t *testing.T) *harness {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	h := &harness{t: t, env: env, outcomes: map[string]outcome{}, queries: map[string]workflows.View{}}
	env.RegisterWorkflow(workflows.TaskWorkflow)
	env.OnActivity(a.RecordTransition, mock.Anything, mock.Anything).Return(func(_ context.Context, tr duban.Transition) (activities.RecordResult, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.refuse != nil && h.refuse(tr) {
			h.refusedSeqs = append(h.refusedSeqs, tr.Seq)
			return activities.RecordResult{}, temporal.NewNonRetryableApplicationError("数据库拒绝保存此内容（23514）", activities.ErrRecordRefused, nil)
		}
		h.transitions = append(h.transitions, tr)
		// As if everyone notified had an email address.
		return activities.RecordResult{Deliver: len(tr.Notices) > 0}, nil
	})
	env.OnActivity(a.DeliverTransition, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DeliverInput) (duban.DeliveryReport, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.delivered = append(h.delivered, in)
		return duban.DeliveryReport{}, nil
	}).Maybe()
	t.Cleanup(func() { env.AssertExpectations(t) })
	return h
}

// at runs fn when the workflow clock reaches t.
func (h *harness) at(t time.Time, fn func()) {
	h.env.RegisterDelayedCallback(fn, t.Sub(start))
}

// update sends an update at time t and keeps its outcome under label.
func (h *harness) update(t time.Time, label, name string, arg any) {
	h.at(t, func() { h.sendNow(label, name, arg) })
}

// sendNow sends an update at once (from a delayed callback).
func (h *harness) sendNow(label, name string, arg any) {
	h.env.UpdateWorkflow(name, label, &testsuite.TestUpdateCallback{
		OnReject: func(err error) { h.keep(label, workflows.View{}, err) },
		OnComplete: func(v any, err error) {
			view, _ := v.(workflows.View)
			h.keep(label, view, err)
		},
	}, arg)
}

func (h *harness) keep(label string, v workflows.View, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, dup := h.outcomes[label]; dup {
		h.t.Errorf("update %s finished twice", label)
	}
	h.outcomes[label] = outcome{v, err}
}

// query records the state at time t.
func (h *harness) query(t time.Time, label string) {
	h.at(t, func() {
		v, err := h.env.QueryWorkflow(workflows.QueryState)
		require.NoError(h.t, err)
		var view workflows.View
		require.NoError(h.t, v.Get(&view))
		h.mu.Lock()
		h.queries[label] = view
		h.mu.Unlock()
	})
}

func (h *harness) run(spec duban.TaskSpec) workflows.TaskResult {
	h.env.ExecuteWorkflow(workflows.TaskWorkflow, workflows.TaskInput{Spec: spec})
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.NoError(h.t, h.env.GetWorkflowError())
	var res workflows.TaskResult
	require.NoError(h.t, h.env.GetWorkflowResult(&res))
	return res
}

// ok asserts the update was accepted and returns its view.
func (h *harness) ok(label string) workflows.View {
	h.t.Helper()
	o, found := h.outcomes[label]
	require.True(h.t, found, "update %s never finished", label)
	require.NoError(h.t, o.err, "update %s", label)
	return o.view
}

// refused asserts the update was refused with the code and a message containing want.
func (h *harness) refused(label, code, want string) {
	h.t.Helper()
	o, found := h.outcomes[label]
	require.True(h.t, found, "update %s never finished", label)
	require.Error(h.t, o.err, "update %s should be refused", label)
	var app *temporal.ApplicationError
	require.True(h.t, errors.As(o.err, &app), "update %s: %v", label, o.err)
	require.Equal(h.t, code, app.Type(), "update %s: %v", label, o.err)
	require.Contains(h.t, app.Message(), want, "update %s", label)
}

func (h *harness) kinds() []duban.EventKind {
	var out []duban.EventKind
	for _, tr := range h.transitions {
		out = append(out, tr.Kind)
	}
	return out
}

func (h *harness) ofKind(k duban.EventKind) []duban.Transition {
	var out []duban.Transition
	for _, tr := range h.transitions {
		if tr.Kind == k {
			out = append(out, tr)
		}
	}
	return out
}

// checkSequence asserts transitions carry 1, 2, 3 … in order.
func (h *harness) checkSequence() {
	for i, tr := range h.transitions {
		require.Equal(h.t, int64(i+1), tr.Seq, "transition %d (%s)", i, tr.Kind)
		require.Equal(h.t, tr.Seq, tr.Projection.Seq)
	}
}

func TestOnTimeCompletionThroughThreeLevelChain(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	day := func(m time.Month, dd, hh int) time.Time { return time.Date(2021, m, dd, hh, 0, 0, 0, duban.Shanghai) }

	h.update(day(3, 1, 10), "progress", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Note: "方案起草中", Evidence: []duban.Evidence{proof}})
	h.update(day(6, 1, 10), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Note: "方案已印发"})
	h.update(day(6, 2, 10), "county", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(day(6, 3, 10), "city", workflows.UpdateDecide, workflows.DecisionRequest{Actor: cityHead, Step: 2, Approve: true})
	h.query(day(6, 3, 11), "at-province")
	h.update(day(6, 4, 10), "province", workflows.UpdateDecide, workflows.DecisionRequest{Actor: provHead, Step: 3, Approve: true})
	res := h.run(spec)

	require.Equal(t, duban.StatusCompleted, res.Status)
	require.False(t, res.Overdue)
	require.True(t, res.CompletedAt.Equal(day(6, 4, 10)))
	require.Equal(t, duban.StatusInProgress, h.ok("progress").Projection.Status)
	sub := h.ok("submit").Projection
	require.Equal(t, duban.StatusSubmitted, sub.Status)
	require.Equal(t, 1, sub.CurrentStep)
	require.Equal(t, "430102", sub.ApproverUnit)
	// 5 working days from Tue 1 June 2021: 2,3,4,7,8 June → SLA ends 8 June 23:59:59.
	require.True(t, sub.StepDue.Equal(duban.EndOfDay(2021, 6, 8)), "step due %v", sub.StepDue)
	require.Equal(t, "4301", h.ok("county").Projection.ApproverUnit)
	require.Equal(t, 2, h.ok("county").Projection.CurrentStep)
	atProv := h.queries["at-province"]
	require.Equal(t, 3, atProv.Projection.CurrentStep)
	require.Equal(t, "43", atProv.Projection.ApproverUnit)
	require.Len(t, atProv.State.Decisions, 2)
	final := h.ok("province").Projection
	require.Equal(t, duban.StatusCompleted, final.Status)
	require.Zero(t, final.CurrentStep)

	require.Equal(t, []duban.EventKind{duban.EventAssigned, duban.EventProgress, duban.EventSubmitted, duban.EventApproved, duban.EventApproved, duban.EventCompleted}, h.kinds())
	h.checkSequence()
	// The first transition carries the spec so the store can create the row.
	require.NotNil(t, h.transitions[0].Spec)
	// Each step's approver hears when it reaches them.
	require.Equal(t, "4301", h.transitions[3].Notices[0].Recipients[0].Unit)
	require.Equal(t, "43", h.transitions[4].Notices[0].Recipients[0].Unit)
	require.Equal(t, "430102", h.transitions[5].Notices[0].Recipients[0].Unit)
	require.Equal(t, provHead.UserID, h.transitions[5].Actor.UserID)
}

func TestRemindersFireAtTheirExactOffsets(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	h.update(duban.EndOfDay(2021, 12, 31).Add(-time.Hour), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h.update(time.Date(2022, 1, 2, 9, 0, 0, 0, duban.Shanghai), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(spec)

	reminders := h.ofKind(duban.EventReminder)
	require.Len(t, reminders, 3)
	want := []time.Time{duban.EndOfDay(2021, 12, 1), duban.EndOfDay(2021, 12, 24), duban.EndOfDay(2021, 12, 30)}
	for i, r := range reminders {
		require.True(t, r.At.Equal(want[i]), "reminder %d at %v, want %v", i, r.At, want[i])
		require.Equal(t, spec.Reminders[i], *r.Notices[0].Offset)
		require.Equal(t, []duban.Recipients{{Unit: "430102", Roles: roles(duban.RoleOfficial)}}, r.Notices[0].Recipients)
	}
	// Submitted an hour before the deadline: never overdue.
	require.Empty(t, h.ofKind(duban.EventOverdue))
	require.Empty(t, h.ofKind(duban.EventEscalated))
}

func TestReminderOnAHolidayMovesToThePreviousWorkingDay(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	spec.Due = duban.EndOfDay(2021, 10, 8) // a Friday; 7 days before is 1 October, National Day
	spec.Reminders = []duban.Offset{d(7), d(1)}
	spec.RemindersOnWorkingDays = true
	h.update(time.Date(2021, 10, 8, 12, 0, 0, 0, duban.Shanghai), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(spec)
	// 1 October is National Day: the 7-day reminder moves to Thursday 30
	// September. 7 October is a holiday too, so the 1-day reminder lands on
	// 30 September as well; both due at once, one message goes out, saying
	// how many days are really left.
	reminders := h.ofKind(duban.EventReminder)
	require.Len(t, reminders, 1)
	require.True(t, reminders[0].At.Equal(duban.EndOfDay(2021, 9, 30)), "got %v", reminders[0].At)
	require.Equal(t, d(8), *reminders[0].Notices[0].Offset)
}

func TestFullEscalationLadder(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	h.query(duban.EndOfDay(2022, 1, 8).Add(time.Hour), "after")
	h.update(time.Date(2022, 1, 20, 9, 0, 0, 0, duban.Shanghai), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	res := h.run(spec)
	require.Equal(t, duban.StatusCancelled, res.Status)
	require.True(t, res.Overdue)

	overdue := h.ofKind(duban.EventOverdue)
	require.Len(t, overdue, 1)
	require.True(t, overdue[0].At.Equal(yearEnd))
	require.True(t, overdue[0].Projection.OverdueSince.Equal(yearEnd))
	require.True(t, overdue[0].Notices[0].Urgent)

	esc := h.ofKind(duban.EventEscalated)
	require.Len(t, esc, 3)
	wantAt := []time.Time{yearEnd.Add(time.Second), duban.EndOfDay(2022, 1, 3), duban.EndOfDay(2022, 1, 7)}
	wantUnits := []string{"430102", "4301", "43"}
	for i, e := range esc {
		require.True(t, e.At.Equal(wantAt[i]), "escalation %d at %v, want %v", i, e.At, wantAt[i])
		require.Equal(t, wantUnits[i], e.Notices[0].Recipients[0].Unit)
		require.Equal(t, i+1, e.Projection.Escalation)
	}
	after := h.queries["after"].Projection
	require.Equal(t, 3, after.Escalation)
	require.True(t, after.Overdue())
	h.checkSequence()
}

func TestRejectAndResubmit(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	day := func(m time.Month, dd int) time.Time { return time.Date(2021, m, dd, 10, 0, 0, 0, duban.Shanghai) }
	h.update(day(5, 10), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h.update(day(5, 11), "county", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(day(5, 12), "city-reject", workflows.UpdateDecide, workflows.DecisionRequest{Actor: cityHead, Step: 2, Approve: false, Reason: "缺少常委会审议纪要"})
	h.update(day(5, 13), "resubmit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Note: "已补充纪要"})
	h.update(day(5, 14), "county2", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(day(5, 17), "city2", workflows.UpdateDecide, workflows.DecisionRequest{Actor: cityHead, Step: 2, Approve: true})
	h.update(day(5, 18), "province", workflows.UpdateDecide, workflows.DecisionRequest{Actor: provHead, Step: 3, Approve: true})
	res := h.run(spec)
	require.Equal(t, duban.StatusCompleted, res.Status)

	rej := h.ok("city-reject")
	require.Equal(t, duban.StatusInProgress, rej.Projection.Status)
	require.Equal(t, "缺少常委会审议纪要", rej.State.LastReason)
	require.Equal(t, "缺少常委会审议纪要", rej.Projection.LastReason, "the row says it was sent back, and why")
	require.Zero(t, rej.Projection.CurrentStep)
	rejected := h.ofKind(duban.EventRejected)
	require.Len(t, rejected, 1)
	require.Equal(t, "缺少常委会审议纪要", rejected[0].Reason)
	require.Equal(t, 2, rejected[0].Step)
	require.Equal(t, "430102", rejected[0].Notices[0].Recipients[0].Unit)
	// Resubmission starts the chain again from the county, and clears the reason.
	resub := h.ok("resubmit")
	require.Equal(t, 1, resub.Projection.CurrentStep)
	require.Empty(t, resub.Projection.LastReason)
	require.Empty(t, resub.State.LastReason)
	require.Len(t, h.ok("province").State.Decisions, 5)
	for _, tr := range h.transitions {
		want := ""
		if tr.Seq >= rejected[0].Seq && tr.Seq < h.ofKind(duban.EventSubmitted)[1].Seq {
			want = "缺少常委会审议纪要"
		}
		require.Equal(t, want, tr.Projection.LastReason, "transition %d (%s)", tr.Seq, tr.Kind)
	}
	h.checkSequence()
}

// TestRejectAndResubmitBeforeRelease2 runs the same story as an instance
// started before the "release-2" marker: its state keeps the reason past
// the resubmission (as recorded histories did), but its rows do not show it
// once the unit no longer holds the task.
func TestRejectAndResubmitBeforeRelease2(t *testing.T) {
	h := newHarness(t)
	h.env.OnGetVersion("release-2", workflow.DefaultVersion, workflows.VersionLatest).Return(workflow.DefaultVersion)
	spec := countySpec()
	day := func(m time.Month, dd int) time.Time { return time.Date(2021, m, dd, 10, 0, 0, 0, duban.Shanghai) }
	h.update(day(5, 10), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h.update(day(5, 11), "reject", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: false, Reason: "材料不全"})
	h.update(day(5, 12), "progress", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Note: "已补充"})
	h.update(day(5, 13), "resubmit", workflows.UpdateSubmit, workflows.Submission{Actor: official})
	h.update(day(5, 14), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(spec)

	require.Equal(t, "材料不全", h.ok("reject").Projection.LastReason)
	require.Equal(t, "材料不全", h.ok("progress").Projection.LastReason, "still with the unit, still returned")
	resub := h.ok("resubmit")
	require.Equal(t, "材料不全", resub.State.LastReason, "the old behaviour is kept for replay")
	require.Empty(t, resub.Projection.LastReason)
	require.Empty(t, h.ok("cancel").Projection.LastReason)
	h.checkSequence()
}

func TestExtensionGrantedMovesTheDeadline(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	newDue := time.Date(2022, 3, 31, 0, 0, 0, 0, duban.Shanghai)
	h.update(time.Date(2021, 12, 20, 9, 0, 0, 0, duban.Shanghai), "ask", workflows.UpdateRequestExtension, workflows.ExtensionRequest{Actor: official, NewDue: newDue, Reason: "待县委常委会审议"})
	h.update(time.Date(2021, 12, 21, 9, 0, 0, 0, duban.Shanghai), "grant", workflows.UpdateDecideExtension, workflows.ExtensionDecision{Actor: cityHead, Approve: true})
	h.update(time.Date(2022, 4, 10, 9, 0, 0, 0, duban.Shanghai), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(spec)

	ask := h.ok("ask").Projection
	require.True(t, ask.Extension)
	// The request itself is in the row: the date asked for (end of day),
	// why, who asked and when.
	require.NotNil(t, ask.ExtensionNewDue)
	require.True(t, ask.ExtensionNewDue.Equal(duban.EndOfDay(2022, 3, 31)), "asked for %v", ask.ExtensionNewDue)
	require.Equal(t, "待县委常委会审议", ask.ExtensionReason)
	require.Equal(t, official.Name, ask.ExtensionRequestedBy)
	require.True(t, ask.ExtensionRequestedAt.Equal(time.Date(2021, 12, 20, 9, 0, 0, 0, duban.Shanghai)))
	granted := h.ok("grant").Projection
	require.False(t, granted.Extension)
	require.Nil(t, granted.ExtensionNewDue)
	require.Empty(t, granted.ExtensionReason)
	require.Empty(t, granted.ExtensionRequestedBy)
	require.Nil(t, granted.ExtensionRequestedAt)
	require.True(t, granted.Due.Equal(duban.EndOfDay(2022, 3, 31)))
	// No overdue at the old deadline; overdue at the new one.
	overdue := h.ofKind(duban.EventOverdue)
	require.Len(t, overdue, 1)
	require.True(t, overdue[0].At.Equal(duban.EndOfDay(2022, 3, 31)), "overdue at %v", overdue[0].At)
	// Reminders re-armed for the new deadline: 7 and 1 days before it.
	var after []time.Time
	for _, r := range h.ofKind(duban.EventReminder) {
		if r.At.After(yearEnd) {
			after = append(after, r.At)
		}
	}
	require.Equal(t, []time.Time{duban.EndOfDay(2022, 3, 1), duban.EndOfDay(2022, 3, 24), duban.EndOfDay(2022, 3, 30)}, inZone(after))
	ext := h.ofKind(duban.EventExtensionRequested)
	require.Equal(t, "4301", ext[0].Notices[0].Recipients[0].Unit)
}

func inZone(ts []time.Time) []time.Time {
	out := make([]time.Time, len(ts))
	for i, t := range ts {
		out[i] = t.In(duban.Shanghai)
	}
	return out
}

func TestExtensionRefusedKeepsTheDeadline(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	h.update(time.Date(2021, 12, 20, 9, 0, 0, 0, duban.Shanghai), "ask", workflows.UpdateRequestExtension, workflows.ExtensionRequest{Actor: official, NewDue: time.Date(2022, 3, 31, 0, 0, 0, 0, duban.Shanghai), Reason: "待审议"})
	h.update(time.Date(2021, 12, 21, 9, 0, 0, 0, duban.Shanghai), "refuse-no-reason", workflows.UpdateDecideExtension, workflows.ExtensionDecision{Actor: cityHead, Approve: false})
	h.update(time.Date(2021, 12, 21, 10, 0, 0, 0, duban.Shanghai), "refuse", workflows.UpdateDecideExtension, workflows.ExtensionDecision{Actor: cityHead, Approve: false, Reason: "年底前必须出台"})
	h.update(time.Date(2022, 1, 2, 9, 0, 0, 0, duban.Shanghai), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(spec)
	h.refused("refuse-no-reason", duban.EINVALID, "理由")
	v := h.ok("refuse").Projection
	require.False(t, v.Extension)
	require.Nil(t, v.ExtensionNewDue)
	require.Empty(t, v.ExtensionReason)
	require.True(t, v.Due.Equal(yearEnd))
	refused := h.ofKind(duban.EventExtensionRefused)
	require.Len(t, refused, 1)
	require.Equal(t, "年底前必须出台", refused[0].Reason)
	require.True(t, h.ofKind(duban.EventOverdue)[0].At.Equal(yearEnd))
}

func TestApprovalSLAReminderBreachAndEscalation(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	// Submitted Monday 6 Sep 2021; the county has 5 working days: 7–10, 13 Sep.
	h.update(time.Date(2021, 9, 6, 10, 0, 0, 0, duban.Shanghai), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h.update(time.Date(2021, 9, 20, 10, 0, 0, 0, duban.Shanghai), "county", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(time.Date(2021, 9, 21, 10, 0, 0, 0, duban.Shanghai), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(spec)

	require.True(t, h.ok("submit").Projection.StepDue.Equal(duban.EndOfDay(2021, 9, 13)))
	rem := h.ofKind(duban.EventSLAReminder)
	require.Len(t, rem, 1)
	// Two working days before Monday 13 Sep is Thursday 9 Sep.
	require.True(t, rem[0].At.Equal(duban.EndOfDay(2021, 9, 9)), "sla reminder at %v", rem[0].At)
	require.Equal(t, "430102", rem[0].Notices[0].Recipients[0].Unit)
	require.Equal(t, []duban.Role{duban.RoleApprover}, rem[0].Notices[0].Recipients[0].Roles)
	breach := h.ofKind(duban.EventSLABreached)
	require.Len(t, breach, 1)
	require.True(t, breach[0].At.Equal(duban.EndOfDay(2021, 9, 13)))
	esc := h.ofKind(duban.EventSLAEscalated)
	require.Len(t, esc, 2)
	require.Equal(t, "430102", esc[0].Notices[0].Recipients[0].Unit)
	require.Equal(t, "4301", esc[1].Notices[0].Recipients[0].Unit)
	require.True(t, esc[1].At.Equal(duban.EndOfDay(2021, 9, 16)), "second escalation at %v", esc[1].At)
	require.Equal(t, 1, esc[0].Step)
	// The task itself never went overdue: the unit submitted in time.
	require.Empty(t, h.ofKind(duban.EventOverdue))
}

func TestRefusedUpdatesLeaveNoTrace(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	day := func(dd, hh int) time.Time { return time.Date(2021, 3, dd, hh, 0, 0, 0, duban.Shanghai) }
	h.update(day(1, 9), "no-evidence", workflows.UpdateSubmit, workflows.Submission{Actor: official})
	h.update(day(1, 10), "wrong-unit-official", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: otherOff, Note: "x"})
	h.update(day(1, 11), "approver-not-official", workflows.UpdateSubmit, workflows.Submission{Actor: countyHead, Evidence: []duban.Evidence{proof}})
	h.update(day(1, 12), "decide-before-submit", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(day(1, 13), "empty-report", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official})
	h.update(day(2, 9), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h.update(day(2, 10), "report-while-approving", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Note: "补充"})
	h.update(day(2, 11), "wrong-actor", workflows.UpdateDecide, workflows.DecisionRequest{Actor: cityHead, Step: 1, Approve: true})
	h.update(day(2, 12), "wrong-step", workflows.UpdateDecide, workflows.DecisionRequest{Actor: cityHead, Step: 2, Approve: true})
	h.update(day(2, 13), "official-decides", workflows.UpdateDecide, workflows.DecisionRequest{Actor: duban.Actor{UserID: 1, UnitCode: "430102", Roles: roles(duban.RoleOfficial)}, Step: 1, Approve: true})
	h.update(day(2, 14), "reject-no-reason", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: false})
	h.update(day(3, 9), "county", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(day(3, 10), "repeat", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(day(3, 11), "cancel-by-official", workflows.UpdateCancel, workflows.Cancellation{Actor: official, Reason: "不想做"})
	h.update(day(3, 12), "cancel-no-reason", workflows.UpdateCancel, workflows.Cancellation{Actor: admin})
	h.update(day(3, 13), "extension-to-past", workflows.UpdateRequestExtension, workflows.ExtensionRequest{Actor: official, NewDue: time.Date(2021, 6, 1, 0, 0, 0, 0, duban.Shanghai), Reason: "x"})
	h.update(day(3, 14), "extension-decision-none", workflows.UpdateDecideExtension, workflows.ExtensionDecision{Actor: cityHead, Approve: true})
	h.update(day(4, 9), "city", workflows.UpdateDecide, workflows.DecisionRequest{Actor: cityHead, Step: 2, Approve: true})
	h.update(day(4, 10), "province", workflows.UpdateDecide, workflows.DecisionRequest{Actor: provHead, Step: 3, Approve: true})
	res := h.run(spec)
	require.Equal(t, duban.StatusCompleted, res.Status)

	h.refused("no-evidence", duban.EINVALID, "佐证材料")
	h.refused("wrong-unit-official", duban.EFORBIDDEN, "芙蓉区")
	h.refused("approver-not-official", duban.EFORBIDDEN, "承办人")
	h.refused("decide-before-submit", duban.ECONFLICT, "不在审批中")
	h.refused("empty-report", duban.EINVALID, "不能为空")
	h.refused("report-while-approving", duban.ECONFLICT, "审批中")
	h.refused("wrong-actor", duban.EFORBIDDEN, "芙蓉区的审核人")
	h.refused("wrong-step", duban.ECONFLICT, "当前等待第 1 步")
	h.refused("official-decides", duban.EFORBIDDEN, "审核人")
	h.refused("reject-no-reason", duban.EINVALID, "理由")
	h.refused("repeat", duban.ECONFLICT, "第 1 步已审批")
	h.refused("cancel-by-official", duban.EFORBIDDEN, "管理员")
	h.refused("cancel-no-reason", duban.EINVALID, "理由")
	h.refused("extension-to-past", duban.EINVALID, "晚于")
	h.refused("extension-decision-none", duban.ECONFLICT, "没有待审批")
	// Only accepted updates wrote anything: assigned, submit, three decisions.
	require.Equal(t, []duban.EventKind{duban.EventAssigned, duban.EventSubmitted, duban.EventApproved, duban.EventApproved, duban.EventCompleted}, h.kinds())
	h.checkSequence()
}

func TestDecisionOnAFinishedTaskIsRefused(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	spec.Approval = spec.Approval[:1]
	h.update(time.Date(2021, 3, 1, 9, 0, 0, 0, duban.Shanghai), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	// Two updates validated in the same workflow task: the first completes
	// the task, the second must see it finished.
	h.at(time.Date(2021, 3, 2, 9, 0, 0, 0, duban.Shanghai), func() {
		for _, label := range []string{"approve", "again"} {
			label := label
			h.env.UpdateWorkflow(workflows.UpdateDecide, label, &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { h.keep(label, workflows.View{}, err) },
				OnComplete: func(v any, err error) { view, _ := v.(workflows.View); h.keep(label, view, err) },
			}, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
		}
	})
	res := h.run(spec)
	require.Equal(t, duban.StatusCompleted, res.Status)
	require.Equal(t, duban.StatusCompleted, h.ok("approve").Projection.Status)
	h.refused("again", duban.ECONFLICT, "已办结")
}

// TestCancel cancels an hour before the first reminder (30 days before the
// deadline, at the end of 1 December) would fire: the workflow ends there,
// and the reminder is never sent. The same task cancelled the morning after
// shows that the reminder was due in between.
func TestCancel(t *testing.T) {
	firstReminder := duban.EndOfDay(2021, 12, 1)
	cancel := func(at time.Time) (*harness, workflows.TaskResult) {
		h := newHarness(t)
		h.update(at, "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "该区已撤并"})
		return h, h.run(countySpec())
	}

	h, res := cancel(firstReminder.Add(-time.Hour))
	require.Equal(t, duban.StatusCancelled, res.Status)
	v := h.ok("cancel")
	require.Equal(t, duban.StatusCancelled, v.Projection.Status)
	last := h.transitions[len(h.transitions)-1]
	require.Equal(t, duban.EventCancelled, last.Kind)
	require.Equal(t, "该区已撤并", last.Reason)
	require.Equal(t, admin.UserID, last.Actor.UserID)
	require.True(t, h.env.Now().Before(firstReminder), "the workflow ran on to %v", h.env.Now())
	// No reminder, then or later.
	require.Empty(t, h.ofKind(duban.EventReminder))

	late, res := cancel(firstReminder.Add(9 * time.Hour))
	require.Equal(t, duban.StatusCancelled, res.Status)
	reminders := late.ofKind(duban.EventReminder)
	require.Len(t, reminders, 1, "cancelled after it, the reminder was sent")
	require.True(t, reminders[0].At.Equal(firstReminder), "reminder at %v", reminders[0].At)
}

func TestCountTarget(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	spec.ID, spec.Kind, spec.Target = "2021/2.11/4301", duban.KindCount, 1
	spec.UnitCode, spec.UnitName, spec.UnitLevel = "4301", "长沙市", duban.LevelCity
	spec.Approval = spec.Approval[1:]
	cityOfficial := duban.Actor{UserID: 7, Name: "陈静", UnitCode: "4301", Roles: roles(duban.RoleOfficial)}
	zero, one := 0, 1
	h.update(time.Date(2021, 4, 1, 9, 0, 0, 0, duban.Shanghai), "submit-early", workflows.UpdateSubmit, workflows.Submission{Actor: cityOfficial, Evidence: []duban.Evidence{proof}})
	h.update(time.Date(2021, 4, 2, 9, 0, 0, 0, duban.Shanghai), "zero", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: cityOfficial, Value: &zero, Note: "培训班筹备中"})
	h.update(time.Date(2021, 7, 2, 9, 0, 0, 0, duban.Shanghai), "one", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: cityOfficial, Value: &one, Note: "已举办能力建设培训班", Evidence: []duban.Evidence{proof}})
	h.update(time.Date(2021, 7, 3, 9, 0, 0, 0, duban.Shanghai), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: cityOfficial})
	h.update(time.Date(2021, 7, 5, 9, 0, 0, 0, duban.Shanghai), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(spec)
	h.refused("submit-early", duban.EINVALID, "目标为 1，当前进度 0")
	require.Equal(t, 1, h.ok("zero").Projection.ProgressBase)
	require.Equal(t, 1, h.ok("one").Projection.Progress)
	require.Equal(t, duban.StatusSubmitted, h.ok("submit").Projection.Status)
	require.Equal(t, "4301", h.ok("submit").Projection.ApproverUnit)
}

func TestRatioTargetWithReportedBase(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	spec.ID, spec.Kind = "2021/2.13/430102", duban.KindRatio
	spec.Ratio = &duban.Ratio{Num: 1, Den: 3, Of: duban.LevelVillage} // villages: base reported
	ten, thirty, ninety := 10, 30, 90
	day := func(dd int) time.Time { return time.Date(2021, 8, dd, 9, 0, 0, 0, duban.Shanghai) }
	h.update(day(1), "value-without-base", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Value: &ten})
	h.update(day(2), "over-base", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Value: &ninety, Base: &thirty})
	h.update(day(3), "below", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Value: &ten, Base: &ninety, Evidence: []duban.Evidence{proof}})
	h.update(day(4), "submit-below", workflows.UpdateSubmit, workflows.Submission{Actor: official})
	h.update(day(5), "enough", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Value: &thirty})
	h.update(day(6), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official})
	h.update(day(9), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(spec)
	// With no base yet the value alone is kept; submission needs the ratio met.
	require.Equal(t, 10, h.ok("value-without-base").Projection.Progress)
	h.refused("over-base", duban.EINVALID, "超过总数")
	below := h.ok("below").Projection
	require.Equal(t, 90, below.ProgressBase)
	h.refused("submit-below", duban.EINVALID, "1/3")
	require.Equal(t, duban.StatusSubmitted, h.ok("submit").Projection.Status)
}

func TestRatioTargetWithKnownBaseRefusesABase(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	spec.Kind = duban.KindRatio
	spec.Ratio = &duban.Ratio{Num: 1, Den: 1, Of: duban.LevelTownship, Base: 12}
	five := 5
	h.update(time.Date(2021, 8, 1, 9, 0, 0, 0, duban.Shanghai), "base", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Value: &five, Base: &five})
	h.update(time.Date(2021, 8, 2, 9, 0, 0, 0, duban.Shanghai), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(spec)
	h.refused("base", duban.EINVALID, "系统确定")
	require.Equal(t, 12, h.ok("cancel").Projection.ProgressBase)
}

func TestRecurringPeriodInstanceRunsOnItsOwnDeadline(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	spec.ID, spec.TemplateID, spec.Kind, spec.Period = "2021/2.5/43/Q2", "2.5", duban.KindRecurring, "Q2"
	spec.UnitCode, spec.UnitName, spec.UnitLevel = "43", "湖南省", duban.LevelProvince
	spec.Due = duban.EndOfDay(2021, 7, 10) // end of Q2 plus 10 days' grace
	spec.Approval = spec.Approval[2:]
	spec.Reminders = []duban.Offset{d(7)}
	spec.Escalation = spec.Escalation[2:]
	provOfficial := duban.Actor{UserID: 8, UnitCode: "43", Roles: roles(duban.RoleOfficial)}
	h.update(time.Date(2021, 7, 8, 9, 0, 0, 0, duban.Shanghai), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: provOfficial, Evidence: []duban.Evidence{proof}})
	h.update(time.Date(2021, 7, 9, 9, 0, 0, 0, duban.Shanghai), "approve", workflows.UpdateDecide, workflows.DecisionRequest{Actor: provHead, Step: 1, Approve: true})
	res := h.run(spec)
	require.Equal(t, duban.StatusCompleted, res.Status)
	rem := h.ofKind(duban.EventReminder)
	require.Len(t, rem, 1)
	require.True(t, rem[0].At.Equal(duban.EndOfDay(2021, 7, 3)))
	require.Equal(t, "2021/2.5/43/Q2", h.transitions[0].InstanceID)
}

func TestContinueAsNewKeepsState(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	// The test environment reports a history length of its own choosing.
	h.env.SetCurrentHistoryLength(50)
	h.env.ExecuteWorkflow(workflows.TaskWorkflow, workflows.TaskInput{Spec: spec, HistoryLimit: 40})
	require.True(t, h.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(h.env.GetWorkflowError(), &can), "got %v", h.env.GetWorkflowError())
	var next workflows.TaskInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	// The first alarm (the 30-day reminder) fired, then the run continued
	// as new carrying its state: sequence, fired alarms, recorded row.
	require.Equal(t, []duban.EventKind{duban.EventAssigned, duban.EventReminder}, h.kinds())
	require.True(t, next.Recorded)
	require.NotNil(t, next.State)
	require.Equal(t, int64(2), next.State.Seq)
	require.True(t, next.State.DeadlineAlarms[0].Fired)
	require.False(t, next.State.DeadlineAlarms[1].Fired)
	require.Equal(t, spec.ID, next.Spec.ID)
}

func TestClockScalesPlanTime(t *testing.T) {
	realStart := time.Date(2026, 11, 28, 10, 0, 0, 0, duban.Shanghai)
	c := duban.Clock{Scale: 1440, VirtualEpoch: time.Date(2026, 1, 1, 0, 0, 0, 0, duban.Shanghai), RealEpoch: realStart}
	require.True(t, c.Virtual(realStart.Add(time.Minute)).Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, duban.Shanghai)))
	require.Equal(t, time.Minute, c.Real(24*time.Hour))
	plain := duban.Clock{}
	require.True(t, plain.Virtual(realStart).Equal(realStart))
	require.Equal(t, time.Hour, plain.Real(time.Hour))
}

func TestReminderDueAfterAssignmentIsSentWhenTheWorkerStartsLate(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	// The launcher assigned the task on 25 November; a backlogged worker ran
	// its first workflow task only on 5 December, after the 30-day reminder.
	env.SetStartTime(time.Date(2021, 12, 5, 9, 0, 0, 0, duban.Shanghai))
	var got []duban.Transition
	env.OnActivity(a.RecordTransition, mock.Anything, mock.Anything).Return(func(_ context.Context, tr duban.Transition) (activities.RecordResult, error) {
		got = append(got, tr)
		return activities.RecordResult{}, nil
	})
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateCancel, "c", &testsuite.TestUpdateCallback{}, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	}, time.Hour)
	env.ExecuteWorkflow(workflows.TaskWorkflow, workflows.TaskInput{Spec: countySpec(), Recorded: true, AssignedAt: time.Date(2021, 11, 25, 9, 0, 0, 0, duban.Shanghai)})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, duban.EventReminder, got[0].Kind)
	require.True(t, got[0].At.Equal(duban.EndOfDay(2021, 12, 1)))
	require.Equal(t, int64(2), got[0].Seq, "sequence 1 was written by the launcher")
	require.Equal(t, duban.EventCancelled, got[1].Kind)
}

func TestLaunchedInstanceUsesTheLaunchersAlarms(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	var got []duban.Transition
	env.OnActivity(a.RecordTransition, mock.Anything, mock.Anything).Return(func(_ context.Context, tr duban.Transition) (activities.RecordResult, error) {
		got = append(got, tr)
		return activities.RecordResult{}, nil
	})
	spec := countySpec()
	alarms := workflows.DeadlineAlarms(spec, spec.Due)
	require.Equal(t, duban.EventReminder, alarms[0].Kind)
	require.True(t, alarms[0].At.Equal(duban.EndOfDay(2021, 12, 1)), "computed as the workflow would")
	// The launcher's list is what the workflow follows.
	alarms[0].At = time.Date(2021, 2, 1, 9, 0, 0, 0, duban.Shanghai)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateCancel, "c", &testsuite.TestUpdateCallback{}, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	}, 40*24*time.Hour)
	env.ExecuteWorkflow(workflows.TaskWorkflow, workflows.TaskInput{Spec: spec, Recorded: true, Alarms: alarms})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, duban.EventReminder, got[0].Kind)
	require.True(t, got[0].At.Equal(time.Date(2021, 2, 1, 9, 0, 0, 0, duban.Shanghai)))
}
