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
	ID                 int64      `json:"id"`
	Username           string     `json:"username"`
	DisplayName        string     `json:"display_name"`
	Email              string     `json:"email"`
	Mobile             string     `json:"mobile"`
	Unit               unitRef    `json:"unit"`
	Roles              []roleView `json:"roles"`
	Disabled           bool       `json:"disabled"`
	MustChangePassword bool       `json:"must_change_password"`
	LockedUntil        *time.Time `json:"locked_until,omitempty"`
	Status             string     `json:"status"`
	StatusLabel        string     `json:"status_label"`
	CreatedAt          time.Time  `json:"created_at"`
}

var userStatusLabels = map[string]string{store.UserActive: "启用", store.UserDisabled: "停用", store.UserLocked: "锁定"}

func (s *server) userView(ctx context.Context, u store.User) userView {
	v := userView{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Mobile: u.Mobile, Disabled: u.Disabled,
		MustChangePassword: u.MustChangePassword, LockedUntil: u.LockedUntil, CreatedAt: u.CreatedAt,
		Unit: unitRef{Code: u.UnitCode, Name: s.unitName(ctx, u.UnitCode)}, Roles: []roleView{}}
	for _, r := range u.Roles {
		v.Roles = append(v.Roles, roleView{Role: r, Label: r.Label()})
	}
	switch {
	case u.Disabled:
		v.Status = store.UserDisabled
	case u.LockedUntil != nil:
		v.Status = store.UserLocked
	default:
		v.Status = store.UserActive
	}
	v.StatusLabel = userStatusLabels[v.Status]
	return v
}

// withLock fills a user's running lockout, for a single user's view.
func (s *server) withLock(ctx context.Context, u store.User) (store.User, error) {
	until, err := s.DB.UserLockedUntil(ctx, u.Username, s.now())
	u.LockedUntil = until
	return u, err
}

