package plan

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
)

// ValidID says whether id can name a plan: lower-case letters, digits and
// hyphens, starting with a letter or digit.
func ValidID(id string) bool { return planIDRE.MatchString(id) }

var (
	planIDRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	sectionIDRE  = regexp.MustCompile(`^\d+$`)
	templateIDRE = regexp.MustCompile(`^\d+\.\d+$`)
)

// responsibleLevels are the levels that can carry an obligation: villages
// are not in the hierarchy, so they can only be the base of a ratio.
var responsibleLevels = []duban.Level{duban.LevelProvince, duban.LevelCity, duban.LevelCounty, duban.LevelTownship}

var relatives = []Relative{RelSelf, RelParent, RelCity, RelProvince}

var periods = []Period{PeriodMonth, PeriodQuarter, PeriodHalf, PeriodFestivals}

// validator checks the meaning of a decoded plan. Errors go through the
// decoder, which knows where each field path is and which values already
// failed to decode.
type validator struct {
	d *decoder
	p *Plan
	h *org.Hierarchy // nil skips the checks that need real units
	// climbChecked remembers which (chain, level) pairs were checked, so a
	// chain that fails for a level is reported once, not once per template.
	climbChecked map[string]bool
	// yearOK is false when the plan year is missing or wrong, so due dates
	// are not also reported as outside it.
	yearOK bool
}

// responsibleLevel is a level some template's units sit at, with the path
// that put it there (for errors about that level).
type responsibleLevel struct {
	level duban.Level
	path  string
}

func (v *validator) report(path, format string, args ...any) { v.d.report(path, format, args...) }

func (v *validator) has(path string) bool { _, ok := v.d.pos[path]; return ok }

func (v *validator) validate() {
	p := v.p
	v.climbChecked = map[string]bool{}
	switch {
	case p.ID == "":
		v.report("plan", "缺少计划编号 plan（如 hunan-2021）")
	case !planIDRE.MatchString(p.ID):
		v.report("plan", "计划编号 %q 无效：只能用小写字母、数字和连字符，且以字母或数字开头", p.ID)
	}
	switch {
	case p.Year == 0:
		v.report("year", "缺少年度 year（如 2021）")
	case p.Year < 2000 || p.Year > 2100:
		v.report("year", "年度 %d 无效：应在 2000 到 2100 之间", p.Year)
	default:
		v.yearOK = !v.d.failedAt("year")
	}
	if strings.TrimSpace(p.Title) == "" {
		v.report("title", "缺少计划标题 title")
	}
	if strings.TrimSpace(p.Source) == "" {
		v.report("source", "缺少来源文件 source")
	}
	if p.Zones != "" && p.Zones != ZonesInclude && p.Zones != ZonesExclude {
		v.report("zones", "zones %q 无效：应为 include（开发区、管理区承担县级任务）或 exclude（不承担）", string(p.Zones))
	}
	v.ladders()
	v.chains()
	v.defaults()
	v.sections()
	v.scoring()
}

func (v *validator) ladders() {
	for _, name := range slices.Sorted(maps.Keys(v.p.Ladders)) {
		path := join("ladders", name)
		steps := v.p.Ladders[name]
		if len(steps) == 0 {
			v.report(path, "升级梯度 %q 没有步骤", name)
		}
		for i, s := range steps {
			sp := fmt.Sprintf("%s[%d]", path, i)
			if i > 0 {
				prev := steps[i-1].After
				switch {
				case !v.has(sp + ".after"):
					v.report(sp+".after", "缺少升级时间 after（如 3d）")
				case s.After.Working != prev.Working:
					v.report(sp+".after", "升级时间 %s 与上一步 %s 单位不同：同一梯度内应统一用自然日（d）或工作日（wd）", s.After, prev)
				case s.After.Days < prev.Days:
					v.report(sp+".after", "升级时间 %s 早于上一步的 %s：梯度的时间不能递减", s.After, prev)
				}
			}
			if len(s.Notify) == 0 {
				v.report(sp+".notify", "升级步骤没有通知对象 notify")
			}
			for j, n := range s.Notify {
				np := fmt.Sprintf("%s.notify[%d]", sp, j)
				v.relative(np+".unit", n.Unit, "通知单位")
				if len(n.Roles) == 0 {
					v.report(np+".roles", "至少要通知一个角色 roles")
				}
				for k, r := range n.Roles {
					if !r.Valid() {
						v.report(fmt.Sprintf("%s.roles[%d]", np, k), "角色 %q 无效：应为 %s", r, joinQuoted(duban.Roles))
					}
				}
			}
		}
	}
}

