package api

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/store"
)

// 讨论: anyone who can see a task can comment on it; mentioning someone who
// can see it tells them in their inbox; an author may delete their own
// comment within commentGrace. Comments live beside the timeline, in
// PostgreSQL alone; every one is audited.

const (
	commentGrace    = 5 * time.Minute
	maxMentions     = 20
	maxCommentRunes = duban.MaxNoteLength
)

type commentRequest struct {
	Body     string  `json:"body" text:"multiline"`
	Mentions []int64 `json:"mentions"`
}

func (r *commentRequest) validate() error {
	var errs []input.FieldError
	if strings.TrimSpace(r.Body) == "" {
		errs = append(errs, input.FieldError{Field: "body", Message: "请填写评论内容"})
	} else if msg := duban.TextProblem(r.Body, maxCommentRunes, true); msg != "" {
		errs = append(errs, input.FieldError{Field: "body", Message: "评论" + msg})
	}
	if len(r.Mentions) > maxMentions {
		errs = append(errs, input.FieldError{Field: "mentions", Message: fmt.Sprintf("一条评论最多提及 %d 人", maxMentions)})
	}
	if len(errs) > 0 {
		return input.Invalid("评论内容有误", errs...)
	}
	return nil
}

func (s *server) listComments(c *fiber.Ctx) error {
	_, in, err := s.actionTarget(c)
	if err != nil {
		return err
	}
	items, err := s.DB.Comments(c.UserContext(), in.ID)
	if err != nil {
		return err
	}
	if items == nil {
		items = []store.Comment{}
	}
	return c.JSON(fiber.Map{"items": items, "delete_within_seconds": int(commentGrace.Seconds())})
}

// addComment posts a comment. Each person mentioned must be able to see
// the task; anyone else is refused (alike whether they exist or not).
func (s *server) addComment(c *fiber.Ctx) error {
	p, in, err := s.actionTarget(c)
	if err != nil {
		return err
	}
	var req commentRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	seen := map[int64]bool{}
	var mentions []int64
	for i, id := range req.Mentions {
		if seen[id] {
			continue
		}
		seen[id] = true
		u, err := s.DB.UserByID(ctx, id)
		if err != nil || u.Disabled || !(&principal{User: u}).canSee(in) {
			return input.Invalid("评论内容有误", input.FieldError{Field: fmt.Sprintf("mentions[%d]", i), Message: "只能提及能查看此任务的人"})
		}
		mentions = append(mentions, id)
	}
	out, err := s.DB.AddComment(ctx, store.NewComment{InstanceID: in.ID, TaskTitle: in.Title, UnitName: in.UnitName, Author: p.actor(),
		Body: strings.TrimSpace(req.Body), Mentions: mentions, At: s.now()})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (s *server) deleteComment(c *fiber.Ctx) error {
	p, in, err := s.actionTarget(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("cid"), 10, 64)
	if err != nil || id <= 0 {
		return notFound("评论")
	}
	if err := s.DB.DeleteComment(c.UserContext(), in.ID, id, p.actor(), s.now(), commentGrace); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// personView is someone a task's page can name: to hand a step to, to
// name 承办人, to mention.
type personView struct {
	ID    int64          `json:"id"`
	Name  string         `json:"name"`
	Unit  unitRef        `json:"unit"`
	Roles []duban.Role   `json:"roles"`
	For   []duban.Action `json:"for,omitempty"`
}

// taskPeople lists who the caller can name on a task: the colleagues a
// step can be handed to, the officials who can be named 承办人, and
// everyone who can see the task to mention (its unit's and the chain's
// people, and the supervisors above).
func (s *server) taskPeople(c *fiber.Ctx) error {
	p, in, err := s.actionTarget(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	units := map[string]bool{in.UnitCode: true}
	for code := duban.ParentCode(in.UnitCode); code != ""; code = duban.ParentCode(code) {
		units[code] = true
	}
	for _, st := range in.ApprovalChain() {
		for _, sg := range st.SignerList() {
			units[sg.Unit] = true
		}
	}
	var out []personView
	for code := range units {
		users, err := s.DB.Users(ctx, store.UserFilter{UnitPrefix: code, Unit: code, Limit: 200})
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.Disabled || !(&principal{User: u}).canSee(in) {
				continue
			}
			v := personView{ID: u.ID, Name: u.DisplayName, Unit: unitRef{Code: u.UnitCode, Name: s.unitName(ctx, u.UnitCode)}, Roles: u.Roles}
			if u.UnitCode == p.unit() && u.ID != p.User.ID && hasRole(u.Roles, duban.RoleApprover) {
				v.For = append(v.For, duban.ActionHandOver)
			}
			if u.UnitCode == in.UnitCode && hasRole(u.Roles, duban.RoleOfficial) {
				v.For = append(v.For, duban.ActionNameAssignee)
			}
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Unit.Code != out[j].Unit.Code {
			return len(out[i].Unit.Code) > len(out[j].Unit.Code) // the task's unit first, then up
		}
		return out[i].ID < out[j].ID
	})
	if out == nil {
		out = []personView{}
	}
	return c.JSON(fiber.Map{"items": out})
}
