package api

import (
	"context"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/blob"
	"github.com/duban-dev/duban/store"
)

// Task actions. Each request is decoded strictly, checked at once against
// the lifecycle table's request rules (every field at fault named), then
// sent to the task's workflow, whose validator asks the same table about
// the task as it is; one road, act, serves them all and the bulk approval.

const headerIdempotencyKey = "Idempotency-Key"

// idempotencyKey reads the client's key (printable ASCII, up to 100
// characters) or makes one. The key is echoed on the response.
func idempotencyKey(c *fiber.Ctx) (string, error) {
	k := c.Get(headerIdempotencyKey)
	if k == "" {
		return randomID(16), nil
	}
	if len(k) > 100 {
		return "", input.Invalid("Idempotency-Key 无效", input.FieldError{Field: headerIdempotencyKey, Message: "最长 100 个字符"})
	}
	for _, r := range k {
		if r < 0x21 || r > 0x7e {
			return "", input.Invalid("Idempotency-Key 无效", input.FieldError{Field: headerIdempotencyKey, Message: "只能包含可见 ASCII 字符"})
		}
	}
	return strings.Clone(k), nil
}

// updateID is the Temporal Update ID for a client's key: per user and per
// action, so two people (or two kinds of request) using the same key never
// share a result.
func updateID(userID int64, action duban.Action, key string) string {
	return fmt.Sprintf("api/%d/%s/%s", userID, action, key)
}

// actionResponse is what every action returns: the task as it now is,
// read back from the store the API lists from.
type actionResponse struct {
	Task           taskView `json:"task"`
	IdempotencyKey string   `json:"idempotency_key"`
}

// act answers one action request: the caller must see the task (404
// otherwise), read decodes and checks the request, then the action goes to
// the workflow and the task comes back as it now is.
func (s *server) act(c *fiber.Ctx, action duban.Action, read func(p *principal, in store.Instance) (duban.Input, error)) error {
	p, in, err := s.actionTarget(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	req, err := read(p, in)
	if err != nil {
		return err
	}
	actor, err := s.actorFor(c.UserContext(), p, in)
	if err != nil {
		return err
	}
	view, err := s.actOn(c.UserContext(), p, actor, in.ID, action, key, req)
	if err != nil {
		return err
	}
	c.Set(headerIdempotencyKey, key)
	return c.JSON(actionResponse{Task: view, IdempotencyKey: key})
}

// actOn sends one action for p to a task's workflow and reads the task
// back. The workflow records the transition before the Update completes,
// so the row read here already shows it.
func (s *server) actOn(ctx context.Context, p *principal, actor duban.Actor, id string, action duban.Action, key string, req duban.Input) (taskView, error) {
	err := s.Engine.Act(ctx, id, updateID(p.User.ID, action, key), action, actor, req)
	s.metrics.decisions.WithLabelValues(string(action), outcome(err)).Inc()
	if err != nil {
		return taskView{}, err
	}
	row, err := s.DB.Instance(ctx, id)
	if err != nil {
		return taskView{}, err
	}
	return s.taskView(row, s.planNow()), nil
}

func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return duban.ErrorCode(err)
}

// checkAction runs the lifecycle table's request rules on what a request
// asks, plus the problems its shape already showed (a field missing, a
// malformed hash), as one 422. A field the shape already faults is not
// judged again.
func checkAction(action duban.Action, req duban.Input, shape ...input.FieldError) error {
	errs := shape
	faulted := map[string]bool{}
	for _, e := range shape {
		faulted[e.Field] = true
	}
	for _, e := range duban.CheckRequest(action, req) {
		if !faulted[e.Field] {
			errs = append(errs, input.FieldError{Field: e.Field, Message: e.Message})
		}
	}
	if len(errs) > 0 {
		return input.Invalid(action.Label()+"内容有误", errs...)
	}
	return nil
}

// decodeAction reads a JSON action request that checks itself.
func decodeAction[R interface {
	*T
	validator
	input() duban.Input
}, T any](s *server, c *fiber.Ctx) (duban.Input, error) {
	var req T
	if err := s.decodeJSON(c, R(&req)); err != nil {
		return duban.Input{}, err
	}
	return R(&req).input(), nil
}

// progressRequest reports progress: a value (count or covered units), the
// base of a ratio the hierarchy does not know, a note, and evidence files
// uploaded to this task before (by hash) or in the same multipart request.
type progressRequest struct {
	Value    *int     `json:"value"`
	Base     *int     `json:"base"`
	Note     string   `json:"note" text:"multiline"`
	Evidence []string `json:"evidence"`
	files    int      // files uploaded with a multipart request
}

func (r *progressRequest) input() duban.Input {
	// Before the files are resolved, the request rules only count them.
	return duban.Input{Value: r.Value, Base: r.Base, Note: strings.TrimSpace(r.Note), Evidence: make([]duban.Evidence, len(r.Evidence)+r.files)}
}

