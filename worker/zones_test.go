package worker_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
)

// A plan says whether development and management zones (43xx7x) take the
// tasks of every county: launched with zones: exclude, a county template
// starts nothing for the 12 zones; with include (the shipped plan), it
// starts one for each.
func TestALaunchHonoursThePlansRuleForZones(t *testing.T) {
	for _, c := range []struct {
		zones     string
		instances int
		zoneTasks int
	}{{"exclude", 134 - 12, 0}, {"include", 134, 12}} {
		t.Run(c.zones, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			s := testenv.NewStack(t)
			_, src, err := plan.Shipped("hunan-2021")
			require.NoError(t, err)
			src = bytes.Replace(src, []byte("\nzones: include\n"), []byte("\nzones: "+c.zones+"\n"), 1)
			p, err := plan.Parse("hunan-2021.yaml", src, org.Hunan())
			require.NoError(t, err)
			require.Equal(t, plan.Zones(c.zones), p.Zones)
			_, err = s.DB.ImportPlan(ctx, p, src, "test")
			require.NoError(t, err)

			clock := duban.Clock{Scale: 1, VirtualEpoch: time.Date(2021, 1, 4, 9, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}
			id, err := s.Engine.Launch(ctx, "hunan-2021", 2021, engine.LaunchOptions{Clock: clock, Templates: []string{"9.1"}, BatchSize: 50, Concurrency: 8})
			require.NoError(t, err)
			res, err := s.Engine.WaitLaunch(ctx, id)
			require.NoError(t, err)
			require.Equal(t, c.instances, res.Started)
			require.Equal(t, c.instances, countRows(t, s.DB, `SELECT count(*) FROM instances WHERE template_id = '9.1'`))
			require.Equal(t, c.zoneTasks, countRows(t, s.DB, `SELECT count(*) FROM instances WHERE template_id = '9.1' AND substr(unit_code, 5, 1) = '7'`))
		})
	}
}
