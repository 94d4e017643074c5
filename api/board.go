package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/store"
)

// Traffic light of a unit's subtree on the supervisor board:
//   - grey:   no tasks (or all cancelled);
//   - green:  nothing overdue. Every task past its deadline is either done
//     or overdue, so "nothing overdue" is "completion on track";
//   - yellow: some overdue, under boardYellowBelow of the active tasks;
//   - red:    boardYellowBelow or more of the active tasks overdue.
//
// Active tasks are all but the cancelled ones.
const boardYellowBelow = 0.10

// rollupView is one unit's counters as the board shows them.
type rollupView struct {
	Unit           unitRef `json:"unit"`
	Rank           int     `json:"rank,omitempty"`
	Total          int     `json:"total"`
	Active         int     `json:"active"`
	Completed      int     `json:"completed"`
	Cancelled      int     `json:"cancelled"`
	Submitted      int     `json:"submitted"`
	Open           int     `json:"open"`
	Overdue        int     `json:"overdue"`
	CompletionRate float64 `json:"completion_rate"` // completed / active, 0–1
	OverdueRate    float64 `json:"overdue_rate"`    // overdue / active, 0–1
	Light          string  `json:"light"`
	LightLabel     string  `json:"light_label"`
}

var boardLightLabels = map[string]string{lightGrey: "无任务", lightGreen: "按进度", lightYellow: "少量逾期", lightRed: "逾期较多"}

func newRollupView(u org.Unit, r store.Rollup) rollupView {
	v := rollupView{Unit: unitRef{Code: u.Code, Name: u.Name, Level: u.Level, LevelLabel: u.Level.Label()},
		Total: r.Total, Completed: r.Completed, Cancelled: r.Cancelled, Submitted: r.Submitted, Overdue: r.Overdue}
	v.Active = r.Total - r.Cancelled
	v.Open = v.Active - r.Completed
	if v.Active > 0 {
		v.CompletionRate = round3(float64(r.Completed) / float64(v.Active))
		v.OverdueRate = round3(float64(r.Overdue) / float64(v.Active))
	}
	switch {
	case v.Active <= 0:
		v.Light = lightGrey
	case r.Overdue == 0:
		v.Light = lightGreen
	case float64(r.Overdue) < boardYellowBelow*float64(v.Active):
		v.Light = lightYellow
	default:
		v.Light = lightRed
	}
	v.LightLabel = boardLightLabels[v.Light]
	return v
}

func round3(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }

// boardScope is the unit, plan and year a board request is about.
type boardScope struct {
	unit   org.Unit
	planID string
	year   int
	h      *org.Hierarchy
}

func (s *server) boardScope(c *fiber.Ctx) (boardScope, error) {
	_, u, err := s.scopeUnit(c)
	if err != nil {
		return boardScope{}, err
	}
	h, err := s.units.get(c.UserContext())
	if err != nil {
		return boardScope{}, err
	}
	b := boardScope{unit: u, planID: c.Query("plan"), h: h}
	if y, ok, err := input.IntParam(c, "year", 2000, 2100); err != nil {
		return b, err
	} else if ok {
		b.year = y
	}
	if b.planID == "" || b.year == 0 {
		years, err := s.boardDB().PlanYears(c.UserContext())
		if err != nil {
			return b, err
		}
		for _, py := range years {
			if (b.planID == "" || py.PlanID == b.planID) && (b.year == 0 || py.Year == b.year) {
				b.planID, b.year = py.PlanID, py.Year
				break
			}
		}
	}
	return b, nil
}

// rollups returns the unit's own counters and its children's, every child
// listed even without tasks.
func (s *server) rollups(ctx context.Context, b boardScope) (rollupView, []rollupView, error) {
	self, err := s.boardDB().RollupOf(ctx, b.planID, b.year, b.unit.Code)
	if err != nil {
		return rollupView{}, nil, err
	}
	rows, err := s.boardDB().ChildRollups(ctx, b.planID, b.year, b.unit.Code)
	if err != nil {
		return rollupView{}, nil, err
	}
	by := map[string]store.Rollup{}
	for _, r := range rows {
		by[r.UnitCode] = r
	}
	var children []rollupView
	for _, ch := range b.h.Children(b.unit.Code) {
		r, ok := by[ch.Code]
		if !ok {
			r = store.Rollup{UnitCode: ch.Code}
		}
		children = append(children, newRollupView(ch, r))
	}
	if children == nil {
		children = []rollupView{}
	}
	return newRollupView(b.unit, self), children, nil
}

