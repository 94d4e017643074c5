package report_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/pdftext"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/score"
	"github.com/duban-dev/duban/score/report"
)

func day(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02", s, duban.Shanghai)
	if err != nil {
		panic(err)
	}
	return t.Add(10 * time.Hour)
}

// ranking scores three of Changsha's counties with the shipped rules: one
// on time with a bonus, one late and urged, one that did nothing.
func ranking(t *testing.T) (score.Ranking, *plan.Plan) {
	t.Helper()
	p, _, err := plan.Shipped("hunan-2021")
	if err != nil {
		t.Fatal(err)
	}
	due := duban.EndOfDay(2021, 12, 31)
	mk := func(code, name string, events ...score.Event) score.Record {
		for i := range events {
			events[i].Seq = int64(i + 2)
		}
		return score.Record{
			Unit: score.Unit{Code: code, Name: name, Level: duban.LevelCounty, Parent: "4301"},
			Tasks: []score.Task{{ID: "2021/2.1/" + code, TemplateID: "2.1", Section: "2", Title: "市、县两级出台计生协改革方案",
				Kind: duban.KindDeadline, Due: due, Events: events}},
		}
	}
	recs := []score.Record{
		mk("430102", "芙蓉区",
			score.Event{Kind: duban.EventSubmitted, At: day("2021-12-01"), To: duban.StatusSubmitted},
			score.Event{Kind: duban.EventCompleted, At: day("2021-12-05"), To: duban.StatusCompleted}),
		mk("430103", "天心区",
			score.Event{Kind: duban.EventUrged, At: day("2021-12-20")},
			score.Event{Kind: duban.EventSubmitted, At: day("2022-01-10"), To: duban.StatusSubmitted},
			score.Event{Kind: duban.EventCompleted, At: day("2022-01-12"), To: duban.StatusCompleted}),
		mk("430104", "岳麓区"),
	}
	recs[0].Awards = []score.Award{{ID: 7, BonusID: "provincial-promotion", Points: 200, Reason: "改革经验在全省推广", AwardedBy: "省督查人", At: day("2021-11-01")}}
	asOf := plan.Date{Year: 2022, Month: time.February, Day: 28}
	scores, err := score.ComputeAll(p.Scoring, recs, asOf)
	if err != nil {
		t.Fatal(err)
	}
	return score.Ranking{PlanID: p.ID, PlanTitle: p.Title, Year: 2021, AsOf: asOf,
		Parent: score.Unit{Code: "4301", Name: "长沙市", Level: duban.LevelCity}, Rows: score.Rank(scores), TieRule: score.TieRule}, p
}

func TestRankingXLSX(t *testing.T) {
	r, _ := ranking(t)
	var buf bytes.Buffer
	if err := report.RankingXLSX(&buf, r); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	rows, err := f.GetRows(report.SheetRanking)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 5 || strings.Join(rows[1], ",") != strings.Join(report.RankingHeaders, ",") {
		t.Fatalf("ranking sheet: %q", rows)
	}
	var names []string
	for _, row := range rows[2:5] {
		names = append(names, row[0]+" "+row[3]+" "+row[4])
	}
	// 芙蓉区 100 (scaled) + 2; 天心区 10 days late, 6 of 10 → 60 − 0.5 urged; 岳麓区 0.
	if got := strings.Join(names, "; "); got != "1 芙蓉区 102.00; 2 天心区 59.50; 3 岳麓区 0.00" {
		t.Errorf("ranking rows: %s", got)
	}
	lines, err := f.GetRows(report.SheetLines)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, l := range lines {
		if len(l) > 7 && l[1] == "天心区" && l[3] == "被催办" && strings.Contains(l[7], "2021/2.1/430103") {
			found = true
		}
	}
	if !found {
		t.Errorf("the urge of 天心区 is not explained on the second sheet: %q", lines)
	}
}

func TestUnitPDF(t *testing.T) {
	r, p := ranking(t)
	var buf bytes.Buffer
	row := r.Rows[1]
	if err := report.UnitPDF(&buf, p.Title, row.Score, &report.Place{Parent: "长沙市", Of: len(r.Rows), Ranked: row}); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	for _, want := range []string{"天心区考核得分通报", "湖南省计划生育协会", "考核得分：59.50 分", "在长沙市所属 3 个单位中第 2 名", "被催办", "2021/2.1/430103", "审批中暂按提交日期计", "出台计生协改革方案"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report does not say %q; its text:\n%s", want, text)
		}
	}
	if !bytes.Contains(buf.Bytes(), []byte("/FontFile2")) {
		t.Error("the font is not embedded")
	}
	// The same score gives the same file.
	var again bytes.Buffer
	_ = report.UnitPDF(&again, p.Title, row.Score, &report.Place{Parent: "长沙市", Of: len(r.Rows), Ranked: row})
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two renderings of one score differ")
	}
}

func TestRankingPDF(t *testing.T) {
	r, _ := ranking(t)
	var buf bytes.Buffer
	if err := report.RankingPDF(&buf, r); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	for _, want := range []string{"长沙市所属单位考核情况通报", "芙蓉区", "天心区", "岳麓区", "名次说明", "逾期未办结"} {
		if !strings.Contains(text, want) {
			t.Errorf("the city report does not say %q; its text:\n%s", want, text)
		}
	}
	t.Logf("city report: %d bytes", buf.Len())
}

// A long ranking runs over pages, with the header on each.
func TestRankingPDFManyPages(t *testing.T) {
	r, _ := ranking(t)
	base := r.Rows[2]
	for i := 0; i < 120; i++ {
		row := base
		row.Score.Unit.Name = "测试县" + string(rune('甲'+i%10))
		r.Rows = append(r.Rows, row)
	}
	var buf bytes.Buffer
	if err := report.RankingPDF(&buf, r); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	if n := strings.Count(text, "逾期未办结"); n < 3 {
		t.Errorf("the header appears %d times over several pages", n)
	}
	if !regexp.MustCompile(`通报　1 / [2-9]`).MatchString(text) {
		t.Error("no page count")
	}
}

// pdfText extracts the text a PDF shows.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	return pdftext.Text(pdf)
}
