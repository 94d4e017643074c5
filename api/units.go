package api

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/org"
)

type unitView struct {
	unitRef
	ParentCode string    `json:"parent_code,omitempty"`
	Path       []unitRef `json:"path"`
	Children   []unitRef `json:"children"`
	// Matches are the units below whose name or code matches q (GET
	// /units?q=), each with its path of names.
	Matches []unitMatch `json:"matches,omitempty"`
}

type unitMatch struct {
	unitRef
	PathName string `json:"path_name"`
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

// listUnits lists the children of ?parent= (default: the caller's unit),
// which must be the caller's unit or under it.
func (s *server) listUnits(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.Query("q"))
	if msg := duban.TextProblem(q, 30, false); msg != "" {
		return input.Invalid("搜索内容有误", input.FieldError{Field: "q", Message: msg})
	}
	limit := 20
	if q != "" {
		var err error
		if limit, err = input.Limit(c); err != nil {
			return err
		}
		limit = min(limit, 50)
	}
	return s.showUnit(c, func(p *principal) (string, bool) {
		code := c.Query("parent", p.unit())
		return code, org.Contains(p.unit(), code)
	}, func(h *org.Hierarchy, v *unitView) {
		if q == "" {
			return
		}
		v.Matches = []unitMatch{}
		for _, u := range h.All() {
			if u.Code == v.Code || !org.Contains(v.Code, u.Code) || !(strings.Contains(u.Name, q) || strings.HasPrefix(u.Code, q)) {
				continue
			}
			v.Matches = append(v.Matches, unitMatch{unitRef: unitRef{Code: u.Code, Name: u.Name, Level: u.Level, LevelLabel: u.Level.Label()},
				PathName: h.Path(u.Code)})
			if len(v.Matches) == limit {
				break
			}
		}
	})
}

// getUnit shows :code, a unit the caller sees (theirs, under or above it).
func (s *server) getUnit(c *fiber.Ctx) error {
	return s.showUnit(c, func(p *principal) (string, bool) {
		code := c.Params("code")
		return code, unitVisible(p, code)
	})
}

// showUnit answers with the unit pick names, its ancestors and children;
// 404 when the caller may not see it.
func (s *server) showUnit(c *fiber.Ctx, pick func(*principal) (code string, visible bool), more ...func(*org.Hierarchy, *unitView)) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	h, err := s.units.get(c.UserContext())
	if err != nil {
		return err
	}
	code, visible := pick(p)
	u, ok := h.Get(code)
	if !ok || !visible {
		return apiError(duban.ENOTFOUND, "单位 %s 不存在", truncateRunes(code, 20))
	}
	v := s.unitView(h, u)
	for _, f := range more {
		f(h, &v)
	}
	return c.JSON(v)
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