type boardRules struct {
	YellowBelow float64 `json:"yellow_below"`
	Description string  `json:"description"`
}

var rules = boardRules{YellowBelow: boardYellowBelow,
	Description: "绿：无逾期（已到期的任务均已办结）；黄：有逾期，逾期任务少于有效任务的 10%；红：逾期任务达到有效任务的 10% 及以上；灰：无任务。有效任务不含已撤销的任务。"}

// boardRollup is completion and overdue counts of the unit's subtree and of
// each child unit, with a traffic light each.
func (s *server) boardRollup(c *fiber.Ctx) error {
	b, err := s.boardScope(c)
	if err != nil {
		return err
	}
	self, children, err := s.rollups(c.UserContext(), b)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"plan_id": b.planID, "year": b.year, "unit": self, "children": children, "rules": rules,
		"path": s.path(b)})
}

// path is the chain of units from the root to the board's unit, for
// breadcrumbs.
func (s *server) path(b boardScope) []unitRef {
	var out []unitRef
	for _, code := range org.Ancestors(b.unit.Code) {
		if u, ok := b.h.Get(code); ok {
			out = append(out, unitRef{Code: u.Code, Name: u.Name, Level: u.Level, LevelLabel: u.Level.Label()})
		}
	}
	return out
}

// ranked orders child units by completion rate, then fewest overdue, then
// code; units without active tasks come last, unranked.
func ranked(children []rollupView) []rollupView {
	out := append([]rollupView(nil), children...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Active > 0) != (b.Active > 0) {
			return a.Active > 0
		}
		if a.CompletionRate != b.CompletionRate {
			return a.CompletionRate > b.CompletionRate
		}
		if a.Overdue != b.Overdue {
			return a.Overdue < b.Overdue
		}
		return a.Unit.Code < b.Unit.Code
	})
	for i := range out {
		if out[i].Active > 0 {
			out[i].Rank = i + 1
		}
	}
	return out
}

func (s *server) boardRanking(c *fiber.Ctx) error {
	b, err := s.boardScope(c)
	if err != nil {
		return err
	}
	_, children, err := s.rollups(c.UserContext(), b)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"plan_id": b.planID, "year": b.year, "unit": unitRef{Code: b.unit.Code, Name: b.unit.Name, Level: b.unit.Level, LevelLabel: b.unit.Level.Label()},
		"items": ranked(children), "order": "完成率从高到低，相同时逾期数少者在前"})
}

// overdueFilter reads the board's overdue filters.
func (s *server) overdueFilter(c *fiber.Ctx, b boardScope) (store.OverdueFilter, error) {
	f := store.OverdueFilter{Unit: b.unit.Code, PlanID: b.planID, Year: b.year, Section: c.Query("section")}
	if lvl := c.Query("level"); lvl != "" {
		if !duban.Level(lvl).Valid() {
			return f, input.Invalid("参数有误", input.FieldError{Field: "level", Message: "层级应为 province、city、county、township 之一"})
		}
		f.Level = duban.Level(lvl)
	}
	now := s.planNow()
	if n, ok, err := input.IntParam(c, "min_days_late", 0, 3660); err != nil {
		return f, err
	} else if ok {
		t := now.Add(-time.Duration(n) * 24 * time.Hour)
		f.LateSince = &t
	}
	if n, ok, err := input.IntParam(c, "max_days_late", 0, 3660); err != nil {
		return f, err
	} else if ok {
		t := now.Add(-time.Duration(n+1) * 24 * time.Hour)
		f.LateAfter = &t
	}
	return f, nil
}

// boardOverdue lists open overdue tasks under the unit, the longest
// overdue first, with a keyset cursor.
func (s *server) boardOverdue(c *fiber.Ctx) error {
	b, err := s.boardScope(c)
	if err != nil {
		return err
	}
	f, err := s.overdueFilter(c, b)
	if err != nil {
		return err
	}
	limit, err := input.Limit(c)
	if err != nil {
		return err
	}
	if f.After, err = parseKeyset(c.Query("cursor")); err != nil {
		return err
	}
	f.Limit = limit + 1
	rows, err := s.boardDB().Overdue(c.UserContext(), f)
	if err != nil {
		return err
	}
	views := s.taskViews(rows)
	pg := page(views, limit, func(v taskView) string { return keysetCursor(*v.OverdueSince, v.ID) })
	return c.JSON(fiber.Map{"plan_id": b.planID, "year": b.year, "items": pg.Items, "next_cursor": pg.NextCursor})
}

// maxExportRows bounds an overdue export.
const maxExportRows = 20000

