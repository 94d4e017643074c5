package worker_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/workflows"
)

// TestRecordHistory drives one instance through reminders, an extension, a
// rejection and a full approval on the real server and writes its history to
// workflows/testdata/NAME-history.json, where the replay test guards every
// later change to the workflow code. It runs only when asked:
//
//	DUBAN_RECORD_HISTORY=NAME go test ./worker/ -run TestRecordHistory
func TestRecordHistory(t *testing.T) {
	name := os.Getenv("DUBAN_RECORD_HISTORY")
	if name == "" {
		t.Skip("set DUBAN_RECORD_HISTORY=NAME to record workflows/testdata/NAME-history.json")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := testenv.NewStack(t)
	importReminders(ctx, t, s)
	official := addUser(t, s.DB, "furong-official", "430102", duban.RoleOfficial)
	head := addUser(t, s.DB, "furong-head", "430102", duban.RoleApprover)
	city := addUser(t, s.DB, "changsha-head", "4301", duban.RoleApprover)
	citySuper := addUser(t, s.DB, "changsha-super", "4301", duban.RoleSupervisor)
	province := addUser(t, s.DB, "hunan-head", "43", duban.RoleApprover)
	colleagueActor := addUser(t, s.DB, "furong-official2", "430102", duban.RoleOfficial).Actor()
	head2Actor := addUser(t, s.DB, "furong-head2", "430102", duban.RoleApprover).Actor()
	adminActor := addUser(t, s.DB, "hunan-admin", "43", duban.RoleAdmin).Actor()

	id := launchReminders(ctx, t, s)
	upd := func(key string, m workflows.Message) {
		_, err := s.Engine.Send(ctx, id, key, m)
		require.NoError(t, err, key)
	}
	time.Sleep(4 * time.Second) // two reminders fire
	ten := 10
	upd("p", workflows.ProgressReport{Actor: official.Actor(), Value: &ten, Note: "起草中", Evidence: []duban.Evidence{proof}})
	// The everyday actions (from version 3 on): an urge, the unit's
	// 承办人, a withdrawal, a hand-over, a signer added after a step, a
	// return to an earlier step.
	upd("u", workflows.Urge{Actor: citySuper.Actor(), Note: "请抓紧"})
	upd("a", workflows.AssigneeChange{Actor: official.Actor(), To: &colleagueActor})
	upd("x", workflows.ExtensionRequest{Actor: official.Actor(), NewDue: time.Date(2021, 3, 20, 0, 0, 0, 0, duban.Shanghai), Reason: "待常委会审议"})
	upd("xg", workflows.ExtensionDecision{Actor: city.Actor(), Approve: true})
	// A plan change (from version 4 on): the deadline, reminders and
	// evidence note by a 文号, sent twice.
	newDue := duban.EndOfDay(2021, 4, 30)
	reminders := []duban.Offset{{Days: 7}}
	note := "改革方案及审议纪要"
	change := workflows.Amendment{Change: duban.PlanChange{ID: 1, PlanID: "reminders-test", Year: 2021, TemplateID: "2.1",
		DocNo: "湘计生协〔2021〕18号", Reason: "统一推迟", NewDue: &newDue, Reminders: &reminders, EvidenceNote: &note, By: adminActor}}
	upd("am", change)
	upd("am2", change)
	upd("s0", workflows.Submission{Actor: official.Actor()})
	upd("w", workflows.Withdrawal{Actor: official.Actor(), Reason: "附件有误"})
	upd("s1", workflows.Submission{Actor: official.Actor()})
	upd("h", workflows.HandOver{Actor: head.Actor(), Step: 1, To: &head2Actor, Reason: "出差"})
	upd("d1", workflows.DecisionRequest{Actor: head2Actor, Step: 1, Approve: true})
	upd("as", workflows.SignerAddition{Actor: city.Actor(), Step: 2, Unit: duban.Signer{Unit: "43", UnitName: "湖南省"}, Reason: "请省里把关"})
	upd("rt", workflows.DecisionRequest{Actor: city.Actor(), Step: 2, Approve: false, Reason: "县级意见需补充", ReturnTo: 1})
	upd("d1b", workflows.DecisionRequest{Actor: head2Actor, Step: 1, Approve: true})
	upd("r2", workflows.DecisionRequest{Actor: city.Actor(), Step: 2, Approve: false, Reason: "缺少审议纪要"})
	upd("s2", workflows.Submission{Actor: official.Actor(), Note: "已补充"})
	upd("d3", workflows.DecisionRequest{Actor: head.Actor(), Step: 1, Approve: true})
	upd("d4", workflows.DecisionRequest{Actor: city.Actor(), Step: 2, Approve: true})
	upd("d5", workflows.DecisionRequest{Actor: province.Actor(), Step: 3, Approve: true})
	var res workflows.TaskResult
	require.NoError(t, s.Client.GetWorkflow(ctx, s.Engine.WorkflowID(id), "").Get(ctx, &res))
	require.Equal(t, duban.StatusCompleted, res.Status)

	var hist historypb.History
	it := s.Client.GetWorkflowHistory(ctx, s.Engine.WorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		hist.Events = append(hist.Events, ev)
	}
	raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&hist)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile("../workflows/testdata/"+name+"-history.json", raw, 0o644))
	t.Logf("recorded %d events", len(hist.Events))
}