func (v *validator) chains() {
	for _, name := range slices.Sorted(maps.Keys(v.p.Chains)) {
		path := join("chains", name)
		steps := v.p.Chains[name]
		if len(steps) == 0 {
			v.report(path, "审批链 %q 没有步骤", name)
		}
		for i, s := range steps {
			sp := fmt.Sprintf("%s[%d]", path, i)
			v.relative(sp+".approver", s.Approver, "审批单位")
			switch {
			case !v.has(sp + ".sla"):
				v.report(sp+".sla", "缺少审批时限 sla（如 5wd）")
			case s.SLA.Days <= 0:
				v.report(sp+".sla", "审批时限 %s 无效：必须大于 0 天", s.SLA)
			}
			sla := s.SLA
			v.reminders(sp+".reminders", s.Reminders, &sla)
			v.ladderRef(sp+".escalation", s.Escalation)
			v.signing(sp, s)
		}
	}
}

func (v *validator) defaults() {
	d := v.p.Defaults
	v.reminders("defaults.reminders", d.Reminders, nil)
	v.ladderRef("defaults.escalation", d.Escalation)
	v.approvalMap("defaults.approval", d.Approval)
}

func (v *validator) sections() {
	if len(v.p.Sections) == 0 {
		v.report("sections", "计划没有任何章节 sections")
	}
	sectionIDs := map[string]string{}
	templateIDs := map[string]string{}
	for i, s := range v.p.Sections {
		sp := fmt.Sprintf("sections[%d]", i)
		switch {
		case s.ID == "":
			v.report(sp+".id", "缺少章节编号 id")
		case !sectionIDRE.MatchString(s.ID):
			v.report(sp+".id", "章节编号 %q 无效：应为数字，如 \"2\"", s.ID)
		default:
			if prev, dup := sectionIDs[s.ID]; dup {
				v.report(sp+".id", "章节编号 %q 重复（%s 已使用）", s.ID, prev)
			} else {
				sectionIDs[s.ID] = sp
			}
		}
		if strings.TrimSpace(s.Title) == "" {
			v.report(sp+".title", "缺少章节标题 title")
		}
		for j, t := range s.Templates {
			v.template(fmt.Sprintf("%s.templates[%d]", sp, j), s, t, templateIDs)
		}
	}
}

