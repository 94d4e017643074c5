package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

// returnsAndRequests writes three instances' stories: 芙蓉区's task sent
// back, 天心区's sent back and submitted again, 岳麓区's with an extension
// request pending.
func returnsAndRequests(t *testing.T, db *store.DB) (newDue, askedAt time.Time) {
	t.Helper()
	ctx := context.Background()
	_, err := db.RecordAssigned(ctx, specsOf(t, "2.1"), time.Date(2021, 1, 4, 9, 0, 0, 0, duban.Shanghai))
	require.NoError(t, err)
	due := duban.EndOfDay(2021, 12, 31)
	at := time.Date(2021, 6, 1, 10, 0, 0, 0, duban.Shanghai)
	official := func(unit string) duban.Actor {
		return duban.Actor{UserID: 0, Name: unit + " 承办人", UnitCode: unit, Roles: []duban.Role{duban.RoleOfficial}}
	}
	approver := duban.Actor{Name: "审核人", UnitCode: "430102", Roles: []duban.Role{duban.RoleApprover}}
	apply := func(tr duban.Transition) {
		t.Helper()
		tr.Projection.Seq, tr.Projection.Due, tr.Projection.StepCount = tr.Seq, due, 3
		_, err := db.ApplyTransition(ctx, tr)
		require.NoError(t, err)
	}
	submitted := duban.Projection{Status: duban.StatusSubmitted, CurrentStep: 1, ApproverUnit: "430102"}
	for _, unit := range []string{"430102", "430103"} {
		id := "2021/2.1/" + unit
		apply(duban.Transition{InstanceID: id, Seq: 2, At: at, Kind: duban.EventSubmitted, Actor: official(unit), From: duban.StatusAssigned, To: duban.StatusSubmitted, Step: 1, Projection: submitted})
		apply(duban.Transition{InstanceID: id, Seq: 3, At: at.Add(time.Hour), Kind: duban.EventRejected, Actor: approver, From: duban.StatusSubmitted, To: duban.StatusInProgress, Step: 1,
			Reason: "缺少正式印发文号", Projection: duban.Projection{Status: duban.StatusInProgress, LastReason: "缺少正式印发文号"}})
	}
	apply(duban.Transition{InstanceID: "2021/2.1/430103", Seq: 4, At: at.Add(2 * time.Hour), Kind: duban.EventSubmitted, Actor: official("430103"), From: duban.StatusInProgress, To: duban.StatusSubmitted, Step: 1, Projection: submitted})

	newDue, askedAt = duban.EndOfDay(2022, 3, 31), at.Add(3*time.Hour)
	apply(duban.Transition{InstanceID: "2021/2.1/430104", Seq: 2, At: askedAt, Kind: duban.EventExtensionRequested, Actor: official("430104"), From: duban.StatusAssigned, To: duban.StatusAssigned,
		Reason: "待区委常委会审议", NewDue: &newDue,
		Projection: duban.Projection{Status: duban.StatusAssigned, Extension: true, ExtensionNewDue: &newDue, ExtensionReason: "待区委常委会审议",
			ExtensionRequestedBy: "430104 承办人", ExtensionRequestedAt: &askedAt}})
	return newDue, askedAt
}

func checkReturnsAndRequests(t *testing.T, db *store.DB, newDue, askedAt time.Time) {
	t.Helper()
	ctx := context.Background()
	returned, err := db.Instance(ctx, "2021/2.1/430102")
	require.NoError(t, err)
	require.Equal(t, "缺少正式印发文号", returned.LastReason)
	again, err := db.Instance(ctx, "2021/2.1/430103")
	require.NoError(t, err)
	require.Empty(t, again.LastReason, "submitted again: no longer returned")
	require.Equal(t, duban.StatusSubmitted, again.Status)
	asked, err := db.Instance(ctx, "2021/2.1/430104")
	require.NoError(t, err)
	require.True(t, asked.Extension)
	require.NotNil(t, asked.ExtensionNewDue)
	require.True(t, asked.ExtensionNewDue.Equal(newDue), "new due %v", asked.ExtensionNewDue)
	require.Equal(t, "待区委常委会审议", asked.ExtensionReason)
	require.Equal(t, "430104 承办人", asked.ExtensionRequestedBy)
	require.NotNil(t, asked.ExtensionRequestedAt)
	require.True(t, asked.ExtensionRequestedAt.Equal(askedAt))
	// The lists read the same columns.
	rows, err := db.WaitingExtensions(ctx, "4301", nil, 10)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, "待区委常委会审议", rows[0].ExtensionReason)
	untouched, err := db.Instance(ctx, "2021/2.1/430105")
	require.NoError(t, err)
	require.Empty(t, untouched.LastReason)
	require.Nil(t, untouched.ExtensionNewDue)
}

