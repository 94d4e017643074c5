package api

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

// listPlans lists stored plans and the plan years that have tasks (for
// filters).
func (s *server) listPlans(c *fiber.Ctx) error {
	plans, err := s.DB.Plans(c.UserContext())
	if err != nil {
		return err
	}
	years, err := s.DB.PlanYears(c.UserContext())
	if err != nil {
		return err
	}
	if plans == nil {
		plans = []store.PlanSummary{}
	}
	if years == nil {
		years = []store.PlanYear{}
	}
	return c.JSON(fiber.Map{"items": plans, "launched": years})
}

func (s *server) getPlan(c *fiber.Ctx) error {
	id, _ := url.PathUnescape(c.Params("id"))
	sum, err := s.DB.PlanSummaryOf(c.UserContext(), id)
	if err != nil {
		return err
	}
	tpls, err := s.DB.Templates(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"plan": sum, "templates": tpls})
}

// requireRootAdmin: plans are the whole province's, so only the admins of
// the root unit change them.
func (s *server) requireRootAdmin(c *fiber.Ctx, p *principal) error {
	h, err := s.units.get(c.UserContext())
	if err != nil {
		return err
	}
	if p.unit() != h.Root().Code {
		return apiError(duban.EFORBIDDEN, "只有%s的管理员可以导入和下达计划", h.Root().Name)
	}
	return nil
}

// planUpload reads a plan file: the raw body (application/yaml, text/yaml,
// text/plain) or a multipart "file". It returns the file name for messages.
func (s *server) planUpload(c *fiber.Ctx) (string, []byte, error) {
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	switch mt {
	case fiber.MIMEMultipartForm:
		fh, err := c.FormFile("file")
		if err != nil {
			return "", nil, input.Invalid("请上传计划文件", input.FieldError{Field: "file", Message: "请选择计划文件（YAML）"})
		}
		if fh.Size > 2<<20 {
			return "", nil, apiError(codeTooLarge, "计划文件不能超过 2 MB")
		}
		f, err := fh.Open()
		if err != nil {
			return "", nil, err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, 2<<20))
		return cleanFileName(fh.Filename), b, err
	case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain":
		if len(c.Body()) > 2<<20 {
			return "", nil, apiError(codeTooLarge, "计划文件不能超过 2 MB")
		}
		name := cleanFileName(c.Query("filename", "plan.yaml"))
		return name, append([]byte(nil), c.Body()...), nil
	}
	return "", nil, apiError(codeMediaType, "请以 application/yaml 或 multipart/form-data（字段 file）上传计划文件")
}

// parsePlan validates a plan file against the stored hierarchy; errors come
// back as a 422 problem listing each with its line, column and field.
func (s *server) parsePlan(c *fiber.Ctx) (*plan.Plan, []byte, int, error) {
	name, src, err := s.planUpload(c)
	if err != nil {
		return nil, nil, 0, err
	}
	if len(src) == 0 {
		return nil, nil, 0, input.Invalid("计划文件为空", input.FieldError{Field: "file", Message: "计划文件为空"})
	}
	if !utf8.Valid(src) {
		return nil, nil, 0, input.Invalid("计划文件须为 UTF-8 编码", input.FieldError{Field: "file", Message: "文件不是 UTF-8 编码"})
	}
	h, err := s.units.get(c.UserContext())
	if err != nil {
		return nil, nil, 0, err
	}
	p, err := plan.Parse(name, src, h)
	if err != nil {
		return nil, nil, 0, err
	}
	specs, err := plan.Expand(p, h, p.Year)
	if err != nil {
		return nil, nil, 0, input.Invalid("计划无法展开为任务："+err.Error(), input.FieldError{Field: "file", Message: err.Error()})
	}
	return p, src, len(specs), nil
}

type planCheck struct {
	Valid     bool   `json:"valid"`
	ID        string `json:"id"`
	Year      int    `json:"year"`
	Title     string `json:"title"`
	Templates int    `json:"templates"`
	Instances int    `json:"instances"`
	Sections  int    `json:"sections"`
}

// validatePlan checks a plan file without storing it.
func (s *server) validatePlan(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	if err := s.requireRootAdmin(c, p); err != nil {
		return err
	}
	pl, _, n, err := s.parsePlan(c)
	if err != nil {
		return err
	}
	return c.JSON(planCheck{Valid: true, ID: pl.ID, Year: pl.Year, Title: pl.Title, Templates: len(pl.Templates()), Instances: n, Sections: len(pl.Sections)})
}

// importPlan validates and stores a plan (replacing an earlier version of
// the same id); the import is audited in the same transaction.
func (s *server) importPlan(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	if err := s.requireRootAdmin(c, p); err != nil {
		return err
	}
	pl, src, _, err := s.parsePlan(c)
	if err != nil {
		return err
	}
	sum, err := s.DB.ImportPlanAs(c.UserContext(), pl, src, p.actor(), p.unit())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(sum)
}

type copyRequest struct {
	ID   string `json:"id"`
	Year int    `json:"year"`
}

