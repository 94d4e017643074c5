package api

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/store"
)

type auditView struct {
	store.AuditEntry
	ActionLabel string `json:"action_label"`
}

var auditLabels = map[string]string{
	"plan.import": "导入计划", "plan.launch": "下达计划", "user.create": "新增用户", "user.update": "修改用户", "user.password": "修改密码",
	"unit.create": "新增单位", "unit.rename": "单位更名",
	"user.reset_password": "重置密码", "user.unlock": "解锁账号", "user.import": "导入账号",
	"comment.add": "发表评论", "comment.delete": "删除评论", "delegation.create": "委托审批", "delegation.revoke": "撤销委托",
	"user.settings": "修改通知设置", "delivery.retry": "重试投递",
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
	p, unit, err := s.scopeUnit(c)
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
