package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/workflows"
)

// The scheduled retention, on a real database: after its interval the
// workflow's activity deletes the inbox rows read long ago and nothing
// else (a row read yesterday, unread rows, the timeline and the audit
// trail stay), then the workflow continues as new.
func TestTheRetentionJobDeletesOnlyWhatItShould(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, store.User{Username: "retention-job", DisplayName: "保留", UnitCode: "430102", Roles: []duban.Role{duban.RoleOfficial}, PasswordHash: "x"})
	require.NoError(t, err)
	now := time.Now()
	old, recent := now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1)
	for i, row := range []struct {
		read *time.Time
		at   time.Time
	}{{&old, old}, {&old, old}, {nil, old}, {&recent, recent}} {
		_, err := db.Pool.Exec(ctx, `INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, dedup_key, at, read_at)
			VALUES ($1, '2021/2.1/430102', $2, 'reminder', 't', 'b', $3, $4, $5)`, u.ID, i+1, "job-"+string(rune('a'+i)), row.at, row.read)
		require.NoError(t, err)
		_, err = db.Pool.Exec(ctx, `INSERT INTO events (instance_id, seq, at, kind) VALUES ('2021/2.1/430102', $1, $2, 'reminder')`, i+1, old)
		require.NoError(t, err)
	}
	e, err := store.NewAuditEntry(duban.Actor{Name: "保留"}, "user.update", "430102", "", nil)
	require.NoError(t, err)
	_, err = db.AppendAudit(ctx, e)
	require.NoError(t, err)

	acts := &activities.Activities{Pruner: func(ctx context.Context) (activities.PruneResult, error) {
		r, err := db.Prune(ctx, store.Retention{ReadInbox: 180 * 24 * time.Hour, Deliveries: 90 * 24 * time.Hour, Sessions: 30 * 24 * time.Hour}, time.Now())
		return activities.PruneResult{Inbox: r.Inbox, Deliveries: r.Deliveries, Sessions: r.Sessions}, err
	}}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.RetentionWorkflow)
	env.RegisterActivity(acts)
	var ran bool
	env.SetOnActivityCompletedListener(func(info *activity.Info, _ converter.EncodedValue, err error) {
		ran = info.ActivityType.Name == "Prune" && err == nil
	})
	env.ExecuteWorkflow(workflows.RetentionWorkflow, workflows.RetentionInput{Interval: time.Hour, RunsPerWorkflow: 1})
	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "got %v", env.GetWorkflowError())
	require.True(t, ran)

	var inbox, events, audit int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM inbox WHERE user_id = $1), (SELECT count(*) FROM events), (SELECT count(*) FROM audit_log)`, u.ID).
		Scan(&inbox, &events, &audit))
	require.Equal(t, [3]int{2, 4, 1}, [3]int{inbox, events, audit})
}
