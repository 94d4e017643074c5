package api

// 考核: a unit's score as of a day with its explanation, the ranking of the
// units under a parent, its Excel and PDF, a unit's PDF, and the bonus
// awards supervisors give. Scores are computed from PostgreSQL on each
// request (tens of milliseconds, see docs/scoring.md), on the board's
// database (the replica when one is configured), so an award just given
// shows once the replica has it; awards themselves are read and written on
// the primary.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/score"
	"github.com/duban-dev/duban/score/report"
	"github.com/duban-dev/duban/store"
)

// scoreScope is a board scope with the day scored.
type scoreScope struct {
	boardScope
	asOf plan.Date
}

// scoreScope reads ?unit= (in the caller's scope), ?plan=, ?year= and
// ?as_of= (default: today in plan time).
func (s *server) scoreScope(c *fiber.Ctx) (scoreScope, error) {
	b, err := s.boardScope(c)
	if err != nil {
		return scoreScope{}, err
	}
	sc := scoreScope{boardScope: b, asOf: plan.Today(s.Clock, s.Now())}
	if v := c.Query("as_of"); v != "" {
		d, err := plan.ParseDate(v)
		switch {
		case err != nil:
			return sc, input.Invalid("参数有误", input.FieldError{Field: "as_of", Message: "日期格式应为 YYYY-MM-DD，且须为真实存在的日期"})
		case !duban.DateInRange(d.EndOfDay()):
			return sc, input.Invalid("参数有误", input.FieldError{Field: "as_of", Message: duban.DateRangeProblem()})
		}
		sc.asOf = d
	}
	if sc.planID == "" || sc.year == 0 {
		return sc, apiError(duban.ENOTFOUND, "尚无已下达的计划")
	}
	return sc, nil
}

func refOf(u org.Unit) unitRef {
	return unitRef{Code: u.Code, Name: u.Name, Level: u.Level, LevelLabel: u.Level.Label()}
}

func refOfCode(h *org.Hierarchy, code string) unitRef {
	if u, ok := h.Get(code); ok {
		return refOf(u)
	}
	l, _ := duban.LevelOfCode(code)
	return unitRef{Code: code, Name: code, Level: l, LevelLabel: l.Label()}
}

type scoreEventView struct {
	Seq       int64           `json:"seq"`
	Kind      duban.EventKind `json:"kind"`
	KindLabel string          `json:"kind_label"`
	At        time.Time       `json:"at"`
}

type scoreLineView struct {
	Rule      score.Rule  `json:"rule"`
	RuleLabel string      `json:"rule_label"`
	Points    plan.Points `json:"points"`
	Text      string      `json:"text"`
	// Task is the instance id the line is about; its events are listed with
	// their sequence numbers on the task's timeline.
	Task       string           `json:"task,omitempty"`
	TemplateID string           `json:"template_id,omitempty"`
	Title      string           `json:"title,omitempty"`
	Events     []scoreEventView `json:"events"`
	Award      int64            `json:"award,omitempty"`
}

type placeView struct {
	Parent unitRef `json:"parent"`
	Rank   int     `json:"rank"`
	Tied   bool    `json:"tied"`
	Of     int     `json:"of"`
	Text   string  `json:"text"`
}

type scoreView struct {
	PlanID     string          `json:"plan_id"`
	PlanTitle  string          `json:"plan_title"`
	Year       int             `json:"year"`
	AsOf       plan.Date       `json:"as_of"`
	Unit       unitRef         `json:"unit"`
	Path       []unitRef       `json:"path"`
	Total      plan.Points     `json:"total"`
	Earned     plan.Points     `json:"earned"`
	Attainable plan.Points     `json:"attainable"`
	Counts     score.Counts    `json:"counts"`
	Lines      []scoreLineView `json:"lines"`
	// Place is the unit's place among the units under its parent, when the
	// caller may see that parent.
	Place *placeView `json:"place"`
}

