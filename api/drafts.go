package api

// 起草计划: drafting next year's plan from its notice, for the admins of
// the root unit. The draft is stateless: POST /drafts reads the notice and
// answers the whole draft; the reviewer's decisions come back with whole
// templates to POST /drafts/plan (validate, or download the file) and POST
// /drafts/import. Nothing is stored before the import, so API replicas stay
// stateless, no abandoned draft needs cleaning up, and no migration is
// needed; drafting is deterministic and takes tens of milliseconds, so a
// page that lost its draft simply drafts again.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/draft"
	"github.com/duban-dev/duban/plan"
)

// maxNoticeBytes bounds an uploaded notice: a yearly notice is a few pages;
// a .docx with a letterhead image stays well under it.
const maxNoticeBytes = 8 << 20

// draftTemplate is a proposal as the review page edits it: the fields of a
// plan template, flat, with the reviewer's decision. The draft answers its
// proposals in this shape, and the review sends them back in it.
type draftTemplate struct {
	ID       string         `json:"id"`
	Section  string         `json:"section"`
	Decision draft.Decision `json:"decision"`
	Title    string         `json:"title"`
	Quote    string         `json:"quote"`
	Levels   []duban.Level  `json:"levels"`
	Units    []string       `json:"units"`
	Kind     duban.Kind     `json:"kind"`
	// Due is the deadline day (YYYY-MM-DD); Every the period of a
	// recurring obligation (month, quarter, half).
	Due              string        `json:"due,omitempty"`
	Every            plan.Period   `json:"every,omitempty"`
	Basis            plan.DueBasis `json:"basis"`
	DueNote          string        `json:"due_note,omitempty"`
	Target           int           `json:"target,omitempty"`
	Ratio            *plan.Ratio   `json:"ratio,omitempty"`
	EvidenceRequired bool          `json:"evidence_required"`
	EvidenceNote     string        `json:"evidence_note,omitempty"`
	// Notes are kept as comments above the template in the plan file: the
	// drafter's reasons and assumptions.
	Notes []string `json:"notes,omitempty"`
}

func templateView(p *draft.Proposal) draftTemplate {
	t := p.Template
	v := draftTemplate{ID: t.ID, Section: p.Section, Decision: draft.Accept, Title: t.Title, Quote: t.Quote,
		Levels: t.Responsible.Levels, Units: t.Responsible.Units, Kind: t.Kind, Due: t.Due.Date.String(), Every: t.Due.Every,
		Basis: t.Due.Basis, DueNote: t.Due.Note, Target: t.Target, Ratio: t.Ratio,
		EvidenceRequired: t.Evidence.Required, EvidenceNote: t.Evidence.Note}
	w := p.Why
	for _, n := range []struct{ label, text string }{{"依据", w.Obligation}, {"责任", w.Responsible}, {"类型", w.Kind}, {"期限", w.Due}, {"目标", w.Target}, {"佐证", w.Evidence}} {
		if n.text != "" {
			v.Notes = append(v.Notes, n.label+"："+n.text)
		}
	}
	for _, a := range p.Assumptions {
		v.Notes = append(v.Notes, "假设："+a)
	}
	return v
}

// template is the plan template the reviewed fields make; the date was
// checked by validate.
func (t draftTemplate) template() plan.Template {
	out := plan.Template{ID: t.ID, Title: t.Title, Quote: t.Quote, Responsible: plan.Responsible{Levels: t.Levels, Units: t.Units},
		Kind: t.Kind, Due: plan.Due{Every: t.Every, Basis: t.Basis, Note: t.DueNote}, Target: t.Target, Ratio: t.Ratio,
		Evidence: plan.Evidence{Required: t.EvidenceRequired, Note: t.EvidenceNote}}
	if t.Due != "" {
		out.Due.Date, _ = plan.ParseDate(t.Due)
	}
	return out
}

type proposalView struct {
	draftTemplate
	KindLabel string `json:"kind_label"`
	// Sentence is the index of the sentence the clause belongs to; Start and
	// End the clause's character offsets in the notice's text.
	Sentence    int       `json:"sentence"`
	Start       int       `json:"start"`
	End         int       `json:"end"`
	Why         draft.Why `json:"why"`
	Assumptions []string  `json:"assumptions"`
}

