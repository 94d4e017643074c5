package api

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/store"
)

// 委托: an approver away lets a colleague of the same unit, or an approver
// of the unit above, decide their steps for a range of days. The delegate
// sees those steps in 待我审批 and decides them on the approver's behalf;
// the timeline and the audit log name both.

type delegationRequest struct {
	DelegateID *int64      `json:"delegate_id"`
	StartsOn   *input.Date `json:"starts_on"`
	EndsOn     *input.Date `json:"ends_on"`
	Reason     string      `json:"reason" text:"multiline"`
}

// maxDelegationDays bounds one delegation: an absence, not a transfer.
const maxDelegationDays = 92

func (r *delegationRequest) validate() error {
	var errs []input.FieldError
	if r.DelegateID == nil || *r.DelegateID <= 0 {
		errs = append(errs, input.FieldError{Field: "delegate_id", Message: "请选择受委托的审核人"})
	}
	if r.StartsOn == nil {
		errs = append(errs, input.FieldError{Field: "starts_on", Message: "必填：开始日期（YYYY-MM-DD）"})
	}
	if r.EndsOn == nil {
		errs = append(errs, input.FieldError{Field: "ends_on", Message: "必填：结束日期（YYYY-MM-DD）"})
	}
	if r.StartsOn != nil && r.EndsOn != nil {
		switch {
		case r.EndsOn.Before(r.StartsOn.Time):
			errs = append(errs, input.FieldError{Field: "ends_on", Message: "结束日期不能早于开始日期"})
		case r.EndsOn.Sub(r.StartsOn.Time) > maxDelegationDays*24*time.Hour:
			errs = append(errs, input.FieldError{Field: "ends_on", Message: "一次委托最长 92 天"})
		}
	}
	if msg := duban.TextProblem(r.Reason, duban.MaxReasonLength, true); msg != "" {
		errs = append(errs, input.FieldError{Field: "reason", Message: "理由" + msg})
	}
	if len(errs) > 0 {
		return input.Invalid("委托内容有误", errs...)
	}
	return nil
}

// createDelegation: an approver delegates to a colleague approver of the
// same unit or an approver of the unit above.
func (s *server) createDelegation(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	var req delegationRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if req.StartsOn.Before(startOfDay(s.planNow())) {
		return input.Invalid("委托内容有误", input.FieldError{Field: "starts_on", Message: "开始日期不能早于今天"})
	}
	ctx := c.UserContext()
	d, err := s.DB.UserByID(ctx, *req.DelegateID)
	if err != nil || d.Disabled || !hasRole(d.Roles, duban.RoleApprover) || d.ID == p.User.ID ||
		(d.UnitCode != p.unit() && d.UnitCode != duban.ParentCode(p.unit())) {
		return input.Invalid("委托内容有误", input.FieldError{Field: "delegate_id", Message: "只能委托给本单位的其他审核人，或上一级单位的审核人"})
	}
	out, err := s.DB.AddDelegation(ctx, store.Delegation{UserID: p.User.ID, DelegateID: d.ID, StartsOn: req.StartsOn.Time, EndsOn: req.EndsOn.Time,
		Reason: strings.TrimSpace(req.Reason)}, p.actor())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (s *server) listDelegations(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	items, err := s.DB.Delegations(c.UserContext(), p.User.ID)
	if err != nil {
		return err
	}
	if items == nil {
		items = []store.Delegation{}
	}
	return c.JSON(fiber.Map{"items": items})
}

func (s *server) revokeDelegation(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return notFound("委托")
	}
	if err := s.DB.RevokeDelegation(c.UserContext(), id, p.actor(), s.now()); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// delegators are the approvers whose delegations to p are in force today
// (plan time).
func (s *server) delegators(ctx context.Context, p *principal) ([]store.Delegation, error) {
	all, err := s.DB.DelegationsTo(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	now := s.planNow()
	var out []store.Delegation
	for _, d := range all {
		if d.InForce(now) {
			out = append(out, d)
		}
	}
	return out, nil
}

// waiterOf is whose steps p's 待我审批 shows: their own, and those of the
// approvers who delegated to them.
func (s *server) waiterOf(ctx context.Context, p *principal) (store.Waiter, error) {
	w := store.Waiter{Units: []string{p.unit()}, UserIDs: []int64{p.User.ID}}
	ds, err := s.delegators(ctx, p)
	if err != nil {
		return w, err
	}
	for _, d := range ds {
		w.Units = append(w.Units, d.UnitCode)
		w.UserIDs = append(w.UserIDs, d.UserID)
	}
	return w, nil
}

// actorFor is who p acts as on a task's step waiting: themselves when the
// step is theirs to sign, or a delegate for an approver who signs it.
func (s *server) actorFor(ctx context.Context, p *principal, in store.Instance) (duban.Actor, error) {
	me := p.actor()
	if in.Status != duban.StatusSubmitted || in.CurrentStep < 1 || in.CurrentStep > len(in.ApprovalChain()) {
		return me, nil
	}
	st := in.ApprovalChain()[in.CurrentStep-1]
	signs := func(a duban.Actor) bool {
		if st.Assignee != nil {
			return st.Assignee.UserID == a.UserID
		}
		return a.Has(duban.RoleApprover) && st.Signs(a.UnitCode)
	}
	if signs(me) {
		return me, nil
	}
	ds, err := s.delegators(ctx, p)
	if err != nil {
		return me, err
	}
	for _, d := range ds {
		u, err := s.DB.UserByID(ctx, d.UserID)
		if err != nil || u.Disabled {
			continue
		}
		if a := u.Actor(); signs(a) {
			me.OnBehalfOf = &a
			return me, nil
		}
	}
	return me, nil
}

func startOfDay(t time.Time) time.Time {
	d := t.In(duban.Shanghai)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, duban.Shanghai)
}

// listDelegates names who the caller may delegate to: the other approvers
// of their unit and the approvers of the unit above.
func (s *server) listDelegates(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var out []personView
	for _, code := range []string{p.unit(), duban.ParentCode(p.unit())} {
		if code == "" {
			continue
		}
		users, err := s.DB.Users(ctx, store.UserFilter{UnitPrefix: code, Unit: code, Limit: 200})
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.Disabled || u.ID == p.User.ID || !hasRole(u.Roles, duban.RoleApprover) {
				continue
			}
			out = append(out, personView{ID: u.ID, Name: u.DisplayName, Unit: unitRef{Code: u.UnitCode, Name: s.unitName(ctx, u.UnitCode)}, Roles: u.Roles})
		}
	}
	if out == nil {
		out = []personView{}
	}
	return c.JSON(fiber.Map{"items": out})
}
