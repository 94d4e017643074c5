package api

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/store"
)

// 计划变更: the province postpones a deadline, changes reminders or the
// evidence note, or withdraws a template by a circular with its 文号. The
// change is recorded once, then a workflow carries it to every open
// instance; each instance's timeline shows it with the 文号. The plan keeps
// its versions.

type planChangeRequest struct {
	Year         int             `json:"year"`
	TemplateID   string          `json:"template_id"`
	DocNo        string          `json:"doc_no"`
	Reason       string          `json:"reason" text:"multiline"`
	Units        []string        `json:"units"`
	NewDue       *input.Date     `json:"new_due"`
	Reminders    *[]duban.Offset `json:"reminders"`
	EvidenceNote *string         `json:"evidence_note" text:"multiline"`
	Withdraw     bool            `json:"withdraw"`
}

// change is the request as a plan change of planID by actor.
func (r *planChangeRequest) change(planID string, actor duban.Actor) duban.PlanChange {
	c := duban.PlanChange{PlanID: planID, Year: r.Year, TemplateID: strings.TrimSpace(r.TemplateID), DocNo: strings.TrimSpace(r.DocNo),
		Reason: strings.TrimSpace(r.Reason), Reminders: r.Reminders, EvidenceNote: r.EvidenceNote, Withdraw: r.Withdraw, By: actor}
	if r.NewDue != nil {
		d := duban.DayEnd(r.NewDue.Time)
		c.NewDue = &d
	}
	for _, u := range r.Units {
		if u = strings.TrimSpace(u); u != "" && !slices.Contains(c.Units, u) {
			c.Units = append(c.Units, u)
		}
	}
	if c.Reminders != nil {
		rs := slices.Clone(*c.Reminders)
		// Reminders are kept furthest first, without repeats.
		slices.SortFunc(rs, func(a, b duban.Offset) int { return b.Days - a.Days })
		rs = slices.Compact(rs)
		c.Reminders = &rs
	}
	return c
}

// invalidChange turns the change's own problems into one 422.
func invalidChange(errs []*duban.Error) error {
	fields := make([]input.FieldError, len(errs))
	for i, e := range errs {
		fields[i] = input.FieldError{Field: e.Field, Message: e.Message}
	}
	return input.Invalid("计划变更内容有误", fields...)
}

// createPlanChange records a change of a template and starts carrying it
// out: 202 with the change (its progress to poll), or 200 with the change
// already recorded under the same 文号.
func (s *server) createPlanChange(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	if err := s.requireRootAdmin(c, p); err != nil {
		return err
	}
	ctx := c.UserContext()
	planID, _ := url.PathUnescape(c.Params("id"))
	sum, err := s.DB.PlanSummaryOf(ctx, planID)
	if err != nil {
		return err
	}
	var req planChangeRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Year == 0 {
		req.Year = sum.Year
	}
	ch := req.change(planID, p.actor())
	if errs := ch.Check(); len(errs) > 0 {
		return invalidChange(errs)
	}
	if ch.Units, err = s.unitCodes(ctx, ch.Units); err != nil {
		return err
	}
	if err := s.checkChangeTargets(ctx, ch); err != nil {
		return err
	}
	row, created, err := s.DB.RecordPlanChange(ctx, ch)
	if err != nil {
		return err
	}
	// Started on every request, so that a change recorded by a request that
	// failed before it could start its workflow is carried out on the next.
	if err := s.Engine.StartPlanChange(ctx, row.ID); err != nil {
		return err
	}
	status := fiber.StatusAccepted
	if !created {
		status = fiber.StatusOK
	}
	rows, err := s.nameChangeUnits(ctx, []store.PlanChangeRow{row})
	if err != nil {
		return err
	}
	return c.Status(status).JSON(rows[0])
}

// unitCodes reads the units of a change: each a code, or a unit's exact
// name when only one unit bears it (城关镇 does not name one unit: its code
// must be given).
func (s *server) unitCodes(ctx context.Context, entries []string) ([]string, error) {
	if len(entries) == 0 {
		return entries, nil
	}
	h, err := s.units.get(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string][]string{}
	for _, u := range h.All() {
		byName[u.Name] = append(byName[u.Name], u.Code)
	}
	var errs []input.FieldError
	out := make([]string, 0, len(entries))
	for i, e := range entries {
		field := "units[" + strconv.Itoa(i) + "]"
		if _, ok := h.Get(e); ok {
			out = append(out, e)
			continue
		}
		switch codes := byName[e]; len(codes) {
		case 1:
			if !slices.Contains(out, codes[0]) {
				out = append(out, codes[0])
			}
		case 0:
			errs = append(errs, input.FieldError{Field: field, Message: "没有名称或代码为“" + truncateRunes(e, 20) + "”的单位"})
		default:
			errs = append(errs, input.FieldError{Field: field, Message: "有 " + strconv.Itoa(len(codes)) + " 个单位名为“" + e + "”，请填写单位代码（" + strings.Join(codes[:min(len(codes), 5)], "、") + "…）"})
		}
	}
	if len(errs) > 0 {
		return nil, input.Invalid("计划变更内容有误", errs...)
	}
	return out, nil
}

