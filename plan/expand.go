package plan

import (
	"fmt"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/calendar"
	"github.com/duban-dev/duban/org"
)

// ResolveLevel returns the level a relative unit lands on for a unit at
// level l, or false when there is none (the parent of the province).
func ResolveLevel(rel Relative, l duban.Level) (duban.Level, bool) {
	d := l.Depth()
	switch rel {
	case RelSelf:
		return l, d >= 0
	case RelParent:
		if d <= 0 {
			return "", false
		}
		return duban.Levels[d-1], true
	case RelCity:
		if d < 1 {
			return "", false
		}
		return duban.LevelCity, true
	case RelProvince:
		return duban.LevelProvince, d >= 0
	}
	return "", false
}

// ChainClimbs checks that each step of a chain, for a unit at level l, lands
// strictly above the one before it. It returns the index of the first step
// that does not, with a reason in Chinese.
func ChainClimbs(steps []ApprovalStep, l duban.Level) (int, string, bool) {
	prev := l.Depth() + 1
	for i, s := range steps {
		lv, ok := ResolveLevel(s.Approver, l)
		if !ok {
			return i, fmt.Sprintf("%s单位没有“%s”这一级", l.Label(), s.Approver), false
		}
		if lv.Depth() >= prev {
			return i, fmt.Sprintf("第 %d 步（%s，%s）没有高于上一步，审批链必须逐级向上", i+1, s.Approver, lv.Label()), false
		}
		prev = lv.Depth()
	}
	return 0, "", true
}

// resolveUnit finds the unit a relative name lands on for unit u.
func resolveUnit(h *org.Hierarchy, rel Relative, u org.Unit) (org.Unit, bool) {
	lv, ok := ResolveLevel(rel, u.Level)
	if !ok {
		return org.Unit{}, false
	}
	return h.Ancestor(u.Code, lv)
}

// Periods returns the labels and last days of a recurring template's periods.
func Periods(every Period, year int) ([]string, []Date) {
	var labels []string
	var ends []Date
	lastDay := func(m time.Month) Date {
		t := time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC)
		return Date{year, m, t.Day()}
	}
	switch every {
	case PeriodMonth:
		for m := time.January; m <= time.December; m++ {
			labels = append(labels, fmt.Sprintf("M%02d", int(m)))
			ends = append(ends, lastDay(m))
		}
	case PeriodQuarter:
		for q := 1; q <= 4; q++ {
			labels = append(labels, fmt.Sprintf("Q%d", q))
			ends = append(ends, lastDay(time.Month(q*3)))
		}
	case PeriodHalf:
		labels = []string{"H1", "H2"}
		ends = []Date{lastDay(time.June), lastDay(time.December)}
	}
	return labels, ends
}

// PeriodLabel is the Chinese name of a period label.
func PeriodLabel(p string) string {
	switch {
	case p == "":
		return ""
	case p == "H1":
		return "上半年"
	case p == "H2":
		return "下半年"
	case p[0] == 'Q':
		return "第" + map[string]string{"1": "一", "2": "二", "3": "三", "4": "四"}[p[1:]] + "季度"
	case p[0] == 'M':
		var m int
		fmt.Sscanf(p[1:], "%d", &m)
		return fmt.Sprintf("%d月", m)
	}
	return p
}

// InstanceID is the stable id of an instance, also its workflow id.
//
// The id is the instance's workflow id too, which Temporal carries in gRPC
// headers: it must be printable ASCII (CheckInstanceID), so a period is
// named in ASCII (a festival by its key, chunjie for 春节).
func InstanceID(year int, templateID, unit, period string) string {
	id := fmt.Sprintf("%d/%s/%s", year, templateID, unit)
	if period != "" {
		id += "/" + period
	}
	return id
}

// CheckInstanceID refuses an instance id that cannot be a workflow id:
// empty, or with anything but printable ASCII.
func CheckInstanceID(id string) error {
	if id == "" {
		return fmt.Errorf("empty instance id")
	}
	for _, r := range id {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("instance id %q: %q is not printable ASCII (the id is the workflow's id, which Temporal sends in gRPC headers)", id, r)
		}
	}
	return nil
}

