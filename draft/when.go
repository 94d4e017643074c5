package draft

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/6tail/lunar-go/calendar"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/plan"
)

// cnNumber reads an Arabic or Chinese number up to 9999 (三, 十二, 两百, 1); false if s is not one.
func cnNumber(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	digits := map[rune]int{'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	units := map[rune]int{'十': 10, '百': 100, '千': 1000}
	total, cur := 0, 0
	for _, r := range s {
		if d, ok := digits[r]; ok {
			cur = d
			continue
		}
		u, ok := units[r]
		if !ok {
			return 0, false
		}
		if cur == 0 {
			cur = 1 // 十二 is 12
		}
		total += cur * u
		cur = 0
	}
	return total + cur, true
}

const numPat = `[0-9０-９]+|[零〇一二两三四五六七八九十百千]+`

// dueFinding is what a clause says about when.
type dueFinding struct {
	due     plan.Due
	kind    duban.Kind // recurring or event when the words say so; "" otherwise
	stated  bool       // the clause itself names the time
	why     string
	assumed string // the assumption made, if any
}

var (
	recurringWords = []struct {
		re     *regexp.Regexp
		every  plan.Period
		assume string
	}{
		{regexp.MustCompile(`每(个)?季度|按季度?|季度一次|逐季`), plan.PeriodQuarter, ""},
		{regexp.MustCompile(`每(个)?月|按月|月度|逐月`), plan.PeriodMonth, ""},
		{regexp.MustCompile(`每半年|半年一次`), plan.PeriodHalf, ""},
		{regexp.MustCompile(`定期`), plan.PeriodQuarter, "文件写“定期”，未规定周期：按每季度一次（假设，请核实）"},
	}
	monthEndRE   = regexp.MustCompile(`(` + numPat + `)\s*月(底|末|份)(前|以前|之前)?`)
	monthBeforeR = regexp.MustCompile(`(` + numPat + `)\s*月(前|以前|之前)`)
	dayRE        = regexp.MustCompile(`(` + numPat + `)\s*月\s*(` + numPat + `)\s*[日号](前|以前|之前)?`)
	decadeRE     = regexp.MustCompile(`(` + numPat + `)\s*月(上旬|中旬|下旬)(前|以前|之前)?`)
	quarterRE    = regexp.MustCompile(`(第)?([一二三四1-4])\s*季度(末|底)?`)
	// A day written inside a quoted name: “5.29 会员活动日”.
	namedDayRE   = regexp.MustCompile(`([0-9]{1,2})\s*[.．·・]\s*([0-9]{1,2})`)
	nextYearRE   = regexp.MustCompile(`(次年|明年|下一年)`)
	statedYearRE = regexp.MustCompile(`([0-9]{4})\s*年\s*(?:底|末|内|上半年|下半年|[0-9一二三四五六七八九十]{1,2}\s*月|第?[一二三四1-4]\s*季度)`)
	festivalRE   = regexp.MustCompile(`(元旦|春节|五一|劳动节|端午节?|七一|中秋节?|国庆节?|重阳节?)(前|之前|以前)`)
	yearEndRE    = regexp.MustCompile(`(今|本)?年(底|末)(前|以前|之前)?|年内|本年度内?|今年内|全年|当年`)
)

// findDue reads the due rule of a clause for a plan year. quoted is the
// clause text with quoted names kept (a day such as “5.29” lives there);
// masked has quoted names blanked out.
func findDue(masked, quoted string, year int) dueFinding {
	for _, w := range recurringWords {
		if loc := w.re.FindStringIndex(masked); loc != nil {
			word := masked[loc[0]:loc[1]]
			f := dueFinding{kind: duban.KindRecurring, stated: true,
				due: plan.Due{Every: w.every, Basis: plan.BasisStated}}
			f.why = fmt.Sprintf("“%s”：%s", word, periodLabel(w.every))
			f.due.Note = fmt.Sprintf("文件要求“%s”，每%s期末到期", word, periodNoun(w.every))
			if w.assume != "" {
				f.assumed = w.assume
				f.due.Note = w.assume
			}
			return f
		}
	}
	y := year
	yearNote := ""
	if nextYearRE.MatchString(masked) {
		y = year + 1
	}
	if m := statedYearRE.FindStringSubmatch(masked); m != nil {
		// 到2025年底, 2022年3月底前: a year written out.
		switch n, _ := strconv.Atoi(m[1]); {
		case n == year || n == year+1:
			y = n
		default:
			yearNote = fmt.Sprintf("文中年份 %d 不在计划年度 %d 或次年：日期按 %d 年计（假设，请核实）", n, year, year)
		}
	}
	f := findDated(masked, quoted, year, y)
	if yearNote != "" {
		f.assumed = strings.TrimPrefix(f.assumed+"；"+yearNote, "；")
	}
	return f
}

// findDated reads the dated forms; y is the year they fall in.
func findDated(masked, quoted string, year, y int) dueFinding {
	if loc := dayRE.FindStringSubmatchIndex(masked); loc != nil {
		m := submatches(masked, loc)
		if m[3] != "" && strings.HasPrefix(masked[loc[1]:], "后") {
			// 5月29日前后: around the day, not before it.
			m[0], m[3] = m[0]+"后", ""
		}
		mo, _ := cnNumber(m[1])
		d, _ := cnNumber(m[2])
		if date, ok := validDate(y, mo, d); ok {
			f := dueFinding{stated: true, due: plan.Due{Date: date, Basis: plan.BasisStated}}
			f.why = fmt.Sprintf("“%s”", m[0])
			f.due.Note = fmt.Sprintf("文件要求“%s”", m[0])
			if m[3] == "" && hasAny(masked, []string{"活动", "纪念", "宣传日", "当天", "当日"}) {
				f.kind = duban.KindEvent
				f.why += "：当天举行"
			}
			return f
		}
	}
	if m := festivalRE.FindStringSubmatch(masked); m != nil {
		if date, ok := festivalEve(y, m[1]); ok {
			f := stated(date, m[0])
			f.why += "（节日前一天）"
			return f
		}
	}
	if m := decadeRE.FindStringSubmatch(masked); m != nil {
		mo, _ := cnNumber(m[1])
		day := map[string]int{"上旬": 10, "中旬": 20}[m[2]]
		if day == 0 {
			day = lastDay(y, mo)
		}
		if date, ok := validDate(y, mo, day); ok {
			return stated(date, m[0])
		}
	}
	if m := monthEndRE.FindStringSubmatch(masked); m != nil {
		mo, _ := cnNumber(m[1])
		if date, ok := validDate(y, mo, lastDay(y, mo)); ok {
			return stated(date, m[0])
		}
	}
	if m := monthBeforeR.FindStringSubmatch(masked); m != nil {
		mo, _ := cnNumber(m[1])
		if mo >= 2 && mo <= 12 {
			date, _ := validDate(y, mo-1, lastDay(y, mo-1))
			f := stated(date, m[0])
			f.assumed = fmt.Sprintf("“%s”按 %d 月底计（假设）", m[0], mo-1)
			return f
		}
	}
	if m := quarterRE.FindStringSubmatch(masked); m != nil && !strings.Contains(masked, "每"+m[0]) {
		q, _ := cnNumber(m[2])
		if q >= 1 && q <= 4 {
			mo := q * 3
			date, _ := validDate(y, mo, lastDay(y, mo))
			return stated(date, m[0])
		}
	}
	switch {
	case strings.Contains(masked, "上半年") || strings.Contains(masked, "年中"):
		return stated(plan.Date{Year: y, Month: time.June, Day: 30}, pick(masked, "上半年", "年中"))
	case strings.Contains(masked, "下半年"):
		return stated(plan.Date{Year: y, Month: time.December, Day: 31}, "下半年")
	}
	if m := yearEndRE.FindString(masked); m != "" {
		return stated(plan.Date{Year: y, Month: time.December, Day: 31}, m)
	}
	if strings.Contains(masked, "每年") {
		return stated(plan.Date{Year: y, Month: time.December, Day: 31}, "每年")
	}
	// A day named inside a quoted activity name (“5.29 会员活动日”).
	for _, q := range quotedSpans(quoted) {
		inner := quoted[q[0]:q[1]]
		// The day's name may close inside the quote or just after it: “5.29 会员活动日”, “5·29”会员活动日.
		tail := []rune(quoted[q[1]:])
		near := inner + string(tail[:min(len(tail), 6)])
		if m := namedDayRE.FindStringSubmatch(inner); m != nil && strings.Contains(near, "日") {
			mo, _ := strconv.Atoi(m[1])
			d, _ := strconv.Atoi(m[2])
			if date, ok := validDate(year, mo, d); ok {
				f := dueFinding{stated: true, kind: duban.KindEvent, due: plan.Due{Date: date, Basis: plan.BasisStated}}
				f.why = fmt.Sprintf("活动名称中的日期“%s”：%d 月 %d 日当天举行", m[0], mo, d)
				f.due.Note = fmt.Sprintf("%d 月 %d 日（%s）当天开展", mo, d, strings.Trim(inner, "“”\"《》"))
				return f
			}
		}
	}
	f := dueFinding{due: plan.Due{Date: plan.Date{Year: year, Month: time.December, Day: 31}, Basis: plan.BasisYearEnd}}
	if w, _ := firstIn(masked, vagueDates); w != "" {
		f.assumed = fmt.Sprintf("文件写“%s”，未规定日期：按年底（假设，请核实）", w)
	} else {
		f.assumed = "文件未规定日期：按年底 12 月 31 日（假设）"
	}
	f.why = "未写时间"
	f.due.Note = "文件未规定具体日期，按年底"
	return f
}

// festivalEve is the day before a festival in a year (lunar festivals
// through the lunar calendar). 元旦 is the next year's, so its eve closes
// the plan year.
func festivalEve(year int, name string) (plan.Date, bool) {
	var t time.Time
	solar := func(m time.Month, d int) time.Time { return time.Date(year, m, d, 0, 0, 0, 0, time.UTC) }
	lunar := func(m, d int) time.Time {
		s := calendar.NewLunarFromYmd(year, m, d).GetSolar()
		return time.Date(s.GetYear(), time.Month(s.GetMonth()), s.GetDay(), 0, 0, 0, 0, time.UTC)
	}
	switch strings.TrimSuffix(name, "节") {
	case "元旦":
		t = solar(time.December, 31).AddDate(0, 0, 1)
	case "春":
		t = lunar(1, 1)
	case "五一", "劳动":
		t = solar(time.May, 1)
	case "端午":
		t = lunar(5, 5)
	case "七一":
		t = solar(time.July, 1)
	case "中秋":
		t = lunar(8, 15)
	case "国庆":
		t = solar(time.October, 1)
	case "重阳":
		t = lunar(9, 9)
	default:
		return plan.Date{}, false
	}
	t = t.AddDate(0, 0, -1)
	return plan.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, true
}

func submatches(s string, loc []int) []string {
	out := make([]string, len(loc)/2)
	for i := range out {
		if loc[2*i] >= 0 {
			out[i] = s[loc[2*i]:loc[2*i+1]]
		}
	}
	return out
}

func stated(d plan.Date, word string) dueFinding {
	return dueFinding{stated: true, due: plan.Due{Date: d, Basis: plan.BasisStated, Note: fmt.Sprintf("文件要求“%s”", word)},
		why: fmt.Sprintf("“%s”：%s", word, d)}
}

func pick(s string, words ...string) string {
	for _, w := range words {
		if strings.Contains(s, w) {
			return w
		}
	}
	return words[0]
}

func validDate(y, m, d int) (plan.Date, bool) {
	if m < 1 || m > 12 || d < 1 || d > lastDay(y, m) {
		return plan.Date{}, false
	}
	return plan.Date{Year: y, Month: time.Month(m), Day: d}, true
}

func lastDay(y, m int) int {
	if m < 1 || m > 12 {
		return 0
	}
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func periodLabel(p plan.Period) string {
	return map[plan.Period]string{plan.PeriodMonth: "每月一次", plan.PeriodQuarter: "每季度一次", plan.PeriodHalf: "每半年一次"}[p]
}

func periodNoun(p plan.Period) string {
	return map[plan.Period]string{plan.PeriodMonth: "月", plan.PeriodQuarter: "季度", plan.PeriodHalf: "半年"}[p]
}

// targetFinding is what a clause says about how much.
type targetFinding struct {
	count   int
	ratio   *plan.Ratio
	ratioOf string // the words naming the covered units, for the reason
	why     string
	missing string // a ratio whose covered level is not named
	// pendingNum/Den keep that ratio for a caller that finds the level elsewhere.
	pendingNum, pendingDen int
}

var (
	fractionRE = regexp.MustCompile(`(` + numPat + `)\s*分之\s*(` + numPat + `)`)
	percentRE  = regexp.MustCompile(`([0-9]+(?:\.[0-9]+)?)\s*[%％]|百分之\s*(` + numPat + `)`)
	countRE    = regexp.MustCompile(`(至少|不少于|不低于|不少于)?\s*(` + numPat + `)\s*(个|次|期|场|所|家|处|名|人|批|篇|条|支|户|家次|人次)(以上)?`)
)

// findTarget reads a count or a share of lower units. levelAt reports the
// level named right after a position, for a share's covered units.
func findTarget(masked string, levelAfter func(pos int) (duban.Level, string, bool)) targetFinding {
	var f targetFinding
	if m := fractionRE.FindStringSubmatchIndex(masked); m != nil {
		den, _ := cnNumber(masked[m[2]:m[3]])
		num, _ := cnNumber(masked[m[4]:m[5]])
		f.setRatio(masked, num, den, m[0], m[1], levelAfter)
		return f
	}
	if m := percentRE.FindStringSubmatchIndex(masked); m != nil {
		var pct float64
		if m[2] >= 0 {
			pct, _ = strconv.ParseFloat(masked[m[2]:m[3]], 64)
		} else {
			n, _ := cnNumber(masked[m[4]:m[5]])
			pct = float64(n)
		}
		num, den := reduce(int(pct*10+0.5), 1000)
		f.setRatio(masked, num, den, m[0], m[1], levelAfter)
		return f
	}
	for _, m := range countRE.FindAllStringSubmatchIndex(masked, -1) {
		n, ok := cnNumber(masked[m[4]:m[5]])
		if !ok || n <= 0 {
			continue
		}
		// 一批 / 一些 name no number; 一个 after 每 is "each", not a target.
		word := masked[m[0]:m[1]]
		if strings.HasSuffix(word, "批") || strings.HasSuffix(strings.TrimSpace(masked[:m[0]]), "每") {
			continue
		}
		f.count = n
		f.why = fmt.Sprintf("“%s”：目标 %d", strings.TrimSpace(word), n)
		return f
	}
	return f
}

func (f *targetFinding) setRatio(masked string, num, den, start, end int, levelAfter func(int) (duban.Level, string, bool)) {
	if num <= 0 || den <= 0 || num > den {
		return
	}
	num, den = reduce(num, den)
	word := masked[start:end]
	if l, w, ok := levelAfter(end); ok {
		f.ratio = &plan.Ratio{Num: num, Den: den, Of: l}
		f.ratioOf = w
		f.why = fmt.Sprintf("“%s…%s”：覆盖 %d/%d 的%s", word, w, num, den, l.Label())
		return
	}
	f.missing = fmt.Sprintf("比例“%s”没有写明覆盖哪一级单位", word)
	f.pendingNum, f.pendingDen = num, den
}

func reduce(a, b int) (int, int) {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	if x == 0 {
		return a, b
	}
	return a / x, b / x
}
