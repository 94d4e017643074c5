package bench

import (
	"testing"

	"github.com/duban-dev/duban/org"
)

// TestTheLaunchPlanHasTheSizeAsked: below the plan's own size the plan
// keeps its first templates; above it, obligations go down to townships.
func TestTheLaunchPlanHasTheSizeAsked(t *testing.T) {
	h := org.Hunan()
	for _, c := range []struct {
		ask      int
		min, max int
	}{
		{3000, 1000, 3000},
		{12000, 12000, 30000},
	} {
		p, _, n, err := fanOutPlan(h, c.ask)
		if err != nil {
			t.Fatalf("%d: %v", c.ask, err)
		}
		if n < c.min || n > c.max {
			t.Errorf("asked for %d instances, the plan has %d (%d templates), want %d to %d", c.ask, n, len(p.Templates()), c.min, c.max)
		}
	}
}
