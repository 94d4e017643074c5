package plan

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/calendar"
)

// FestivalDue is one period of an every: festivals rule: the festival, the
// day it falls on, and when the instance is due.
type FestivalDue struct {
	Name string    // the period label, e.g. 春节
	Key  string    // the period in the instance's id, in ASCII, e.g. chunjie
	Day  time.Time // the festival (midnight, Asia/Shanghai)
	Due  time.Time // 23:59:59 of the day Lead before it
}

// FestivalDues resolves an every: festivals rule for a year (a plan written
// for planYear, launched onto year: From keeps its month and day). The
// periods come in the order their festivals fall.
func FestivalDues(d Due, planYear, year int) ([]FestivalDue, error) {
	from := Date{year, time.January, 1}
	if !d.From.IsZero() {
		from = d.From.InYear(year + d.From.Year - planYear)
	}
	start := time.Date(from.Year, from.Month, from.Day, 0, 0, 0, 0, duban.Shanghai)
	out := make([]FestivalDue, 0, len(d.Festivals))
	for _, name := range d.Festivals {
		day, ok := calendar.NextFestival(name, start)
		if !ok {
			return nil, fmt.Errorf("unknown festival %q", name)
		}
		key, _ := calendar.FestivalKey(name)
		end := duban.EndOfDay(day.Year(), day.Month(), day.Day())
		out = append(out, FestivalDue{Name: name, Key: key, Day: day, Due: calendar.Before(end, d.Lead.Duban())})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Day.Before(out[j].Day) })
	return out, nil
}

// festivalDue checks the fields of an every: festivals rule, and that no
// other rule carries them.
func (v *validator) festivalDue(dp string, t Template) {
	d := t.Due
	fields := []string{"festivals", "lead", "from"}
	if t.Kind == duban.KindRecurring && !slices.Contains(periods, d.Every) {
		return // the period is reported; which fields it allows is moot
	}
	if t.Kind != duban.KindRecurring || d.Every != PeriodFestivals {
		for _, f := range fields {
			if v.has(dp + "." + f) {
				v.report(dp+"."+f, "只有按节日的定期任务（kind: recurring，every: festivals）可以设置 %s", f)
			}
		}
		return
	}
	if v.has(dp + ".grace") {
		v.report(dp+".grace", "按节日的定期任务不设宽限 grace：用 lead 写节前多久到期（如 1wd 为节前最后一个工作日）")
	}
	if len(d.Festivals) == 0 {
		v.report(dp+".festivals", "按节日的定期任务缺少节日列表 festivals（可用：%s）", strings.Join(calendar.Festivals(), "、"))
	}
	known := calendar.Festivals()
	seen := map[string]bool{}
	ok := true
	for i, name := range d.Festivals {
		fp := fmt.Sprintf("%s.festivals[%d]", dp, i)
		switch {
		case !slices.Contains(known, name):
			ok = false
			hint := ""
			if slices.Contains(known, name+"节") {
				hint = fmt.Sprintf("，是否指“%s节”？", name)
			}
			v.report(fp, "未知节日 %q%s（可用：%s）", name, hint, strings.Join(known, "、"))
		case seen[name]:
			ok = false
			v.report(fp, "节日 %q 重复", name)
		}
		seen[name] = true
	}
	if !d.From.IsZero() && v.yearOK && d.From.Year != v.p.Year {
		v.report(dp+".from", "起算日 from %s 应在计划年度 %d 内", d.From, v.p.Year)
		return
	}
	if !ok || len(d.Festivals) == 0 || !v.yearOK || v.d.failedAt(dp+".lead") || v.d.failedAt(dp+".from") {
		return
	}
	dues, err := FestivalDues(d, v.p.Year, v.p.Year)
	if err != nil {
		return // already reported per name
	}
	from := d.From
	if from.IsZero() {
		from = Date{v.p.Year, time.January, 1}
	}
	for _, fd := range dues {
		if fd.Due.Before(time.Date(from.Year, from.Month, from.Day, 0, 0, 0, 0, duban.Shanghai)) {
			v.report(dp+".lead", "提前量 %s 使%s（%s）的任务在 %s 到期，早于起算日 %s", d.Lead, fd.Name,
				fd.Day.Format(time.DateOnly), fd.Due.Format(time.DateOnly), from)
			return
		}
	}
}