type clauseView struct {
	Text         string        `json:"text"`
	Start        int           `json:"start"`
	End          int           `json:"end"`
	Verdict      draft.Verdict `json:"verdict"`
	VerdictLabel string        `json:"verdict_label"`
	Reason       string        `json:"reason"`
	Proposal     string        `json:"proposal,omitempty"` // the proposal's id
}

type sentenceView struct {
	Index        int           `json:"index"`
	Text         string        `json:"text"`
	Start        int           `json:"start"`
	End          int           `json:"end"`
	Paragraph    int           `json:"paragraph"`
	Section      string        `json:"section"`
	Heading      string        `json:"heading"`
	Verdict      draft.Verdict `json:"verdict"`
	VerdictLabel string        `json:"verdict_label"`
	Reason       string        `json:"reason"`
	Clauses      []clauseView  `json:"clauses"`
}

type draftCounts struct {
	Sentences   int `json:"sentences"`
	Obligations int `json:"obligations"`
	None        int `json:"none"`
	Unreadable  int `json:"unreadable"`
	Proposals   int `json:"proposals"`
}

type draftView struct {
	Notice         string          `json:"notice"`
	Title          string          `json:"title"`
	Source         string          `json:"source"`
	Year           int             `json:"year"`
	PlanID         string          `json:"plan_id"`
	Base           string          `json:"base"`
	Issuer         unitRef         `json:"issuer"`
	Addressee      duban.Level     `json:"addressee"`
	AddresseeLabel string          `json:"addressee_label"`
	Context        []string        `json:"context"`
	Text           string          `json:"text"`
	Sections       []draft.Section `json:"sections"`
	Sentences      []sentenceView  `json:"sentences"`
	Proposals      []proposalView  `json:"proposals"`
	// Unreadable are the sentences the drafter could not read.
	Unreadable []sentenceView `json:"unreadable"`
	Counts     draftCounts    `json:"counts"`
}

func newDraftView(d *draft.Draft, base string) draftView {
	v := draftView{Notice: d.Notice, Title: d.Title, Source: d.Source, Year: d.Year, PlanID: d.PlanID, Base: base,
		Issuer:    unitRef{Code: d.Issuer.Code, Name: d.Issuer.Name, Level: d.Issuer.Level, LevelLabel: d.Issuer.Level.Label()},
		Addressee: d.Addressee, AddresseeLabel: d.Addressee.Label(), Context: d.Context, Text: d.Text, Sections: d.Sections,
		Sentences: []sentenceView{}, Proposals: []proposalView{}, Unreadable: []sentenceView{}}
	if v.Context == nil {
		v.Context = []string{}
	}
	for _, s := range d.Sentences {
		sv := sentenceView{Index: s.Index, Text: s.Text, Start: s.Start, End: s.End, Paragraph: s.Paragraph, Section: s.Section,
			Heading: s.Heading, Verdict: s.Verdict, VerdictLabel: s.Verdict.Label(), Reason: s.Reason, Clauses: []clauseView{}}
		for _, c := range s.Clauses {
			cv := clauseView{Text: c.Text, Start: c.Start, End: c.End, Verdict: c.Verdict, VerdictLabel: c.Verdict.Label(), Reason: c.Reason}
			if p := c.Proposal; p != nil {
				cv.Proposal = p.Template.ID
				pv := proposalView{draftTemplate: templateView(p), KindLabel: p.Template.Kind.Label(), Sentence: s.Index,
					Start: c.Start, End: c.End, Why: p.Why, Assumptions: p.Assumptions}
				if pv.Assumptions == nil {
					pv.Assumptions = []string{}
				}
				v.Proposals = append(v.Proposals, pv)
			}
			sv.Clauses = append(sv.Clauses, cv)
		}
		v.Sentences = append(v.Sentences, sv)
		if s.Verdict == draft.Unreadable {
			v.Unreadable = append(v.Unreadable, sv)
		}
	}
	v.Counts.Sentences = len(d.Sentences)
	v.Counts.Obligations, v.Counts.None, v.Counts.Unreadable, v.Counts.Proposals = d.Counts()
	return v
}