// listUsers lists the users of units the admin manages.
func (s *server) listUsers(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	f := store.UserFilter{UnitPrefix: p.unit(), Query: c.Query("q"), Now: s.now()}
	if msg := duban.TextProblem(f.Query, 64, false); msg != "" {
		return input.Invalid("搜索内容有误", input.FieldError{Field: "q", Message: msg})
	}
	if unit := c.Query("unit"); unit != "" {
		if !p.manages(unit) {
			return apiError(duban.ENOTFOUND, "单位 %s 不存在", truncateRunes(unit, 20))
		}
		if c.QueryBool("subtree") {
			f.UnitPrefix = unit
		} else {
			f.Unit = unit
		}
	}
	if role := c.Query("role"); role != "" {
		if !duban.Role(role).Valid() {
			return input.Invalid("角色有误", input.FieldError{Field: "role", Message: "角色应为 official、approver、supervisor、admin 之一"})
		}
		f.Role = duban.Role(role)
	}
	switch st := c.Query("status"); st {
	case "", store.UserActive, store.UserDisabled, store.UserLocked:
		f.Status = st
	default:
		return input.Invalid("状态有误", input.FieldError{Field: "status", Message: "状态应为 active（启用）、disabled（停用）、locked（锁定）之一"})
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
	if u, err = s.withLock(c.UserContext(), u); err != nil {
		return err
	}
	return c.JSON(s.userView(c.UserContext(), u))
}

var usernameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{1,63}$`)

var (
	emailRE  = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	mobileRE = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
)

// Account fields, one check each, shared by the form and the import: each
// says what is wrong, or "".
func usernameProblem(v string) string {
	if duban.HasControl(v) {
		return "用户名包含控制字符或无效编码"
	}
	if !usernameRE.MatchString(v) {
		return "用户名为 2–64 位字母、数字、点、下划线或连字符，以字母或数字开头"
	}
	return ""
}

func displayNameProblem(v string) string {
	if msg := duban.TextProblem(v, 60, false); msg != "" {
		return "姓名" + msg
	}
	if strings.TrimSpace(v) == "" {
		return "姓名必填，最多 60 个字"
	}
	return ""
}

func emailProblem(v string) string {
	if v == "" {
		return ""
	}
	if duban.HasControl(v) || len(v) > 200 || !emailRE.MatchString(v) {
		return "邮箱格式不正确"
	}
	return ""
}

func mobileProblem(v string) string {
	if v == "" {
		return ""
	}
	if !mobileRE.MatchString(v) {
		return "手机号应为 11 位数字，以 1 开头"
	}
	return ""
}

func addProblem(errs []input.FieldError, field, msg string) []input.FieldError {
	if msg != "" {
		errs = append(errs, input.FieldError{Field: field, Message: msg})
	}
	return errs
}

type userRequest struct {
	Username    string       `json:"username"`
	DisplayName string       `json:"display_name"`
	UnitCode    string       `json:"unit_code"`
	Roles       []duban.Role `json:"roles"`
	Email       string       `json:"email"`
	Mobile      string       `json:"mobile"`
	// Password is the initial password; empty: one is generated and
	// answered once.
	Password string `json:"password"`
}

func (r *userRequest) validate() error {
	var errs []input.FieldError
	errs = addProblem(errs, "username", usernameProblem(r.Username))
	errs = addProblem(errs, "display_name", displayNameProblem(r.DisplayName))
	if r.UnitCode == "" {
		errs = append(errs, input.FieldError{Field: "unit_code", Message: "必填"})
	}
	errs = append(errs, checkRoles(r.Roles)...)
	errs = addProblem(errs, "email", emailProblem(r.Email))
	errs = addProblem(errs, "mobile", mobileProblem(r.Mobile))
	if r.Password != "" {
		errs = append(errs, checkPassword("password", r.Password)...)
	}
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

// createdUser is a new account with its initial password, shown once when
// the server generated it.
type createdUser struct {
	userView
	InitialPassword string `json:"initial_password,omitempty"`
}

// createUser adds a user at a unit the admin manages; audited with the
// insert. The user must change the password on first sign-in.
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
	out := createdUser{}
	pw := req.Password
	if pw == "" {
		pw = password.Generate()
		out.InitialPassword = pw
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	u, err := s.DB.CreateUserAs(c.UserContext(), store.User{Username: req.Username, DisplayName: strings.TrimSpace(req.DisplayName),
		UnitCode: req.UnitCode, Roles: req.Roles, Email: req.Email, Mobile: req.Mobile, PasswordHash: hash, MustChangePassword: true}, p.actor())
	if err != nil {
		return err
	}
	out.userView = s.userView(c.UserContext(), u)
	return c.Status(fiber.StatusCreated).JSON(out)
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
	Mobile      *string       `json:"mobile"`
	Disabled    *bool         `json:"disabled"`
	Password    *string       `json:"password"`
	Unlock      bool          `json:"unlock"`
}

func (r *userPatch) validate() error {
	var errs []input.FieldError
	if r.DisplayName != nil {
		errs = addProblem(errs, "display_name", displayNameProblem(*r.DisplayName))
	}
	if r.Roles != nil {
		errs = append(errs, checkRoles(*r.Roles)...)
	}
	if r.Email != nil {
		errs = addProblem(errs, "email", emailProblem(*r.Email))
	}
	if r.Mobile != nil {
		errs = addProblem(errs, "mobile", mobileProblem(*r.Mobile))
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
	if req.DisplayName != nil {
		trimmed := strings.TrimSpace(*req.DisplayName)
		req.DisplayName = &trimmed
	}
	ch := store.UserChange{DisplayName: req.DisplayName, UnitCode: req.UnitCode, Roles: req.Roles, Email: req.Email, Mobile: req.Mobile,
		Disabled: req.Disabled, Unlock: req.Unlock}
	if req.Password != nil {
		hash, err := password.Hash(*req.Password)
		if err != nil {
			return err
		}
		// A password an administrator chose is changed on first use.
		must := u.ID != p.User.ID
		ch.PasswordHash, ch.MustChangePassword = &hash, &must
	}
	updated, err := s.DB.UpdateUserAs(c.UserContext(), u.ID, ch, p.actor())
	if err != nil {
		return err
	}
	if updated, err = s.withLock(c.UserContext(), updated); err != nil {
		return err
	}
	return c.JSON(s.userView(c.UserContext(), updated))
}

// resetPassword gives a user the admin manages a generated password,
// answered once, which the user must change on first sign-in; the user's
// sessions end and a lockout is lifted. Audited as user.reset_password
// (never the password).
func (s *server) resetPassword(c *fiber.Ctx) error {
	p, u, err := s.managedUser(c)
	if err != nil {
		return err
	}
	if u.ID == p.User.ID {
		return apiError(duban.ECONFLICT, "不能重置自己的密码，请在“修改密码”中修改")
	}
	pw := password.Generate()
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	must := true
	updated, err := s.DB.UpdateUserAs(c.UserContext(), u.ID, store.UserChange{PasswordHash: &hash, MustChangePassword: &must, Unlock: true,
		Action: "user.reset_password"}, p.actor())
	if err != nil {
		return err
	}
	return c.JSON(createdUser{userView: s.userView(c.UserContext(), updated), InitialPassword: pw})
}

// unlockUser clears a user's failed sign-ins and lockout. Audited as
// user.unlock.
func (s *server) unlockUser(c *fiber.Ctx) error {
	p, u, err := s.managedUser(c)
	if err != nil {
		return err
	}
	updated, err := s.DB.UpdateUserAs(c.UserContext(), u.ID, store.UserChange{Unlock: true, Action: "user.unlock"}, p.actor())
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
