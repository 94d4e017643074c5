package duban

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// PlanChange is a change the province makes to one template of a launched
// plan mid-year, by a circular with its 文号: it moves the deadline, changes
// the reminders or the evidence note, or withdraws the template. It reaches
// every open instance of the template (or of the units it names) through
// the instance's workflow, and instances launched after it are launched
// with it applied.
type PlanChange struct {
	ID         int64  `json:"id"`
	PlanID     string `json:"plan_id"`
	Year       int    `json:"year"`
	TemplateID string `json:"template_id"`
	DocNo      string `json:"doc_no"` // 文号, e.g. 湘计生协〔2021〕12号
	Reason     string `json:"reason"`
	// Units limits the change to these units' instances; empty means every
	// unit's.
	Units []string `json:"units,omitempty"`
	// NewDue is the new deadline (its day ends at 23:59:59).
	NewDue *time.Time `json:"new_due,omitempty"`
	// Reminders replace the template's reminders before the deadline
	// (nil: unchanged; an empty list: none).
	Reminders *[]Offset `json:"reminders,omitempty"`
	// EvidenceNote replaces what the evidence must show (nil: unchanged).
	EvidenceNote *string `json:"evidence_note,omitempty"`
	// Withdraw cancels the template's open instances with the reason.
	Withdraw bool      `json:"withdraw,omitempty"`
	By       Actor     `json:"by"`
	At       time.Time `json:"at"`
}

// Limits of a plan change.
const (
	MaxDocNoLength     = 100
	MaxChangeReminders = 10
	MaxChangeUnits     = 5000
)

// ChangeRef names the change a transition carried out, for its timeline.
type ChangeRef struct {
	ID    int64  `json:"id"`
	DocNo string `json:"doc_no"`
}

