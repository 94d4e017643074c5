package plan_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/calendar"
	"github.com/duban-dev/duban/plan"
)

func festivalPlan(t *testing.T) (*plan.Plan, string) {
	t.Helper()
	data, err := os.ReadFile("testdata/festivals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, errs := parse(t, "testdata/festivals.yaml", data)
	if errs != nil {
		t.Fatalf("festival plan rejected:\n%v", errs)
	}
	return p, string(data)
}

// TestFestivalRecurrenceAcrossYears: one instance per festival per unit,
// labelled with the festival, due one working day before it; the festivals
// fall on other days in 2022, and the same plan follows them.
func TestFestivalRecurrenceAcrossYears(t *testing.T) {
	p, _ := festivalPlan(t)
	tm := p.Sections[0].Templates[0]
	if tm.Due.Every != plan.PeriodFestivals || tm.Due.Lead != (plan.Offset{Days: 1, Working: true}) || tm.Due.From != (plan.Date{Year: 2021, Month: time.March, Day: 1}) {
		t.Fatalf("due rule %+v", tm.Due)
	}
	type want struct {
		period string
		due    time.Time
	}
	for _, c := range []struct {
		year  int
		want  []want
		qing  time.Time
		first string
	}{
		// 2021: 端午 14 June (holiday 12–14 June), 中秋 21 September (holiday
		// 19–21, Saturday 18 worked), and — the plan counts from 1 March —
		// the next 春节, 1 February 2022 (holiday from 31 January; Sunday 30
		// January worked).
		{2021, []want{{"端午节", endOfDay(2021, 6, 11)}, {"中秋节", endOfDay(2021, 9, 18)}, {"春节", endOfDay(2022, 1, 30)}}, endOfDay(2021, 4, 4), "2021/3.1/430102/duanwu"},
		// 2022: 端午 3 June, 中秋 10 September, 春节 22 January 2023 (除夕 the 21st is already off).
		{2022, []want{{"端午节", endOfDay(2022, 6, 2)}, {"中秋节", endOfDay(2022, 9, 9)}, {"春节", endOfDay(2023, 1, 20)}}, endOfDay(2022, 4, 5), "2022/3.1/430102/duanwu"},
	} {
		specs := expand(t, p, c.year)
		visits := byTemplate(specs, "3.1")
		if n := len(visits); n != 3*hunan.CountAtLevel(duban.LevelCounty) {
			t.Fatalf("%d: %d instances, want 3 per county", c.year, n)
		}
		var furong []duban.TaskSpec
		for _, s := range visits {
			if s.UnitCode == "430102" {
				furong = append(furong, s)
			}
		}
		if len(furong) != 3 || furong[0].ID != c.first {
			t.Fatalf("%d: 芙蓉区 has %d instances, first %q", c.year, len(furong), furong[0].ID)
		}
		for i, w := range c.want {
			s := furong[i]
			if s.Period != w.period || !s.Due.Equal(w.due) || s.Kind != duban.KindRecurring {
				t.Errorf("%d: instance %d is %s (%s) due %v, want %s due %v", c.year, i, s.ID, s.Period, s.Due, w.period, w.due)
			}
			key, _ := calendar.FestivalKey(w.period)
			if s.ID != plan.InstanceID(c.year, "3.1", "430102", key) || plan.PeriodLabel(s.Period) != w.period {
				t.Errorf("%d: id %s, label %q", c.year, s.ID, plan.PeriodLabel(s.Period))
			}
		}
		// No lead and no from: the festival's own day in the year.
		qm := byTemplate(specs, "3.2")
		if len(qm) != 1 || qm[0].Period != "清明节" || !qm[0].Due.Equal(c.qing) {
			t.Errorf("%d: 清明 %+v", c.year, qm)
		}
	}
}

// TestFestivalRuleErrors: every mistake in a festival rule is an error at
// its line, naming the field.
func TestFestivalRuleErrors(t *testing.T) {
	_, src := festivalPlan(t)
	for _, c := range []struct {
		name, old, new string
		line           int
		field, msg     string
	}{
		{"unknown festival", "festivals: [春节, 端午节, 中秋节]", "festivals: [春节, 端午, 中秋节]", 47, "sections[0].templates[0].due.festivals[1]", `未知节日 "端午"，是否指“端午节”？`},
		{"foreign festival", "festivals: [春节, 端午节, 中秋节]", "festivals: [春节, 圣诞节]", 47, "sections[0].templates[0].due.festivals[1]", `未知节日 "圣诞节"（可用：元旦、除夕、春节`},
		{"repeated festival", "festivals: [春节, 端午节, 中秋节]", "festivals: [春节, 端午节, 春节]", 47, "sections[0].templates[0].due.festivals[2]", `节日 "春节" 重复`},
		{"no festivals", "          festivals: [春节, 端午节, 中秋节]\n", "", 45, "sections[0].templates[0].due.festivals", "缺少节日列表 festivals"},
		{"grace", "          lead: 1wd\n", "          grace: 1wd\n", 48, "sections[0].templates[0].due.grace", "不设宽限 grace"},
		{"bad lead", "lead: 1wd", "lead: a week", 48, "sections[0].templates[0].due.lead", `偏移量 "a week" 无效`},
		{"from outside the year", "from: 2021-03-01", "from: 2022-03-01", 49, "sections[0].templates[0].due.from", "应在计划年度 2021 内"},
		{"lead before from", "lead: 1wd", "lead: 120d", 48, "sections[0].templates[0].due.lead", "端午节（2021-06-14）的任务在 2021-02-14 到期，早于起算日 2021-03-01"},
		{"festivals on a quarter", "  every: festivals\n", "  every: quarter\n", 47, "sections[0].templates[0].due.festivals", "只有按节日的定期任务"},
		{"unknown period", "  every: festivals\n", "  every: festival\n", 46, "sections[0].templates[0].due.every", `周期 "festival" 无效：应为 month、quarter、half、festivals`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(src, c.old) {
				t.Fatalf("festivals.yaml has no %q", c.old)
			}
			_, errs := parse(t, c.name+".yaml", []byte(strings.Replace(src, c.old, c.new, 1)))
			found := false
			for _, e := range errs {
				if e.Line == c.line && e.Field == c.field && strings.Contains(e.Message, c.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("want an error at line %d on %s saying %q, got:\n%v", c.line, c.field, c.msg, errs)
			}
		})
	}

	// A one-off template carries no festival fields.
	bad := strings.Replace(src, "due: {every: festivals, festivals: [清明节], basis: stated}", "due: {date: 2021-04-04, festivals: [清明节], basis: stated}", 1)
	bad = strings.Replace(bad, "        title: 清明节前走访\n        quote: 坚持开展节假日慰问活动\n        responsible: {units: [\"43\"]}\n        kind: recurring",
		"        title: 清明节前走访\n        quote: 坚持开展节假日慰问活动\n        responsible: {units: [\"43\"]}\n        kind: event", 1)
	_, errs := parse(t, "event.yaml", []byte(bad))
	if len(errs) != 1 || errs[0].Line != 57 || errs[0].Field != "sections[0].templates[1].due.festivals" {
		t.Errorf("festivals on an event: %v", errs)
	}
}

// A festival rule survives the JSON the store keeps plans in.
func TestFestivalRuleJSONRoundTrip(t *testing.T) {
	p, _ := festivalPlan(t)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back plan.Plan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, &back) {
		t.Errorf("plan changed in a JSON round trip:\n%+v\n%+v", p.Sections[0].Templates[0].Due, back.Sections[0].Templates[0].Due)
	}
}
