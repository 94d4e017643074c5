package api

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/store"
)

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

// managedUser is the signed-in admin and the user :id, if the admin
// manages its unit; 404 otherwise.
func (s *server) managedUser(c *fiber.Ctx) (*principal, store.User, error) {
	p, err := caller(c)
	if err != nil {
		return nil, store.User{}, err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, store.User{}, notFound("用户")
	}
	u, err := s.DB.UserByID(c.UserContext(), id)
	if err != nil {
		if duban.ErrorCode(err) == duban.ENOTFOUND {
			return nil, u, notFound("用户")
		}
		return nil, u, err
	}
	if !p.manages(u.UnitCode) {
		return nil, store.User{}, notFound("用户")
	}
	return p, u, nil
}

func (s *server) getUser(c *fiber.Ctx) error {
	_, u, err := s.managedUser(c)
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
	p, u, err := s.managedUser(c)
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
