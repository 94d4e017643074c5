package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban/store"
)

// trendPoint is one day of a unit's subtree: the rollup counters as the
// daily snapshot kept them, with the rates the board shows.
type trendPoint struct {
	store.SnapshotPoint
	Active         int     `json:"active"`          // total − cancelled
	CompletionRate float64 `json:"completion_rate"` // completed / active, 0–1
	OverdueRate    float64 `json:"overdue_rate"`    // overdue / active, 0–1
}

func trendPoints(ps []store.SnapshotPoint) []trendPoint {
	out := make([]trendPoint, 0, len(ps))
	for _, p := range ps {
		t := trendPoint{SnapshotPoint: p, Active: p.Total - p.Cancelled}
		if t.Active > 0 {
			t.CompletionRate = round3(float64(p.Completed) / float64(t.Active))
			t.OverdueRate = round3(float64(p.Overdue) / float64(t.Active))
		}
		out = append(out, t)
	}
	return out
}

// getTrend is a unit's daily series over the plan year (completion and
// overdue of its subtree), next to the year before's (every plan of it).
func (s *server) getTrend(c *fiber.Ctx) error {
	b, err := s.boardScope(c)
	if err != nil {
		return err
	}
	resp := fiber.Map{"unit": refOf(b.unit), "plan_id": b.planID, "year": b.year,
		"days": []trendPoint{}, "previous": fiber.Map{"year": b.year - 1, "days": []trendPoint{}}}
	if b.planID == "" || b.year == 0 {
		return c.JSON(resp)
	}
	tr, err := s.boardDB().TrendOf(c.UserContext(), b.unit.Code, b.year, b.planID)
	if err != nil {
		return err
	}
	resp["days"] = trendPoints(tr.Days)
	resp["previous"] = fiber.Map{"year": b.year - 1, "days": trendPoints(tr.Previous)}
	return c.JSON(resp)
}