// Expand turns a validated plan into its task instances for a year (the
// plan's own year, or another one: dates keep their month and day). Units
// come from the hierarchy; instances are ordered by template, then unit, then
// period.
func Expand(p *Plan, h *org.Hierarchy, year int) ([]duban.TaskSpec, error) {
	if year == 0 {
		year = p.Year
	}
	var out []duban.TaskSpec
	for _, st := range p.Templates() {
		t := st.Template
		units, err := responsibleUnits(h, t.Responsible, p.Zones)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", t.ID, err)
		}
		for _, u := range units {
			base, err := instanceBase(p, h, st, u, year)
			if err != nil {
				return nil, fmt.Errorf("template %s unit %s: %w", t.ID, u.Code, err)
			}
			if t.Kind != duban.KindRecurring {
				base.ID = InstanceID(year, t.ID, u.Code, "")
				base.Due = t.Due.Date.InYear(year + t.Due.Date.Year - p.Year).EndOfDay()
				out = append(out, base)
				continue
			}
			if t.Due.Every == PeriodFestivals {
				dues, err := FestivalDues(t.Due, p.Year, year)
				if err != nil {
					return nil, fmt.Errorf("template %s: %w", t.ID, err)
				}
				for _, fd := range dues {
					spec := base
					spec.ID = InstanceID(year, t.ID, u.Code, fd.Key)
					spec.Period = fd.Name
					spec.Due = fd.Due
					out = append(out, spec)
				}
				continue
			}
			labels, ends := Periods(t.Due.Every, year)
			for i, label := range labels {
				spec := base
				spec.ID = InstanceID(year, t.ID, u.Code, label)
				spec.Period = label
				spec.Due = calendar.After(ends[i].EndOfDay(), t.Due.Grace.Duban())
				out = append(out, spec)
			}
		}
	}
	for _, spec := range out {
		if err := CheckInstanceID(spec.ID); err != nil {
			return nil, fmt.Errorf("template %s: %w", spec.TemplateID, err)
		}
	}
	return out, nil
}

// responsibleUnits are a template's units: every unit of its levels (less
// the development and management zones, when the plan excludes them from
// county tasks), then the units it names.
func responsibleUnits(h *org.Hierarchy, r Responsible, zones Zones) ([]org.Unit, error) {
	var units []org.Unit
	seen := map[string]bool{}
	for _, l := range r.Levels {
		for _, u := range h.AtLevel(l) {
			if l == duban.LevelCounty && !zones.Includes() && org.IsZone(u.Code) {
				continue
			}
			if !seen[u.Code] {
				seen[u.Code] = true
				units = append(units, u)
			}
		}
	}
	for _, c := range r.Units {
		u, ok := h.Get(c)
		if !ok {
			return nil, fmt.Errorf("unit %s is not in the hierarchy", c)
		}
		if !seen[u.Code] {
			seen[u.Code] = true
			units = append(units, u)
		}
	}
	return units, nil
}

