package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/workflows"
)

// People of the everyday actions, beside those of task_test.go.
var (
	countyHead2   = duban.Actor{UserID: 12, Name: "周敏", UnitCode: "430102", Roles: []duban.Role{duban.RoleApprover}}
	tianxinHead   = duban.Actor{UserID: 13, Name: "吴刚", UnitCode: "430103", Roles: []duban.Role{duban.RoleApprover}}
	citySuper     = duban.Actor{UserID: 14, Name: "郑洁", UnitCode: "4301", Roles: []duban.Role{duban.RoleSupervisor}}
	provSuper     = duban.Actor{UserID: 15, Name: "孙丽", UnitCode: "43", Roles: []duban.Role{duban.RoleSupervisor}}
	colleague     = duban.Actor{UserID: 16, Name: "陈晨", UnitCode: "430102", Roles: []duban.Role{duban.RoleOfficial}}
	yueyangOff    = duban.Actor{UserID: 17, Name: "何静", UnitCode: "430602", Roles: []duban.Role{duban.RoleOfficial}}
	changshaUnit  = duban.Signer{Unit: "4301", UnitName: "长沙市"}
	tianxinSigner = duban.Signer{Unit: "430103", UnitName: "天心区"}
)

func at(m time.Month, d, h int) time.Time { return time.Date(2021, m, d, h, 0, 0, 0, duban.Shanghai) }