// ChangeItem is one instance a change reaches, and what became of it.
type ChangeItem struct {
	InstanceID string    `json:"instance_id"`
	UnitName   string    `json:"unit_name"`
	Status     string    `json:"status"` // pending, applied, skipped, failed
	Detail     string    `json:"detail,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ApplyChanges applies changes, in order, to the instances they cover (a
// launch after a change starts its instances changed) and returns the ids
// of those a withdrawal covers, which are not to be launched. The list
// keeps its length and order: a launch reads it in batches by offset.
func ApplyChanges(specs []TaskSpec, changes []PlanChange) (withdrawn map[string]bool) {
	withdrawn = map[string]bool{}
	for i := range specs {
		for _, c := range changes {
			if !c.Covers(specs[i]) || c.Applied(specs[i]) {
				continue
			}
			if c.Withdraw {
				withdrawn[specs[i].ID] = true
				continue
			}
			c.ApplyTo(&specs[i])
		}
	}
	return withdrawn
}

// Ref is the change's reference for a timeline.
func (c PlanChange) Ref() *ChangeRef { return &ChangeRef{ID: c.ID, DocNo: c.DocNo} }

// Check reports every problem of the change on its own, each naming its
// field: what the API answers before anything is stored and the workflow
// checks again.
func (c PlanChange) Check() []*Error {
	var out []*Error
	add := func(field, format string, args ...any) { out = append(out, FieldError(field, format, args...)) }
	if strings.TrimSpace(c.DocNo) == "" {
		add("doc_no", "请填写变更依据的文号")
	} else if p := TextProblem(c.DocNo, MaxDocNoLength, false); p != "" {
		add("doc_no", "文号%s", p)
	}
	if strings.TrimSpace(c.Reason) == "" {
		add("reason", "请填写变更理由")
	} else if p := TextProblem(c.Reason, MaxReasonLength, true); p != "" {
		add("reason", "变更理由%s", p)
	}
	if HasControl(c.TemplateID) || c.TemplateID == "" {
		add("template_id", "请选择要变更的任务模板")
	}
	if len(c.Units) > MaxChangeUnits {
		add("units", "单位过多（最多 %d 个）", MaxChangeUnits)
	}
	for i, u := range c.Units {
		if u == "" || TextProblem(u, MaxNameLength, false) != "" {
			add(fmt.Sprintf("units[%d]", i), "单位代码或名称无效")
		}
	}
	changes := 0
	if c.NewDue != nil {
		changes++
		if !DateInRange(*c.NewDue) {
			add("new_due", "新的截止日期无效：%s", DateRangeProblem())
		}
	}
	if c.Reminders != nil {
		changes++
		rs := *c.Reminders
		if len(rs) > MaxChangeReminders {
			add("reminders", "提醒最多 %d 个", MaxChangeReminders)
		}
		for i, r := range rs {
			if r.Days < 1 || r.Days > 366 {
				add(fmt.Sprintf("reminders[%d].days", i), "提醒应在到期前 1 到 366 天之间")
			}
		}
	}
	if c.EvidenceNote != nil {
		changes++
		if p := TextProblem(*c.EvidenceNote, MaxNoteLength, true); p != "" {
			add("evidence_note", "佐证材料要求%s", p)
		}
	}
	switch {
	case c.Withdraw && changes > 0:
		add("withdraw", "撤销模板时不能同时调整截止日期、提醒或佐证要求")
	case !c.Withdraw && changes == 0:
		add("new_due", "请至少选择一项变更：截止日期、提醒、佐证材料要求，或撤销模板")
	}
	return out
}

// Covers reports whether the change applies to an instance of spec.
func (c PlanChange) Covers(spec TaskSpec) bool {
	return spec.PlanID == c.PlanID && spec.Year == c.Year && spec.TemplateID == c.TemplateID &&
		(len(c.Units) == 0 || slices.Contains(c.Units, spec.UnitCode))
}

// Applied reports whether spec already carries the change.
func (c PlanChange) Applied(spec TaskSpec) bool { return slices.Contains(spec.Changes, c.ID) }

// ApplyTo changes a spec as the change says and marks it applied; a
// withdrawal leaves the spec as it is (the instance is cancelled, or not
// launched at all).
func (c PlanChange) ApplyTo(spec *TaskSpec) {
	if c.NewDue != nil {
		spec.Due = DayEnd(*c.NewDue)
	}
	if c.Reminders != nil {
		spec.Reminders = slices.Clone(*c.Reminders)
	}
	if c.EvidenceNote != nil {
		spec.EvidenceNote = *c.EvidenceNote
	}
	spec.Changes = append(slices.Clone(spec.Changes), c.ID)
}

// Summary says in Chinese what the change does: 截止日期调整为 2022年1月31日；提醒调整为到期前 7、1 天.
func (c PlanChange) Summary() string {
	if c.Withdraw {
		return "撤销此项任务"
	}
	var parts []string
	if c.NewDue != nil {
		parts = append(parts, "截止日期调整为 "+c.NewDue.In(Shanghai).Format("2006年1月2日"))
	}
	if c.Reminders != nil {
		if len(*c.Reminders) == 0 {
			parts = append(parts, "取消到期前提醒")
		} else {
			var days []string
			for _, r := range *c.Reminders {
				unit := "天"
				if r.Working {
					unit = "个工作日"
				}
				days = append(days, fmt.Sprintf("%d%s", r.Days, unit))
			}
			parts = append(parts, "提醒调整为到期前 "+strings.Join(days, "、"))
		}
	}
	if c.EvidenceNote != nil {
		if *c.EvidenceNote == "" {
			parts = append(parts, "取消佐证材料说明")
		} else {
			parts = append(parts, "佐证材料要求调整为："+*c.EvidenceNote)
		}
	}
	return strings.Join(parts, "；")
}

// Same reports whether two changes say the same thing (the same 文号
// recorded twice is one change).
func (c PlanChange) Same(o PlanChange) bool {
	eqTime := func(a, b *time.Time) bool {
		return (a == nil) == (b == nil) && (a == nil || DayEnd(*a).Equal(DayEnd(*b)))
	}
	eqRem := func(a, b *[]Offset) bool { return (a == nil) == (b == nil) && (a == nil || slices.Equal(*a, *b)) }
	eqStr := func(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	units := func(u []string) []string { s := slices.Clone(u); slices.Sort(s); return s }
	return c.PlanID == o.PlanID && c.Year == o.Year && c.TemplateID == o.TemplateID && c.DocNo == o.DocNo &&
		c.Reason == o.Reason && c.Withdraw == o.Withdraw && eqTime(c.NewDue, o.NewDue) && eqRem(c.Reminders, o.Reminders) &&
		eqStr(c.EvidenceNote, o.EvidenceNote) && slices.Equal(units(c.Units), units(o.Units))
}
