// Package plan is the yearly work plan: its file format, validation and the
// expansion of its templates into task instances (one per responsible unit and
// period). The shipped plans are embedded.
package plan

import (
	"github.com/duban-dev/duban"
)

// Plan is one year's work points, as written in a plan file.
type Plan struct {
	ID     string `yaml:"plan" json:"id"`
	Year   int    `yaml:"year" json:"year"`
	Title  string `yaml:"title" json:"title"`
	Source string `yaml:"source" json:"source"` // the document it encodes
	// Zones says whether development and management zones (开发区、管理区:
	// county-level units coded 43xx7x, see org.IsZone) take the tasks a
	// template gives to every county (responsible levels: [county]):
	// "include" or "exclude". Empty means include, as before the field
	// existed. A zone a template names in its units is always included.
	Zones Zones `yaml:"zones,omitempty" json:"zones,omitempty"`

	Defaults Defaults `yaml:"defaults" json:"defaults"`
	// Chains are named approval chains, referred to by templates per level.
	Chains map[string][]ApprovalStep `yaml:"chains" json:"chains"`
	// Ladders are named escalation ladders.
	Ladders map[string][]EscalationStep `yaml:"ladders" json:"ladders"`

	Sections []Section `yaml:"sections" json:"sections"`

	// Scoring is the year's 考核 rules (see scoring.go); nil when the plan
	// scores nothing.
	Scoring *Scoring `yaml:"scoring,omitempty" json:"scoring,omitempty"`
}

// Zones is a plan's rule for development and management zones.
type Zones string

// The values of zones.
const (
	ZonesInclude Zones = "include" // zones take county tasks like any county
	ZonesExclude Zones = "exclude" // county tasks skip the zones
)

// Includes reports whether zones take county tasks (the default).
func (z Zones) Includes() bool { return z != ZonesExclude }

// Defaults apply to every template that does not say otherwise.
type Defaults struct {
	Reminders []Offset `yaml:"reminders" json:"reminders"`
	// Escalation names a ladder.
	Escalation string `yaml:"escalation" json:"escalation"`
	// Approval maps a responsible level to a chain name.
	Approval map[duban.Level]string `yaml:"approval" json:"approval"`
	// RemindersOnWorkingDays moves a reminder that falls on a day off to the
	// working day before it.
	RemindersOnWorkingDays bool `yaml:"reminders_on_working_days" json:"reminders_on_working_days"`
}

// Section is one of the document's numbered parts.
type Section struct {
	ID        string     `yaml:"id" json:"id"`
	Title     string     `yaml:"title" json:"title"`
	Templates []Template `yaml:"templates" json:"templates"`
}

// Template is one concrete, checkable obligation.
type Template struct {
	ID    string `yaml:"id" json:"id"`
	Title string `yaml:"title" json:"title"`
	// Quote is the sentence of the document the obligation comes from, verbatim.
	Quote       string      `yaml:"quote" json:"quote"`
	Responsible Responsible `yaml:"responsible" json:"responsible"`
	Kind        duban.Kind  `yaml:"kind" json:"kind"`
	Due         Due         `yaml:"due" json:"due"`
	Target      int         `yaml:"target,omitempty" json:"target,omitempty"`
	Ratio       *Ratio      `yaml:"ratio,omitempty" json:"ratio,omitempty"`

	// Reminders override Defaults.Reminders when set.
	Reminders []Offset `yaml:"reminders,omitempty" json:"reminders,omitempty"`
	// RemindersOnWorkingDays overrides the default when set.
	RemindersOnWorkingDays *bool `yaml:"reminders_on_working_days,omitempty" json:"reminders_on_working_days,omitempty"`
	// Escalation names a ladder; it overrides Defaults.Escalation when set.
	Escalation string `yaml:"escalation,omitempty" json:"escalation,omitempty"`
	// Approval maps responsible levels to chain names; it overrides the
	// defaults for the levels it names.
	Approval map[duban.Level]string `yaml:"approval,omitempty" json:"approval,omitempty"`
	Evidence Evidence               `yaml:"evidence" json:"evidence"`
	// AddSigner false forbids approvers to insert steps (加签) into this
	// template's chains; they may by default.
	AddSigner *bool `yaml:"add_signer,omitempty" json:"add_signer,omitempty"`
}

// Responsible says who carries the obligation: every unit at some levels,
// or named units (by division code).
type Responsible struct {
	Levels []duban.Level `yaml:"levels,omitempty" json:"levels,omitempty"`
	Units  []string      `yaml:"units,omitempty" json:"units,omitempty"`
}

