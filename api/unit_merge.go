package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
)

// 单位合并: a township (or any unit without units below it) merges into a
// peer under the same parent. It leaves the hierarchy (no new tasks are
// launched for it), its people move to the unit it joined, and its open
// tasks follow: each moves to the joined unit, or is cancelled when that
// unit has the same task.

type unitMergeRequest struct {
	Into   string `json:"into"`
	Reason string `json:"reason" text:"multiline"`
}

func (r *unitMergeRequest) validate() error {
	var errs []input.FieldError
	if strings.TrimSpace(r.Into) == "" || duban.HasControl(r.Into) {
		errs = append(errs, input.FieldError{Field: "into", Message: "请选择合并到的单位"})
	}
	if strings.TrimSpace(r.Reason) == "" {
		errs = append(errs, input.FieldError{Field: "reason", Message: "请填写合并依据（文件或说明）"})
	} else if msg := duban.TextProblem(r.Reason, duban.MaxReasonLength, true); msg != "" {
		errs = append(errs, input.FieldError{Field: "reason", Message: "合并依据" + msg})
	}
	if len(errs) > 0 {
		return input.Invalid("合并信息有误", errs...)
	}
	return nil
}

// mergeUnit merges :code into the unit the request names and starts moving
// its tasks: 202 with how many people moved and how many open tasks
// follow. Merging again into the same unit starts the move again, which
// does only what is left.
func (s *server) mergeUnit(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	code := c.Params("code")
	h, err := s.units.get(ctx)
	if err != nil {
		return err
	}
	from, inHierarchy := h.Get(code)
	mergedInto := ""
	if !inHierarchy {
		// Merged before: merging again into the same unit starts the move
		// again.
		if mergedInto, err = s.DB.MergedInto(ctx, code); err != nil || mergedInto == "" || !p.manages(mergedInto) {
			return apiError(duban.ENOTFOUND, "单位 %s 不存在", truncateRunes(code, 20))
		}
	} else if from.ParentCode == "" || !p.manages(from.ParentCode) {
		return apiError(duban.ENOTFOUND, "单位 %s 不存在", truncateRunes(code, 20))
	}
	var req unitMergeRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if !inHierarchy {
		if req.Into != mergedInto {
			return input.Invalid("合并信息有误", input.FieldError{Field: "into", Message: "单位 " + code + " 已并入 " + mergedInto})
		}
		return s.startMerge(c, p, code, req)
	}
	into, ok := h.Get(req.Into)
	switch {
	case !ok || !p.manages(into.Code):
		return input.Invalid("合并信息有误", input.FieldError{Field: "into", Message: "单位 " + truncateRunes(req.Into, 20) + " 不存在"})
	case into.Code == from.Code:
		return input.Invalid("合并信息有误", input.FieldError{Field: "into", Message: "不能并入自身"})
	case into.ParentCode != from.ParentCode:
		return input.Invalid("合并信息有误", input.FieldError{Field: "into", Message: "只能并入同一上级单位下的单位"})
	}
	if _, err := s.DB.MergeUnitAs(ctx, from.Code, into.Code, strings.TrimSpace(req.Reason), p.actor()); err != nil {
		return err
	}
	s.units.invalidate()
	return s.startMerge(c, p, from.Code, req)
}

func (s *server) startMerge(c *fiber.Ctx, p *principal, from string, req unitMergeRequest) error {
	ctx := c.UserContext()
	open, err := s.DB.OpenTasksOf(ctx, from, req.Into)
	if err != nil {
		return err
	}
	into := duban.Signer{Unit: req.Into, UnitName: s.unitName(ctx, req.Into)}
	if err := s.Engine.StartUnitMerge(ctx, from, into, strings.TrimSpace(req.Reason), p.actor()); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"code": from, "into": req.Into, "open_tasks": len(open)})
}

// getUnitMerge says which unit a merged unit joined and how many of its
// tasks are still to move.
func (s *server) getUnitMerge(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	code := c.Params("code")
	into, err := s.DB.MergedInto(c.UserContext(), code)
	if err != nil || into == "" || !p.manages(into) {
		return apiError(duban.ENOTFOUND, "单位 %s 未合并", truncateRunes(code, 20))
	}
	open, err := s.DB.OpenTasksOf(c.UserContext(), code, into)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"code": code, "into": into, "into_name": s.unitName(c.UserContext(), into), "open_tasks": len(open)})
}
