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

	id := launchReminders(ctx, t, s)
	upd := func(key string, m workflows.Message) {
		_, err := s.Engine.Send(ctx, id, key, m)
		require.NoError(t, err, key)
	}
	time.Sleep(4 * time.Second) // two reminders fire
	ten := 10
	upd("p", workflows.ProgressReport{Actor: official.Actor(), Value: &ten, Note: "起草中", Evidence: []duban.Evidence{proof}})
	upd("x", workflows.ExtensionRequest{Actor: official.Actor(), NewDue: time.Date(2021, 3, 20, 0, 0, 0, 0, duban.Shanghai), Reason: "待常委会审议"})
	upd("xg", workflows.ExtensionDecision{Actor: city.Actor(), Approve: true})
	upd("s1", workflows.Submission{Actor: official.Actor()})
	upd("d1", workflows.DecisionRequest{Actor: head.Actor(), Step: 1, Approve: true})
	upd("r2", workflows.DecisionRequest{Actor: city.Actor(), Step: 2, Approve: false, Reason: "缺少审议纪要"})
	upd("s2", workflows.Submission{Actor: official.Actor(), Note: "已补充"})
	upd("d3", workflows.DecisionRequest{Actor: head.Actor(), Step: 1, Approve: true})
	upd("d4", workflows.DecisionRequest{Actor: city.Actor(), Step: 2, Approve: true})
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