// noticeUpload reads the notice: a multipart "file" (.docx, .txt, .md) or
// the raw body as plain text or Markdown.
func (s *server) noticeUpload(c *fiber.Ctx) (string, []byte, error) {
	tooLarge := apiError(codeTooLarge, "通知文件不能超过 %d MB", maxNoticeBytes>>20)
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	switch mt {
	case fiber.MIMEMultipartForm:
		fh, err := c.FormFile("file")
		if err != nil {
			return "", nil, input.Invalid("请上传通知文件", input.FieldError{Field: "file", Message: "请选择通知文件（.docx、.txt 或 .md）"})
		}
		if fh.Size > maxNoticeBytes {
			return "", nil, tooLarge
		}
		f, err := fh.Open()
		if err != nil {
			return "", nil, err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxNoticeBytes+1))
		if len(b) > maxNoticeBytes {
			return "", nil, tooLarge
		}
		return cleanFileName(fh.Filename), b, err
	case fiber.MIMETextPlain, "text/markdown":
		if len(c.Body()) > maxNoticeBytes {
			return "", nil, tooLarge
		}
		name := "通知.txt"
		if mt == "text/markdown" {
			name = "通知.md"
		}
		return cleanFileName(c.Query("filename", name)), append([]byte(nil), c.Body()...), nil
	}
	return "", nil, apiError(codeMediaType, "请以 text/plain（粘贴的正文）或 multipart/form-data（字段 file：.docx、.txt、.md）提交通知")
}

// basePlan is the plan whose defaults, approval chains and escalation
// ladders a draft reuses: the one named, or the newest stored plan, or
// (none stored) the drafter's own default.
func (s *server) basePlan(ctx context.Context, id, field string) (*plan.Plan, error) {
	if id == "" {
		plans, err := s.DB.Plans(ctx)
		if err != nil || len(plans) == 0 {
			return nil, err
		}
		id = plans[0].ID // newest year first
	}
	p, err := s.DB.Plan(ctx, id)
	if duban.ErrorCode(err) == duban.ENOTFOUND {
		return nil, input.Invalid("基础计划不存在", input.FieldError{Field: field, Message: fmt.Sprintf("没有编号为 %q 的计划", truncateRunes(id, 40))})
	}
	return p, err
}

// createDraft reads a notice and answers the draft: every sentence with its
// verdict and reason, the proposals with their fields, reasons and
// assumptions, and the sentences it could not read.
func (s *server) createDraft(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	if err := s.requireRootAdmin(c, p); err != nil {
		return err
	}
	var opts draft.Options
	if y, ok, err := input.IntParam(c, "year", 2000, 2100); err != nil {
		return err
	} else if ok {
		opts.Year = y
	}
	if id := c.Query("plan"); id != "" {
		if !planIDRE.MatchString(id) {
			return input.Invalid("参数有误", input.FieldError{Field: "plan", Message: "计划编号只能用小写字母、数字和连字符，最多 64 个字符"})
		}
		opts.PlanID = id
	}
	name, data, err := s.noticeUpload(c)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return input.Invalid("通知为空", input.FieldError{Field: "file", Message: "通知内容为空：请粘贴正文或上传文件"})
	}
	ctx := c.UserContext()
	if opts.Hierarchy, err = s.units.get(ctx); err != nil {
		return err
	}
	if opts.Base, err = s.basePlan(ctx, c.Query("base"), "base"); err != nil {
		return err
	}
	d, err := draft.FromFile(name, data, opts)
	if err != nil {
		// Everything the drafter refuses is about the file: its format, its
		// encoding, its size, no Chinese text in it.
		return input.Invalid("无法读取通知", input.FieldError{Field: "file", Message: err.Error()})
	}
	base := ""
	if opts.Base != nil {
		base = opts.Base.ID
	}
	return c.JSON(newDraftView(d, base))
}

