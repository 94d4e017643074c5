package api

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/blob"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/workflows"
)

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
// kind of update, so two people (or two kinds of request) using the same
// key never share a result.
func updateID(userID int64, name, key string) string {
	return fmt.Sprintf("api/%d/%s/%s", userID, name, key)
}

// actionResponse is what every decision returns: the task as it now is,
// read back from the store the API lists from.
type actionResponse struct {
	Task           taskView `json:"task"`
	IdempotencyKey string   `json:"idempotency_key"`
}

// update sends one Update to the instance's workflow and answers with the
// instance's new state. The workflow records the transition before the
// Update completes, so the row read here already shows it.
func (s *server) update(c *fiber.Ctx, in store.Instance, name, key string, userID int64, arg any) error {
	ctx := c.UserContext()
	_, err := s.Engine.Update(ctx, in.ID, name, updateID(userID, name, key), arg)
	s.metrics.decisions.WithLabelValues(name, outcome(err)).Inc()
	if err != nil {
		return err
	}
	row, err := s.DB.Instance(ctx, in.ID)
	if err != nil {
		return err
	}
	c.Set(headerIdempotencyKey, key)
	return c.JSON(actionResponse{Task: s.taskView(row, s.planNow()), IdempotencyKey: key})
}

func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return duban.ErrorCode(err)
}

// progressRequest reports progress: a value (count or covered units), the
// base of a ratio the hierarchy does not know, a note, and evidence files
// uploaded to this task before (by hash) or in the same multipart request.
type progressRequest struct {
	Value    *int     `json:"value"`
	Base     *int     `json:"base"`
	Note     string   `json:"note" text:"multiline"`
	Evidence []string `json:"evidence"`
}

func (r *progressRequest) validate() error {
	var errs []input.FieldError
	if r.Value != nil && (*r.Value < 0 || *r.Value > duban.MaxCount) {
		errs = append(errs, input.FieldError{Field: "value", Message: fmt.Sprintf("进度应为 0 到 %d 的整数", duban.MaxCount)})
	}
	if r.Base != nil && (*r.Base < 1 || *r.Base > duban.MaxCount) {
		errs = append(errs, input.FieldError{Field: "base", Message: fmt.Sprintf("基数应为 1 到 %d 的整数", duban.MaxCount)})
	}
	errs = append(errs, checkNote("note", r.Note, duban.MaxNoteLength)...)
	errs = append(errs, checkHashes(r.Evidence)...)
	if len(errs) > 0 {
		return input.Invalid("进展报告有误", errs...)
	}
	return nil
}

type submitRequest struct {
	Note     string   `json:"note" text:"multiline"`
	Evidence []string `json:"evidence"`
}

func (r *submitRequest) validate() error {
	errs := append(checkNote("note", r.Note, duban.MaxNoteLength), checkHashes(r.Evidence)...)
	if len(errs) > 0 {
		return input.Invalid("提交内容有误", errs...)
	}
	return nil
}

