package api

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"go.temporal.io/sdk/client"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

// --- me and clock ---

type meView struct {
	ID          int64        `json:"id"`
	Username    string       `json:"username"`
	DisplayName string       `json:"display_name"`
	Email       string       `json:"email,omitempty"`
	Unit        unitRef      `json:"unit"`
	UnitPath    []unitRef    `json:"unit_path"`
	Roles       []roleView   `json:"roles"`
	UnreadCount int          `json:"unread_count"`
	Permissions []string     `json:"permissions"`
	Clock       clockPayload `json:"clock"`
}

type roleView struct {
	Role  duban.Role `json:"role"`
	Label string     `json:"label"`
}

func (s *server) meOf(c *fiber.Ctx, u store.User) (meView, error) {
	ctx := c.UserContext()
	h, err := s.units.get(ctx)
	if err != nil {
		return meView{}, err
	}
	m := meView{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Clock: s.clockPayload()}
	for _, code := range org.Ancestors(u.UnitCode) {
		if x, ok := h.Get(code); ok {
			m.UnitPath = append(m.UnitPath, unitRef{Code: x.Code, Name: x.Name, Level: x.Level, LevelLabel: x.Level.Label()})
		}
	}
	if n := len(m.UnitPath); n > 0 {
		m.Unit = m.UnitPath[n-1]
	} else {
		m.Unit = unitRef{Code: u.UnitCode, Name: u.UnitCode}
	}
	p := principal{User: u}
	for _, r := range u.Roles {
		m.Roles = append(m.Roles, roleView{Role: r, Label: r.Label()})
	}
	// What the UI may show: menus follow these.
	m.Permissions = []string{"tasks.read", "notifications"}
	if p.has(duban.RoleOfficial) {
		m.Permissions = append(m.Permissions, "tasks.report")
	}
	if p.has(duban.RoleApprover) {
		m.Permissions = append(m.Permissions, "approvals")
	}
	if p.has(duban.RoleSupervisor, duban.RoleAdmin) {
		m.Permissions = append(m.Permissions, "board", "audit")
	}
	if p.has(duban.RoleAdmin) {
		m.Permissions = append(m.Permissions, "users", "units", "tasks.cancel")
		if len(u.UnitCode) == duban.LevelProvince.CodeLength() {
			m.Permissions = append(m.Permissions, "plans")
		}
	}
	if m.UnreadCount, err = s.DB.UnreadCount(ctx, u.ID); err != nil {
		return m, err
	}
	return m, nil
}

func (s *server) me(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	m, err := s.meOf(c, p.User)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

type clockPayload struct {
	Now          time.Time  `json:"now"`      // plan time now
	RealNow      time.Time  `json:"real_now"` // wall-clock time now
	Scale        float64    `json:"scale"`    // plan seconds per real second
	VirtualEpoch *time.Time `json:"virtual_epoch,omitempty"`
	RealEpoch    *time.Time `json:"real_epoch,omitempty"`
	Demo         bool       `json:"demo"`
}

func (s *server) clockPayload() clockPayload {
	real := s.now()
	p := clockPayload{Now: s.Clock.Virtual(real).In(duban.Shanghai), RealNow: real.In(duban.Shanghai), Scale: 1}
	if !s.Clock.VirtualEpoch.IsZero() {
		ve, re := s.Clock.VirtualEpoch, s.Clock.RealEpoch
		p.VirtualEpoch, p.RealEpoch, p.Demo = &ve, &re, true
		if s.Clock.Scale > 0 {
			p.Scale = s.Clock.Scale
		}
	}
	return p
}

// clock tells the UI the plan time, so countdowns run at the demo's pace:
// plan_now = now + (real_elapsed × scale).
func (s *server) clock(c *fiber.Ctx) error { return c.JSON(s.clockPayload()) }

// --- health ---

func (s *server) healthz(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) }

// readyz answers 200 when the database and Temporal both answer.
func (s *server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	checks := fiber.Map{}
	ready := true
	if err := s.DB.Ping(ctx); err != nil {
		checks["database"], ready = "unreachable", false
	} else {
		checks["database"] = "ok"
	}
	if _, err := s.Engine.Client.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], ready = "unreachable", false
	} else {
		checks["temporal"] = "ok"
	}
	status := fiber.StatusOK
	if !ready {
		status = fiber.StatusServiceUnavailable
	}
	return c.Status(status).JSON(fiber.Map{"ready": ready, "checks": checks})
}