// DueBasis says where a due date comes from.
type DueBasis string

// Due bases.
const (
	// BasisStated: the document names the date or period.
	BasisStated DueBasis = "stated"
	// BasisYearEnd: the document names no date, so the year's end applies.
	BasisYearEnd DueBasis = "year_end"
)

// Period is how often a recurring obligation comes due.
type Period string

// Periods.
const (
	PeriodMonth   Period = "month"
	PeriodQuarter Period = "quarter"
	PeriodHalf    Period = "half"
	// PeriodFestivals: once before each named festival (春节, 端午节, 中秋节 …),
	// whose dates move from year to year; see Due.Festivals.
	PeriodFestivals Period = "festivals"
)

// Due is a template's due rule: a date (deadline, count, ratio, event), or a
// period for recurring templates, due at each period's end plus Grace, or
// (every: festivals) Lead before each of the named Festivals.
type Due struct {
	Date  Date     `yaml:"date,omitempty" json:"date,omitempty"`
	Every Period   `yaml:"every,omitempty" json:"every,omitempty"`
	Grace Offset   `yaml:"grace,omitempty" json:"grace,omitempty"`
	Basis DueBasis `yaml:"basis" json:"basis"`
	// Note explains the rule in the plan author's words (shown to users).
	Note string `yaml:"note,omitempty" json:"note,omitempty"`

	// Festivals names the festivals of an every: festivals rule (names as
	// calendar.Festivals gives them); each is one period, labelled with its
	// name. Each festival is the first one on or after From (1 January of
	// the plan year when unset), so a plan issued after 春节 can name the next
	// one; an instance is due Lead before its festival (0d: on the day).
	Festivals []string `yaml:"festivals,omitempty" json:"festivals,omitempty"`
	Lead      Offset   `yaml:"lead,omitempty" json:"lead,omitempty"`
	From      Date     `yaml:"from,omitempty" json:"from,omitempty"`
}

// Ratio is a share of child units to cover, e.g. num 1, den 3, of village.
type Ratio struct {
	Num int         `yaml:"num" json:"num"`
	Den int         `yaml:"den" json:"den"`
	Of  duban.Level `yaml:"of" json:"of"`
}

// Evidence says what a submission must carry.
type Evidence struct {
	Required bool   `yaml:"required" json:"required"`
	Note     string `yaml:"note,omitempty" json:"note,omitempty"`
}

// Relative names a unit relative to the responsible one.
type Relative string

// Relative units.
const (
	RelSelf     Relative = "self"     // the responsible unit itself
	RelParent   Relative = "parent"   // the unit directly above
	RelCity     Relative = "city"     // the city above (or itself)
	RelProvince Relative = "province" // the province
)

// ApprovalStep in a named chain.
type ApprovalStep struct {
	Approver   Relative `yaml:"approver" json:"approver"`
	SLA        Offset   `yaml:"sla" json:"sla"`
	Reminders  []Offset `yaml:"reminders,omitempty" json:"reminders,omitempty"`
	Escalation string   `yaml:"escalation,omitempty" json:"escalation,omitempty"` // a ladder name
	// With names more units who sign this step beside Approver, and Sign
	// how: all (会签: every unit must approve; one return returns the task)
	// or any (或签: the first approval completes the step).
	With []Relative     `yaml:"with,omitempty" json:"with,omitempty"`
	Sign duban.SignMode `yaml:"sign,omitempty" json:"sign,omitempty"`
	// Signatures is how many different approvers of each signing unit must
	// approve (default 1): several approvers of one unit signing together.
	Signatures int `yaml:"signatures,omitempty" json:"signatures,omitempty"`
}

// EscalationStep in a named ladder: after the deadline (or SLA) is passed by
// After, notify the given roles at the given relative units.
type EscalationStep struct {
	After  Offset   `yaml:"after" json:"after"`
	Notify []Notify `yaml:"notify" json:"notify"`
}

// Notify names roles at a relative unit.
type Notify struct {
	Unit  Relative     `yaml:"unit" json:"unit"`
	Roles []duban.Role `yaml:"roles" json:"roles"`
}

// Templates returns every template with its section id, in file order.
func (p *Plan) Templates() []SectionTemplate {
	var out []SectionTemplate
	for _, s := range p.Sections {
		for _, t := range s.Templates {
			out = append(out, SectionTemplate{Section: s, Template: t})
		}
	}
	return out
}

// SectionTemplate pairs a template with its section.
type SectionTemplate struct {
	Section  Section
	Template Template
}
