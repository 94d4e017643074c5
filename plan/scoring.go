package plan

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duban-dev/duban"
)

// Scoring is a plan's 考核 rules: how many points each task earns by how it
// went (on time, late, not done), what a return, an urge or an extension
// costs, and the bonus items supervisors award. The score package applies
// them; every number here is in points.
type Scoring struct {
	// Full, when set, scales the task points of a unit to this full mark
	// (e.g. 100): earned / attainable × Full, over the tasks due so far.
	// Deductions and bonuses are added after scaling.
	Full Points `yaml:"full,omitempty" json:"full,omitempty"`
	// Weights multiply the outcome points of a task (not its deductions).
	Weights Weights `yaml:"weights,omitempty" json:"weights,omitempty"`
	// OnTime is earned by a task done by its deadline (moved by extensions).
	OnTime Points `yaml:"on_time" json:"on_time"`
	// Late bands by days late: the first starts at 1 day, the last is open.
	Late []LateBand `yaml:"late" json:"late"`
	// NotDone is earned by a task past its deadline and not done.
	NotDone Points `yaml:"not_done" json:"not_done"`
	// Extension is earned for each extension granted (zero or less).
	Extension Points `yaml:"extension,omitempty" json:"extension,omitempty"`
	// Returned and Urged count the times a task was sent back to the unit
	// and the times the unit was urged about it.
	Returned CountRule `yaml:"returned,omitempty" json:"returned,omitempty"`
	Urged    CountRule `yaml:"urged,omitempty" json:"urged,omitempty"`
	// Percent lists templates (count or ratio) scored by the share of their
	// target reached: share × on-time points, whenever it was reached.
	Percent []string `yaml:"percent,omitempty" json:"percent,omitempty"`
	// YesNo lists templates scored done or not: on-time points when done,
	// however late; not-done points otherwise.
	YesNo []string `yaml:"yes_no,omitempty" json:"yes_no,omitempty"`
	// Bonus items supervisors award (or, negative, deduct) by name.
	Bonus []Bonus `yaml:"bonus,omitempty" json:"bonus,omitempty"`
}

// Weights per section and per template; a template's own weight wins. A task
// in neither has weight 1.
type Weights struct {
	Sections  map[string]Points `yaml:"sections,omitempty" json:"sections,omitempty"`
	Templates map[string]Points `yaml:"templates,omitempty" json:"templates,omitempty"`
}

// LateBand gives the points of a task done Days late.
type LateBand struct {
	Days   Range  `yaml:"days" json:"days"`
	Points Points `yaml:"points" json:"points"`
}

// CountRule scores a number of times (returns, urges): Each per time, or
// the band the count falls in (Bands cover 1 and up). Zero or less.
type CountRule struct {
	Each  Points      `yaml:"each,omitempty" json:"each,omitempty"`
	Bands []CountBand `yaml:"bands,omitempty" json:"bands,omitempty"`
}

// CountBand gives the points of a task that happened Times times.
type CountBand struct {
	Times  Range  `yaml:"times" json:"times"`
	Points Points `yaml:"points" json:"points"`
}

// Bonus is a named item a supervisor awards a unit: each award gives at most
// Points (a negative item deducts), and a unit gets at most Max from the item
// in a year (0: no cap).
type Bonus struct {
	ID     string `yaml:"id" json:"id"`
	Title  string `yaml:"title" json:"title"`
	Points Points `yaml:"points" json:"points"`
	Max    Points `yaml:"max,omitempty" json:"max,omitempty"`
}

// Points are a score in hundredths, written as a decimal with at most two
// places ("2", "-0.5", "1.25"). Integers keep sums exact.
type Points int64

// PointsLimit bounds any number of points a plan writes.
const PointsLimit = 10000 * 100

var pointsRE = regexp.MustCompile(`^([+-]?)(\d{1,5})(?:\.(\d{1,2}))?$`)

// ParsePoints reads a decimal with at most two places.
func ParsePoints(s string) (Points, error) {
	m := pointsRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("分值 %q 无效：应为最多两位小数的数，如 2、-0.5、1.25", s)
	}
	whole, _ := strconv.ParseInt(m[2], 10, 64)
	frac := int64(0)
	if m[3] != "" {
		frac, _ = strconv.ParseInt((m[3] + "0")[:2], 10, 64)
	}
	p := whole*100 + frac
	if m[1] == "-" {
		p = -p
	}
	if p > PointsLimit || p < -PointsLimit {
		return 0, fmt.Errorf("分值 %q 超出范围：应在 -10000 到 10000 之间", s)
	}
	return Points(p), nil
}

