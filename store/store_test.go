package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/notify"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

// The store is what the activities and the notification dispatcher talk
// to; it implements their interfaces without importing them.
var (
	_ activities.Store = (*store.DB)(nil)
	_ notify.Store     = (*store.DB)(nil)
)

func specsOf(t *testing.T, templates ...string) []duban.TaskSpec {
	t.Helper()
	p, _, err := plan.Shipped("hunan-2021")
	require.NoError(t, err)
	all, err := plan.Expand(p, org.Hunan(), 2021)
	require.NoError(t, err)
	var out []duban.TaskSpec
	for _, s := range all {
		for _, id := range templates {
			if s.TemplateID == id {
				out = append(out, s)
			}
		}
	}
	return out
}

func count(t *testing.T, db *store.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func TestMigrateTwiceIsANoOp(t *testing.T) {
	db := testenv.OpenDB(t)
	applied, err := db.Migrate(context.Background())
	require.NoError(t, err)
	require.Empty(t, applied)
	h, err := db.Hierarchy(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1+14+134+2008, h.Len())
	n, err := db.SeedUnits(context.Background(), org.Hunan(), false)
	require.NoError(t, err)
	require.Zero(t, n, "seeding again adds nothing")
}

func TestRecordAssignedIsIdempotentAndCountsRollups(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	specs := specsOf(t, "2.1", "2.11")
	at := time.Date(2021, 1, 4, 9, 0, 0, 0, duban.Shanghai)
	n, err := db.RecordAssigned(ctx, specs, at)
	require.NoError(t, err)
	require.Equal(t, 148+14, n)
	n, err = db.RecordAssigned(ctx, specs, at)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, 162, count(t, db, `SELECT count(*) FROM instances`))
	require.Equal(t, 162, count(t, db, `SELECT count(*) FROM events`))
	root, err := db.RollupOf(ctx, "hunan-2021", 2021, "43")
	require.NoError(t, err)
	require.Equal(t, 162, root.Total)
	// Changsha's subtree: its own two instances and its nine counties' reform plans.
	cs, err := db.RollupOf(ctx, "hunan-2021", 2021, "4301")
	require.NoError(t, err)
	require.Equal(t, 11, cs.Total)
	row, err := db.Instance(ctx, "2021/2.1/430102")
	require.NoError(t, err)
	require.Equal(t, "芙蓉区", row.UnitName)
	require.Equal(t, duban.LevelCounty, row.UnitLevel)
	var city, county string
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT city, county FROM instances WHERE id = $1`, row.ID).Scan(&city, &county))
	require.Equal(t, "4301", city)
	require.Equal(t, "430102", county)
}

func overdueTransition(id string, seq int64, due time.Time) duban.Transition {
	return duban.Transition{
		InstanceID: id, Seq: seq, At: due, Kind: duban.EventOverdue, Actor: duban.System,
		From: duban.StatusAssigned, To: duban.StatusAssigned,
		Projection: duban.Projection{Status: duban.StatusAssigned, Due: due, OverdueSince: &due, StepCount: 3, Seq: seq},
		Notices:    []duban.Notice{{Kind: duban.EventOverdue, Recipients: []duban.Recipients{{Unit: "430102", Roles: []duban.Role{duban.RoleOfficial, duban.RoleApprover}}}}},
	}
}

func TestApplyTransitionTwiceWritesOnce(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	specs := specsOf(t, "2.1")
	_, err := db.RecordAssigned(ctx, specs, time.Date(2021, 1, 4, 9, 0, 0, 0, duban.Shanghai))
	require.NoError(t, err)
	// One person with two of the notified roles hears once.
	_, err = db.CreateUser(ctx, store.User{Username: "u", DisplayName: "王芳", UnitCode: "430102", Roles: []duban.Role{duban.RoleOfficial, duban.RoleApprover}, PasswordHash: "x"})
	require.NoError(t, err)

	due := duban.EndOfDay(2021, 12, 31)
	tr := overdueTransition("2021/2.1/430102", 2, due)
	fresh, err := db.ApplyTransition(ctx, tr)
	require.NoError(t, err)
	require.True(t, fresh)
	// A retried activity (the first attempt committed but its answer was lost).
	fresh, err = db.ApplyTransition(ctx, tr)
	require.NoError(t, err)
	require.False(t, fresh)

	require.Equal(t, 2, count(t, db, `SELECT count(*) FROM events WHERE instance_id = $1`, tr.InstanceID))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM inbox WHERE instance_id = $1 AND kind = 'overdue'`, tr.InstanceID))
	root, err := db.RollupOf(ctx, "hunan-2021", 2021, "43")
	require.NoError(t, err)
	require.Equal(t, 1, root.Overdue)
	county, err := db.RollupOf(ctx, "hunan-2021", 2021, "430102")
	require.NoError(t, err)
	require.Equal(t, store.Rollup{UnitCode: "430102", Total: 1, Overdue: 1}, county)
}