func (v *validator) template(tp string, s Section, t Template, ids map[string]string) {
	switch {
	case t.ID == "":
		v.report(tp+".id", "缺少任务编号 id")
	case !templateIDRE.MatchString(t.ID):
		v.report(tp+".id", "任务编号 %q 无效：应为“章节号.序号”，如 \"2.1\"", t.ID)
	case sectionIDRE.MatchString(s.ID) && !strings.HasPrefix(t.ID, s.ID+"."):
		v.report(tp+".id", "任务编号 %q 应以所在章节的编号 %q 开头，如 \"%s.1\"", t.ID, s.ID, s.ID)
	}
	if t.ID != "" {
		if prev, dup := ids[t.ID]; dup {
			v.report(tp+".id", "任务编号 %q 重复（%s 已使用）", t.ID, prev)
		} else {
			ids[t.ID] = tp
		}
	}
	if strings.TrimSpace(t.Title) == "" {
		v.report(tp+".title", "缺少任务标题 title")
	}
	if strings.TrimSpace(t.Quote) == "" {
		v.report(tp+".quote", "缺少原文引用 quote：应摘录文件中提出这项任务的原话")
	}
	levels := v.responsible(tp+".responsible", t.Responsible)

	switch {
	case t.Kind == "":
		v.report(tp+".kind", "缺少任务类型 kind（%s）", joinQuoted(duban.Kinds))
	case !t.Kind.Valid():
		v.report(tp+".kind", "任务类型 %q 无效：应为 %s", t.Kind, joinQuoted(duban.Kinds))
	}
	switch {
	case t.Kind == duban.KindCount && !v.has(tp+".target"):
		v.report(tp+".target", "数量目标任务缺少目标数 target")
	case t.Kind == duban.KindCount && t.Target < 1:
		v.report(tp+".target", "目标数 %d 无效：至少为 1", t.Target)
	case t.Kind != duban.KindCount && v.has(tp+".target"):
		v.report(tp+".target", "只有 count 类任务可以设置目标数 target，本任务为 %s", t.Kind)
	}
	switch {
	case t.Kind == duban.KindRatio && t.Ratio == nil:
		v.report(tp+".ratio", "覆盖比例任务缺少 ratio（如 num: 1, den: 3, of: village）")
	case t.Kind == duban.KindRatio:
		v.ratio(tp+".ratio", *t.Ratio, levels)
	case v.has(tp + ".ratio"):
		v.report(tp+".ratio", "只有 ratio 类任务可以设置比例 ratio，本任务为 %s", t.Kind)
	}
	v.due(tp+".due", t)
	v.reminders(tp+".reminders", t.Reminders, nil)
	v.ladderRef(tp+".escalation", t.Escalation)
	v.approvalMap(tp+".approval", t.Approval)

	for _, rl := range levels {
		chain, from := t.Approval[rl.level], tp+".approval."+string(rl.level)
		if chain == "" {
			chain, from = v.p.Defaults.Approval[rl.level], "defaults.approval."+string(rl.level)
		}
		if chain == "" {
			v.report(rl.path, "%s单位没有审批链：请在本任务的 approval 或 defaults.approval 中为 %s 指定", rl.level.Label(), rl.level)
			continue
		}
		v.climbs(from, chain, rl.level)
	}
}

// responsible checks who carries a template and returns the distinct levels
// they sit at, each with the path of its first mention.
func (v *validator) responsible(rp string, r Responsible) []responsibleLevel {
	if len(r.Levels) == 0 && len(r.Units) == 0 {
		v.report(rp, "未指定责任单位：responsible 需要 levels 或 units")
	}
	var out []responsibleLevel
	byLevel := map[duban.Level]bool{}
	for k, l := range r.Levels {
		lp := fmt.Sprintf("%s.levels[%d]", rp, k)
		switch {
		case !slices.Contains(responsibleLevels, l):
			v.report(lp, "未知层级 %q：责任层级应为 %s", l, joinQuoted(responsibleLevels))
		case byLevel[l]:
			v.report(lp, "层级 %q 重复", l)
		default:
			byLevel[l] = true
			out = append(out, responsibleLevel{l, lp})
		}
	}
	units := map[string]bool{}
	for k, code := range r.Units {
		up := fmt.Sprintf("%s.units[%d]", rp, k)
		lv, ok := v.unitLevel(code)
		switch {
		case !ok:
			v.report(up, "单位代码 %q 不在组织架构中", code)
			continue
		case units[code]:
			v.report(up, "单位 %s 重复", code)
			continue
		case !slices.Contains(responsibleLevels, lv):
			v.report(up, "单位 %s 为%s，不能作为责任单位", code, lv.Label())
			continue
		case slices.Contains(r.Levels, lv):
			v.report(up, "单位 %s 已包含在责任层级 %s 中", code, lv)
			continue
		}
		units[code] = true
		if !byLevel[lv] {
			byLevel[lv] = true
			out = append(out, responsibleLevel{lv, up})
		}
	}
	return out
}

