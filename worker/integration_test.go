package worker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/workflows"
)

var proof = duban.Evidence{SHA256: "3f786850e387550fdab836ed7e6dc881de23001b3f786850e387550fdab836ed", Name: "芙蓉区计生协改革方案.pdf", Size: 20480, ContentType: "application/pdf"}

func importShipped(t *testing.T, db *store.DB) {
	t.Helper()
	p, src, err := plan.Shipped("hunan-2021")
	require.NoError(t, err)
	_, err = db.ImportPlan(context.Background(), p, src, "test")
	require.NoError(t, err)
}

func addUser(t *testing.T, db *store.DB, username, unit string, roles ...duban.Role) store.User {
	t.Helper()
	hash, err := password.Hash("correct horse battery")
	require.NoError(t, err)
	u, err := db.CreateUser(context.Background(), store.User{Username: username, DisplayName: username, UnitCode: unit, Roles: roles, PasswordHash: hash})
	require.NoError(t, err)
	return u
}

func countRows(t *testing.T, db *store.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// TestLaunchAndDriveOneInstanceToCompletion launches a slice of the 2021
// plan on a real Temporal server and Postgres, takes 芙蓉区's reform plan from
// assignment through its three-level approval chain, and checks the rows a
// user would see; then launches again and checks nothing new starts.
func TestLaunchAndDriveOneInstanceToCompletion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := testenv.NewStack(t)
	importShipped(t, s.DB)
	official := addUser(t, s.DB, "furong-official", "430102", duban.RoleOfficial)
	countyHead := addUser(t, s.DB, "furong-head", "430102", duban.RoleApprover, duban.RoleSupervisor)
	cityHead := addUser(t, s.DB, "changsha-head", "4301", duban.RoleApprover)
	provHead := addUser(t, s.DB, "hunan-head", "43", duban.RoleApprover)

	// Plan time starts on 4 January 2021 and runs at the real pace, so no
	// reminder is due during the test whatever today's date is.
	clock := duban.Clock{Scale: 1, VirtualEpoch: time.Date(2021, 1, 4, 9, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}
	slice := []string{"2.1", "2.11", "2.5"}
	opts := engine.LaunchOptions{Clock: clock, Templates: slice, BatchSize: 50, Concurrency: 8}
	launchID, err := s.Engine.Launch(ctx, "hunan-2021", 2021, opts)
	require.NoError(t, err)
	res, err := s.Engine.WaitLaunch(ctx, launchID)
	require.NoError(t, err)
	// 148 cities and counties + 14 cities + 4 quarters of the province's bulletin.
	require.Equal(t, workflows.LaunchResult{Total: 166, Started: 166, Existing: 0}, res)
	progress, err := s.DB.Launch(ctx, launchID)
	require.NoError(t, err)
	require.Equal(t, "done", progress.Status)
	require.Equal(t, 166, progress.Started)
	require.Equal(t, 166, countRows(t, s.DB, `SELECT count(*) FROM instances`))
	require.Equal(t, 166, countRows(t, s.DB, `SELECT count(*) FROM events WHERE kind = 'assigned'`))
	root, err := s.DB.RollupOf(ctx, "hunan-2021", 2021, "43")
	require.NoError(t, err)
	require.Equal(t, store.Rollup{UnitCode: "43", Total: 166}, root)
	changsha, err := s.DB.RollupOf(ctx, "hunan-2021", 2021, "4301")
	require.NoError(t, err)
	// Changsha: its own 2.1 and 2.11, and 2.1 for its 9 counties.
	require.Equal(t, 11, changsha.Total)

	// Operators can find the workflows by unit in Temporal's visibility.
	require.Eventually(t, func() bool {
		n, err := s.Client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			Query: fmt.Sprintf("DubanCity = '4301' AND TaskQueue = '%s'", s.TaskQueue)})
		return err == nil && n.GetCount() == 11
	}, 20*time.Second, 200*time.Millisecond)

	id := "2021/2.1/430102"
	row, err := s.DB.Instance(ctx, id)
	require.NoError(t, err)
	require.Equal(t, duban.StatusAssigned, row.Status)
	require.True(t, row.Due.Equal(duban.EndOfDay(2021, 12, 31)))
	require.Equal(t, "芙蓉区", row.UnitName)
	require.Equal(t, 3, row.StepCount)
	require.Equal(t, 1, countRows(t, s.DB, `SELECT count(*) FROM inbox WHERE instance_id = $1 AND user_id = $2 AND kind = 'assigned'`, id, official.ID))

	step := func(label string, m workflows.Message) workflows.View {
		t.Helper()
		v, err := s.Engine.Send(ctx, id, label, m)
		require.NoError(t, err, label)
		// A read right after the decision already shows it.
		row, err := s.DB.Instance(ctx, id)
		require.NoError(t, err)
		require.Equal(t, v.Projection.Status, row.Status, label)
		require.Equal(t, v.Projection.Seq, row.Seq, label)
		require.Equal(t, v.Projection.CurrentStep, row.CurrentStep, label)
		return v
	}
	step("p1", workflows.ProgressReport{Actor: official.Actor(), Note: "方案已起草", Evidence: []duban.Evidence{proof}})
	v := step("s1", workflows.Submission{Actor: official.Actor(), Note: "方案已印发"})
	require.Equal(t, duban.StatusSubmitted, v.Projection.Status)

	// A wrong approver is refused with a domain error, and writes nothing.
	_, err = s.Engine.Send(ctx, id, "wrong", workflows.DecisionRequest{Actor: cityHead.Actor(), Step: 1, Approve: true})
	require.Equal(t, duban.EFORBIDDEN, duban.ErrorCode(err))

	step("d1", workflows.DecisionRequest{Actor: countyHead.Actor(), Step: 1, Approve: true})
	// The same idempotency key again returns the first result and decides nothing new.
	again, err := s.Engine.Send(ctx, id, "d1", workflows.DecisionRequest{Actor: countyHead.Actor(), Step: 1, Approve: true})
	require.NoError(t, err)
	require.Equal(t, 2, again.Projection.CurrentStep)
	step("d2", workflows.DecisionRequest{Actor: cityHead.Actor(), Step: 2, Approve: true})
	v = step("d3", workflows.DecisionRequest{Actor: provHead.Actor(), Step: 3, Approve: true})
	require.Equal(t, duban.StatusCompleted, v.Projection.Status)

	row, err = s.DB.Instance(ctx, id)
	require.NoError(t, err)
	require.Equal(t, duban.StatusCompleted, row.Status)
	require.NotNil(t, row.CompletedAt)
	require.Zero(t, row.CurrentStep)
	require.Nil(t, row.OverdueSince)

	timeline, err := s.DB.Timeline(ctx, id)
	require.NoError(t, err)
	var kinds []duban.EventKind
	for i, e := range timeline {
		require.Equal(t, int64(i+1), e.Seq)
		kinds = append(kinds, e.Kind)
	}
	require.Equal(t, []duban.EventKind{duban.EventAssigned, duban.EventProgress, duban.EventSubmitted, duban.EventApproved, duban.EventApproved, duban.EventCompleted}, kinds)
	require.Equal(t, "hunan-head", timeline[5].ActorName)
	require.Equal(t, "43", timeline[5].ActorUnit)

	// Each person heard exactly what concerns them, once.
	inbox, err := s.DB.InboxForInstance(ctx, id)
	require.NoError(t, err)
	got := map[int64][]duban.EventKind{}
	for _, it := range inbox {
		got[it.UserID] = append(got[it.UserID], it.Kind)
	}
	require.Equal(t, []duban.EventKind{duban.EventAssigned, duban.EventCompleted}, got[official.ID])
	require.Equal(t, []duban.EventKind{duban.EventSubmitted}, got[countyHead.ID])
	require.Equal(t, []duban.EventKind{duban.EventSubmitted}, got[cityHead.ID])
	require.Equal(t, []duban.EventKind{duban.EventSubmitted}, got[provHead.ID])
	require.Contains(t, inbox[len(inbox)-1].Title, "已办结")

	root, err = s.DB.RollupOf(ctx, "hunan-2021", 2021, "43")
	require.NoError(t, err)
	require.Equal(t, 1, root.Completed)
	county, err := s.DB.RollupOf(ctx, "hunan-2021", 2021, "430102")
	require.NoError(t, err)
	require.Equal(t, store.Rollup{UnitCode: "430102", Total: 1, Completed: 1}, county)

	// A decision on the finished task is refused.
	_, err = s.Engine.Send(ctx, id, "late", workflows.DecisionRequest{Actor: provHead.Actor(), Step: 3, Approve: true})
	require.Equal(t, duban.ECONFLICT, duban.ErrorCode(err))

	// Launching again starts nothing and writes nothing.
	events := countRows(t, s.DB, `SELECT count(*) FROM events`)
	launchID, err = s.Engine.Launch(ctx, "hunan-2021", 2021, opts)
	require.NoError(t, err)
	res, err = s.Engine.WaitLaunch(ctx, launchID)
	require.NoError(t, err)
	require.Equal(t, workflows.LaunchResult{Total: 166, Started: 0, Existing: 166}, res)
	require.Equal(t, 166, countRows(t, s.DB, `SELECT count(*) FROM instances`))
	require.Equal(t, events, countRows(t, s.DB, `SELECT count(*) FROM events`))
	root, err = s.DB.RollupOf(ctx, "hunan-2021", 2021, "43")
	require.NoError(t, err)
	require.Equal(t, 166, root.Total)
}

