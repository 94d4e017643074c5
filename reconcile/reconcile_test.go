package reconcile_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/reconcile"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/workflows"
)

// TestVerifyFindsAndRepairsWhatWasAlteredByHand: on the real stack, a row
// altered by hand, a counter and a missing inbox row are found; --repair
// puts them back from the workflows (audited); a run after finds nothing.
func TestVerifyFindsAndRepairsWhatWasAlteredByHand(t *testing.T) {
	ctx := context.Background()
	s := testenv.NewStack(t)
	p, src, err := plan.Shipped("hunan-2021")
	require.NoError(t, err)
	_, err = s.DB.ImportPlan(ctx, p, src, "test")
	require.NoError(t, err)
	official, err := s.DB.CreateUser(ctx, store.User{Username: "rc-official", DisplayName: "对账承办人", UnitCode: "430102", Roles: []duban.Role{duban.RoleOfficial}, PasswordHash: "x"})
	require.NoError(t, err)
	clock := duban.Clock{Scale: 1, VirtualEpoch: time.Date(2021, 6, 1, 9, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}
	lid, err := s.Engine.Launch(ctx, "hunan-2021", 2021, engine.LaunchOptions{Clock: clock, Templates: []string{"2.1"}})
	require.NoError(t, err)
	_, err = s.Engine.WaitLaunch(ctx, lid)
	require.NoError(t, err)
	id := "2021/2.1/430102"
	value := 3
	_, err = s.Engine.ReportProgress(ctx, id, "rc-1", workflows.ProgressReport{Actor: official.Actor(), Value: &value, Note: "起草中"})
	require.NoError(t, err)

	clean, err := reconcile.Run(ctx, s.DB, s.Engine, reconcile.Options{})
	require.NoError(t, err)
	require.Empty(t, clean.Drift, "a fresh launch agrees with its workflows")
	require.Equal(t, 148, clean.Checked)

	// By hand: a row shown as waiting on an approver with other progress,
	// a counter, an inbox row.
	db := s.DB.Pool
	_, err = db.Exec(ctx, `UPDATE instances SET status = 'submitted', progress = 99 WHERE id = $1`, id)
	require.NoError(t, err)
	_, err = db.Exec(ctx, `UPDATE rollups SET overdue = overdue + 5 WHERE unit_code = '4306'`)
	require.NoError(t, err)
	_, err = db.Exec(ctx, `DELETE FROM inbox WHERE instance_id = $1 AND kind = 'assigned'`, id)
	require.NoError(t, err)

	found, err := reconcile.Run(ctx, s.DB, s.Engine, reconcile.Options{})
	require.NoError(t, err)
	kinds := map[string]int{}
	for _, d := range found.Drift {
		kinds[d.Kind]++
		require.False(t, d.Repaired)
		if d.Kind == "projection" {
			require.Equal(t, id, d.InstanceID)
			require.Contains(t, d.Detail, "状态：库中 submitted，流程中 in_progress")
			require.Contains(t, d.Detail, "进度：库中 99/0，流程中 3/0")
		}
	}
	require.Equal(t, 1, kinds["projection"])
	require.GreaterOrEqual(t, kinds["rollup"], 1)
	require.Equal(t, 1, kinds["inbox"])
	require.EqualValues(t, 1, found.InboxMissing)

	repaired, err := reconcile.Run(ctx, s.DB, s.Engine, reconcile.Options{Repair: true})
	require.NoError(t, err)
	n, r := repaired.Count()
	require.Equal(t, n, r, "everything found was repaired")
	row, err := s.DB.Instance(ctx, id)
	require.NoError(t, err)
	require.Equal(t, duban.StatusInProgress, row.Status)
	require.Equal(t, 3, row.Progress)

	after, err := reconcile.Run(ctx, s.DB, s.Engine, reconcile.Options{Repair: true})
	require.NoError(t, err)
	require.Empty(t, after.Drift, "a second repair finds nothing: repairs are idempotent")
	var audited int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action IN ('reconcile.projection', 'reconcile.rollups', 'reconcile.inbox')`).Scan(&audited))
	require.Equal(t, 3, audited)
	check, err := s.DB.VerifyAudit(ctx)
	require.NoError(t, err)
	require.True(t, check.OK(), check.Problem)
}
