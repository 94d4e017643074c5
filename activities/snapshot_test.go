package activities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

// Under a demo clock the snapshot is of the demo's day, in the real database.
func TestTakeRollupSnapshotOnThePlanDay(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	p, _, err := plan.Shipped("hunan-2021")
	require.NoError(t, err)
	specs, err := plan.Expand(p, org.Hunan(), 2021)
	require.NoError(t, err)
	var reform []duban.TaskSpec
	for _, s := range specs {
		if s.TemplateID == "2.1" {
			reform = append(reform, s)
		}
	}
	_, err = db.RecordAssigned(ctx, reform, time.Date(2021, 3, 25, 9, 0, 0, 0, duban.Shanghai))
	require.NoError(t, err)
	now := time.Now()
	demo := duban.Clock{Scale: 8640, VirtualEpoch: time.Date(2021, 3, 25, 0, 0, 0, 0, duban.Shanghai), RealEpoch: now.Add(-100 * time.Second)}
	require.NoError(t, db.SetSetting(ctx, store.PlanClockSetting, demo))

	acts := &activities.Activities{Store: db}
	res, err := acts.TakeRollupSnapshot(ctx, activities.SnapshotInput{At: now})
	require.NoError(t, err)
	require.Equal(t, "2021-04-04", res.Day, "100 real seconds at 10 s a plan day")
	require.Equal(t, 1+14+134, res.Rows, "one row per unit with a rollup")
	series, err := db.Series(ctx, "43", 2021, "hunan-2021")
	require.NoError(t, err)
	require.Equal(t, []store.SnapshotPoint{{Day: "2021-04-04", Total: 148}}, series)
}

type noSnapshots struct{ activities.Store }

func TestTakeRollupSnapshotNeedsAStoreThatCan(t *testing.T) {
	_, err := (&activities.Activities{Store: noSnapshots{}}).TakeRollupSnapshot(context.Background(), activities.SnapshotInput{})
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app))
	require.True(t, app.NonRetryable())
	require.Equal(t, activities.ErrNoSnapshots, app.Type())
}