// boardExport writes the rollup (with ranks) or the overdue list as CSV or
// XLSX.
func (s *server) boardExport(c *fiber.Ctx) error {
	b, err := s.boardScope(c)
	if err != nil {
		return err
	}
	report, format := c.Query("report", "rollup"), c.Query("format", "xlsx")
	if format != "csv" && format != "xlsx" {
		return input.Invalid("参数有误", input.FieldError{Field: "format", Message: "应为 csv 或 xlsx"})
	}
	var header []string
	var rows [][]any
	var title string
	switch report {
	case "rollup", "ranking":
		_, children, err := s.rollups(c.UserContext(), b)
		if err != nil {
			return err
		}
		title = "完成情况"
		header = []string{"排名", "单位代码", "单位", "层级", "任务总数", "有效任务", "已办结", "审批中", "未办结", "逾期", "完成率", "逾期率", "状态"}
		for _, r := range ranked(children) {
			rank := any("")
			if r.Rank > 0 {
				rank = r.Rank
			}
			rows = append(rows, []any{rank, r.Unit.Code, r.Unit.Name, r.Unit.LevelLabel, r.Total, r.Active, r.Completed, r.Submitted, r.Open,
				r.Overdue, r.CompletionRate, r.OverdueRate, r.LightLabel})
		}
	case "overdue":
		f, err := s.overdueFilter(c, b)
		if err != nil {
			return err
		}
		title = "逾期任务"
		header = []string{"任务编号", "章节", "任务", "周期", "单位代码", "单位", "层级", "状态", "截止时间", "逾期天数", "当前审批步骤", "已升级次数", "催办次数", "最近催办"}
		now := s.planNow()
		f.Limit = 500
		for len(rows) < maxExportRows {
			page, err := s.boardDB().Overdue(c.UserContext(), f)
			if err != nil {
				return err
			}
			for _, r := range page {
				v := s.taskView(r, now)
				step := ""
				if v.CurrentStep > 0 {
					step = fmt.Sprintf("%d/%d", v.CurrentStep, v.StepCount)
				}
				urged := ""
				if v.LastUrgedAt != nil {
					urged = v.LastUrgedAt.In(duban.Shanghai).Format("2006-01-02 15:04")
				}
				rows = append(rows, []any{v.ID, v.Section, v.Title, v.PeriodLabel, v.Unit.Code, v.Unit.Name, v.Unit.LevelLabel, v.StatusLabel,
					v.Due.In(duban.Shanghai).Format("2006-01-02 15:04"), v.DaysLate, step, v.Escalation, v.UrgeCount, urged})
			}
			if len(page) < f.Limit {
				break
			}
			last := page[len(page)-1]
			f.After = &store.Keyset{At: *last.OverdueSince, ID: last.ID}
		}
	default:
		return input.Invalid("参数有误", input.FieldError{Field: "report", Message: "应为 rollup、ranking 或 overdue"})
	}
	name := fmt.Sprintf("督办-%s-%s-%s-%d.%s", title, b.unit.Name, b.planID, b.year, format)
	var body []byte
	if format == "csv" {
		body, err = writeCSV(header, rows)
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	} else {
		body, err = writeXLSX(title, header, rows)
		c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, contentDisposition(name))
	return c.Send(body)
}

// writeCSV writes UTF-8 with a byte-order mark, so Excel opens the Chinese
// correctly.
func writeCSV(header []string, rows [][]any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	w := csv.NewWriter(&buf)
	if err := w.Write(header); err != nil {
		return nil, err
	}
	rec := make([]string, len(header))
	for _, r := range rows {
		for i, v := range r {
			rec[i] = csvCell(v)
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// csvCell renders a value; text that a spreadsheet would take for a
// formula is prefixed with a quote (CSV injection).
func csvCell(v any) string {
	switch x := v.(type) {
	case string:
		if x != "" && (x[0] == '=' || x[0] == '+' || x[0] == '-' || x[0] == '@' || x[0] == '\t' || x[0] == '\r') {
			return "'" + x
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func writeXLSX(sheet string, header []string, rows [][]any) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"DDEBF7"}, Pattern: 1}})
	if err != nil {
		return nil, err
	}
	if err := sw.SetColWidth(1, len(header), 14); err != nil {
		return nil, err
	}
	hdr := make([]any, len(header))
	for i, h := range header {
		hdr[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", hdr, excelize.RowOpts{}); err != nil {
		return nil, err
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, r); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// boardDB is the database dashboards read: the replica when configured.
func (s *server) boardDB() *store.DB {
	if s.ReadDB != nil {
		return s.ReadDB
	}
	return s.DB
}