func (v *validator) unitLevel(code string) (duban.Level, bool) {
	if v.h == nil {
		l, ok := duban.LevelOfCode(code)
		return l, ok && slices.Contains(responsibleLevels, l)
	}
	u, ok := v.h.Get(code)
	return u.Level, ok
}

func (v *validator) ratio(rp string, r Ratio, levels []responsibleLevel) {
	switch {
	case r.Num <= 0:
		v.report(rp+".num", "比例分子 num 为 %d，必须大于 0", r.Num)
	case r.Den <= 0:
		v.report(rp+".den", "比例分母 den 为 %d，必须大于 0", r.Den)
	case r.Num > r.Den:
		v.report(rp+".num", "比例 %d/%d 无效：分子不能大于分母", r.Num, r.Den)
	}
	switch {
	case r.Of == "":
		v.report(rp+".of", "缺少比例所覆盖的下级层级 of（如 village）")
	case !r.Of.Valid():
		v.report(rp+".of", "未知层级 %q：应为 %s", r.Of, joinQuoted(duban.Levels))
	default:
		for _, rl := range levels {
			if r.Of.Depth() <= rl.level.Depth() {
				v.report(rp+".of", "比例层级 %s 应低于责任层级 %s", r.Of, rl.level)
				break
			}
		}
	}
}

func (v *validator) due(dp string, t Template) {
	d := t.Due
	v.festivalDue(dp, t)
	switch {
	case d.Basis == "":
		v.report(dp+".basis", "缺少日期依据 basis（stated 或 year_end）")
	case d.Basis != BasisStated && d.Basis != BasisYearEnd:
		v.report(dp+".basis", "日期依据 %q 无效：应为 stated 或 year_end", d.Basis)
	}
	if t.Kind == duban.KindRecurring {
		switch {
		case d.Every == "":
			v.report(dp+".every", "定期任务缺少周期 every（%s）", joinQuoted(periods))
		case !slices.Contains(periods, d.Every):
			v.report(dp+".every", "周期 %q 无效：应为 %s", d.Every, joinQuoted(periods))
		}
		if v.has(dp + ".date") {
			v.report(dp+".date", "定期任务不设日期 date：每期在期末（加宽限 grace）到期")
		}
		if d.Basis == BasisYearEnd {
			v.report(dp+".basis", "定期任务的日期依据应为 stated：year_end 只用于按年底截止的任务")
		}
		return
	}
	if !t.Kind.Valid() {
		return
	}
	if v.has(dp + ".every") {
		v.report(dp+".every", "只有 recurring 类任务可以设置周期 every，本任务为 %s", t.Kind)
	}
	if v.has(dp + ".grace") {
		v.report(dp+".grace", "只有 recurring 类任务可以设置宽限 grace，本任务为 %s", t.Kind)
	}
	year := v.p.Year
	switch {
	case d.Date.IsZero():
		v.report(dp+".date", "缺少截止日期 date（YYYY-MM-DD）")
	case !v.yearOK:
		// Dates cannot be judged against a year that is itself wrong.
	case d.Date.Year != year && d.Date.Year != year+1:
		v.report(dp+".date", "日期 %s 不在计划年度 %d 或次年", d.Date, year)
	case d.Basis == BasisYearEnd && d.Date != (Date{year, time.December, 31}):
		v.report(dp+".date", "日期依据为 year_end 时日期应为 %d-12-31，实为 %s", year, d.Date)
	}
}

// reminders checks offsets before a deadline; within an approval step they
// must also fall inside the SLA.
func (v *validator) reminders(path string, rs []Offset, sla *Offset) {
	seen := map[Offset]bool{}
	for i, r := range rs {
		rp := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case r.Days <= 0:
			v.report(rp, "提醒 %s 无效：必须大于 0 天", r)
		case seen[r]:
			v.report(rp, "提醒 %s 重复", r)
		case sla != nil && sla.Days > 0 && r.Days >= sla.Days:
			v.report(rp, "提醒 %s 无效：应少于审批时限 %s", r, *sla)
		}
		seen[r] = true
	}
}

