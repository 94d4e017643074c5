package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/store"
)

// listApprovals lists what waits on the caller's unit: approval steps
// (kind=step, the default), nearest SLA end first, or extension requests
// (kind=extension), by deadline.
func (s *server) listApprovals(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	limit, err := input.Limit(c)
	if err != nil {
		return err
	}
	after, err := parseKeyset(c.Query("cursor"))
	if err != nil {
		return err
	}
	var rows []store.Instance
	kind := c.Query("kind", "step")
	switch kind {
	case "step":
		var w store.Waiter
		if w, err = s.waiterOf(c.UserContext(), p); err != nil {
			return err
		}
		rows, err = s.DB.WaitingApprovals(c.UserContext(), w, after, limit+1)
	case "extension":
		rows, err = s.DB.WaitingExtensions(c.UserContext(), p.unit(), after, limit+1)
	default:
		return input.Invalid("参数有误", input.FieldError{Field: "kind", Message: "应为 step（审批）或 extension（延期申请）"})
	}
	if err != nil {
		return err
	}
	views := s.taskViews(rows)
	return c.JSON(page(views, limit, func(v taskView) string {
		if kind == "step" && v.StepDue != nil {
			return keysetCursor(*v.StepDue, v.ID)
		}
		return keysetCursor(v.Due, v.ID)
	}))
}

type bulkItem struct {
	InstanceID string `json:"instance_id"`
	Step       *int   `json:"step"`
}

type bulkRequest struct {
	Items  []bulkItem `json:"items"`
	Reason string     `json:"reason" text:"multiline"`
}

const maxBulk = 100

func (r *bulkRequest) validate() error {
	var errs []input.FieldError
	switch {
	case len(r.Items) == 0:
		errs = append(errs, input.FieldError{Field: "items", Message: "请选择要通过的任务"})
	case len(r.Items) > maxBulk:
		errs = append(errs, input.FieldError{Field: "items", Message: fmt.Sprintf("一次最多批量通过 %d 项", maxBulk)})
	}
	seen := map[string]bool{}
	for i, it := range r.Items {
		if it.InstanceID == "" || len(it.InstanceID) > 200 {
			errs = append(errs, input.FieldError{Field: fmt.Sprintf("items[%d].instance_id", i), Message: "必填"})
		} else if seen[it.InstanceID] {
			errs = append(errs, input.FieldError{Field: fmt.Sprintf("items[%d].instance_id", i), Message: "重复的任务"})
		}
		seen[it.InstanceID] = true
		if it.Step == nil {
			errs = append(errs, input.FieldError{Field: fmt.Sprintf("items[%d].step", i), Message: "必填：所审批的步骤（从 1 开始）"})
		}
	}
	// The lifecycle's rules for one decision, on each item; the shared
	// reason is named once.
	reasonSeen := false
	for i, it := range r.Items {
		for _, e := range duban.CheckRequest(duban.ActionDecide, r.input(it)) {
			switch {
			case e.Field == "reason" && !reasonSeen:
				reasonSeen = true
				errs = append(errs, input.FieldError{Field: "reason", Message: e.Message})
			case e.Field != "reason" && it.Step != nil:
				errs = append(errs, input.FieldError{Field: fmt.Sprintf("items[%d].%s", i, e.Field), Message: e.Message})
			}
		}
	}
	if len(errs) > 0 {
		return input.Invalid("批量审批内容有误", errs...)
	}
	return nil
}

// input is one item's decision: approve, with the shared reason.
func (r *bulkRequest) input(it bulkItem) duban.Input {
	in := duban.Input{Approve: true, Reason: strings.TrimSpace(r.Reason)}
	if it.Step != nil {
		in.Step = *it.Step
	}
	return in
}

// bulkResult is one item's outcome: its task as it now is, or a problem.
type bulkResult struct {
	InstanceID string    `json:"instance_id"`
	Status     int       `json:"status"`
	Task       *taskView `json:"task,omitempty"`
	Error      *problem  `json:"error,omitempty"`
}

// bulkApprove approves many steps at once, each as its own Update (a few at
// a time). Each item's Update ID derives from the request's
// Idempotency-Key and the instance, so retrying the whole request decides
// nothing twice. The response is 200 with a result per item.
func (s *server) bulkApprove(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req bulkRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	results := make([]bulkResult, len(req.Items))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, it := range req.Items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = s.bulkItem(ctx, p, it.InstanceID, func(in store.Instance) (taskView, error) {
				actor, err := s.actorFor(ctx, p, in)
				if err != nil {
					return taskView{}, err
				}
				return s.actOn(ctx, p, actor, in.ID, duban.ActionDecide, bulkKey(key, it.InstanceID), req.input(it))
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
	return c.JSON(fiber.Map{"approved": ok, "failed": len(results) - ok, "results": results, "idempotency_key": key})
}

// bulkItem runs one item of a bulk request on a task the caller must see
// and renders its outcome: the task as it now is, or its problem.
func (s *server) bulkItem(ctx context.Context, p *principal, id string, act func(store.Instance) (taskView, error)) bulkResult {
	res := bulkResult{InstanceID: id}
	in, err := s.visibleInstanceByID(ctx, p, id)
	var v taskView
	if err == nil {
		v, err = act(in)
	}
	if err != nil {
		pr := s.problemOf(err, "")
		if pr.Code == duban.EINTERNAL {
			s.log.Error("bulk item failed", "instance", id, "err", err)
		}
		res.Status, res.Error = pr.Status, &pr
		return res
	}
	res.Status, res.Task = fiber.StatusOK, &v
	return res
}

func bulkKey(key, instanceID string) string {
	h := sha256.Sum256([]byte(key + "\x00" + instanceID))
	return "bulk-" + hex.EncodeToString(h[:12])
}