func lineViews(ls []score.Line) []scoreLineView {
	out := make([]scoreLineView, 0, len(ls))
	for _, l := range ls {
		v := scoreLineView{Rule: l.Rule, RuleLabel: l.Rule.Label(), Points: l.Points, Text: l.Text, Task: l.Task,
			TemplateID: l.TemplateID, Title: l.Title, Award: l.Award, Events: []scoreEventView{}}
		for _, e := range l.Events {
			v.Events = append(v.Events, scoreEventView{Seq: e.Seq, Kind: e.Kind, KindLabel: e.Kind.Label(), At: e.At})
		}
		out = append(out, v)
	}
	return out
}

// scored is one unit's score with what goes around it.
type scored struct {
	scoreScope
	plan  *plan.Plan
	score score.Score
	place *report.Place // nil when the caller may not see the parent
}

// unitScore scores the unit a request names, and where it stands among its
// peers when the caller may see its parent.
func (s *server) unitScore(c *fiber.Ctx) (scored, error) {
	p, err := caller(c)
	if err != nil {
		return scored{}, err
	}
	sc, err := s.scoreScope(c)
	if err != nil {
		return scored{}, err
	}
	ctx := c.UserContext()
	pl, scores, err := s.boardDB().ScoreUnits(ctx, store.RecordQuery{PlanID: sc.planID, Year: sc.year, Under: sc.unit.Code,
		Levels: []duban.Level{sc.unit.Level}, AsOf: sc.asOf})
	if err != nil {
		return scored{}, err
	}
	if len(scores) == 0 {
		return scored{}, notFound("单位")
	}
	sco := scores[0]
	var place *report.Place
	if parent := sc.unit.ParentCode; parent != "" && p.unitInScope(parent) {
		r, err := s.boardDB().RankChildren(ctx, sc.planID, sc.year, parent, sc.asOf)
		if err != nil {
			return scored{}, err
		}
		for _, row := range r.Rows {
			if row.Score.Unit.Code == sco.Unit.Code {
				place = &report.Place{Parent: r.Parent.Name, Of: len(r.Rows), Ranked: row}
			}
		}
	}
	return scored{scoreScope: sc, plan: pl, score: sco, place: place}, nil
}

// getScore is a unit's score as of a day, explained line by line.
func (s *server) getScore(c *fiber.Ctx) error {
	x, err := s.unitScore(c)
	if err != nil {
		return err
	}
	sc, pl, sco, place := x.scoreScope, x.plan, x.score, x.place
	v := scoreView{PlanID: pl.ID, PlanTitle: pl.Title, Year: sc.year, AsOf: sc.asOf, Unit: refOf(sc.unit), Path: s.path(sc.boardScope),
		Total: sco.Total, Earned: sco.Earned, Attainable: sco.Attainable, Counts: sco.Counts, Lines: lineViews(sco.Lines)}
	if place != nil {
		v.Place = &placeView{Parent: refOfCode(sc.h, sc.unit.ParentCode), Rank: place.Ranked.Rank, Tied: place.Ranked.Tied, Of: place.Of,
			Text: place.Ranked.RankText()}
	}
	return c.JSON(v)
}

type rankedView struct {
	Rank        int          `json:"rank"`
	Tied        bool         `json:"tied"`
	RankText    string       `json:"rank_text"`
	Unit        unitRef      `json:"unit"`
	Total       plan.Points  `json:"total"`
	Earned      plan.Points  `json:"earned"`
	Attainable  plan.Points  `json:"attainable"`
	Adjustments plan.Points  `json:"adjustments"` // deductions and bonuses: what is not task points
	Counts      score.Counts `json:"counts"`
}

// adjustmentRules are the rules whose points are not task outcomes.
var adjustmentRules = []score.Rule{score.RuleExtension, score.RuleReturned, score.RuleUrged, score.RuleBonus, score.RuleBonusLimit}

func (s *server) ranking(c *fiber.Ctx) (scoreScope, score.Ranking, error) {
	sc, err := s.scoreScope(c)
	if err != nil {
		return sc, score.Ranking{}, err
	}
	if sc.unit.Level.Depth() >= duban.LevelTownship.Depth() {
		return sc, score.Ranking{}, input.Invalid("参数有误", input.FieldError{Field: "unit", Message: "乡镇（街道）以下没有下级单位可排名"})
	}
	r, err := s.boardDB().RankChildren(c.UserContext(), sc.planID, sc.year, sc.unit.Code, sc.asOf)
	return sc, r, err
}