func (v *validator) relative(path string, r Relative, what string) {
	switch {
	case r == "":
		v.report(path, "缺少%s（%s）", what, joinQuoted(relatives))
	case !slices.Contains(relatives, r):
		v.report(path, "%s %q 无效：应为 %s", what, r, joinQuoted(relatives))
	}
}

func (v *validator) ladderRef(path, name string) {
	if name == "" {
		return
	}
	if _, ok := v.p.Ladders[name]; !ok {
		v.report(path, "升级梯度 %q 不存在（已定义：%s）", name, joinQuoted(slices.Sorted(maps.Keys(v.p.Ladders))))
	}
}

// approvalMap checks a level → chain map, and that each chain climbs for its level.
func (v *validator) approvalMap(path string, m map[duban.Level]string) {
	for _, l := range slices.Sorted(maps.Keys(m)) {
		ap := join(path, string(l))
		name := m[l]
		if !slices.Contains(responsibleLevels, l) {
			v.report(ap, "未知层级 %q：审批链按责任层级指定，应为 %s", l, joinQuoted(responsibleLevels))
			continue
		}
		switch {
		case name == "":
			v.report(ap, "缺少审批链名称")
		case v.p.Chains[name] == nil:
			v.report(ap, "审批链 %q 不存在（已定义：%s）", name, joinQuoted(slices.Sorted(maps.Keys(v.p.Chains))))
		default:
			v.climbs(ap, name, l)
		}
	}
}

// signing checks a step's 会签/或签: the units beside the approver, how
// they sign, how many approvers of each.
func (v *validator) signing(sp string, s ApprovalStep) {
	seen := map[Relative]bool{s.Approver: true}
	for i, r := range s.With {
		wp := fmt.Sprintf("%s.with[%d]", sp, i)
		v.relative(wp, r, "会签单位")
		if seen[r] {
			v.report(wp, "签署单位 %s 重复", r)
		}
		seen[r] = true
	}
	switch {
	case s.Signatures < 0 || s.Signatures > 5:
		v.report(sp+".signatures", "每个单位的签署人数 %d 无效：应为 1 到 5", s.Signatures)
	case s.Sign != "" && s.Sign != duban.SignAll && s.Sign != duban.SignAny:
		v.report(sp+".sign", "签署方式 %q 无效：应为 all（会签）或 any（或签）", s.Sign)
	case s.Sign == "" && (len(s.With) > 0 || s.Signatures > 1):
		v.report(sp+".sign", "有多个签署单位或签署人时须写明签署方式 sign：all（会签，全部同意）或 any（或签，一人同意即可）")
	case s.Sign != "" && len(s.With) == 0 && s.Signatures <= 1:
		v.report(sp+".sign", "只有一个签署人时不需要签署方式 sign")
	}
}

// climbs checks once per (chain, level) that the chain climbs the hierarchy
// for units at that level, and reports the failing step.
func (v *validator) climbs(from, name string, l duban.Level) {
	key := name + "|" + string(l)
	chain, ok := v.p.Chains[name]
	if !ok || v.climbChecked[key] {
		return
	}
	v.climbChecked[key] = true
	for _, s := range chain {
		if !slices.Contains(relatives, s.Approver) {
			return // already reported on the step
		}
	}
	if i, reason, ok := ChainClimbs(chain, l); !ok {
		v.report(fmt.Sprintf("chains.%s[%d].approver", name, i), "审批链 %q 不能用于%s单位（%s 指定）：%s", name, l.Label(), from, reason)
	}
}

func joinQuoted[T ~string](vals []T) string {
	out := make([]string, len(vals))
	for i, s := range vals {
		out[i] = string(s)
	}
	return strings.Join(out, "、")
}