func instanceBase(p *Plan, h *org.Hierarchy, st SectionTemplate, u org.Unit, year int) (duban.TaskSpec, error) {
	t := st.Template
	spec := duban.TaskSpec{
		PlanID:           p.ID,
		Year:             year,
		TemplateID:       t.ID,
		Section:          st.Section.ID,
		SectionTitle:     st.Section.Title,
		DueBasis:         string(t.Due.Basis),
		DueNote:          t.Due.Note,
		Title:            t.Title,
		Quote:            t.Quote,
		Kind:             t.Kind,
		UnitCode:         u.Code,
		UnitName:         u.Name,
		UnitLevel:        u.Level,
		Target:           t.Target,
		EvidenceRequired: t.Evidence.Required,
		EvidenceNote:     t.Evidence.Note,
	}
	if t.Ratio != nil {
		spec.Ratio = &duban.Ratio{Num: t.Ratio.Num, Den: t.Ratio.Den, Of: t.Ratio.Of, Base: h.CountBelow(u.Code, t.Ratio.Of)}
	}
	reminders := t.Reminders
	if reminders == nil {
		reminders = p.Defaults.Reminders
	}
	for _, r := range reminders {
		spec.Reminders = append(spec.Reminders, r.Duban())
	}
	spec.RemindersOnWorkingDays = p.Defaults.RemindersOnWorkingDays
	if t.RemindersOnWorkingDays != nil {
		spec.RemindersOnWorkingDays = *t.RemindersOnWorkingDays
	}
	ladder := t.Escalation
	if ladder == "" {
		ladder = p.Defaults.Escalation
	}
	spec.Escalation = resolveLadder(h, p.Ladders[ladder], u)

	chainName := t.Approval[u.Level]
	if chainName == "" {
		chainName = p.Defaults.Approval[u.Level]
	}
	chain, ok := p.Chains[chainName]
	if !ok {
		return spec, fmt.Errorf("no approval chain for level %s", u.Level)
	}
	for _, s := range chain {
		approver, ok := resolveUnit(h, s.Approver, u)
		if !ok {
			return spec, fmt.Errorf("approval step %q has no unit above %s", s.Approver, u.Code)
		}
		step := duban.ApprovalStep{Unit: approver.Code, UnitName: approver.Name, SLA: s.SLA.Duban()}
		if len(s.With) > 0 || s.Signatures > 1 {
			step.Mode = s.Sign
			step.Signers = []duban.Signer{{Unit: approver.Code, UnitName: approver.Name, Required: s.Signatures}}
			for _, r := range s.With {
				w, ok := resolveUnit(h, r, u)
				if !ok {
					return spec, fmt.Errorf("approval step signer %q has no unit above %s", r, u.Code)
				}
				if !step.Signs(w.Code) {
					step.Signers = append(step.Signers, duban.Signer{Unit: w.Code, UnitName: w.Name, Required: s.Signatures})
				}
			}
		}
		for _, r := range s.Reminders {
			step.Reminders = append(step.Reminders, r.Duban())
		}
		// An approval step's ladder is relative to the approving unit.
		step.Escalation = resolveLadder(h, p.Ladders[s.Escalation], approver)
		spec.Approval = append(spec.Approval, step)
	}
	spec.NoAddSigner = t.AddSigner != nil && !*t.AddSigner
	if parent, ok := h.Parent(u.Code); ok {
		spec.ExtensionUnit = parent.Code
	} else {
		spec.ExtensionUnit = u.Code
	}
	return spec, nil
}

// resolveLadder resolves relative recipients; a recipient with no unit (the
// parent of the province) is dropped, and repeats of a unit are merged.
func resolveLadder(h *org.Hierarchy, ladder []EscalationStep, u org.Unit) []duban.EscalationStep {
	var out []duban.EscalationStep
	for _, s := range ladder {
		step := duban.EscalationStep{After: s.After.Duban()}
		for _, n := range s.Notify {
			target, ok := resolveUnit(h, n.Unit, u)
			if !ok {
				continue
			}
			merged := false
			for i := range step.Notify {
				if step.Notify[i].Unit == target.Code {
					step.Notify[i].Roles = mergeRoles(step.Notify[i].Roles, n.Roles)
					merged = true
				}
			}
			if !merged {
				step.Notify = append(step.Notify, duban.Recipients{Unit: target.Code, Roles: append([]duban.Role(nil), n.Roles...)})
			}
		}
		if len(step.Notify) > 0 {
			out = append(out, step)
		}
	}
	return out
}

func mergeRoles(a, b []duban.Role) []duban.Role {
	for _, r := range b {
		found := false
		for _, x := range a {
			if x == r {
				found = true
			}
		}
		if !found {
			a = append(a, r)
		}
	}
	return a
}
