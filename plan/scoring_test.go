package plan_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/plan"
)

// validScoring is a scoring block for testdata/valid.yaml using every field.
const validScoring = `scoring:
  full: 100
  weights:
    sections: {"2": 1.5}
    templates: {"2.1": 2}
  on_time: 10
  late:
    - {days: 1-7, points: 8}
    - {days: 8-30, points: 6.5}
    - {days: 31+, points: 4}
  not_done: -1
  extension: -0.5
  returned: {each: -0.25}
  urged:
    bands:
      - {times: 1, points: 0}
      - {times: 2-3, points: -1}
      - {times: 4+, points: -2}
  percent: ["2.2"]
  yes_no: ["2.3"]
  bonus:
    - {id: provincial-promotion, title: 经验被省级推广, points: 2, max: 4}
    - {id: criticism, title: 被通报批评, points: -2}
`

func withScoring(t *testing.T, block string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return append(data, []byte(block)...)
}

// validLines is how many lines testdata/valid.yaml has: a scoring block
// appended starts on the line after.
func validLines(t *testing.T) int {
	data, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}

func TestScoringParses(t *testing.T) {
	p, errs := parse(t, "scoring.yaml", withScoring(t, validScoring))
	if errs != nil {
		t.Fatalf("valid scoring rejected:\n%v", errs)
	}
	s := p.Scoring
	if s == nil {
		t.Fatal("no scoring block")
	}
	if s.Full != 10000 || s.OnTime != 1000 || s.NotDone != -100 || s.Extension != -50 || s.Returned.Each != -25 {
		t.Errorf("points: full %v on_time %v not_done %v extension %v returned %v", s.Full, s.OnTime, s.NotDone, s.Extension, s.Returned.Each)
	}
	if len(s.Late) != 3 || s.Late[1].Days != (plan.Range{Min: 8, Max: 30}) || s.Late[1].Points != 650 || !s.Late[2].Days.Open() {
		t.Errorf("late bands %+v", s.Late)
	}
	if got := s.Weight("2", "2.1"); got != 200 {
		t.Errorf("weight of 2.1 = %v, want 2 (the template's own)", got)
	}
	if got := s.Weight("2", "2.2"); got != 150 {
		t.Errorf("weight of 2.2 = %v, want 1.5 (its section's)", got)
	}
	if got := s.Weight("3", "3.1"); got != 100 {
		t.Errorf("weight elsewhere = %v, want 1", got)
	}
	if pts, band := s.Urged.Points(3); pts != -100 || band == nil || band.Times.String() != "2-3" {
		t.Errorf("urged 3 times: %v in band %+v", pts, band)
	}
	if pts, _ := s.Returned.Points(3); pts != -75 {
		t.Errorf("returned 3 times: %v, want -0.75", pts)
	}
	if b, ok := s.BonusItem("criticism"); !ok || b.Points != -200 || b.Max != 0 {
		t.Errorf("bonus item criticism: %+v %v", b, ok)
	}
	// The store keeps plans as JSON: the rules survive it.
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back plan.Plan
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Scoring, back.Scoring) {
		t.Errorf("scoring changed in a JSON round trip:\n%+v\n%+v", p.Scoring, back.Scoring)
	}
}