// String renders the points with two decimals ("2.00", "-0.50").
func (p Points) String() string {
	sign := ""
	v := int64(p)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// Signed renders the points with a sign ("+2.00", "-0.50", "0.00").
func (p Points) Signed() string {
	if p > 0 {
		return "+" + p.String()
	}
	return p.String()
}

// Short renders the points without trailing zeros ("2", "-0.5", "1.25").
func (p Points) Short() string {
	s := p.String()
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Float is the points as a number, for spreadsheets and charts.
func (p Points) Float() float64 { return float64(p) / 100 }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Points) UnmarshalText(b []byte) error {
	v, err := ParsePoints(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (p Points) MarshalText() ([]byte, error) { return []byte(p.Short()), nil }

// Times multiplies by a weight (both in hundredths), rounding half away
// from zero to the hundredth.
func (p Points) Times(w Points) Points { return divRound(int64(p)*int64(w), 100) }

// divRound is a/b rounded half away from zero (b > 0).
func divRound(a, b int64) Points {
	if a < 0 {
		return -Points((-a + b/2) / b)
	}
	return Points((a + b/2) / b)
}

// Scale returns p × num / den rounded half away from zero (den > 0).
func (p Points) Scale(num, den int64) Points { return divRound(int64(p)*num, den) }

// Range is a span of whole numbers written "3" (just 3), "1-7" or "31+"
// (31 and up). Max 0 means open-ended.
type Range struct {
	Min int
	Max int
}

var rangeRE = regexp.MustCompile(`^(\d{1,4})(?:(-)(\d{1,4})|(\+))?$`)

// ParseRange reads "3", "1-7" or "31+".
func ParseRange(s string) (Range, error) {
	m := rangeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Range{}, fmt.Errorf("区间 %q 无效：应写作 3、1-7 或 31+（31 及以上）", s)
	}
	lo, _ := strconv.Atoi(m[1])
	r := Range{Min: lo, Max: lo}
	switch {
	case m[2] == "-":
		r.Max, _ = strconv.Atoi(m[3])
		if r.Max < r.Min {
			return Range{}, fmt.Errorf("区间 %q 无效：上限小于下限", s)
		}
	case m[4] == "+":
		r.Max = 0
	}
	if r.Min < 1 {
		return Range{}, fmt.Errorf("区间 %q 无效：应从 1 起", s)
	}
	return r, nil
}

// Open reports whether the range has no upper end.
func (r Range) Open() bool { return r.Max == 0 }

// Contains reports whether n is in the range.
func (r Range) Contains(n int) bool { return n >= r.Min && (r.Open() || n <= r.Max) }

// String renders the range as written.
func (r Range) String() string {
	switch {
	case r.Open():
		return fmt.Sprintf("%d+", r.Min)
	case r.Min == r.Max:
		return strconv.Itoa(r.Min)
	}
	return fmt.Sprintf("%d-%d", r.Min, r.Max)
}

// Label renders the range in Chinese with a unit ("1–7 天", "31 天及以上").
func (r Range) Label(unit string) string {
	switch {
	case r.Open():
		return fmt.Sprintf("%d %s及以上", r.Min, unit)
	case r.Min == r.Max:
		return fmt.Sprintf("%d %s", r.Min, unit)
	}
	return fmt.Sprintf("%d–%d %s", r.Min, r.Max, unit)
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Range) UnmarshalText(b []byte) error {
	v, err := ParseRange(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (r Range) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Today is the day it is in plan time (Asia/Shanghai) at real time now,
// on a clock that may run a demo's year in minutes.
func Today(c duban.Clock, now time.Time) Date {
	y, m, d := c.Virtual(now).In(duban.Shanghai).Date()
	return Date{y, m, d}
}

// LateBandFor returns the band a task done days late falls in.
func (s *Scoring) LateBandFor(days int) (LateBand, bool) {
	for _, b := range s.Late {
		if b.Days.Contains(days) {
			return b, true
		}
	}
	return LateBand{}, false
}

// Points returns the points for n times (n ≥ 1) and the band used, if any.
func (c CountRule) Points(n int) (Points, *CountBand) {
	if n <= 0 {
		return 0, nil
	}
	for i, b := range c.Bands {
		if b.Times.Contains(n) {
			return b.Points, &c.Bands[i]
		}
	}
	return c.Each * Points(n), nil
}

// Set reports whether the rule scores anything.
func (c CountRule) Set() bool { return c.Each != 0 || len(c.Bands) > 0 }

// Weight returns the weight of a template in a section (1 unless set).
func (s *Scoring) Weight(section, template string) Points {
	if w, ok := s.Weights.Templates[template]; ok {
		return w
	}
	if w, ok := s.Weights.Sections[section]; ok {
		return w
	}
	return 100
}

// BonusItem returns the bonus item with the id.
func (s *Scoring) BonusItem(id string) (Bonus, bool) {
	for _, b := range s.Bonus {
		if b.ID == id {
			return b, true
		}
	}
	return Bonus{}, false
}

// scoringBonusIDRE is a bonus item's id: lowercase words joined by hyphens.
var scoringBonusIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// scoring checks the 考核 rules, when the plan has them.
func (v *validator) scoring() {
	s := v.p.Scoring
	if s == nil {
		return
	}
	const sp = "scoring"
	if v.has(sp+".full") && s.Full <= 0 {
		v.report(sp+".full", "满分 full 为 %s，必须大于 0", s.Full.Short())
	}
	switch {
	case !v.has(sp + ".on_time"):
		v.report(sp+".on_time", "缺少按期完成的得分 on_time（如 10）")
	case s.OnTime <= 0:
		v.report(sp+".on_time", "按期完成的得分 on_time 为 %s，必须大于 0", s.OnTime.Short())
	}
	if !v.has(sp + ".not_done") {
		v.report(sp+".not_done", "缺少逾期未完成的得分 not_done（如 0 或 -2）")
	}
	v.lateBands(sp+".late", s)
	if s.Extension > 0 {
		v.report(sp+".extension", "每次批准延期的得分 extension 为 %s：应为 0 或负数（扣分）", s.Extension.Short())
	}
	v.countRule(sp+".returned", s.Returned, "退回")
	v.countRule(sp+".urged", s.Urged, "催办")

	sections := map[string]bool{}
	templates := map[string]Template{}
	for _, sec := range v.p.Sections {
		sections[sec.ID] = true
		for _, t := range sec.Templates {
			templates[t.ID] = t
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.Weights.Sections)) {
		wp := sp + ".weights.sections." + id
		if !sections[id] {
			v.report(wp, "章节 %q 不存在", id)
		} else if s.Weights.Sections[id] <= 0 {
			v.report(wp, "权重 %s 无效：必须大于 0", s.Weights.Sections[id].Short())
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.Weights.Templates)) {
		wp := sp + ".weights.templates." + id
		if _, ok := templates[id]; !ok {
			v.report(wp, "任务模板 %q 不存在", id)
		} else if s.Weights.Templates[id] <= 0 {
			v.report(wp, "权重 %s 无效：必须大于 0", s.Weights.Templates[id].Short())
		}
	}
	listed := map[string]string{}
	for i, id := range s.Percent {
		p := fmt.Sprintf("%s.percent[%d]", sp, i)
		t, ok := templates[id]
		switch {
		case !ok:
			v.report(p, "任务模板 %q 不存在", id)
		case t.Kind != duban.KindRatio && t.Kind != duban.KindCount:
			v.report(p, "任务 %s 为 %s 类，按完成比例计分只适用于 ratio 或 count 类任务", id, t.Kind)
		case listed[id] != "":
			v.report(p, "任务 %s 已列在 %s", id, listed[id])
		default:
			listed[id] = p
		}
	}
	for i, id := range s.YesNo {
		p := fmt.Sprintf("%s.yes_no[%d]", sp, i)
		if _, ok := templates[id]; !ok {
			v.report(p, "任务模板 %q 不存在", id)
		} else if listed[id] != "" {
			v.report(p, "任务 %s 已列在 %s：一项任务只能有一种计分方式", id, listed[id])
		} else {
			listed[id] = p
		}
	}
	v.bonusItems(sp+".bonus", s.Bonus)
}

func (v *validator) lateBands(path string, s *Scoring) {
	if len(s.Late) == 0 {
		v.report(path, "缺少逾期完成的得分档 late（如 - {days: 1-7, points: 8}）")
		return
	}
	// Bands are compared with on_time and not_done only when those read well.
	compare := v.has("scoring.on_time") && !v.d.failedAt("scoring.on_time") && !v.d.failedAt("scoring.not_done")
	next := 1
	for i, b := range s.Late {
		bp := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case !v.has(bp + ".days"):
			v.report(bp+".days", "缺少逾期天数区间 days（如 1-7、31+）")
			return
		case b.Days.Min != next:
			v.report(bp+".days", "逾期天数区间 %s 应从第 %d 天起：各档须从 1 天起首尾相接", b.Days, next)
			return
		case b.Days.Open() && i != len(s.Late)-1:
			v.report(bp+".days", "区间 %s 没有上限，只能是最后一档", b.Days)
			return
		}
		if !v.has(bp + ".points") {
			v.report(bp+".points", "缺少本档得分 points")
		} else if compare && (b.Points > s.OnTime || (i > 0 && b.Points > s.Late[i-1].Points) || b.Points < s.NotDone) {
			v.report(bp+".points", "逾期 %s 天的得分 %s 无效：应不高于按期完成（%s）和上一档，不低于未完成（%s）",
				b.Days, b.Points.Short(), s.OnTime.Short(), s.NotDone.Short())
		}
		next = b.Days.Max + 1
	}
	if last := s.Late[len(s.Late)-1]; !last.Days.Open() {
		v.report(fmt.Sprintf("%s[%d].days", path, len(s.Late)-1), "最后一档 %s 应没有上限，如 %d+，以涵盖更晚完成的任务", last.Days, last.Days.Max+1)
	}
}

func (v *validator) countRule(path string, c CountRule, what string) {
	if c.Each > 0 {
		v.report(path+".each", "每次%s的得分 %s 无效：应为 0 或负数（扣分）", what, c.Each.Short())
	}
	if len(c.Bands) == 0 {
		return
	}
	if v.has(path + ".each") {
		v.report(path+".each", "each 与 bands 只能二选一：按次计分或按档计分")
	}
	next := 1
	for i, b := range c.Bands {
		bp := fmt.Sprintf("%s.bands[%d]", path, i)
		switch {
		case !v.has(bp + ".times"):
			v.report(bp+".times", "缺少次数区间 times（如 1-2、3+）")
			return
		case b.Times.Min != next:
			v.report(bp+".times", "次数区间 %s 应从第 %d 次起：各档须从 1 次起首尾相接", b.Times, next)
			return
		case b.Times.Open() && i != len(c.Bands)-1:
			v.report(bp+".times", "区间 %s 没有上限，只能是最后一档", b.Times)
			return
		}
		switch {
		case !v.has(bp + ".points"):
			v.report(bp+".points", "缺少本档得分 points")
		case b.Points > 0:
			v.report(bp+".points", "%s %s 次的得分 %s 无效：应为 0 或负数（扣分）", what, b.Times, b.Points.Short())
		}
		next = b.Times.Max + 1
	}
	if last := c.Bands[len(c.Bands)-1]; !last.Times.Open() {
		v.report(fmt.Sprintf("%s.bands[%d].times", path, len(c.Bands)-1), "最后一档 %s 应没有上限，如 %d+", last.Times, last.Times.Max+1)
	}
}

func (v *validator) bonusItems(path string, items []Bonus) {
	ids := map[string]string{}
	for i, b := range items {
		bp := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case b.ID == "":
			v.report(bp+".id", "缺少加分项编号 id（如 provincial-promotion）")
		case !scoringBonusIDRE.MatchString(b.ID):
			v.report(bp+".id", "加分项编号 %q 无效：只能用小写字母、数字和连字符，不超过 40 个字符", b.ID)
		case ids[b.ID] != "":
			v.report(bp+".id", "加分项编号 %q 重复（%s 已使用）", b.ID, ids[b.ID])
		default:
			ids[b.ID] = bp
		}
		if strings.TrimSpace(b.Title) == "" {
			v.report(bp+".title", "缺少加分项名称 title（如 经验被省级推广）")
		}
		switch {
		case !v.has(bp + ".points"):
			v.report(bp+".points", "缺少每次加分的分值 points（扣分项写负数）")
		case b.Points == 0:
			v.report(bp+".points", "分值不能为 0")
		}
		if v.has(bp+".max") && (b.Max == 0 || (b.Max > 0) != (b.Points > 0) || abs(b.Max) < abs(b.Points)) {
			v.report(bp+".max", "全年上限 %s 无效：应与分值 %s 同号，且不小于单次分值", b.Max.Short(), b.Points.Short())
		}
	}
}

func abs(p Points) Points {
	if p < 0 {
		return -p
	}
	return p
}
