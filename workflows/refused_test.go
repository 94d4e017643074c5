package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/workflows"
)

// TestValidatorsRefuseWhatTheStoreCannotHold: text with NUL or other
// control characters, invalid UTF-8, numbers past what a column holds and
// dates past the range are refused before anything is written.
func TestValidatorsRefuseWhatTheStoreCannotHold(t *testing.T) {
	h := newHarness(t)
	spec := countySpec()
	day := func(dd, hh int) time.Time { return time.Date(2021, 3, dd, hh, 0, 0, 0, duban.Shanghai) }
	huge := duban.MaxCount + 1
	h.update(day(1, 9), "nul-note", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Note: "起草\x00中"})
	h.update(day(1, 10), "escape-note", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Note: "\x1b[2J"})
	h.update(day(1, 11), "bad-utf8", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Note: "\xff"})
	h.update(day(1, 12), "huge-value", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Value: &huge})
	h.update(day(1, 13), "nul-file", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{{SHA256: sha, Name: "方案\x00.pdf"}}})
	h.update(day(1, 14), "far-extension", workflows.UpdateRequestExtension, workflows.ExtensionRequest{Actor: official, NewDue: duban.EndOfDay(9999, 12, 31), Reason: "x"})
	h.update(day(1, 15), "long-extension", workflows.UpdateRequestExtension, workflows.ExtensionRequest{Actor: official, NewDue: duban.EndOfDay(2023, 6, 30), Reason: "x"})
	h.update(day(1, 16), "nul-reason", workflows.UpdateRequestExtension, workflows.ExtensionRequest{Actor: official, NewDue: duban.EndOfDay(2022, 1, 31), Reason: "\x00"})
	h.update(day(2, 9), "fine", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Note: "第一稿\n第二稿\t待审"})
	h.update(day(2, 10), "cancel-nul", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "撤\x00销"})
	h.update(day(2, 11), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(spec)

	h.refused("nul-note", duban.EINVALID, "NUL")
	h.refused("escape-note", duban.EINVALID, "U+001B")
	h.refused("bad-utf8", duban.EINVALID, "编码")
	h.refused("huge-value", duban.EINVALID, "0 到 1000000")
	h.refused("nul-file", duban.EINVALID, "方案.pdf")
	h.refused("far-extension", duban.EINVALID, "2100-12-31")
	h.refused("long-extension", duban.EINVALID, "366")
	h.refused("nul-reason", duban.EINVALID, "理由")
	h.refused("cancel-nul", duban.EINVALID, "理由")
	require.Equal(t, "第一稿\n第二稿\t待审", h.ok("fine").State.Note)
	require.Equal(t, []duban.EventKind{duban.EventAssigned, duban.EventProgress, duban.EventCancelled}, h.kinds())
	h.checkSequence()
}

// TestARefusedTransitionIsUndone: when the store refuses a transition for
// good, the workflow puts its state back, spends no sequence number and
// answers the update with the refusal; the next transition takes the
// number, so the timeline has no gap.
func TestARefusedTransitionIsUndone(t *testing.T) {
	h := newHarness(t)
	h.refuse = func(tr duban.Transition) bool { return tr.Note == "数据库拒收" }
	spec := countySpec()
	day := func(dd, hh int) time.Time { return time.Date(2021, 3, dd, hh, 0, 0, 0, duban.Shanghai) }
	three := 3
	h.update(day(1, 9), "refused", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Value: &three, Note: "数据库拒收", Evidence: []duban.Evidence{proof}})
	h.query(day(1, 10), "after-refusal")
	h.update(day(1, 11), "refused-submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Note: "数据库拒收", Evidence: []duban.Evidence{proof}})
	h.query(day(1, 12), "after-refused-submit")
	h.update(day(2, 9), "next", workflows.UpdateReportProgress, workflows.ProgressReport{Actor: official, Note: "正常"})
	h.update(day(3, 9), "submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Evidence: []duban.Evidence{proof}})
	h.update(day(3, 10), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(spec)

	h.refused("refused", duban.EINVALID, "未作任何更改")
	h.refused("refused-submit", duban.EINVALID, "未作任何更改")
	q := h.queries["after-refusal"]
	require.Equal(t, int64(1), q.State.Seq)
	require.Equal(t, duban.StatusAssigned, q.State.Status)
	require.Zero(t, q.State.Progress)
	require.Empty(t, q.State.Evidence)
	q = h.queries["after-refused-submit"]
	require.Equal(t, duban.StatusAssigned, q.State.Status, "the submission was undone: no approval step runs")
	require.Empty(t, q.State.StepAlarms)
	require.Equal(t, []int64{2, 2}, h.refusedSeqs, "both refused transitions had number 2")
	require.Equal(t, int64(2), h.ok("next").State.Seq)
	require.Equal(t, duban.StatusSubmitted, h.ok("submit").State.Status)
	h.checkSequence()
}

// TestAnUpdateAcceptedAgainstARefusedChangeIsCheckedAgain: a decision
// validated while a submission was being recorded is checked again once
// the submission turns out refused and undone.
func TestAnUpdateAcceptedAgainstARefusedChangeIsCheckedAgain(t *testing.T) {
	h := newHarness(t)
	h.refuse = func(tr duban.Transition) bool { return tr.Note == "数据库拒收" }
	spec := countySpec()
	at := time.Date(2021, 3, 1, 9, 0, 0, 0, duban.Shanghai)
	h.at(at, func() {
		for _, u := range []struct {
			label, name string
			arg         any
		}{
			{"submit", workflows.UpdateSubmit, workflows.Submission{Actor: official, Note: "数据库拒收", Evidence: []duban.Evidence{proof}}},
			{"decide", workflows.UpdateDecide, workflows.DecisionRequest{Actor: countyHead, Step: 1, Approve: true}},
		} {
			h.sendNow(u.label, u.name, u.arg)
		}
	})
	h.update(at.Add(time.Hour), "cancel", workflows.UpdateCancel, workflows.Cancellation{Actor: admin, Reason: "测试结束"})
	h.run(spec)
	h.refused("submit", duban.EINVALID, "未作任何更改")
	h.refused("decide", duban.ECONFLICT, "不在审批中")
	require.Equal(t, []duban.EventKind{duban.EventAssigned, duban.EventCancelled}, h.kinds())
	h.checkSequence()
}
