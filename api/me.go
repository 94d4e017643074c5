package api

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/store"
)

type meView struct {
	ID          int64      `json:"id"`
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	Email       string     `json:"email,omitempty"`
	Unit        unitRef    `json:"unit"`
	UnitPath    []unitRef  `json:"unit_path"`
	Roles       []roleView `json:"roles"`
	UnreadCount int        `json:"unread_count"`
	// MustChangePassword: the password is one an administrator set; the
	// API answers nothing else until it is changed.
	MustChangePassword bool         `json:"must_change_password"`
	Permissions        []string     `json:"permissions"`
	Clock              clockPayload `json:"clock"`
	// TemporalUI is for admins only, when Temporal's Web UI is configured.
	TemporalUI *temporalUIView `json:"temporal_ui,omitempty"`
}

// temporalUIView tells an admin's task page where a task's workflow is in
// Temporal's Web UI: WorkflowURL followed by the task's id, escaped as a
// path segment (encodeURIComponent).
type temporalUIView struct {
	URL         string `json:"url"`
	Namespace   string `json:"namespace"`
	WorkflowURL string `json:"workflow_url"`
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
	m := meView{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Clock: s.clockPayload(), MustChangePassword: u.MustChangePassword}
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
		m.Permissions = append(m.Permissions, "users", "units", "tasks.cancel", "deliveries")
		if len(u.UnitCode) == duban.LevelProvince.CodeLength() {
			m.Permissions = append(m.Permissions, "plans")
		}
		m.TemporalUI = s.temporalUI()
	}
	if m.UnreadCount, err = s.DB.UnreadCount(ctx, u.ID); err != nil {
		return m, err
	}
	return m, nil
}

// temporalUI is the Web UI's view for an admin, nil when none is configured.
func (s *server) temporalUI() *temporalUIView {
	ui := s.TemporalUI
	if ui.URL == "" {
		return nil
	}
	base := strings.TrimRight(ui.URL, "/")
	prefix := ""
	if s.Engine != nil {
		prefix = s.Engine.WorkflowID("")
	}
	return &temporalUIView{URL: base, Namespace: ui.Namespace,
		WorkflowURL: base + "/namespaces/" + url.PathEscape(ui.Namespace) + "/workflows/" + url.PathEscape(prefix)}
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