func (r *progressRequest) validate() error {
	return checkAction(duban.ActionReportProgress, r.input(), checkHashes(r.Evidence)...)
}

type submitRequest struct {
	Note     string   `json:"note" text:"multiline"`
	Evidence []string `json:"evidence"`
}

func (r *submitRequest) input() duban.Input {
	return duban.Input{Note: strings.TrimSpace(r.Note), Evidence: make([]duban.Evidence, len(r.Evidence))}
}

func (r *submitRequest) validate() error {
	return checkAction(duban.ActionSubmit, r.input(), checkHashes(r.Evidence)...)
}

func checkHashes(hs []string) []input.FieldError {
	if len(hs) > 20 {
		return []input.FieldError{{Field: "evidence", Message: "一次最多引用 20 个佐证材料"}}
	}
	var errs []input.FieldError
	for i, h := range hs {
		if !blob.ValidHash(h) {
			errs = append(errs, input.FieldError{Field: fmt.Sprintf("evidence[%d]", i), Message: "应为文件的 SHA-256（64 位小写十六进制）"})
		}
	}
	return errs
}

// reportProgress accepts JSON, or multipart/form-data with the same fields
// and files under "file".
func (s *server) reportProgress(c *fiber.Ctx) error {
	return s.act(c, duban.ActionReportProgress, func(p *principal, in store.Instance) (duban.Input, error) {
		var req progressRequest
		var uploaded []duban.Evidence
		var err error
		if isMultipart(c) {
			uploaded, err = s.readProgressForm(c, p, in, &req, req.validate)
		} else {
			err = s.decodeJSON(c, &req)
		}
		if err != nil {
			return duban.Input{}, err
		}
		out := req.input()
		out.Evidence, err = s.evidenceFor(c, in, req.Evidence, uploaded)
		return out, err
	})
}

func (s *server) submit(c *fiber.Ctx) error {
	return s.act(c, duban.ActionSubmit, func(p *principal, in store.Instance) (duban.Input, error) {
		var req submitRequest
		var uploaded []duban.Evidence
		var err error
		if isMultipart(c) {
			var pr progressRequest
			uploaded, err = s.readProgressForm(c, p, in, &pr, func() error {
				req.Note, req.Evidence = pr.Note, pr.Evidence
				return req.validate()
			})
		} else if len(c.Body()) > 0 {
			err = s.decodeJSON(c, &req)
		}
		if err != nil {
			return duban.Input{}, err
		}
		out := req.input()
		out.Evidence, err = s.evidenceFor(c, in, req.Evidence, uploaded)
		return out, err
	})
}