// checkChangeTargets checks a change against the plan: its year is one the
// plan runs (or is launched onto), its template is the plan's, its units
// have that template's task, and a new deadline is not already past.
func (s *server) checkChangeTargets(ctx context.Context, ch duban.PlanChange) error {
	var errs []input.FieldError
	tpls, err := s.DB.Templates(ctx, ch.PlanID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(tpls, func(t store.TemplateRow) bool { return t.ID == ch.TemplateID }) {
		errs = append(errs, input.FieldError{Field: "template_id", Message: "计划中没有任务模板 " + ch.TemplateID})
	}
	if ch.Year < duban.MinDate.Year() || ch.Year > duban.MaxDate.Year() {
		errs = append(errs, input.FieldError{Field: "year", Message: "年度无效"})
	}
	if ch.NewDue != nil && !ch.NewDue.After(s.planNow()) {
		errs = append(errs, input.FieldError{Field: "new_due", Message: "新的截止日期不能早于今天"})
	}
	if len(errs) == 0 && len(ch.Units) > 0 {
		missing, err := s.DB.UnitsWithoutTask(ctx, ch.PlanID, ch.Year, ch.TemplateID, ch.Units)
		if err != nil {
			return err
		}
		for _, u := range missing {
			i := slices.Index(ch.Units, u)
			errs = append(errs, input.FieldError{Field: "units[" + strconv.Itoa(i) + "]",
				Message: "单位 " + u + " 没有 " + strconv.Itoa(ch.Year) + " 年的此项任务"})
		}
	}
	if len(errs) > 0 {
		return input.Invalid("计划变更内容有误", errs...)
	}
	return nil
}

// nameChangeUnits fills in the names of the changes' units.
func (s *server) nameChangeUnits(ctx context.Context, rows []store.PlanChangeRow) ([]store.PlanChangeRow, error) {
	if rows == nil {
		return []store.PlanChangeRow{}, nil
	}
	h, err := s.units.get(ctx)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		for _, code := range rows[i].Units {
			name := code
			if u, ok := h.Get(code); ok {
				name = u.Name
			}
			rows[i].UnitNames = append(rows[i].UnitNames, name)
		}
	}
	return rows, nil
}

// planChangeID reads the :change parameter.
func planChangeID(c *fiber.Ctx) (string, int64, error) {
	planID, _ := url.PathUnescape(c.Params("id"))
	id, err := strconv.ParseInt(c.Params("change"), 10, 64)
	if err != nil || id <= 0 {
		return "", 0, notFound("计划变更")
	}
	return planID, id, nil
}

// listPlanChanges lists a plan's changes, newest first, with their
// progress (?year= for one year).
func (s *server) listPlanChanges(c *fiber.Ctx) error {
	planID, _ := url.PathUnescape(c.Params("id"))
	year, _, err := input.IntParam(c, "year", duban.MinDate.Year(), duban.MaxDate.Year())
	if err != nil {
		return err
	}
	if _, err := s.DB.PlanSummaryOf(c.UserContext(), planID); err != nil {
		return err
	}
	rows, err := s.DB.PlanChanges(c.UserContext(), planID, year)
	if err != nil {
		return err
	}
	if rows, err = s.nameChangeUnits(c.UserContext(), rows); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": rows})
}

// getPlanChange shows one change with the instances it skipped or could
// not change, and why.
func (s *server) getPlanChange(c *fiber.Ctx) error {
	planID, id, err := planChangeID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	row, err := s.DB.PlanChange(ctx, id)
	if err != nil {
		return err
	}
	if row.PlanID != planID {
		return notFound("计划变更")
	}
	named, err := s.nameChangeUnits(ctx, []store.PlanChangeRow{row})
	if err != nil {
		return err
	}
	row = named[0]
	var problems []duban.ChangeItem
	for _, st := range []string{"failed", "skipped"} {
		items, err := s.DB.ChangeItems(ctx, id, st, 200)
		if err != nil {
			return err
		}
		problems = append(problems, items...)
	}
	if problems == nil {
		problems = []duban.ChangeItem{}
	}
	return c.JSON(fiber.Map{"change": row, "problems": problems})
}

// listPlanVersions lists a plan's versions, the latest first.
func (s *server) listPlanVersions(c *fiber.Ctx) error {
	planID, _ := url.PathUnescape(c.Params("id"))
	if _, err := s.DB.PlanSummaryOf(c.UserContext(), planID); err != nil {
		return err
	}
	vs, err := s.DB.PlanVersions(c.UserContext(), planID)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []store.PlanVersion{}
	}
	return c.JSON(fiber.Map{"items": vs})
}

// planVersionFile downloads the plan file of an imported version.
func (s *server) planVersionFile(c *fiber.Ctx) error {
	planID, _ := url.PathUnescape(c.Params("id"))
	v, err := strconv.Atoi(c.Params("version"))
	if err != nil || v <= 0 {
		return notFound("计划版本")
	}
	src, err := s.DB.PlanVersionSource(c.UserContext(), planID, v)
	if err != nil {
		return err
	}
	return attachment(c, "application/yaml; charset=utf-8", planID+"-v"+strconv.Itoa(v)+".yaml", src)
}