// --- plans ---

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
	if err := s.DB.UpdateLaunch(ctx, activities.LaunchProgress{ID: id, PlanID: planID, Year: req.Year, Status: "pending"}); err != nil {
		return err
	}
	if _, err := s.Engine.Launch(ctx, planID, req.Year, engine.LaunchOptions{Clock: s.Clock, Templates: req.Templates, Concurrency: 16}); err != nil {
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

// --- units ---

type unitView struct {
	unitRef
	ParentCode string    `json:"parent_code,omitempty"`
	Path       []unitRef `json:"path"`
	Children   []unitRef `json:"children"`
}

// unitVisible: a unit in the caller's subtree, or one of the caller's
// unit's ancestors (whose names appear in approval chains).
func unitVisible(p *principal, code string) bool {
	return org.Contains(p.unit(), code) || org.Contains(code, p.unit())
}

func (s *server) unitView(h *org.Hierarchy, u org.Unit) unitView {
	v := unitView{unitRef: unitRef{Code: u.Code, Name: u.Name, Level: u.Level, LevelLabel: u.Level.Label()}, ParentCode: u.ParentCode,
		Children: []unitRef{}}
	for _, code := range org.Ancestors(u.Code) {
		if a, ok := h.Get(code); ok {
			v.Path = append(v.Path, unitRef{Code: a.Code, Name: a.Name, Level: a.Level, LevelLabel: a.Level.Label()})
		}
	}
	for _, ch := range h.Children(u.Code) {
		v.Children = append(v.Children, unitRef{Code: ch.Code, Name: ch.Name, Level: ch.Level, LevelLabel: ch.Level.Label()})
	}
	return v
}

// listUnits lists the children of ?parent= (default: the caller's unit).
func (s *server) listUnits(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	h, err := s.units.get(c.UserContext())
	if err != nil {
		return err
	}
	code := c.Query("parent", p.unit())
	u, ok := h.Get(code)
	if !ok || !org.Contains(p.unit(), code) {
		return apiError(duban.ENOTFOUND, "单位 %s 不存在", truncateRunes(code, 20))
	}
	return c.JSON(s.unitView(h, u))
}

func (s *server) getUnit(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	h, err := s.units.get(c.UserContext())
	if err != nil {
		return err
	}
	code := c.Params("code")
	u, ok := h.Get(code)
	if !ok || !unitVisible(p, code) {
		return apiError(duban.ENOTFOUND, "单位 %s 不存在", truncateRunes(code, 20))
	}
	return c.JSON(s.unitView(h, u))
}

var unitCodeRE = regexp.MustCompile(`^[0-9]{2,12}$`)

type unitRequest struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	ParentCode string `json:"parent_code"`
}

func (r *unitRequest) validate() error {
	var errs []input.FieldError
	lvl, ok := duban.LevelOfCode(r.Code)
	if !unitCodeRE.MatchString(r.Code) || !ok || lvl == duban.LevelProvince {
		errs = append(errs, input.FieldError{Field: "code", Message: "区划代码应为 4、6、9 或 12 位数字"})
	}
	if strings.TrimSpace(r.Name) == "" || utf8.RuneCountInString(r.Name) > 60 {
		errs = append(errs, input.FieldError{Field: "name", Message: "单位名称必填，最多 60 个字"})
	}
	if r.ParentCode == "" {
		errs = append(errs, input.FieldError{Field: "parent_code", Message: "必填"})
	} else if !strings.HasPrefix(r.Code, r.ParentCode) {
		errs = append(errs, input.FieldError{Field: "code", Message: "区划代码应以上级单位代码开头"})
	}
	if len(errs) > 0 {
		return input.Invalid("单位信息有误", errs...)
	}
	return nil
}

// createUnit adds a unit under one the admin manages.
func (s *server) createUnit(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	var req unitRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	h, err := s.units.get(c.UserContext())
	if err != nil {
		return err
	}
	parent, ok := h.Get(req.ParentCode)
	if !ok || !p.manages(req.ParentCode) {
		return apiError(duban.ENOTFOUND, "上级单位 %s 不存在", req.ParentCode)
	}
	lvl, _ := duban.LevelOfCode(req.Code)
	if lvl.Depth() != parent.Level.Depth()+1 {
		return input.Invalid("层级不符", input.FieldError{Field: "code", Message: fmt.Sprintf("%s的下级单位代码应为 %d 位", parent.Name, levelBelow(parent.Level).CodeLength())})
	}
	u, err := s.DB.CreateUnitAs(c.UserContext(), org.Unit{Code: req.Code, Name: strings.TrimSpace(req.Name), Level: lvl, ParentCode: parent.Code}, p.actor())
	if err != nil {
		return err
	}
	s.units.invalidate()
	h, err = s.units.get(c.UserContext())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(s.unitView(h, u))
}