// evidenceFor resolves hashes to files uploaded to this task and appends
// the ones uploaded with the request.
func (s *server) evidenceFor(c *fiber.Ctx, in store.Instance, hashes []string, uploaded []duban.Evidence) ([]duban.Evidence, error) {
	var out []duban.Evidence
	if len(hashes) > 0 {
		found, err := s.DB.EvidenceOf(c.UserContext(), in.ID, hashes)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return append(out, uploaded...), nil
}

type decisionRequest struct {
	Step    *int   `json:"step"`
	Approve *bool  `json:"approve"`
	Reason  string `json:"reason" text:"multiline"`
	// ReturnTo, on a return, is the earlier step to send the task back to
	// (退回到指定步骤); absent or 0, back to the unit.
	ReturnTo int `json:"return_to"`
}

func (r *decisionRequest) input() duban.Input {
	in := duban.Input{Reason: strings.TrimSpace(r.Reason), ReturnTo: r.ReturnTo}
	if r.Step != nil {
		in.Step = *r.Step
	}
	if r.Approve != nil {
		in.Approve = *r.Approve
	}
	return in
}

func (r *decisionRequest) validate() error {
	var shape []input.FieldError
	if r.Step == nil {
		shape = append(shape, input.FieldError{Field: "step", Message: "必填：所审批的步骤（从 1 开始）"})
	}
	if r.Approve == nil {
		// Without it, the reason cannot be judged either.
		shape = append(shape, input.FieldError{Field: "approve", Message: "必填：true 通过，false 退回"})
		return input.Invalid(duban.ActionDecide.Label()+"内容有误", shape...)
	}
	return checkAction(duban.ActionDecide, r.input(), shape...)
}

// decide approves or returns the step waiting. Two approvers racing on one
// step: the workflow validates the second after the first has changed the
// state, so exactly one wins and the other gets 409.
func (s *server) decide(c *fiber.Ctx) error {
	return s.act(c, duban.ActionDecide, func(*principal, store.Instance) (duban.Input, error) {
		return decodeAction[*decisionRequest](s, c)
	})
}

type extensionRequest struct {
	NewDue *input.Date `json:"new_due"`
	Reason string      `json:"reason" text:"multiline"`
}

func (r *extensionRequest) input() duban.Input {
	in := duban.Input{Reason: strings.TrimSpace(r.Reason)}
	if r.NewDue != nil {
		in.NewDue = r.NewDue.Time
	}
	return in
}

func (r *extensionRequest) validate() error {
	var shape []input.FieldError
	if r.NewDue == nil {
		shape = append(shape, input.FieldError{Field: "new_due", Message: "必填：新的截止日期（YYYY-MM-DD）"})
	}
	return checkAction(duban.ActionRequestExtension, r.input(), shape...)
}

func (s *server) requestExtension(c *fiber.Ctx) error {
	return s.act(c, duban.ActionRequestExtension, func(*principal, store.Instance) (duban.Input, error) {
		return decodeAction[*extensionRequest](s, c)
	})
}

type extensionDecisionRequest struct {
	Approve *bool  `json:"approve"`
	Reason  string `json:"reason" text:"multiline"`
}

func (r *extensionDecisionRequest) input() duban.Input {
	in := duban.Input{Reason: strings.TrimSpace(r.Reason)}
	if r.Approve != nil {
		in.Approve = *r.Approve
	}
	return in
}

func (r *extensionDecisionRequest) validate() error {
	if r.Approve == nil {
		return input.Invalid(duban.ActionDecideExtension.Label()+"内容有误", input.FieldError{Field: "approve", Message: "必填：true 同意，false 不同意"})
	}
	return checkAction(duban.ActionDecideExtension, r.input())
}

func (s *server) decideExtension(c *fiber.Ctx) error {
	return s.act(c, duban.ActionDecideExtension, func(*principal, store.Instance) (duban.Input, error) {
		return decodeAction[*extensionDecisionRequest](s, c)
	})
}

type cancelRequest struct {
	Reason string `json:"reason" text:"multiline"`
}

func (r *cancelRequest) input() duban.Input { return duban.Input{Reason: strings.TrimSpace(r.Reason)} }

func (r *cancelRequest) validate() error { return checkAction(duban.ActionCancel, r.input()) }

// cancel withdraws a task (admins of a unit above or at the task's). The
// audit row is written with the timeline event, by the store.
func (s *server) cancel(c *fiber.Ctx) error {
	return s.act(c, duban.ActionCancel, func(*principal, store.Instance) (duban.Input, error) {
		return decodeAction[*cancelRequest](s, c)
	})
}

type urgeRequest struct {
	Note          string `json:"note" text:"multiline"`
	WithApprovers bool   `json:"with_approvers"`
}

func (r *urgeRequest) input() duban.Input {
	return duban.Input{Note: strings.TrimSpace(r.Note), WithApprovers: r.WithApprovers}
}

func (r *urgeRequest) validate() error { return checkAction(duban.ActionUrge, r.input()) }

// urge presses the unit to act (催办): its officials (and, if asked, its
// approvers) hear it as urgent on every channel they use.
func (s *server) urge(c *fiber.Ctx) error {
	return s.act(c, duban.ActionUrge, func(*principal, store.Instance) (duban.Input, error) {
		if len(c.Body()) == 0 {
			return duban.Input{}, nil // a note is optional
		}
		return decodeAction[*urgeRequest](s, c)
	})
}

type withdrawRequest struct {
	Reason string `json:"reason" text:"multiline"`
}

func (r *withdrawRequest) input() duban.Input {
	return duban.Input{Reason: strings.TrimSpace(r.Reason)}
}

func (r *withdrawRequest) validate() error { return checkAction(duban.ActionWithdraw, r.input()) }

// withdraw takes a submission back while its step is undecided (撤回).
func (s *server) withdraw(c *fiber.Ctx) error {
	return s.act(c, duban.ActionWithdraw, func(*principal, store.Instance) (duban.Input, error) {
		if len(c.Body()) == 0 {
			return duban.Input{}, nil
		}
		return decodeAction[*withdrawRequest](s, c)
	})
}

type handOverRequest struct {
	Step     *int   `json:"step"`
	ToUserID int64  `json:"to_user_id"`
	ToParent bool   `json:"to_parent"`
	Reason   string `json:"reason" text:"multiline"`
}

func (r *handOverRequest) validate() error {
	var shape []input.FieldError
	if r.Step == nil {
		shape = append(shape, input.FieldError{Field: "step", Message: "必填：转交的步骤（从 1 开始）"})
	}
	if (r.ToUserID != 0) == r.ToParent {
		shape = append(shape, input.FieldError{Field: "to_user_id", Message: "请选择转交给本单位的另一位审核人，或转交上一级单位"})
	}
	if len(shape) > 0 {
		return input.Invalid(duban.ActionHandOver.Label()+"内容有误", shape...)
	}
	in := duban.Input{Step: *r.Step, Reason: strings.TrimSpace(r.Reason), ToUnit: &duban.Signer{}}
	return checkAction(duban.ActionHandOver, in)
}

// handOver hands the step waiting to a colleague approver, or to the unit
// above (转交).
func (s *server) handOver(c *fiber.Ctx) error {
	return s.act(c, duban.ActionHandOver, func(p *principal, in store.Instance) (duban.Input, error) {
		var req handOverRequest
		if err := s.decodeJSON(c, &req); err != nil {
			return duban.Input{}, err
		}
		out := duban.Input{Step: *req.Step, Reason: strings.TrimSpace(req.Reason)}
		ctx := c.UserContext()
		if req.ToParent {
			parent := duban.ParentCode(p.unit())
			if parent == "" {
				return out, input.Invalid("转交内容有误", input.FieldError{Field: "to_parent", Message: "没有上一级单位"})
			}
			out.ToUnit = &duban.Signer{Unit: parent, UnitName: s.unitName(ctx, parent)}
			return out, nil
		}
		to, err := s.colleague(ctx, p.unit(), req.ToUserID, duban.RoleApprover)
		if err != nil {
			return out, input.Invalid("转交内容有误", input.FieldError{Field: "to_user_id", Message: "只能转交给本单位的另一位审核人"})
		}
		out.To = &to
		return out, nil
	})
}

type signerRequest struct {
	Step     *int   `json:"step"`
	UnitCode string `json:"unit_code"`
	Before   bool   `json:"before"`
	Reason   string `json:"reason" text:"multiline"`
}

func (r *signerRequest) validate() error {
	if r.Step == nil {
		return input.Invalid(duban.ActionAddSigner.Label()+"内容有误", input.FieldError{Field: "step", Message: "必填：加签所在的步骤（从 1 开始）"})
	}
	var unit *duban.Signer
	if r.UnitCode != "" {
		unit = &duban.Signer{Unit: r.UnitCode}
	}
	return checkAction(duban.ActionAddSigner, duban.Input{Step: *r.Step, ToUnit: unit, Before: r.Before, Reason: strings.TrimSpace(r.Reason)})
}

// addSigner inserts a step for a peer unit or the unit above, before or
// after the approver's own (加签).
func (s *server) addSigner(c *fiber.Ctx) error {
	return s.act(c, duban.ActionAddSigner, func(p *principal, in store.Instance) (duban.Input, error) {
		var req signerRequest
		if err := s.decodeJSON(c, &req); err != nil {
			return duban.Input{}, err
		}
		h, err := s.units.get(c.UserContext())
		if err != nil {
			return duban.Input{}, err
		}
		u, ok := h.Get(req.UnitCode)
		if !ok {
			return duban.Input{}, input.Invalid("加签内容有误", input.FieldError{Field: "unit_code", Message: "单位不存在"})
		}
		return duban.Input{Step: *req.Step, ToUnit: &duban.Signer{Unit: u.Code, UnitName: u.Name}, Before: req.Before, Reason: strings.TrimSpace(req.Reason)}, nil
	})
}

type assigneeRequest struct {
	UserID *int64 `json:"user_id"`
}

// nameAssignee names a colleague the task's 承办人 (user_id null clears):
// reminders reach them first, lists show them.
func (s *server) nameAssignee(c *fiber.Ctx) error {
	return s.act(c, duban.ActionNameAssignee, func(p *principal, in store.Instance) (duban.Input, error) {
		var req assigneeRequest
		if err := s.decodeJSON(c, &req); err != nil {
			return duban.Input{}, err
		}
		if req.UserID == nil {
			return duban.Input{}, nil
		}
		to, err := s.colleague(c.UserContext(), in.UnitCode, *req.UserID, duban.RoleOfficial)
		if err != nil {
			return duban.Input{}, input.Invalid("指定承办人内容有误", input.FieldError{Field: "user_id", Message: "承办人应为" + in.UnitName + "的承办人"})
		}
		return duban.Input{To: &to}, nil
	})
}

// colleague is an active user of a unit holding a role, as an actor; any
// other id (another unit's, a disabled account, none) is the same error.
func (s *server) colleague(ctx context.Context, unit string, id int64, role duban.Role) (duban.Actor, error) {
	u, err := s.DB.UserByID(ctx, id)
	if err != nil || u.Disabled || u.UnitCode != unit || !hasRole(u.Roles, role) {
		return duban.Actor{}, notFound("用户")
	}
	return u.Actor(), nil
}

// actionTarget is the caller and the instance they act on, 404 when out of
// scope.
func (s *server) actionTarget(c *fiber.Ctx) (*principal, store.Instance, error) {
	p, err := caller(c)
	if err != nil {
		return nil, store.Instance{}, err
	}
	in, err := s.visibleInstance(c, p)
	return p, in, err
}