func TestProjectionKeepsReturnReasonAndExtensionRequest(t *testing.T) {
	db := testenv.OpenDB(t)
	newDue, askedAt := returnsAndRequests(t, db)
	checkReturnsAndRequests(t, db, newDue, askedAt)

	// The decision on the extension clears the request.
	ctx := context.Background()
	due := duban.EndOfDay(2021, 12, 31)
	_, err := db.ApplyTransition(ctx, duban.Transition{InstanceID: "2021/2.1/430104", Seq: 3, At: askedAt.Add(time.Hour), Kind: duban.EventExtensionRefused,
		Actor: duban.Actor{Name: "长沙市审核人", UnitCode: "4301"}, From: duban.StatusAssigned, To: duban.StatusAssigned, Reason: "不同意", NewDue: &newDue,
		Projection: duban.Projection{Status: duban.StatusAssigned, Due: due, StepCount: 3, Seq: 3}})
	require.NoError(t, err)
	row, err := db.Instance(ctx, "2021/2.1/430104")
	require.NoError(t, err)
	require.False(t, row.Extension)
	require.Nil(t, row.ExtensionNewDue)
	require.Nil(t, row.ExtensionRequestedAt)
	require.Empty(t, row.ExtensionReason)
	require.Empty(t, row.ExtensionRequestedBy)
}

// TestMigrationFillsReturnsAndRequestsFromTheTimeline runs migration 004 on
// rows written before it (the columns dropped again, as if they had never
// been): each row gets its reason and its pending request from its events.
func TestMigrationFillsReturnsAndRequestsFromTheTimeline(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	newDue, askedAt := returnsAndRequests(t, db)
	_, err := db.Pool.Exec(ctx, `ALTER TABLE instances DROP COLUMN last_reason, DROP COLUMN extension_new_due, DROP COLUMN extension_reason,
		DROP COLUMN extension_requested_by, DROP COLUMN extension_requested_at`)
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `DELETE FROM schema_migrations WHERE name LIKE '004_%'`)
	require.NoError(t, err)
	applied, err := db.Migrate(ctx)
	require.NoError(t, err)
	require.Len(t, applied, 1)
	require.Regexp(t, `^004_`, applied[0])
	checkReturnsAndRequests(t, db, newDue, askedAt)
}

func TestPendingLaunchNeverHidesARunningOne(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	p, src, err := plan.Shipped("hunan-2021")
	require.NoError(t, err)
	_, err = db.ImportPlan(ctx, p, src, "test")
	require.NoError(t, err)
	id := "launch/hunan-2021/2021/2.4"
	progress := func(status string, total, started int) duban.LaunchProgress {
		return duban.LaunchProgress{ID: id, PlanID: "hunan-2021", Year: 2021, Status: status, Total: total, Started: started}
	}
	status := func() (string, int, int) {
		t.Helper()
		l, err := db.Launch(ctx, id)
		require.NoError(t, err)
		return l.Status, l.Total, l.Started
	}
	check := func(wantStatus string, wantTotal, wantStarted int) {
		t.Helper()
		s, total, started := status()
		require.Equal(t, wantStatus, s)
		require.Equal(t, wantTotal, total)
		require.Equal(t, wantStarted, started)
	}

	require.NoError(t, db.UpdateLaunch(ctx, progress("pending", 0, 0)))
	check("pending", 0, 0)
	require.NoError(t, db.UpdateLaunch(ctx, progress("running", 10, 4)))
	check("running", 10, 4)
	// Launching again while it runs joins the run: its progress stays.
	require.NoError(t, db.UpdateLaunch(ctx, progress("pending", 0, 0)))
	check("running", 10, 4)
	require.NoError(t, db.FailPendingLaunch(ctx, id, "x"))
	check("running", 10, 4)
	require.NoError(t, db.UpdateLaunch(ctx, progress("done", 10, 10)))
	check("done", 10, 10)
	// Launching a finished launch again starts a new run: pending again.
	require.NoError(t, db.UpdateLaunch(ctx, progress("pending", 0, 0)))
	check("pending", 0, 0)
	require.NoError(t, db.FailPendingLaunch(ctx, id, "未能启动"))
	check("failed", 0, 0)
	l, err := db.Launch(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "未能启动", l.Error)
}

func TestAuditFilterByUsername(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	var ids []int64
	for _, name := range []string{"furong-approver", "12345"} {
		u, err := db.CreateUser(ctx, store.User{Username: name, DisplayName: name, UnitCode: "430102", Roles: []duban.Role{duban.RoleApprover}, PasswordHash: "x"})
		require.NoError(t, err)
		ids = append(ids, u.ID)
		for i := 0; i < 2; i++ {
			e, err := store.NewAuditEntry(duban.Actor{UserID: u.ID, Name: name, UnitCode: "430102"}, "task.approved", "430102", "2021/2.1/430102", map[string]any{"i": i})
			require.NoError(t, err)
			_, err = db.AppendAudit(ctx, e)
			require.NoError(t, err)
		}
	}
	byName := func(f store.AuditFilter) []int64 {
		t.Helper()
		rows, err := db.Audit(ctx, f)
		require.NoError(t, err)
		var out []int64
		for _, r := range rows {
			out = append(out, *r.ActorID)
		}
		return out
	}
	require.Equal(t, []int64{ids[0], ids[0]}, byName(store.AuditFilter{ActorUsername: "furong-approver"}))
	require.Equal(t, []int64{ids[1], ids[1]}, byName(store.AuditFilter{ActorUsername: "12345"}))
	require.Equal(t, []int64{ids[1], ids[1]}, byName(store.AuditFilter{ActorID: ids[1]}))
	require.Empty(t, byName(store.AuditFilter{ActorUsername: "nobody"}))
	require.Empty(t, byName(store.AuditFilter{ActorUsername: "furong-approver", UnitPrefix: "4306"}))
}