// planIDRE is the shape of a plan id (the plan validator says the same).
var planIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// reviewRequest is a reviewed draft.
type reviewRequest struct {
	PlanID     string          `json:"plan_id"`
	Year       int             `json:"year"`
	Title      string          `json:"title"`
	Source     string          `json:"source"`
	Notice     string          `json:"notice"`
	Base       string          `json:"base"`
	Sections   []draft.Section `json:"sections"`
	Proposals  []draftTemplate `json:"proposals"`
	Unreadable []string        `json:"unreadable"`
}

// Limits of a review, far above a real notice's.
const (
	maxReviewSections  = 100
	maxReviewProposals = 1000
	maxReviewNotes     = 30
	maxReviewUnread    = 1000
)

func (r *reviewRequest) validate() error {
	var errs []input.FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, input.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	text := func(field, v string, max int, required bool) {
		switch {
		case required && strings.TrimSpace(v) == "":
			add(field, "不能为空")
		default:
			if msg := duban.TextProblem(v, max, false); msg != "" {
				add(field, "%s", msg)
			}
		}
	}
	text("plan_id", r.PlanID, 64, true)
	if r.Year < 2000 || r.Year > 2100 {
		add("year", "年度应在 2000 到 2100 之间")
	}
	text("title", r.Title, 200, true)
	text("source", r.Source, 500, true)
	text("notice", r.Notice, duban.MaxNameLength, false)
	text("base", r.Base, 64, false)
	switch {
	case len(r.Sections) == 0:
		add("sections", "缺少章节")
	case len(r.Sections) > maxReviewSections:
		add("sections", "章节过多（最多 %d 个）", maxReviewSections)
	}
	for i, sec := range r.Sections {
		text(fmt.Sprintf("sections[%d].id", i), sec.ID, 10, true)
		text(fmt.Sprintf("sections[%d].title", i), sec.Title, 200, false)
	}
	kept := 0
	switch {
	case len(r.Proposals) > maxReviewProposals:
		add("proposals", "任务过多（最多 %d 个）", maxReviewProposals)
		r.Proposals = nil
	}
	for i, t := range r.Proposals {
		f := func(name string) string { return fmt.Sprintf("proposals[%d].%s", i, name) }
		if !t.Decision.Valid() {
			add(f("decision"), "应为 accept（采纳）、edit（修改后采纳）或 drop（删除）")
			continue
		}
		if t.Decision == draft.Drop {
			continue
		}
		kept++
		text(f("id"), t.ID, 20, false)
		text(f("section"), t.Section, 10, false)
		text(f("title"), t.Title, 200, false)
		text(f("quote"), t.Quote, 2000, false)
		text(f("due_note"), t.DueNote, 500, false)
		text(f("evidence_note"), t.EvidenceNote, 500, false)
		if len(t.Levels) > len(duban.Levels) {
			add(f("levels"), "层级过多")
		}
		if len(t.Units) > 500 {
			add(f("units"), "单位过多（最多 500 个）")
		}
		for k, u := range t.Units {
			text(fmt.Sprintf("proposals[%d].units[%d]", i, k), u, 12, true)
		}
		if t.Due != "" {
			d, err := plan.ParseDate(t.Due)
			switch {
			case err != nil:
				add(f("due"), "日期格式应为 YYYY-MM-DD，且须为真实存在的日期")
			case !duban.DateInRange(d.EndOfDay()):
				add(f("due"), "%s", duban.DateRangeProblem())
			}
		}
		if t.Target < 0 || t.Target > duban.MaxCount {
			add(f("target"), "目标数应在 0 到 %d 之间", duban.MaxCount)
		}
		if t.Ratio != nil && (t.Ratio.Num < 0 || t.Ratio.Num > 10000 || t.Ratio.Den < 0 || t.Ratio.Den > 10000) {
			add(f("ratio"), "比例的分子、分母应在 1 到 10000 之间")
		}
		if len(t.Notes) > maxReviewNotes {
			add(f("notes"), "说明过多（最多 %d 条）", maxReviewNotes)
		}
		for k, n := range t.Notes {
			text(fmt.Sprintf("proposals[%d].notes[%d]", i, k), n, 500, false)
		}
	}
	if kept == 0 && len(r.Proposals) > 0 {
		add("proposals", "所有任务都已删除：请至少保留一个任务")
	} else if len(r.Proposals) == 0 && len(errs) == 0 {
		add("proposals", "缺少任务")
	}
	if len(r.Unreadable) > maxReviewUnread {
		add("unreadable", "句子过多")
	}
	for i, u := range r.Unreadable {
		text(fmt.Sprintf("unreadable[%d]", i), u, 2000, false)
	}
	if len(errs) > 0 {
		return input.Invalid("审核结果有误", errs...)
	}
	return nil
}