// TestUrge: a supervisor above (or an approver above) urges; the unit's
// officials hear it as urgent, once per urging unit per day.
func TestUrge(t *testing.T) {
	h := newHarness(t)
	h.update(at(3, 1, 9), "city", workflows.UpdateUrge, workflows.Urge{Actor: citySuper, Note: "请抓紧报送", WithApprovers: true})
	h.update(at(3, 1, 10), "city-again", workflows.UpdateUrge, workflows.Urge{Actor: citySuper, Note: "再催"})
	h.update(at(3, 1, 11), "province", workflows.UpdateUrge, workflows.Urge{Actor: provSuper})
	h.update(at(3, 1, 12), "own-approver", workflows.UpdateUrge, workflows.Urge{Actor: countyHead})
	h.update(at(3, 1, 13), "official", workflows.UpdateUrge, workflows.Urge{Actor: official})
	h.update(at(3, 1, 14), "control", workflows.UpdateUrge, workflows.Urge{Actor: cityHead, Note: "\x00"})
	h.update(at(3, 2, 9), "city-next-day", workflows.UpdateUrge, workflows.Urge{Actor: citySuper})
	h.update(at(3, 2, 10), "city-approver-same-day", workflows.UpdateUrge, workflows.Urge{Actor: cityHead})
	h.update(at(3, 3, 8), "city-approver", workflows.UpdateUrge, workflows.Urge{Actor: cityHead})
	h.update(at(3, 3, 9), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(countySpec())

	v := h.ok("city")
	require.Equal(t, 1, v.Projection.UrgeCount)
	require.Equal(t, at(3, 1, 9), *v.Projection.LastUrgedAt)
	h.refused("city-again", duban.ECONFLICT, "2021-03-02 起可再次催办")
	require.Equal(t, 2, h.ok("province").Projection.UrgeCount, "another unit may urge the same day")
	h.refused("own-approver", duban.EFORBIDDEN, "催办")
	h.refused("official", duban.EFORBIDDEN, "催办")
	h.refused("control", duban.EINVALID, "NUL")
	h.ok("city-next-day")
	h.refused("city-approver-same-day", duban.ECONFLICT, "本单位今天已催办") // one urge per urging unit, whoever in it
	require.Equal(t, 4, h.ok("city-approver").Projection.UrgeCount)

	urged := h.ofKind(duban.EventUrged)
	require.Len(t, urged, 4)
	first := urged[0]
	require.Equal(t, "请抓紧报送", first.Note)
	require.True(t, first.Notices[0].Urgent)
	require.Equal(t, []duban.Recipients{
		{Unit: "430102", Roles: []duban.Role{duban.RoleOfficial}},
		{Unit: "430102", Roles: []duban.Role{duban.RoleApprover}},
	}, first.Notices[0].Recipients, "officials, and the approvers when asked")
	require.Len(t, urged[1].Notices[0].Recipients, 1)
	h.checkSequence()
}

// TestWithdraw: the official takes a submission back while its step is
// undecided; the approver hears it.
func TestWithdraw(t *testing.T) {
	h := newHarness(t)
	h.update(at(3, 1, 9), "not-submitted", workflows.UpdateWithdraw, workflows.Withdrawal{Actor: official})
	h.update(at(3, 1, 10), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h.update(at(3, 1, 11), "other-unit", workflows.UpdateWithdraw, workflows.Withdrawal{Actor: otherOff})
	h.update(at(3, 1, 12), "withdraw", workflows.UpdateWithdraw, workflows.Withdrawal{Actor: official, Reason: "附件传错了"})
	h.update(at(3, 1, 13), "decide-after", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(at(3, 2, 9), "submit-again", workflows.UpdateSubmit, workflows.Submission{Actor: official})
	h.update(at(3, 2, 10), "county", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(at(3, 2, 11), "too-late", workflows.UpdateWithdraw, workflows.Withdrawal{Actor: official})
	h.update(at(3, 3, 9), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(countySpec())

	h.refused("not-submitted", duban.ECONFLICT, "不在审批中")
	h.refused("other-unit", duban.EFORBIDDEN, "芙蓉区")
	v := h.ok("withdraw")
	require.Equal(t, duban.StatusInProgress, v.Projection.Status)
	require.Empty(t, v.State.StepAlarms)
	h.refused("decide-after", duban.ECONFLICT, "不在审批中")
	require.Equal(t, 2, h.ok("county").Projection.CurrentStep)
	// Step 2 is undecided, so the withdrawal goes through; what the
	// county decided stays in the record.
	require.Equal(t, duban.StatusInProgress, h.ok("too-late").Projection.Status)
	w := h.ofKind(duban.EventWithdrawn)
	require.Len(t, w, 2)
	require.Equal(t, "附件传错了", w[0].Reason)
	require.Equal(t, []duban.Recipients{{Unit: "430102", Roles: []duban.Role{duban.RoleApprover}}}, w[0].Notices[0].Recipients)
	require.Equal(t, []duban.Recipients{{Unit: "4301", Roles: []duban.Role{duban.RoleApprover}}}, w[1].Notices[0].Recipients)
	h.checkSequence()
}

// TestReturnToAnEarlierStep: the province at step 3 sends the task back to
// step 1; the county and the city decide again, then the province.
func TestReturnToAnEarlierStep(t *testing.T) {
	h := newHarness(t)
	h.update(at(3, 1, 9), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h.update(at(3, 1, 10), "county", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(at(3, 1, 11), "city", workflows.UpdateDecide, workflows.DecisionRequest{Actor: cityHead, Step: 2, Approve: true})
	h.update(at(3, 1, 12), "return-to-self", workflows.UpdateDecide, workflows.DecisionRequest{Actor: provHead, Step: 3, Approve: false, Reason: "x", ReturnTo: 3})
	h.update(at(3, 1, 13), "approve-with-return", workflows.UpdateDecide, workflows.DecisionRequest{Actor: provHead, Step: 3, Approve: true, ReturnTo: 1})
	h.update(at(3, 1, 14), "no-reason", workflows.UpdateDecide, workflows.DecisionRequest{Actor: provHead, Step: 3, Approve: false, ReturnTo: 1})
	h.update(at(3, 1, 15), "province-returns", workflows.UpdateDecide, workflows.DecisionRequest{Actor: provHead, Step: 3, Approve: false, Reason: "县级意见不完整", ReturnTo: 1})
	h.update(at(3, 2, 9), "county-again", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(at(3, 2, 10), "city-again", workflows.UpdateDecide, workflows.DecisionRequest{Actor: cityHead, Step: 2, Approve: true})
	h.update(at(3, 2, 11), "province", workflows.UpdateDecide, workflows.DecisionRequest{Actor: provHead, Step: 3, Approve: true})
	res := h.run(countySpec())
	require.Equal(t, duban.StatusCompleted, res.Status)

	h.refused("return-to-self", duban.EINVALID, "第 3 步之前")
	h.refused("approve-with-return", duban.EINVALID, "通过时不能")
	h.refused("no-reason", duban.EINVALID, "理由")
	v := h.ok("province-returns")
	require.Equal(t, duban.StatusSubmitted, v.Projection.Status)
	require.Equal(t, 1, v.Projection.CurrentStep)
	require.Equal(t, "430102", v.Projection.ApproverUnit)
	ret := h.ofKind(duban.EventReturned)
	require.Len(t, ret, 1)
	require.Equal(t, 3, ret[0].Step)
	require.Equal(t, 1, ret[0].ToStep)
	require.Equal(t, "县级意见不完整", ret[0].Reason)
	require.Equal(t, []duban.Recipients{{Unit: "430102", Roles: []duban.Role{duban.RoleApprover}}}, ret[0].Notices[0].Recipients)
	require.Len(t, h.ok("province").State.Decisions, 6)
	h.checkSequence()
}

// TestHandOver: a step handed to a colleague is decided by them alone; a
// step handed to the unit above by its approvers; a delegate acts for an
// approver away.
func TestHandOver(t *testing.T) {
	h := newHarness(t)
	delegate := cityHead
	delegate.OnBehalfOf = &countyHead2
	h.update(at(3, 1, 9), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h.update(at(3, 1, 10), "to-other-unit", workflows.UpdateHandOver, workflows.HandOver{Actor: countyHead, Step: 1, To: &tianxinHead})
	h.update(at(3, 1, 11), "to-self", workflows.UpdateHandOver, workflows.HandOver{Actor: countyHead, Step: 1, To: &countyHead})
	h.update(at(3, 1, 12), "to-official", workflows.UpdateHandOver, workflows.HandOver{Actor: countyHead, Step: 1, To: &colleague})
	h.update(at(3, 1, 13), "both", workflows.UpdateHandOver, workflows.HandOver{Actor: countyHead, Step: 1, To: &countyHead2, ToUnit: &changshaUnit})
	h.update(at(3, 1, 14), "hand-over", workflows.UpdateHandOver, workflows.HandOver{Actor: countyHead, Step: 1, To: &countyHead2, Reason: "本人出差"})
	h.update(at(3, 1, 15), "former-holder", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(at(3, 1, 16), "delegate", workflows.UpdateDecide, workflows.DecisionRequest{Actor: delegate, Step: 1, Approve: true, Reason: "代审"})
	h.update(at(3, 2, 9), "to-province", workflows.UpdateHandOver, workflows.HandOver{Actor: cityHead, Step: 2, ToUnit: &duban.Signer{Unit: "43", UnitName: "湖南省"}})
	h.update(at(3, 2, 10), "city-after", workflows.UpdateDecide, workflows.DecisionRequest{Actor: cityHead, Step: 2, Approve: true})
	h.update(at(3, 2, 11), "province-step-2", workflows.UpdateDecide, workflows.DecisionRequest{Actor: provHead, Step: 2, Approve: true})
	h.update(at(3, 2, 12), "province-step-3", workflows.UpdateDecide, workflows.DecisionRequest{Actor: provHead, Step: 3, Approve: true})
	res := h.run(countySpec())
	require.Equal(t, duban.StatusCompleted, res.Status)

	h.refused("to-other-unit", duban.EINVALID, "本单位的另一位审核人")
	h.refused("to-self", duban.EINVALID, "本单位的另一位审核人")
	h.refused("to-official", duban.EINVALID, "本单位的另一位审核人")
	h.refused("both", duban.EINVALID, "请选择")
	v := h.ok("hand-over")
	require.Equal(t, int64(12), v.Projection.WaitingUser)
	require.Equal(t, "周敏", v.State.Chain[0].Assignee.Name)
	h.refused("former-holder", duban.EFORBIDDEN, "已转交给周敏")
	d := h.ok("delegate")
	require.Equal(t, 2, d.Projection.CurrentStep)
	require.Equal(t, "430102", d.State.Decisions[0].Unit)
	require.Equal(t, int64(12), d.State.Decisions[0].Actor.OnBehalfOf.UserID)
	require.Equal(t, []string{"43"}, h.ok("to-province").Projection.WaitingUnits)
	h.refused("city-after", duban.EFORBIDDEN, "湖南省")
	ho := h.ofKind(duban.EventHandedOver)
	require.Len(t, ho, 2)
	require.Equal(t, []duban.Recipients{{Unit: "430102", Roles: []duban.Role{duban.RoleApprover}, UserID: 12}}, ho[0].Notices[0].Recipients)
	require.Equal(t, "本人出差", ho[0].Reason)
	h.checkSequence()
}

// TestAddSigner: an approver inserts a peer unit before their own step,
// and the unit above after it; a template may forbid it.
func TestAddSigner(t *testing.T) {
	h := newHarness(t)
	h.update(at(3, 1, 9), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h.update(at(3, 1, 10), "far-unit", workflows.UpdateAddSigner, workflows.SignerAddition{Actor: countyHead, Step: 1, Unit: duban.Signer{Unit: "430602", UnitName: "岳阳楼区"}, Reason: "x"})
	h.update(at(3, 1, 11), "no-reason", workflows.UpdateAddSigner, workflows.SignerAddition{Actor: countyHead, Step: 1, Unit: tianxinSigner})
	h.update(at(3, 1, 12), "before", workflows.UpdateAddSigner, workflows.SignerAddition{Actor: countyHead, Step: 1, Unit: tianxinSigner, Before: true, Reason: "涉及天心区辖区"})
	h.update(at(3, 1, 13), "county-too-early", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(at(3, 1, 14), "tianxin", workflows.UpdateDecide, workflows.DecisionRequest{Actor: tianxinHead, Step: 1, Approve: true})
	h.update(at(3, 1, 15), "after", workflows.UpdateAddSigner, workflows.SignerAddition{Actor: countyHead, Step: 2, Unit: changshaUnit, Reason: "请市里先把关"})
	h.update(at(3, 1, 16), "county", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 2, Approve: true})
	h.update(at(3, 2, 9), "added-city", workflows.UpdateDecide, workflows.DecisionRequest{Actor: cityHead, Step: 3, Approve: true})
	h.update(at(3, 2, 10), "city", workflows.UpdateDecide, workflows.DecisionRequest{Actor: cityHead, Step: 4, Approve: true})
	h.update(at(3, 2, 11), "province", workflows.UpdateDecide, workflows.DecisionRequest{Actor: provHead, Step: 5, Approve: true})
	res := h.run(countySpec())
	require.Equal(t, duban.StatusCompleted, res.Status)

	h.refused("far-unit", duban.EINVALID, "同级单位或上一级单位")
	h.refused("no-reason", duban.EINVALID, "理由")
	v := h.ok("before")
	require.Equal(t, 4, v.Projection.StepCount)
	require.Equal(t, "430103", v.Projection.ApproverUnit)
	require.Equal(t, "涉及天心区辖区", v.State.Chain[0].Added.Reason)
	h.refused("county-too-early", duban.EFORBIDDEN, "天心区")
	require.Equal(t, 5, h.ok("after").Projection.StepCount)
	require.Equal(t, "4301", h.ok("county").Projection.ApproverUnit)
	added := h.ofKind(duban.EventSignerAdded)
	require.Len(t, added, 2)
	require.Equal(t, 1, added[0].Step)
	require.Equal(t, 3, added[1].Step)
	h.checkSequence()

	// A template that forbids it.
	h2 := newHarness(t)
	spec := countySpec()
	spec.NoAddSigner = true
	h2.update(at(3, 1, 9), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h2.update(at(3, 1, 10), "forbidden", workflows.UpdateAddSigner, workflows.SignerAddition{Actor: countyHead, Step: 1, Unit: tianxinSigner, Reason: "x"})
	h2.update(at(3, 1, 11), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h2.run(spec)
	h2.refused("forbidden", duban.EFORBIDDEN, "不允许加签")
}

// TestSignTogether: 会签 needs every signer unit; one return sends the
// task back. 或签 completes on the first. A unit may need two of its
// approvers.
func TestSignTogether(t *testing.T) {
	joint := func(mode duban.SignMode, signers ...duban.Signer) duban.TaskSpec {
		s := countySpec()
		s.Approval[0].Signers = signers
		s.Approval[0].Mode = mode
		return s
	}
	furong := duban.Signer{Unit: "430102", UnitName: "芙蓉区"}

	h := newHarness(t)
	h.update(at(3, 1, 9), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h.update(at(3, 1, 10), "furong", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(at(3, 1, 11), "furong-again", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead2, Step: 1, Approve: true})
	h.update(at(3, 1, 12), "withdraw", workflows.UpdateWithdraw, workflows.Withdrawal{Actor: official})
	h.update(at(3, 1, 13), "tianxin-returns", workflows.UpdateDecide, workflows.DecisionRequest{Actor: tianxinHead, Step: 1, Approve: false, Reason: "天心区数据有误"})
	h.update(at(3, 2, 9), "submit-again", workflows.UpdateSubmit, workflows.Submission{Actor: official})
	h.update(at(3, 2, 10), "tianxin", workflows.UpdateDecide, workflows.DecisionRequest{Actor: tianxinHead, Step: 1, Approve: true})
	h.update(at(3, 2, 11), "furong-2", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h.update(at(3, 3, 9), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(joint(duban.SignAll, furong, tianxinSigner))

	v := h.ok("furong")
	require.Equal(t, 1, v.Projection.CurrentStep, "still waiting on 天心区")
	require.Equal(t, []string{"430103"}, v.Projection.WaitingUnits)
	h.refused("furong-again", duban.ECONFLICT, "芙蓉区已签署")
	h.refused("withdraw", duban.ECONFLICT, "已有审批意见")
	require.Equal(t, duban.StatusInProgress, h.ok("tianxin-returns").Projection.Status, "one return returns the task")
	require.Equal(t, 1, h.ok("tianxin").Projection.CurrentStep)
	require.Equal(t, 2, h.ok("furong-2").Projection.CurrentStep)
	require.Equal(t, []duban.EventKind{duban.EventAssigned, duban.EventSubmitted, duban.EventSigned, duban.EventRejected,
		duban.EventSubmitted, duban.EventSigned, duban.EventApproved, duban.EventCancelled}, h.kinds())
	h.checkSequence()

	// 或签: the first approval completes the step.
	h2 := newHarness(t)
	h2.update(at(3, 1, 9), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h2.update(at(3, 1, 10), "tianxin", workflows.UpdateDecide, workflows.DecisionRequest{Actor: tianxinHead, Step: 1, Approve: true})
	h2.update(at(3, 1, 11), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h2.run(joint(duban.SignAny, furong, tianxinSigner))
	require.Equal(t, 2, h2.ok("tianxin").Projection.CurrentStep)

	// Two approvers of one unit must both sign.
	h3 := newHarness(t)
	h3.update(at(3, 1, 9), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h3.update(at(3, 1, 10), "first", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h3.update(at(3, 1, 11), "same-again", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true})
	h3.update(at(3, 1, 12), "second", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead2, Step: 1, Approve: true})
	h3.update(at(3, 1, 13), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h3.run(joint(duban.SignAll, duban.Signer{Unit: "430102", UnitName: "芙蓉区", Required: 2}))
	require.Equal(t, 1, h3.ok("first").Projection.CurrentStep)
	h3.refused("same-again", duban.ECONFLICT, "您已签署")
	require.Equal(t, 2, h3.ok("second").Projection.CurrentStep)
}

// TestNameAssignee: the unit names a colleague as 承办人; reminders then
// reach them, while overdue notices still reach every official.
func TestNameAssignee(t *testing.T) {
	h := newHarness(t)
	h.update(at(11, 1, 9), "other-unit", workflows.UpdateNameAssignee, workflows.AssigneeChange{Actor: official, To: &yueyangOff})
	h.update(at(11, 1, 10), "approver", workflows.UpdateNameAssignee, workflows.AssigneeChange{Actor: official, To: &countyHead})
	h.update(at(11, 1, 11), "name", workflows.UpdateNameAssignee, workflows.AssigneeChange{Actor: official, To: &colleague})
	h.update(at(12, 31, 9), "clear", workflows.UpdateNameAssignee, workflows.AssigneeChange{Actor: colleague})
	h.update(at(12, 31, 10), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(countySpec())

	h.refused("other-unit", duban.EINVALID, "芙蓉区的承办人")
	h.refused("approver", duban.EINVALID, "芙蓉区的承办人")
	require.Equal(t, "陈晨", h.ok("name").Projection.Assignee.Name)
	require.Nil(t, h.ok("clear").Projection.Assignee)
	reminders := h.ofKind(duban.EventReminder)
	require.NotEmpty(t, reminders)
	for _, r := range reminders {
		if r.At.After(at(11, 1, 11)) && r.At.Before(at(12, 31, 9)) {
			require.Equal(t, int64(16), r.Notices[0].Recipients[0].UserID, "reminder at %s", r.At)
		}
	}
	h.checkSequence()
}