// getRanking ranks the units directly under a unit by score.
func (s *server) getRanking(c *fiber.Ctx) error {
	sc, r, err := s.ranking(c)
	if err != nil {
		return err
	}
	rows := make([]rankedView, 0, len(r.Rows))
	for _, row := range r.Rows {
		sco := row.Score
		v := rankedView{Rank: row.Rank, Tied: row.Tied, RankText: row.RankText(), Unit: refOfCode(sc.h, sco.Unit.Code),
			Total: sco.Total, Earned: sco.Earned, Attainable: sco.Attainable, Counts: sco.Counts}
		for _, l := range sco.Lines {
			for _, rule := range adjustmentRules {
				if l.Rule == rule {
					v.Adjustments += l.Points
				}
			}
		}
		rows = append(rows, v)
	}
	return c.JSON(fiber.Map{"plan_id": r.PlanID, "plan_title": r.PlanTitle, "year": r.Year, "as_of": r.AsOf,
		"parent": refOf(sc.unit), "path": s.path(sc.boardScope), "tie_rule": r.TieRule, "rows": rows})
}

// exportRanking writes the ranking as an Excel workbook (ranking and every
// line) or as the printable 考核通报 of the units under the unit (PDF).
func (s *server) exportRanking(c *fiber.Ctx) error {
	format := c.Query("format", "xlsx")
	if format != "xlsx" && format != "pdf" {
		return input.Invalid("参数有误", input.FieldError{Field: "format", Message: "应为 xlsx 或 pdf"})
	}
	sc, r, err := s.ranking(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if format == "xlsx" {
		if err := report.RankingXLSX(&buf, r); err != nil {
			return err
		}
		return attachment(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			fmt.Sprintf("考核排名-%s所属单位-%s-截至%s.xlsx", sc.unit.Name, r.PlanID, r.AsOf), buf.Bytes())
	}
	if err := report.RankingPDF(&buf, r); err != nil {
		return err
	}
	return attachment(c, "application/pdf", fmt.Sprintf("考核通报-%s所属单位-%s-截至%s.pdf", sc.unit.Name, r.PlanID, r.AsOf), buf.Bytes())
}

// scoreReport writes a unit's 考核得分通报 (PDF).
func (s *server) scoreReport(c *fiber.Ctx) error {
	x, err := s.unitScore(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.UnitPDF(&buf, x.plan.Title, x.score, x.place); err != nil {
		return err
	}
	return attachment(c, "application/pdf", fmt.Sprintf("考核得分通报-%s-%s-截至%s.pdf", x.unit.Name, x.plan.ID, x.asOf), buf.Bytes())
}

// --- bonus awards ---

type bonusView struct {
	ID     string      `json:"id"`
	Title  string      `json:"title"`
	Points plan.Points `json:"points"`
	Max    plan.Points `json:"max,omitempty"`
}

// listAwards lists the awards to units under a unit (revoked ones
// included) and the bonus items the plan's rules offer.
func (s *server) listAwards(c *fiber.Ctx) error {
	b, err := s.boardScope(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	awards, bonus := []store.Award{}, []bonusView{}
	if b.planID != "" {
		pl, err := s.DB.Plan(ctx, b.planID)
		if err != nil {
			return err
		}
		if pl.Scoring != nil {
			for _, it := range pl.Scoring.Bonus {
				bonus = append(bonus, bonusView{ID: it.ID, Title: it.Title, Points: it.Points, Max: it.Max})
			}
		}
		list, err := s.DB.Awards(ctx, b.planID, b.year, b.unit.Code)
		if err != nil {
			return err
		}
		if list != nil {
			awards = list
		}
	}
	return c.JSON(fiber.Map{"plan_id": b.planID, "year": b.year, "unit": refOf(b.unit), "items": awards, "bonus": bonus})
}

// pointsText is points as a client sends them: a number (2, -0.5) or a
// string ("2"); ParsePoints reads either.
type pointsText string

func (p *pointsText) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*p = pointsText(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return &json.UnmarshalTypeError{Value: "non-number", Type: reflect.TypeOf(0.0)}
	}
	*p = pointsText(n)
	return nil
}

type awardRequest struct {
	Unit    string     `json:"unit"`
	BonusID string     `json:"bonus_id"`
	Points  pointsText `json:"points"`
	Reason  string     `json:"reason" text:"multiline"`
	Plan    string     `json:"plan"`
	Year    int        `json:"year"`

	points plan.Points
}

func (r *awardRequest) validate() error {
	var errs []input.FieldError
	if strings.TrimSpace(r.Unit) == "" {
		errs = append(errs, input.FieldError{Field: "unit", Message: "请选择单位"})
	}
	if strings.TrimSpace(r.BonusID) == "" {
		errs = append(errs, input.FieldError{Field: "bonus_id", Message: "请选择加减分项"})
	}
	switch p, err := plan.ParsePoints(string(r.Points)); {
	case r.Points == "":
		errs = append(errs, input.FieldError{Field: "points", Message: "请填写分值"})
	case err != nil:
		errs = append(errs, input.FieldError{Field: "points", Message: err.Error()})
	default:
		r.points = p
	}
	if r.Year != 0 && (r.Year < 2000 || r.Year > 2100) {
		errs = append(errs, input.FieldError{Field: "year", Message: "年度应在 2000 到 2100 之间"})
	}
	if msg := duban.TextProblem(r.Reason, duban.MaxReasonLength, true); msg != "" {
		errs = append(errs, input.FieldError{Field: "reason", Message: "理由" + msg})
	}
	if len(errs) > 0 {
		return input.Invalid("加减分有误", errs...)
	}
	return nil
}

// awardTarget checks that the caller may award (or revoke) points of a
// unit: it is in their subtree (404 otherwise, as for a unit that does not
// exist) and below their own unit, which its superiors assess.
func awardTarget(p *principal, h *org.Hierarchy, code string) (org.Unit, error) {
	u, ok := h.Get(code)
	if !ok || !org.Contains(p.unit(), code) {
		return org.Unit{}, apiError(duban.ENOTFOUND, "单位 %s 不存在", truncateRunes(code, 20))
	}
	if code == p.unit() {
		return u, apiError(duban.EFORBIDDEN, "本单位的加减分由上级单位评定")
	}
	return u, nil
}

// createAward awards a bonus item (or a deduction) to a unit under the
// caller's, audited with it.
func (s *server) createAward(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	var req awardRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	h, err := s.units.get(ctx)
	if err != nil {
		return err
	}
	u, err := awardTarget(p, h, req.Unit)
	if err != nil {
		return err
	}
	if req.Plan == "" || req.Year == 0 {
		years, err := s.DB.PlanYears(ctx)
		if err != nil {
			return err
		}
		for _, py := range years {
			if (req.Plan == "" || py.PlanID == req.Plan) && (req.Year == 0 || py.Year == req.Year) {
				req.Plan, req.Year = py.PlanID, py.Year
				break
			}
		}
	}
	if _, err := s.DB.PlanSummaryOf(ctx, req.Plan); err != nil {
		if duban.ErrorCode(err) == duban.ENOTFOUND {
			return input.Invalid("计划不存在", input.FieldError{Field: "plan", Message: "没有这个已下达的计划"})
		}
		return err
	}
	a, err := s.DB.AwardBonus(ctx, store.AwardInput{PlanID: req.Plan, Year: req.Year, UnitCode: u.Code, BonusID: req.BonusID,
		Points: req.points, Reason: req.Reason, At: s.planNow()}, p.actor())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a)
}

type revokeRequest struct {
	Reason string `json:"reason" text:"multiline"`
}

// revokeAward withdraws an award; it stays listed, marked, and the
// revocation is audited.
func (s *server) revokeAward(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return notFound("加减分记录")
	}
	var req revokeRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	a, err := s.DB.AwardByID(ctx, id)
	if err != nil {
		if duban.ErrorCode(err) == duban.ENOTFOUND {
			return notFound("加减分记录")
		}
		return err
	}
	h, err := s.units.get(ctx)
	if err != nil {
		return err
	}
	if _, err := awardTarget(p, h, a.UnitCode); err != nil {
		if duban.ErrorCode(err) == duban.ENOTFOUND {
			return notFound("加减分记录")
		}
		return err
	}
	a, err = s.DB.RevokeAward(ctx, id, req.Reason, p.actor())
	if err != nil {
		return err
	}
	return c.JSON(a)
}