func (r *reviewRequest) review(reviewer string) draft.Review {
	rv := draft.Review{PlanID: r.PlanID, Year: r.Year, Title: r.Title, Source: r.Source, Notice: r.Notice, Reviewer: reviewer,
		Sections: r.Sections, Unread: r.Unreadable}
	for _, t := range r.Proposals {
		rv.Items = append(rv.Items, draft.ReviewItem{Decision: t.Decision, Section: t.Section, Template: t.template(), Notes: t.Notes})
	}
	return rv
}

// reviewFieldNames maps a plan template's field paths to the review's.
var reviewFieldNames = []struct{ plan, review string }{
	{".responsible.levels", ".levels"}, {".responsible.units", ".units"}, {".responsible", ".levels"},
	{".due.date", ".due"}, {".due.every", ".every"}, {".due.basis", ".basis"}, {".due.note", ".due_note"}, {".due", ".due"},
	{".evidence.required", ".evidence_required"}, {".evidence.note", ".evidence_note"}, {".evidence", ".evidence_note"},
}

// reviewField names a validation error's field as the review request does:
// "sections[1].templates[0].due.date" → "proposals[7].due"; errors in the
// defaults, chains and ladders came with the base plan.
func reviewField(x *draft.Rendered, path string) string {
	sec, item, rest := x.Origin(path)
	switch {
	case item >= 0:
		for _, m := range reviewFieldNames {
			if strings.HasPrefix(rest, m.plan) {
				rest = m.review + strings.TrimPrefix(rest, m.plan)
				break
			}
		}
		return fmt.Sprintf("proposals[%d]%s", item, rest)
	case sec >= 0:
		return fmt.Sprintf("sections[%d]%s", sec, rest)
	}
	switch {
	case path == "plan":
		return "plan_id"
	case strings.HasPrefix(path, "defaults"), strings.HasPrefix(path, "chains"), strings.HasPrefix(path, "ladders"):
		return "base"
	}
	return path
}

// reviewed is a review that validated: its plan, its file, how many task
// instances the plan makes, and the decisions.
type reviewed struct {
	plan      *plan.Plan
	out       *draft.Rendered
	instances int
	decisions map[draft.Decision]int
}

// reviewedPlan decodes a review, renders its plan file and validates it as
// an uploaded plan file is validated (and expanded). A plan with errors is
// answered here (errAnswered): 422 with each error's line and column in the
// file and its field in the review, and the file itself (yaml), so the page
// can show the lines.
func (s *server) reviewedPlan(c *fiber.Ctx, p *principal) (reviewed, error) {
	var req reviewRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return reviewed{}, err
	}
	rv := req.review(p.User.DisplayName)
	if orphans := rv.Orphans(); len(orphans) > 0 {
		var errs []input.FieldError
		for _, i := range orphans {
			errs = append(errs, input.FieldError{Field: fmt.Sprintf("proposals[%d].section", i),
				Message: fmt.Sprintf("章节 %q 不在通知的章节中", truncateRunes(req.Proposals[i].Section, 10))})
		}
		return reviewed{}, input.Invalid("审核结果有误", errs...)
	}
	ctx := c.UserContext()
	base, err := s.basePlan(ctx, req.Base, "base")
	if err != nil {
		return reviewed{}, err
	}
	h, err := s.units.get(ctx)
	if err != nil {
		return reviewed{}, err
	}
	out, err := rv.Render(base)
	if err != nil {
		return reviewed{}, err
	}
	name := req.PlanID + ".yaml"
	pl, err := plan.Parse(name, out.YAML, h)
	if err != nil {
		return reviewed{}, s.planProblem(c, err, out)
	}
	specs, err := plan.Expand(pl, h, pl.Year)
	if err != nil {
		return reviewed{}, input.Invalid("计划无法展开为任务："+err.Error(), input.FieldError{Field: "proposals", Message: err.Error()})
	}
	r := reviewed{plan: pl, out: out, instances: len(specs), decisions: map[draft.Decision]int{}}
	for _, t := range req.Proposals {
		r.decisions[t.Decision]++
	}
	return r, nil
}