func levelBelow(l duban.Level) duban.Level {
	d := l.Depth() + 1
	if d < len(duban.Levels) {
		return duban.Levels[d]
	}
	return l
}

type unitPatch struct {
	Name *string `json:"name"`
}

func (r *unitPatch) validate() error {
	if r.Name == nil || strings.TrimSpace(*r.Name) == "" || utf8.RuneCountInString(*r.Name) > 60 {
		return input.Invalid("单位信息有误", input.FieldError{Field: "name", Message: "单位名称必填，最多 60 个字"})
	}
	return nil
}

// updateUnit renames a unit the admin manages.
func (s *server) updateUnit(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	code := c.Params("code")
	h, err := s.units.get(c.UserContext())
	if err != nil {
		return err
	}
	if _, ok := h.Get(code); !ok || !p.manages(code) {
		return apiError(duban.ENOTFOUND, "单位 %s 不存在", truncateRunes(code, 20))
	}
	var req unitPatch
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.DB.RenameUnitAs(c.UserContext(), code, strings.TrimSpace(*req.Name), p.actor()); err != nil {
		return err
	}
	s.units.invalidate()
	h, err = s.units.get(c.UserContext())
	if err != nil {
		return err
	}
	u, _ := h.Get(code)
	return c.JSON(s.unitView(h, u))
}

// --- users ---

type userView struct {
	ID          int64      `json:"id"`
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	Email       string     `json:"email"`
	Unit        unitRef    `json:"unit"`
	Roles       []roleView `json:"roles"`
	Disabled    bool       `json:"disabled"`
	CreatedAt   time.Time  `json:"created_at"`
}

func (s *server) userView(ctx context.Context, u store.User) userView {
	v := userView{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Disabled: u.Disabled, CreatedAt: u.CreatedAt,
		Unit: unitRef{Code: u.UnitCode, Name: s.unitName(ctx, u.UnitCode)}, Roles: []roleView{}}
	for _, r := range u.Roles {
		v.Roles = append(v.Roles, roleView{Role: r, Label: r.Label()})
	}
	return v
}

// listUsers lists the users of units the admin manages.
func (s *server) listUsers(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	f := store.UserFilter{UnitPrefix: p.unit(), Query: c.Query("q")}
	if unit := c.Query("unit"); unit != "" {
		if !p.manages(unit) {
			return apiError(duban.ENOTFOUND, "单位 %s 不存在", truncateRunes(unit, 20))
		}
		f.Unit = unit
	}
	limit, err := input.Limit(c)
	if err != nil {
		return err
	}
	if f.AfterID, err = input.IDCursor(c.Query("cursor")); err != nil {
		return err
	}
	f.Limit = limit + 1
	users, err := s.DB.Users(c.UserContext(), f)
	if err != nil {
		return err
	}
	views := make([]userView, len(users))
	for i, u := range users {
		views[i] = s.userView(c.UserContext(), u)
	}
	return c.JSON(page(views, limit, func(v userView) string { return idCursor(v.ID) }))
}

// managedUser loads :id if the admin manages its unit; 404 otherwise.
func (s *server) managedUser(c *fiber.Ctx, p *principal) (store.User, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return store.User{}, notFound("用户")
	}
	u, err := s.DB.UserByID(c.UserContext(), id)
	if err != nil {
		if duban.ErrorCode(err) == duban.ENOTFOUND {
			return u, notFound("用户")
		}
		return u, err
	}
	if !p.manages(u.UnitCode) {
		return store.User{}, notFound("用户")
	}
	return u, nil
}

func (s *server) getUser(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	u, err := s.managedUser(c, p)
	if err != nil {
		return err
	}
	return c.JSON(s.userView(c.UserContext(), u))
}

var usernameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{1,63}$`)

type userRequest struct {
	Username    string       `json:"username"`
	DisplayName string       `json:"display_name"`
	UnitCode    string       `json:"unit_code"`
	Roles       []duban.Role `json:"roles"`
	Email       string       `json:"email"`
	Password    string       `json:"password"`
}

func (r *userRequest) validate() error {
	var errs []input.FieldError
	if !usernameRE.MatchString(r.Username) {
		errs = append(errs, input.FieldError{Field: "username", Message: "用户名为 2–64 位字母、数字、点、下划线或连字符"})
	}
	if strings.TrimSpace(r.DisplayName) == "" || utf8.RuneCountInString(r.DisplayName) > 60 {
		errs = append(errs, input.FieldError{Field: "display_name", Message: "姓名必填，最多 60 个字"})
	}
	if r.UnitCode == "" {
		errs = append(errs, input.FieldError{Field: "unit_code", Message: "必填"})
	}
	errs = append(errs, checkRoles(r.Roles)...)
	if r.Email != "" && (!strings.Contains(r.Email, "@") || len(r.Email) > 200) {
		errs = append(errs, input.FieldError{Field: "email", Message: "邮箱格式不正确"})
	}
	errs = append(errs, checkPassword("password", r.Password)...)
	if len(errs) > 0 {
		return input.Invalid("用户信息有误", errs...)
	}
	return nil
}

func checkRoles(roles []duban.Role) []input.FieldError {
	if len(roles) == 0 {
		return []input.FieldError{{Field: "roles", Message: "至少需要一个角色"}}
	}
	seen := map[duban.Role]bool{}
	for i, r := range roles {
		if !r.Valid() {
			return []input.FieldError{{Field: fmt.Sprintf("roles[%d]", i), Message: "角色应为 official、approver、supervisor、admin 之一"}}
		}
		if seen[r] {
			return []input.FieldError{{Field: fmt.Sprintf("roles[%d]", i), Message: "角色重复"}}
		}
		seen[r] = true
	}
	return nil
}

func checkPassword(field, pw string) []input.FieldError {
	if utf8.RuneCountInString(pw) < password.MinLength {
		return []input.FieldError{{Field: field, Message: fmt.Sprintf("密码至少 %d 个字符", password.MinLength)}}
	}
	if len(pw) > 256 {
		return []input.FieldError{{Field: field, Message: "密码过长"}}
	}
	return nil
}

// createUser adds a user at a unit the admin manages; audited with the
// insert.
func (s *server) createUser(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	var req userRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.checkManagedUnit(c, p, req.UnitCode); err != nil {
		return err
	}
	hash, err := password.Hash(req.Password)
	if err != nil {
		return err
	}
	u, err := s.DB.CreateUserAs(c.UserContext(), store.User{Username: req.Username, DisplayName: strings.TrimSpace(req.DisplayName),
		UnitCode: req.UnitCode, Roles: req.Roles, Email: req.Email, PasswordHash: hash}, p.actor())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(s.userView(c.UserContext(), u))
}

func (s *server) checkManagedUnit(c *fiber.Ctx, p *principal, code string) error {
	h, err := s.units.get(c.UserContext())
	if err != nil {
		return err
	}
	if _, ok := h.Get(code); !ok || !p.manages(code) {
		return input.Invalid("单位不存在", input.FieldError{Field: "unit_code", Message: fmt.Sprintf("单位 %s 不存在或不在您的管理范围内", truncateRunes(code, 20))})
	}
	return nil
}

type userPatch struct {
	DisplayName *string       `json:"display_name"`
	UnitCode    *string       `json:"unit_code"`
	Roles       *[]duban.Role `json:"roles"`
	Email       *string       `json:"email"`
	Disabled    *bool         `json:"disabled"`
	Password    *string       `json:"password"`
	Unlock      bool          `json:"unlock"`
}

func (r *userPatch) validate() error {
	var errs []input.FieldError
	if r.DisplayName != nil && (strings.TrimSpace(*r.DisplayName) == "" || utf8.RuneCountInString(*r.DisplayName) > 60) {
		errs = append(errs, input.FieldError{Field: "display_name", Message: "姓名必填，最多 60 个字"})
	}
	if r.Roles != nil {
		errs = append(errs, checkRoles(*r.Roles)...)
	}
	if r.Email != nil && *r.Email != "" && (!strings.Contains(*r.Email, "@") || len(*r.Email) > 200) {
		errs = append(errs, input.FieldError{Field: "email", Message: "邮箱格式不正确"})
	}
	if r.Password != nil {
		errs = append(errs, checkPassword("password", *r.Password)...)
	}
	if len(errs) > 0 {
		return input.Invalid("用户信息有误", errs...)
	}
	return nil
}

// updateUser changes a user the admin manages: profile, unit (within the
// admin's units), roles, disabled, a new password, or unlock after failed
// sign-ins. A new password or disabling ends the user's sessions.
func (s *server) updateUser(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	u, err := s.managedUser(c, p)
	if err != nil {
		return err
	}
	var req userPatch
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if req.UnitCode != nil {
		if err := s.checkManagedUnit(c, p, *req.UnitCode); err != nil {
			return err
		}
	}
	if u.ID == p.User.ID && ((req.Disabled != nil && *req.Disabled) || (req.Roles != nil && !hasRole(*req.Roles, duban.RoleAdmin))) {
		return apiError(duban.ECONFLICT, "不能停用自己或取消自己的管理员角色")
	}
	ch := store.UserChange{DisplayName: req.DisplayName, UnitCode: req.UnitCode, Roles: req.Roles, Email: req.Email, Disabled: req.Disabled, Unlock: req.Unlock}
	if req.Password != nil {
		hash, err := password.Hash(*req.Password)
		if err != nil {
			return err
		}
		ch.PasswordHash = &hash
	}
	updated, err := s.DB.UpdateUserAs(c.UserContext(), u.ID, ch, p.actor())
	if err != nil {
		return err
	}
	return c.JSON(s.userView(c.UserContext(), updated))
}

func hasRole(roles []duban.Role, r duban.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// --- audit ---

type auditView struct {
	store.AuditEntry
	ActionLabel string `json:"action_label"`
}

var auditLabels = map[string]string{
	"plan.import": "导入计划", "plan.launch": "下达计划", "user.create": "新增用户", "user.update": "修改用户", "user.password": "修改密码",
	"unit.create": "新增单位", "unit.rename": "单位更名",
}

func auditLabel(action string) string {
	if l, ok := auditLabels[action]; ok {
		return l
	}
	if k, ok := strings.CutPrefix(action, "task."); ok {
		return duban.EventKind(k).Label()
	}
	return action
}

// actorParam reads the audit filter ?actor=: a user id (digits only) or a
// username. An unknown username is no error: it has no rows, as an unknown
// id has none, so the filter says nothing about which accounts exist.
func actorParam(v string) (id int64, username string, err error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return 0, "", nil
	case strings.Trim(v, "0123456789") == "":
		if n, perr := strconv.ParseInt(v, 10, 64); perr == nil && n > 0 {
			return n, "", nil
		}
	case usernameRE.MatchString(v):
		return 0, v, nil
	}
	return 0, "", input.Invalid("参数有误", input.FieldError{Field: "actor", Message: "应为用户名或用户编号"})
}

// listAudit is the audit trail of objects under the caller's unit (or a
// unit under it), filtered by instance, actor, action and time, newest
// first.
func (s *server) listAudit(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	unit, err := s.scopeUnit(c, p)
	if err != nil {
		return err
	}
	f := store.AuditFilter{UnitPrefix: unit.Code, Action: c.Query("action")}
	if id := c.Query("instance"); id != "" {
		in, err := s.visibleInstanceByID(c.UserContext(), p, id)
		if err != nil {
			return err
		}
		f.InstanceID = in.ID
	}
	if f.ActorID, f.ActorUsername, err = actorParam(c.Query("actor")); err != nil {
		return err
	}
	if f.From, err = input.DateParam(c, "from"); err != nil {
		return err
	}
	if f.To, err = input.DateParam(c, "to"); err != nil {
		return err
	}
	if f.To != nil && len(c.Query("to")) == len("2006-01-02") {
		end := f.To.AddDate(0, 0, 1) // through the end of that day
		f.To = &end
	}
	limit, err := input.Limit(c)
	if err != nil {
		return err
	}
	if f.BeforeID, err = input.IDCursor(c.Query("cursor")); err != nil {
		return err
	}
	f.Limit = limit + 1
	rows, err := s.DB.Audit(c.UserContext(), f)
	if err != nil {
		return err
	}
	views := make([]auditView, len(rows))
	for i, r := range rows {
		views[i] = auditView{AuditEntry: r, ActionLabel: auditLabel(r.Action)}
	}
	return c.JSON(page(views, limit, func(v auditView) string { return idCursor(v.ID) }))
}