// copyPlan copies a stored plan to another year under a new id (dates
// moved by the difference in years), validated and stored as a new plan,
// to be reviewed (its versions, its file) and launched there.
func (s *server) copyPlan(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	if err := s.requireRootAdmin(c, p); err != nil {
		return err
	}
	var req copyRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	var errs []input.FieldError
	req.ID = strings.TrimSpace(req.ID)
	if msg := duban.TextProblem(req.ID, 64, true); msg != "" {
		errs = append(errs, input.FieldError{Field: "id", Message: msg})
	} else if !plan.ValidID(req.ID) {
		errs = append(errs, input.FieldError{Field: "id", Message: "计划编号只能含小写字母、数字和连字符，并以字母或数字开头，如 hunan-2022"})
	}
	if req.Year < 2000 || req.Year > 2100 {
		errs = append(errs, input.FieldError{Field: "year", Message: "年度应在 2000 到 2100 之间"})
	}
	if len(errs) > 0 {
		return input.Invalid("复制参数有误", errs...)
	}
	from, _ := url.PathUnescape(c.Params("id"))
	ctx := c.UserContext()
	src, err := s.DB.PlanSource(ctx, from)
	if err != nil {
		return err
	}
	old, err := s.DB.Plan(ctx, from)
	if err != nil {
		return err
	}
	out, err := plan.CopyToYear(src, old.ID, old.Year, req.ID, req.Year)
	if err != nil {
		return input.Invalid("无法复制计划："+err.Error(), input.FieldError{Field: "id", Message: err.Error()})
	}
	h, err := s.units.get(ctx)
	if err != nil {
		return err
	}
	np, err := plan.Parse(req.ID+".yaml", out, h)
	if err != nil {
		return err
	}
	if _, err := plan.Expand(np, h, np.Year); err != nil {
		return input.Invalid("复制后的计划无法展开为任务："+err.Error(), input.FieldError{Field: "year", Message: err.Error()})
	}
	sum, err := s.DB.CopyPlanAs(ctx, np, out, old.ID, p.actor(), p.unit())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(sum)
}

type launchRequest struct {
	Year      int      `json:"year"`
	Templates []string `json:"templates"`
}

func (r *launchRequest) validate() error {
	var errs []input.FieldError
	if r.Year != 0 && (r.Year < 2000 || r.Year > 2100) {
		errs = append(errs, input.FieldError{Field: "year", Message: "年度应在 2000 到 2100 之间"})
	}
	if len(r.Templates) > 200 {
		errs = append(errs, input.FieldError{Field: "templates", Message: "模板过多"})
	}
	if len(errs) > 0 {
		return input.Invalid("下达参数有误", errs...)
	}
	return nil
}

// launchPlan starts every instance of a stored plan for a year (or some
// templates). It is idempotent: launching again starts nothing twice. It
// answers 202 with the launch id to poll at /launches/{id}.
func (s *server) launchPlan(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	if err := s.requireRootAdmin(c, p); err != nil {
		return err
	}
	var req launchRequest
	if len(c.Body()) > 0 {
		if err := s.decodeJSON(c, &req); err != nil {
			return err
		}
	}
	planID, _ := url.PathUnescape(c.Params("id"))
	ctx := c.UserContext()
	pl, err := s.DB.Plan(ctx, planID)
	if err != nil {
		return err
	}
	if req.Year == 0 {
		req.Year = pl.Year
	}
	known := map[string]bool{}
	for _, st := range pl.Templates() {
		known[st.Template.ID] = true
	}
	for i, t := range req.Templates {
		if !known[t] {
			return input.Invalid("模板不存在", input.FieldError{Field: fmt.Sprintf("templates[%d]", i), Message: fmt.Sprintf("计划中没有模板 %q", t)})
		}
	}
	// The launch is polled at once (GET /launches/{id}), before its workflow
	// writes any progress: a pending row answers until then. It never
	// replaces the row of a launch still running, which this one joins.
	id := engine.LaunchID(planID, req.Year, req.Templates)
	if err := s.DB.UpdateLaunch(ctx, duban.LaunchProgress{ID: id, PlanID: planID, Year: req.Year, Status: "pending"}); err != nil {
		return err
	}
	if _, err := s.Engine.Launch(ctx, planID, req.Year, engine.LaunchOptions{Clock: s.Clock, Templates: req.Templates}); err != nil {
		// Nothing will write this launch's progress: say so on the row.
		if ferr := s.DB.FailPendingLaunch(context.WithoutCancel(ctx), id, "未能启动下达流程，请重试"); ferr != nil {
			s.log.Error("mark launch failed", "launch", id, "err", ferr)
		}
		return err
	}
	e, err := store.NewAuditEntry(p.actor(), "plan.launch", p.unit(), "", map[string]any{"plan_id": planID, "year": req.Year, "templates": req.Templates, "launch_id": id})
	if err != nil {
		return err
	}
	// The launch lives in Temporal, so its audit row follows it rather than
	// sharing a transaction; launching is idempotent, so a retry after a
	// failed append is safe.
	if _, err := s.DB.AppendAudit(ctx, e); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"launch_id": id, "url": "/api/v1/launches/" + url.PathEscape(id)})
}

// getLaunch returns a launch's progress (for the province's admins, who
// launch).
func (s *server) getLaunch(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	if err := s.requireRootAdmin(c, p); err != nil {
		return err
	}
	id, err := url.PathUnescape(c.Params("id"))
	if err != nil {
		return notFound("下达记录")
	}
	lp, err := s.DB.Launch(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(lp)
}