// checkNote checks a multi-line text a person typed (a note, a reason).
func checkNote(field, v string, max int) []input.FieldError {
	if msg := duban.TextProblem(v, max, true); msg != "" {
		return []input.FieldError{{Field: field, Message: msg}}
	}
	return nil
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
	p, in, err := s.actionTarget(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req progressRequest
	var uploaded []duban.Evidence
	if isMultipart(c) {
		uploaded, err = s.readProgressForm(c, p, in, &req)
	} else {
		err = s.decodeJSON(c, &req)
	}
	if err != nil {
		return err
	}
	if req.Value == nil && req.Base == nil && strings.TrimSpace(req.Note) == "" && len(req.Evidence) == 0 && len(uploaded) == 0 {
		return input.Invalid("进展报告不能为空", input.FieldError{Field: "note", Message: "请填写进度、说明或上传佐证材料"})
	}
	ev, err := s.evidenceFor(c, in, req.Evidence, uploaded)
	if err != nil {
		return err
	}
	return s.update(c, in, workflows.UpdateReportProgress, key, p.User.ID,
		workflows.ProgressReport{Actor: p.actor(), Value: req.Value, Base: req.Base, Note: strings.TrimSpace(req.Note), Evidence: ev})
}

func (s *server) submit(c *fiber.Ctx) error {
	p, in, err := s.actionTarget(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req submitRequest
	var uploaded []duban.Evidence
	if isMultipart(c) {
		var pr progressRequest
		uploaded, err = s.readProgressForm(c, p, in, &pr)
		req.Note, req.Evidence = pr.Note, pr.Evidence
	} else if len(c.Body()) > 0 {
		err = s.decodeJSON(c, &req)
	}
	if err != nil {
		return err
	}
	ev, err := s.evidenceFor(c, in, req.Evidence, uploaded)
	if err != nil {
		return err
	}
	return s.update(c, in, workflows.UpdateSubmit, key, p.User.ID,
		workflows.Submission{Actor: p.actor(), Note: strings.TrimSpace(req.Note), Evidence: ev})
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
}

func (r *decisionRequest) validate() error {
	var errs []input.FieldError
	if r.Step == nil {
		errs = append(errs, input.FieldError{Field: "step", Message: "必填：所审批的步骤（从 1 开始）"})
	} else if *r.Step < 1 || *r.Step > 20 {
		errs = append(errs, input.FieldError{Field: "step", Message: "步骤应为 1 到 20 的整数"})
	}
	if r.Approve == nil {
		errs = append(errs, input.FieldError{Field: "approve", Message: "必填：true 通过，false 退回"})
	} else if !*r.Approve && strings.TrimSpace(r.Reason) == "" {
		errs = append(errs, input.FieldError{Field: "reason", Message: "退回时必须填写理由"})
	}
	errs = append(errs, checkNote("reason", r.Reason, duban.MaxReasonLength)...)
	if len(errs) > 0 {
		return input.Invalid("审批内容有误", errs...)
	}
	return nil
}

// decide approves or rejects the step waiting. Two approvers racing on one
// step: the workflow validates the second after the first has changed the
// state, so exactly one wins and the other gets 409.
func (s *server) decide(c *fiber.Ctx) error {
	p, in, err := s.actionTarget(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req decisionRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	return s.update(c, in, workflows.UpdateDecide, key, p.User.ID,
		workflows.DecisionRequest{Actor: p.actor(), Step: *req.Step, Approve: *req.Approve, Reason: strings.TrimSpace(req.Reason)})
}

type extensionRequest struct {
	NewDue *input.Date `json:"new_due"`
	Reason string      `json:"reason" text:"multiline"`
}

func (r *extensionRequest) validate() error {
	var errs []input.FieldError
	if r.NewDue == nil {
		errs = append(errs, input.FieldError{Field: "new_due", Message: "必填：新的截止日期（YYYY-MM-DD）"})
	}
	if strings.TrimSpace(r.Reason) == "" {
		errs = append(errs, input.FieldError{Field: "reason", Message: "申请延期必须填写理由"})
	}
	errs = append(errs, checkNote("reason", r.Reason, duban.MaxReasonLength)...)
	if len(errs) > 0 {
		return input.Invalid("延期申请有误", errs...)
	}
	return nil
}

func (s *server) requestExtension(c *fiber.Ctx) error {
	p, in, err := s.actionTarget(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req extensionRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	return s.update(c, in, workflows.UpdateRequestExtension, key, p.User.ID,
		workflows.ExtensionRequest{Actor: p.actor(), NewDue: req.NewDue.Time, Reason: strings.TrimSpace(req.Reason)})
}

type extensionDecisionRequest struct {
	Approve *bool  `json:"approve"`
	Reason  string `json:"reason" text:"multiline"`
}

func (r *extensionDecisionRequest) validate() error {
	var errs []input.FieldError
	if r.Approve == nil {
		errs = append(errs, input.FieldError{Field: "approve", Message: "必填：true 同意，false 不同意"})
	} else if !*r.Approve && strings.TrimSpace(r.Reason) == "" {
		errs = append(errs, input.FieldError{Field: "reason", Message: "不同意延期时必须填写理由"})
	}
	errs = append(errs, checkNote("reason", r.Reason, duban.MaxReasonLength)...)
	if len(errs) > 0 {
		return input.Invalid("延期审批内容有误", errs...)
	}
	return nil
}

func (s *server) decideExtension(c *fiber.Ctx) error {
	p, in, err := s.actionTarget(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req extensionDecisionRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	return s.update(c, in, workflows.UpdateDecideExtension, key, p.User.ID,
		workflows.ExtensionDecision{Actor: p.actor(), Approve: *req.Approve, Reason: strings.TrimSpace(req.Reason)})
}

type cancelRequest struct {
	Reason string `json:"reason" text:"multiline"`
}

func (r *cancelRequest) validate() error {
	errs := checkNote("reason", r.Reason, duban.MaxReasonLength)
	if strings.TrimSpace(r.Reason) == "" {
		errs = append(errs, input.FieldError{Field: "reason", Message: "撤销必须填写理由"})
	}
	if len(errs) > 0 {
		return input.Invalid("撤销内容有误", errs...)
	}
	return nil
}

// cancel withdraws a task (admins of a unit above or at the task's). The
// audit row is written with the timeline event, by the store.
func (s *server) cancel(c *fiber.Ctx) error {
	p, in, err := s.actionTarget(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req cancelRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	return s.update(c, in, workflows.UpdateCancel, key, p.User.ID,
		workflows.Cancellation{Actor: p.actor(), Reason: strings.TrimSpace(req.Reason)})
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