func TestOlderTransitionDoesNotOverwriteANewerProjection(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	_, err := db.RecordAssigned(ctx, specsOf(t, "2.1"), time.Date(2021, 1, 4, 9, 0, 0, 0, duban.Shanghai))
	require.NoError(t, err)
	id := "2021/2.1/430102"
	due := duban.EndOfDay(2021, 12, 31)
	submitted := duban.Transition{InstanceID: id, Seq: 3, At: due.Add(-time.Hour), Kind: duban.EventSubmitted, From: duban.StatusAssigned, To: duban.StatusSubmitted,
		Projection: duban.Projection{Status: duban.StatusSubmitted, Due: due, CurrentStep: 1, StepCount: 3, ApproverUnit: "430102", Seq: 3}}
	_, err = db.ApplyTransition(ctx, submitted)
	require.NoError(t, err)
	// Sequence 2 arrives late (two activities completed out of order).
	late := duban.Transition{InstanceID: id, Seq: 2, At: due.Add(-2 * time.Hour), Kind: duban.EventProgress, From: duban.StatusAssigned, To: duban.StatusInProgress,
		Projection: duban.Projection{Status: duban.StatusInProgress, Due: due, StepCount: 3, Seq: 2}}
	fresh, err := db.ApplyTransition(ctx, late)
	require.NoError(t, err)
	require.True(t, fresh, "its event is still recorded")
	row, err := db.Instance(ctx, id)
	require.NoError(t, err)
	require.Equal(t, duban.StatusSubmitted, row.Status)
	require.Equal(t, int64(3), row.Seq)
	root, err := db.RollupOf(ctx, "hunan-2021", 2021, "43")
	require.NoError(t, err)
	require.Equal(t, 1, root.Submitted)
	tl, err := db.Timeline(ctx, id)
	require.NoError(t, err)
	require.Len(t, tl, 3)
}

func TestConcurrentTransitionsKeepRollupsExact(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	specs := specsOf(t, "2.1")
	_, err := db.RecordAssigned(ctx, specs, time.Date(2021, 1, 4, 9, 0, 0, 0, duban.Shanghai))
	require.NoError(t, err)
	due := duban.EndOfDay(2021, 12, 31)
	// Every city and county goes overdue at once, from 16 goroutines: the
	// province row is updated by all of them, in one lock order.
	var wg sync.WaitGroup
	errs := make(chan error, len(specs))
	sem := make(chan struct{}, 16)
	for _, s := range specs {
		wg.Add(1)
		sem <- struct{}{}
		go func(id string) {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := db.ApplyTransition(ctx, overdueTransition(id, 2, due))
			errs <- err
		}(s.ID)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	root, err := db.RollupOf(ctx, "hunan-2021", 2021, "43")
	require.NoError(t, err)
	require.Equal(t, store.Rollup{UnitCode: "43", Total: 148, Overdue: 148}, root)
	for _, city := range org.Hunan().AtLevel(duban.LevelCity) {
		r, err := db.RollupOf(ctx, "hunan-2021", 2021, city.Code)
		require.NoError(t, err)
		want := 1 + org.Hunan().CountBelow(city.Code, duban.LevelCounty)
		require.Equal(t, want, r.Overdue, fmt.Sprintf("city %s", city.Code))
	}
}
