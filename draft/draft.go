// Package draft reads a yearly work notice (工作要点, 实施方案 …) and drafts a
// plan from it: every sentence of the notice, each classified as an
// obligation or not with the reason, and for each obligation a proposed task
// template (responsible levels, kind, due date, target, evidence, the words
// it comes from). It is rules over a lexicon of general administrative
// Chinese: deterministic, offline, with no model. The draft is a proposal for
// a reviewer; what it assumed is said next to each field.
package draft

import (
	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
)

// Verdict is what the drafter made of a sentence or clause.
type Verdict string

// Verdicts.
const (
	// Obligation: a concrete, checkable piece of work; a template is proposed.
	Obligation Verdict = "obligation"
	// NotObligation: read, and not a task (a principle, an aim, a heading …).
	NotObligation Verdict = "none"
	// Unreadable: the drafter could not tell; a person must read it.
	Unreadable Verdict = "unreadable"
)

// Label is the verdict in Chinese.
func (v Verdict) Label() string {
	switch v {
	case Obligation:
		return "任务"
	case NotObligation:
		return "非任务"
	case Unreadable:
		return "无法识别"
	}
	return string(v)
}

// Draft is the drafter's reading of one notice.
type Draft struct {
	Notice string `json:"notice"` // the file name it was read from
	Title  string `json:"title"`
	Source string `json:"source"` // document number and title, for the plan's source
	Year   int    `json:"year"`
	PlanID string `json:"plan_id"`
	// Issuer is the unit that issued the notice; Addressee the level it is sent to.
	Issuer    org.Unit    `json:"issuer"`
	Addressee duban.Level `json:"addressee"`
	// Context says how the title, year, issuer and addressee were found.
	Context []string `json:"context"`
	// Text is the notice as read (paragraphs joined by newlines); every
	// offset below counts characters (Unicode code points) in it.
	Text      string     `json:"text"`
	Sections  []Section  `json:"sections"`
	Sentences []Sentence `json:"sentences"`

	base *plan.Plan // defaults, chains and ladders for the rendered plan
}

// Section is a numbered part of the notice (一、二、…), or 0 for what
// precedes the first one.
type Section struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Sentence is one sentence of the notice (a heading counts as one).
type Sentence struct {
	Index     int    `json:"index"` // 1-based, in reading order
	Text      string `json:"text"`
	Start     int    `json:"start"` // character offsets in Draft.Text
	End       int    `json:"end"`
	Paragraph int    `json:"paragraph"` // 1-based paragraph of Draft.Text
	Section   string `json:"section"`   // Section.ID
	// Heading is the nearest heading above (section, or sub-heading).
	Heading string   `json:"heading"`
	Verdict Verdict  `json:"verdict"`
	Reason  string   `json:"reason"`
	Clauses []Clause `json:"clauses"`
}

// Clause is a stretch of a sentence between commas or semicolons: the unit
// an obligation is read from.
type Clause struct {
	Text     string    `json:"text"`
	Start    int       `json:"start"`
	End      int       `json:"end"`
	Verdict  Verdict   `json:"verdict"`
	Reason   string    `json:"reason"`
	Proposal *Proposal `json:"proposal,omitempty"`
}

// Proposal is a drafted task template with the reasons for each field.
type Proposal struct {
	Section  string        `json:"section"`
	Template plan.Template `json:"template"`
	Why      Why           `json:"why"`
	// Assumptions are what the drafter supplied that the text does not say.
	Assumptions []string `json:"assumptions,omitempty"`
}

// Why explains each proposed field in Chinese.
type Why struct {
	Obligation  string `json:"obligation"`
	Responsible string `json:"responsible"`
	Kind        string `json:"kind"`
	Due         string `json:"due"`
	Target      string `json:"target,omitempty"`
	Evidence    string `json:"evidence"`
}

// Options steer a draft.
type Options struct {
	// Hierarchy resolves named units and the issuer (default: Hunan's).
	Hierarchy *org.Hierarchy
	// Year overrides the year read from the notice.
	Year int
	// PlanID names the drafted plan (default draft-<year>).
	PlanID string
	// Base gives the rendered plan its defaults, approval chains and
	// escalation ladders, usually last year's plan (default: the newest
	// shipped plan).
	Base *plan.Plan
}

// Proposals returns every proposal in reading order.
func (d *Draft) Proposals() []*Proposal {
	var out []*Proposal
	for i := range d.Sentences {
		for j := range d.Sentences[i].Clauses {
			if p := d.Sentences[i].Clauses[j].Proposal; p != nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// Unread returns the sentences the drafter could not read.
func (d *Draft) Unread() []Sentence {
	var out []Sentence
	for _, s := range d.Sentences {
		if s.Verdict == Unreadable {
			out = append(out, s)
		}
	}
	return out
}

// Counts tallies sentences by verdict and the proposals.
func (d *Draft) Counts() (obligations, none, unreadable, proposals int) {
	for _, s := range d.Sentences {
		switch s.Verdict {
		case Obligation:
			obligations++
		case NotObligation:
			none++
		case Unreadable:
			unreadable++
		}
	}
	return obligations, none, unreadable, len(d.Proposals())
}