// errAnswered says the response has been written.
var errAnswered = errors.New("answered")

// planProblem answers a reviewed plan's validation errors: the problem
// document the one mapper makes, its fields named as in the review, and the
// rendered file as an extension member.
func (s *server) planProblem(c *fiber.Ctx, err error, out *draft.Rendered) error {
	pr := s.problemOf(err, c.OriginalURL())
	if pr.Code != duban.EINVALID || len(pr.Errors) == 0 {
		return err
	}
	for i := range pr.Errors {
		pr.Errors[i].Field = reviewField(out, pr.Errors[i].Field)
	}
	if id, ok := c.Locals(localRequestID).(string); ok {
		pr.RequestID = id
	}
	body := struct {
		problem
		YAML string `json:"yaml"`
	}{pr, string(out.YAML)}
	if jerr := c.Status(pr.Status).JSON(body, "application/problem+json; charset=utf-8"); jerr != nil {
		return jerr
	}
	return errAnswered
}

type reviewCheck struct {
	planCheck
	Accepted int    `json:"accepted"`
	Edited   int    `json:"edited"`
	Dropped  int    `json:"dropped"`
	YAML     string `json:"yaml"`
}

// checkDraftPlan validates a reviewed draft; with ?format=yaml it answers
// the plan file to download instead.
func (s *server) checkDraftPlan(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	if err := s.requireRootAdmin(c, p); err != nil {
		return err
	}
	format := c.Query("format", "json")
	if format != "json" && format != "yaml" {
		return input.Invalid("参数有误", input.FieldError{Field: "format", Message: "应为 json 或 yaml"})
	}
	r, err := s.reviewedPlan(c, p)
	if errors.Is(err, errAnswered) {
		return nil
	}
	if err != nil {
		return err
	}
	if format == "yaml" {
		return attachment(c, "application/yaml; charset=utf-8", r.plan.ID+".yaml", r.out.YAML)
	}
	return c.JSON(r.summary())
}

func (r reviewed) summary() reviewCheck {
	pl := r.plan
	return reviewCheck{planCheck: planCheck{Valid: true, ID: pl.ID, Year: pl.Year, Title: pl.Title, Templates: len(pl.Templates()),
		Instances: r.instances, Sections: len(pl.Sections)},
		Accepted: r.decisions[draft.Accept], Edited: r.decisions[draft.Edit], Dropped: r.decisions[draft.Drop], YAML: string(r.out.YAML)}
}

// importDraftPlan validates a reviewed draft and stores it as a new plan,
// audited like an uploaded one. It never replaces a stored plan: that is
// the plan upload's to do, knowingly.
func (s *server) importDraftPlan(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	if err := s.requireRootAdmin(c, p); err != nil {
		return err
	}
	r, err := s.reviewedPlan(c, p)
	if errors.Is(err, errAnswered) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if prev, err := s.DB.PlanSummaryOf(ctx, r.plan.ID); err == nil {
		return &input.Error{Code: duban.ECONFLICT, Message: "计划编号已存在", Fields: []input.FieldError{{Field: "plan_id",
			Message: fmt.Sprintf("计划 %s（%d 年）已于 %s 导入：草稿请换一个新的计划编号；要替换已有计划，请在计划管理中上传计划文件",
				prev.ID, prev.Year, prev.ImportedAt.In(duban.Shanghai).Format("2006-01-02 15:04"))}}}
	} else if duban.ErrorCode(err) != duban.ENOTFOUND {
		return err
	}
	sum, err := s.DB.ImportPlanAs(ctx, r.plan, r.out.YAML, p.actor(), p.unit())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"plan": sum, "check": r.summary()})
}
