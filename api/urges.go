package api

import (
	"fmt"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/store"
)

// 催办 from the board: every overdue task under a unit, previewed first
// (how many, which), then urged in one request with one note. Each task is
// its own Update (keyed by the request's Idempotency-Key and the task), so
// a retried request urges nothing twice; a task the caller's unit already
// urged today answers 409 with the day it may be urged again.

// maxBulkUrge bounds one bulk urge.
const maxBulkUrge = 500

// urgePreview lists the overdue tasks under the board's unit (with its
// filters) that a bulk urge would reach.
func (s *server) urgePreview(c *fiber.Ctx) error {
	b, err := s.boardScope(c)
	if err != nil {
		return err
	}
	f, err := s.overdueFilter(c, b)
	if err != nil {
		return err
	}
	f.Limit = maxBulkUrge + 1
	rows, err := s.DB.Overdue(c.UserContext(), f)
	if err != nil {
		return err
	}
	truncated := len(rows) > maxBulkUrge
	if truncated {
		rows = rows[:maxBulkUrge]
	}
	now := s.planNow()
	today := now.Format("2006-01-02")
	views := make([]taskView, len(rows))
	urgedToday := 0
	for i, r := range rows {
		views[i] = s.taskView(r, now)
		if r.LastUrgedAt != nil && r.LastUrgedAt.In(duban.Shanghai).Format("2006-01-02") == today {
			urgedToday++
		}
	}
	return c.JSON(fiber.Map{"plan_id": b.planID, "year": b.year, "unit": unitRef{Code: b.unit.Code, Name: b.unit.Name},
		"count": len(views), "urged_today": urgedToday, "truncated": truncated, "items": views})
}

type bulkUrgeRequest struct {
	InstanceIDs   []string `json:"instance_ids"`
	Note          string   `json:"note" text:"multiline"`
	WithApprovers bool     `json:"with_approvers"`
}

func (r *bulkUrgeRequest) validate() error {
	var shape []input.FieldError
	switch {
	case len(r.InstanceIDs) == 0:
		shape = append(shape, input.FieldError{Field: "instance_ids", Message: "请选择要催办的任务"})
	case len(r.InstanceIDs) > maxBulkUrge:
		shape = append(shape, input.FieldError{Field: "instance_ids", Message: fmt.Sprintf("一次最多催办 %d 项", maxBulkUrge)})
	}
	seen := map[string]bool{}
	for i, id := range r.InstanceIDs {
		if id == "" || len(id) > 200 || seen[id] {
			shape = append(shape, input.FieldError{Field: fmt.Sprintf("instance_ids[%d]", i), Message: "任务编号无效或重复"})
		}
		seen[id] = true
	}
	return checkAction(duban.ActionUrge, duban.Input{Note: strings.TrimSpace(r.Note), WithApprovers: r.WithApprovers}, shape...)
}

// bulkUrge urges the tasks the preview listed (the caller must see each;
// out of scope or absent is a 404 for that item).
func (s *server) bulkUrge(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req bulkUrgeRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	in := duban.Input{Note: strings.TrimSpace(req.Note), WithApprovers: req.WithApprovers}
	results := make([]bulkResult, len(req.InstanceIDs))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, id := range req.InstanceIDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = s.bulkItem(ctx, p, id, func(task store.Instance) (taskView, error) {
				return s.actOn(ctx, p, p.actor(), task.ID, duban.ActionUrge, bulkKey(key, id), in)
			})
		}()
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		if r.Status == fiber.StatusOK {
			ok++
		}
	}
	c.Set(headerIdempotencyKey, key)
	return c.JSON(fiber.Map{"urged": ok, "failed": len(results) - ok, "results": results, "idempotency_key": key})
}
