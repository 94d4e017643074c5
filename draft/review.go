package draft

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"

	"github.com/duban-dev/duban/plan"
)

// Decision is what a reviewer did with a proposal.
type Decision string

// Decisions.
const (
	Accept Decision = "accept" // kept as drafted
	Edit   Decision = "edit"   // kept with fields changed by the reviewer
	Drop   Decision = "drop"   // left out of the plan
)

// Valid reports whether d is one of the decisions.
func (d Decision) Valid() bool { return d == Accept || d == Edit || d == Drop }

// Label is the decision in Chinese.
func (d Decision) Label() string {
	switch d {
	case Accept:
		return "采纳"
	case Edit:
		return "修改后采纳"
	case Drop:
		return "删除"
	}
	return string(d)
}

// Review is a reviewed draft: the plan's head, the sections of the notice
// and every proposal with the reviewer's decision. A review carries whole
// templates, so it needs neither the draft nor the notice again: drafting
// is deterministic and cheap, and nothing is kept between the draft and
// the review.
type Review struct {
	PlanID string
	Year   int
	Title  string
	Source string
	// Notice is the file the draft was read from, Reviewer who reviewed it
	// (both for the header comment).
	Notice   string
	Reviewer string
	Sections []Section
	Items    []ReviewItem
	// Unread are the sentences the drafter could not read, listed at the
	// top of the file for the record.
	Unread []string
}

// ReviewItem is one proposal as reviewed.
type ReviewItem struct {
	Decision Decision
	Section  string
	Template plan.Template
	// Notes are comment lines written above the template (the drafter's
	// reasons and assumptions).
	Notes []string
}

// Rendered is a reviewed plan: the plan, its file, and where each template
// of the plan came from in the review.
type Rendered struct {
	Plan *plan.Plan
	YAML []byte
	// items[i][j] is the review item of template j of section i; sections[i]
	// the review section of section i.
	items    [][]int
	sections []int
}

// Render assembles the reviewed plan, with the defaults, approval chains and
// escalation ladders of base (last year's plan, usually), and writes it as
// a plan file. Sections come in the review's order, those with no kept
// proposal left out; within a section the kept proposals keep their order.
// A proposal whose section is not among the review's sections goes into
// none, and is reported as an error by the caller's check (Orphans).
func (r Review) Render(base *plan.Plan) (*Rendered, error) {
	p := &plan.Plan{ID: r.PlanID, Year: r.Year, Title: r.Title, Source: r.Source}
	if base != nil {
		p.Defaults, p.Chains, p.Ladders, p.Zones = base.Defaults, base.Chains, base.Ladders, base.Zones
	}
	out := &Rendered{Plan: p}
	for si, s := range r.Sections {
		sec := plan.Section{ID: s.ID, Title: s.Title}
		var idx []int
		for k, it := range r.Items {
			if it.Decision != Drop && it.Section == s.ID {
				sec.Templates = append(sec.Templates, it.Template)
				idx = append(idx, k)
			}
		}
		if len(sec.Templates) > 0 {
			p.Sections = append(p.Sections, sec)
			out.items = append(out.items, idx)
			out.sections = append(out.sections, si)
		}
	}

	var b bytes.Buffer
	counts := map[Decision]int{}
	for _, it := range r.Items {
		counts[it.Decision]++
	}
	notice := r.Notice
	if notice == "" {
		notice = "通知"
	}
	fmt.Fprintf(&b, "# 计划草稿：由督办系统从《%s》（%s）起草", oneLine(r.Title), oneLine(notice))
	if r.Reviewer != "" {
		fmt.Fprintf(&b, "，经 %s 审核", oneLine(r.Reviewer))
	}
	b.WriteString("。\n")
	fmt.Fprintf(&b, "# 起草 %d 个任务模板：采纳 %d 个、修改后采纳 %d 个、删除 %d 个。\n", len(r.Items), counts[Accept], counts[Edit], counts[Drop])
	for _, it := range r.Items {
		if it.Decision == Drop {
			fmt.Fprintf(&b, "#   已删除 %s：%s\n", oneLine(it.Template.ID), oneLine(it.Template.Title))
		}
	}
	if len(r.Unread) > 0 {
		b.WriteString("# 无法识别的句子（请人工判断是否需要增加任务）：\n")
		for _, s := range r.Unread {
			fmt.Fprintf(&b, "#   %s\n", oneLine(s))
		}
	}
	b.WriteString("# 审批链、升级梯度和默认提醒沿用基础计划")
	if base != nil {
		fmt.Fprintf(&b, " %s", base.ID)
	}
	b.WriteString("。\n\n")
	err := writePlanBody(&b, p, func(i, j int, _ plan.Template) []string {
		it := r.Items[out.items[i][j]]
		notes := append([]string{"审核：" + it.Decision.Label()}, it.Notes...)
		return notes
	})
	if err != nil {
		return nil, err
	}
	out.YAML = b.Bytes()
	return out, nil
}

// Orphans lists the indexes of kept items whose section the review does
// not have: they would be silently missing from the plan.
func (r Review) Orphans() []int {
	known := map[string]bool{}
	for _, s := range r.Sections {
		known[s.ID] = true
	}
	var out []int
	for k, it := range r.Items {
		if it.Decision != Drop && !known[it.Section] {
			out = append(out, k)
		}
	}
	return out
}

var sectionPathRE = regexp.MustCompile(`^sections\[(\d+)\](?:\.templates\[(\d+)\])?(.*)$`)

// Origin says where a field path of the rendered plan (as plan.Parse names
// it: "sections[1].templates[0].due.date") comes from in the review: the
// item (item ≥ 0) or the section (section ≥ 0, item −1) and the rest of
// the path (".due.date"). A path outside the sections gives −1, −1.
func (x *Rendered) Origin(path string) (section, item int, rest string) {
	m := sectionPathRE.FindStringSubmatch(path)
	if m == nil {
		return -1, -1, path
	}
	i, _ := strconv.Atoi(m[1])
	if i >= len(x.sections) {
		return -1, -1, path
	}
	if m[2] == "" {
		return x.sections[i], -1, m[3]
	}
	j, _ := strconv.Atoi(m[2])
	if j >= len(x.items[i]) {
		return x.sections[i], -1, m[3]
	}
	return x.sections[i], x.items[i][j], m[3]
}