// TestRemindersAndEscalationsReachTheInboxOnce runs a task whose three
// reminders and three escalation steps are a plan day apart on a clock of
// two real seconds to the plan day, so all of them fire on the real server
// within seconds, and checks that each person got each message exactly once.
func TestRemindersAndEscalationsReachTheInboxOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := testenv.NewStack(t)
	importReminders(ctx, t, s)
	official := addUser(t, s.DB, "furong-official", "430102", duban.RoleOfficial)
	head := addUser(t, s.DB, "furong-head", "430102", duban.RoleApprover, duban.RoleSupervisor)
	citySupervisor := addUser(t, s.DB, "changsha-supervisor", "4301", duban.RoleSupervisor)
	provSupervisor := addUser(t, s.DB, "hunan-supervisor", "43", duban.RoleSupervisor)
	bystander := addUser(t, s.DB, "tianxin-official", "430103", duban.RoleOfficial)

	id := launchReminders(ctx, t, s)
	require.Eventually(t, func() bool {
		row, err := s.DB.Instance(ctx, id)
		return err == nil && row.Escalation == 3
	}, 60*time.Second, 200*time.Millisecond)

	count := func(user int64, kind duban.EventKind) int {
		return countRows(t, s.DB, `SELECT count(*) FROM inbox WHERE instance_id = $1 AND user_id = $2 AND kind = $3`, id, user, string(kind))
	}
	require.Equal(t, 3, count(official.ID, duban.EventReminder), "3, 2 and 1 days before")
	require.Equal(t, 1, count(official.ID, duban.EventOverdue))
	require.Equal(t, 1, count(official.ID, duban.EventEscalated), "day 0: the unit")
	require.Equal(t, 1, count(head.ID, duban.EventEscalated), "day 0: the unit's head and supervisor, once though both roles")
	require.Equal(t, 1, count(citySupervisor.ID, duban.EventEscalated), "day 1: the parent's supervisor")
	require.Equal(t, 1, count(provSupervisor.ID, duban.EventEscalated), "day 2: the province's supervisor")
	require.Zero(t, count(head.ID, duban.EventReminder), "reminders go to officials")
	require.Zero(t, countRows(t, s.DB, `SELECT count(*) FROM inbox WHERE user_id = $1`, bystander.ID))

	row, err := s.DB.Instance(ctx, id)
	require.NoError(t, err)
	require.True(t, row.OverdueSince.Equal(duban.EndOfDay(2021, 3, 10)))
	root, err := s.DB.RollupOf(ctx, "reminders-test", 2021, "43")
	require.NoError(t, err)
	require.Equal(t, store.Rollup{UnitCode: "43", Total: 1, Overdue: 1}, root)

	// The timeline records each alarm at its scheduled plan time.
	timeline, err := s.DB.Timeline(ctx, id)
	require.NoError(t, err)
	var at []time.Time
	for _, e := range timeline {
		if e.Kind == duban.EventReminder || e.Kind == duban.EventEscalated {
			at = append(at, e.At.In(duban.Shanghai))
		}
	}
	require.Equal(t, []time.Time{
		duban.EndOfDay(2021, 3, 7), duban.EndOfDay(2021, 3, 8), duban.EndOfDay(2021, 3, 9),
		duban.EndOfDay(2021, 3, 10).Add(time.Second), duban.EndOfDay(2021, 3, 11), duban.EndOfDay(2021, 3, 12),
	}, at)
}

// importReminders stores testdata/reminders.yaml, a plan whose reminders
// and escalations are a day apart (its task for 芙蓉区 is due 10 March 2021).
func importReminders(ctx context.Context, t *testing.T, s *testenv.Stack) {
	t.Helper()
	h, err := s.DB.Hierarchy(ctx)
	require.NoError(t, err)
	p, src, err := plan.LoadFile("testdata/reminders.yaml", h)
	require.NoError(t, err)
	_, err = s.DB.ImportPlan(ctx, p, src, "test")
	require.NoError(t, err)
}

// launchReminders launches it on a plan clock that starts at noon on
// 6 March, a day every 2 s, and returns its one instance's id.
func launchReminders(ctx context.Context, t *testing.T, s *testenv.Stack) string {
	t.Helper()
	clock := duban.Clock{Scale: 43200, VirtualEpoch: time.Date(2021, 3, 6, 12, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}
	launchID, err := s.Engine.Launch(ctx, "reminders-test", 2021, engine.LaunchOptions{Clock: clock})
	require.NoError(t, err)
	_, err = s.Engine.WaitLaunch(ctx, launchID)
	require.NoError(t, err)
	id := "2021/2.1/430102"
	return id
}