// Each broken block has one problem, reported at its line with its field.
func TestScoringBroken(t *testing.T) {
	base := validLines(t)
	tests := []struct {
		name  string
		block string
		line  int // within the block, from 1
		field string
		msg   string
	}{
		{"missing on_time", "scoring:\n  late:\n    - {days: 1+, points: 0}\n  not_done: 0\n", 1, "scoring.on_time", "缺少按期完成的得分"},
		{"three decimals", "scoring:\n  on_time: 10.125\n  late: [{days: 1+, points: 5}]\n  not_done: 0\n", 2, "scoring.on_time", "最多两位小数"},
		{"band gap", "scoring:\n  on_time: 10\n  late:\n    - {days: 1-7, points: 8}\n    - {days: 9+, points: 6}\n  not_done: 0\n", 5, "scoring.late[1].days", "应从第 8 天起"},
		{"band not closed", "scoring:\n  on_time: 10\n  late:\n    - {days: 1-7, points: 8}\n  not_done: 0\n", 4, "scoring.late[0].days", "最后一档 1-7 应没有上限"},
		{"band above on time", "scoring:\n  on_time: 10\n  late:\n    - {days: 1+, points: 12}\n  not_done: 0\n", 4, "scoring.late[0].points", "应不高于按期完成"},
		{"bad range", "scoring:\n  on_time: 10\n  late:\n    - {days: 7-1, points: 8}\n  not_done: 0\n", 4, "scoring.late[0].days", "上限小于下限"},
		{"positive return", "scoring:\n  on_time: 10\n  late: [{days: 1+, points: 5}]\n  not_done: 0\n  returned: {each: 1}\n", 5, "scoring.returned.each", "应为 0 或负数"},
		{"each and bands", "scoring:\n  on_time: 10\n  late: [{days: 1+, points: 5}]\n  not_done: 0\n  urged:\n    each: -1\n    bands: [{times: 1+, points: -1}]\n", 6, "scoring.urged.each", "二选一"},
		{"urge bands from 2", "scoring:\n  on_time: 10\n  late: [{days: 1+, points: 5}]\n  not_done: 0\n  urged:\n    bands:\n      - {times: 2+, points: -1}\n", 7, "scoring.urged.bands[0].times", "应从第 1 次起"},
		{"unknown section", "scoring:\n  on_time: 10\n  late: [{days: 1+, points: 5}]\n  not_done: 0\n  weights:\n    sections: {\"9\": 2}\n", 6, "scoring.weights.sections.9", `章节 "9" 不存在`},
		{"zero weight", "scoring:\n  on_time: 10\n  late: [{days: 1+, points: 5}]\n  not_done: 0\n  weights:\n    templates: {\"2.1\": 0}\n", 6, "scoring.weights.templates.2.1", "必须大于 0"},
		{"percent of a deadline", "scoring:\n  on_time: 10\n  late: [{days: 1+, points: 5}]\n  not_done: 0\n  percent: [\"2.1\"]\n", 5, "scoring.percent[0]", "只适用于 ratio 或 count"},
		{"percent and yes/no", "scoring:\n  on_time: 10\n  late: [{days: 1+, points: 5}]\n  not_done: 0\n  percent: [\"2.2\"]\n  yes_no: [\"2.2\"]\n", 6, "scoring.yes_no[0]", "只能有一种计分方式"},
		{"unknown template", "scoring:\n  on_time: 10\n  late: [{days: 1+, points: 5}]\n  not_done: 0\n  yes_no: [\"7.7\"]\n", 5, "scoring.yes_no[0]", `任务模板 "7.7" 不存在`},
		{"duplicate bonus", "scoring:\n  on_time: 10\n  late: [{days: 1+, points: 5}]\n  not_done: 0\n  bonus:\n    - {id: a, title: 甲, points: 1}\n    - {id: a, title: 乙, points: 1}\n", 7, "scoring.bonus[1].id", `加分项编号 "a" 重复`},
		{"bonus cap below points", "scoring:\n  on_time: 10\n  late: [{days: 1+, points: 5}]\n  not_done: 0\n  bonus:\n    - {id: a, title: 甲, points: 2, max: 1}\n", 6, "scoring.bonus[0].max", "不小于单次分值"},
		{"bonus without title", "scoring:\n  on_time: 10\n  late: [{days: 1+, points: 5}]\n  not_done: 0\n  bonus:\n    - {id: a, points: 2}\n", 6, "scoring.bonus[0].title", "缺少加分项名称"},
		{"unknown field", "scoring:\n  on_time: 10\n  late: [{days: 1+, points: 5}]\n  not_done: 0\n  penalty: 3\n", 5, "scoring.penalty", `未知字段 "penalty"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := parse(t, "scoring.yaml", withScoring(t, tt.block))
			if len(errs) != 1 {
				t.Fatalf("want exactly one error, got %d:\n%v", len(errs), errs)
			}
			e := errs[0]
			if e.Line != base+tt.line || e.Field != tt.field || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("got %s\nwant line %d, field %s, message containing %q", e.Error(), base+tt.line, tt.field, tt.msg)
			}
		})
	}
}

// The shipped plan's rules are what its notes say.
func TestShippedScoring(t *testing.T) {
	s := shipped(t).Scoring
	if s == nil {
		t.Fatal("hunan-2021 has no scoring rules")
	}
	if s.Full != 10000 || s.OnTime != 1000 || s.NotDone != 0 || len(s.Late) != 3 {
		t.Errorf("rules %+v", s)
	}
	if s.Weight("2", "2.1") != 200 || s.Weight("2", "2.5") != 150 || s.Weight("4", "4.1") != 100 {
		t.Error("weights: want 2.1 at 2, the rest of section 2 at 1.5, others at 1")
	}
	if b, ok := s.BonusItem("provincial-promotion"); !ok || b.Title != "经验被省级推广" || b.Points != 200 {
		t.Errorf("bonus 经验被省级推广: %+v", b)
	}
}

func TestPointsText(t *testing.T) {
	for in, want := range map[string]plan.Points{"2": 200, "-0.5": -50, "+1.25": 125, "0.1": 10, "10000": 1000000} {
		got, err := plan.ParsePoints(in)
		if err != nil || got != want {
			t.Errorf("ParsePoints(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "1.234", "abc", "10001", "1e3"} {
		if _, err := plan.ParsePoints(bad); err == nil {
			t.Errorf("ParsePoints(%q) accepted", bad)
		}
	}
	if s := plan.Points(-50).String(); s != "-0.50" {
		t.Errorf("String = %s", s)
	}
	if s := plan.Points(1250).Short(); s != "12.5" {
		t.Errorf("Short = %s", s)
	}
	// Weights round half away from zero, to the hundredth.
	if got := plan.Points(833).Times(125); got != 1041 {
		t.Errorf("8.33 × 1.25 = %v, want 10.41", got)
	}
	if got := plan.Points(-5).Times(150); got != -8 {
		t.Errorf("-0.05 × 1.5 = %v, want -0.08", got)
	}
}

func TestToday(t *testing.T) {
	now := time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC) // 2 March 01:00 in Shanghai
	if got := plan.Today(duban.Clock{}, now).String(); got != "2026-03-02" {
		t.Errorf("today on real time: %s", got)
	}
	demo := duban.Clock{Scale: 86400, VirtualEpoch: time.Date(2021, 1, 1, 0, 0, 0, 0, duban.Shanghai), RealEpoch: now.Add(-10 * time.Second)}
	if got := plan.Today(demo, now).String(); got != "2021-01-11" {
		t.Errorf("ten real seconds at a plan day a second: %s", got)
	}
}
