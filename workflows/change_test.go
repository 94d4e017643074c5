package workflows_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/workflows"
)

// postpone is the province's circular moving 2.1 to the end of January.
func postpone() duban.PlanChange {
	due := duban.EndOfDay(2022, 1, 31)
	rs := []duban.Offset{d(14), d(3)}
	note := "改革方案正式印发文件及常委会审议纪要"
	return duban.PlanChange{ID: 7, PlanID: "hunan-2021", Year: 2021, TemplateID: "2.1", DocNo: "湘计生协〔2021〕18号",
		Reason: "省委改革办统一部署推迟", NewDue: &due, Reminders: &rs, EvidenceNote: &note, By: admin}
}

// TestAmendMovesTheDeadline: an overdue task receives a plan change that
// moves its deadline past today: it is no longer overdue, its reminders
// are the change's, its evidence note too, and sending the change again
// changes nothing more. A pending extension asking for less than the
// change gives is dropped.
func TestAmendMovesTheDeadline(t *testing.T) {
	h := newHarness(t)
	h.update(time.Date(2022, 1, 5, 9, 0, 0, 0, duban.Shanghai), "extension", workflows.UpdateRequestExtension,
		workflows.ExtensionRequest{Actor: official, NewDue: time.Date(2022, 1, 20, 0, 0, 0, 0, duban.Shanghai), Reason: "待审议"})
	c := postpone()
	h.update(time.Date(2022, 1, 6, 9, 0, 0, 0, duban.Shanghai), "amend", workflows.UpdateAmend, workflows.Amendment{Change: c})
	h.update(time.Date(2022, 1, 6, 10, 0, 0, 0, duban.Shanghai), "again", workflows.UpdateAmend, workflows.Amendment{Change: c})
	other := c
	other.ID, other.TemplateID = 10, "2.2"
	h.update(time.Date(2022, 1, 6, 11, 0, 0, 0, duban.Shanghai), "not-ours", workflows.UpdateAmend, workflows.Amendment{Change: other})
	byOfficial := c
	byOfficial.ID, byOfficial.By = 8, official
	h.update(time.Date(2022, 1, 6, 12, 0, 0, 0, duban.Shanghai), "official", workflows.UpdateAmend, workflows.Amendment{Change: byOfficial})
	h.query(time.Date(2022, 1, 20, 9, 0, 0, 0, duban.Shanghai), "mid-january")
	h.update(time.Date(2022, 2, 1, 9, 0, 0, 0, duban.Shanghai), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(countySpec())

	v := h.ok("amend")
	due := duban.EndOfDay(2022, 1, 31)
	require.Equal(t, due, v.State.Due)
	require.Equal(t, due, v.Projection.Due)
	require.Nil(t, v.Projection.OverdueSince, "due again in the future: no longer overdue")
	require.Zero(t, v.Projection.Escalation)
	require.Nil(t, v.State.Extension, "the extension asked for less than the change gives")
	require.Equal(t, []int64{7}, v.State.Spec.Changes)
	require.Equal(t, "改革方案正式印发文件及常委会审议纪要", v.State.Spec.EvidenceNote)
	require.Equal(t, v, h.ok("again"), "the same change again changes nothing")
	h.refused("not-ours", duban.EINVALID, "不适用")
	h.refused("official", duban.EFORBIDDEN, "变更计划")

	amended := h.ofKind(duban.EventAmended)
	require.Len(t, amended, 1)
	tr := amended[0]
	require.Equal(t, &duban.ChangeRef{ID: 7, DocNo: "湘计生协〔2021〕18号"}, tr.Change)
	require.Equal(t, "省委改革办统一部署推迟", tr.Reason)
	require.Contains(t, tr.Note, "截止日期调整为 2022年1月31日")
	require.Equal(t, due, *tr.NewDue)
	require.NotNil(t, tr.Spec, "the row gets the spec as changed")
	require.Equal(t, due, tr.Spec.Due)

	// The new reminders (14 and 3 days before) fire; the old ones do not.
	var reminders []string
	for _, r := range h.ofKind(duban.EventReminder) {
		if r.At.After(time.Date(2022, 1, 6, 0, 0, 0, 0, duban.Shanghai)) {
			reminders = append(reminders, r.At.In(duban.Shanghai).Format(time.DateTime))
		}
	}
	require.Equal(t, []string{"2022-01-17 23:59:59", "2022-01-28 23:59:59"}, reminders)
	overdue := h.ofKind(duban.EventOverdue)
	require.True(t, due.Equal(overdue[len(overdue)-1].At), "overdue again at the new deadline")
	h.checkSequence()
}

// TestAmendWithdraws: a withdrawal cancels the task with the change's
// reason and 文号.
func TestAmendWithdraws(t *testing.T) {
	h := newHarness(t)
	c := duban.PlanChange{ID: 9, PlanID: "hunan-2021", Year: 2021, TemplateID: "2.1", DocNo: "湘计生协〔2021〕20号",
		Reason: "该项工作并入全省统一部署", Withdraw: true, By: admin}
	h.update(at(3, 1, 9), "withdraw", workflows.UpdateAmend, workflows.Amendment{Change: c})
	res := h.run(countySpec())
	require.Equal(t, duban.StatusCancelled, res.Status)
	cancelled := h.ofKind(duban.EventCancelled)
	require.Len(t, cancelled, 1)
	require.Equal(t, "湘计生协〔2021〕20号", cancelled[0].Change.DocNo)
	require.Equal(t, "该项工作并入全省统一部署", cancelled[0].Reason)
	require.True(t, slices.Contains(h.ok("withdraw").State.Spec.Changes, 9))
	h.checkSequence()
}
