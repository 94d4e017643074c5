package draft

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/plan"
)

// Plan assembles the proposals into a plan, with the defaults, approval
// chains and escalation ladders of the base plan. Sections without a
// proposal are left out.
func (d *Draft) Plan() *plan.Plan {
	p := &plan.Plan{ID: d.PlanID, Year: d.Year, Title: d.Title, Source: d.Source}
	if d.base != nil {
		p.Defaults, p.Chains, p.Ladders, p.Zones = d.base.Defaults, d.base.Chains, d.base.Ladders, d.base.Zones
	}
	for _, s := range d.Sections {
		sec := plan.Section{ID: s.ID, Title: s.Title}
		for _, pr := range d.Proposals() {
			if pr.Section == s.ID {
				sec.Templates = append(sec.Templates, pr.Template)
			}
		}
		if len(sec.Templates) > 0 {
			p.Sections = append(p.Sections, sec)
		}
	}
	return p
}

// YAML renders the draft as a plan file: the plan itself, with each
// template's reasons and assumptions as comments above it, and the
// sentences the drafter could not read listed at the top.
func (d *Draft) YAML() ([]byte, error) {
	p := d.Plan()
	var b bytes.Buffer
	obl, none, unread, props := d.Counts()
	fmt.Fprintf(&b, "# 计划草稿：由 duban plan draft 从《%s》（%s）起草，须人工审核后导入。\n", d.Title, d.Notice)
	fmt.Fprintf(&b, "# 共 %d 句：%d 句含任务（%d 个任务模板）、%d 句非任务、%d 句无法识别。\n", len(d.Sentences), obl, props, none, unread)
	for _, c := range d.Context {
		fmt.Fprintf(&b, "#   %s\n", c)
	}
	if us := d.Unread(); len(us) > 0 {
		b.WriteString("# 无法识别的句子（请人工判断是否需要增加任务）：\n")
		for _, s := range us {
			fmt.Fprintf(&b, "#   第 %d 句（第 %d 段）：%s\n", s.Index, s.Paragraph, oneLine(s.Text))
		}
	}
	b.WriteString("# 审批链、升级梯度和默认提醒沿用基础计划")
	if d.base != nil {
		fmt.Fprintf(&b, " %s", d.base.ID)
	}
	b.WriteString("。\n\n")

	byID := map[string]*Proposal{}
	for _, pr := range d.Proposals() {
		byID[pr.Template.ID] = pr
	}
	err := writePlanBody(&b, p, func(_, _ int, t plan.Template) []string { return proposalComments(byID[t.ID]) })
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writePlanBody writes a plan's head (id, year, title, source, defaults,
// chains, ladders) and its sections, each template with the comment lines
// comments gives it (by section and template index) above it.
func writePlanBody(b *bytes.Buffer, p *plan.Plan, comments func(section, template int, t plan.Template) []string) error {
	head := struct {
		ID       string                           `yaml:"plan"`
		Year     int                              `yaml:"year"`
		Title    string                           `yaml:"title"`
		Source   string                           `yaml:"source"`
		Zones    plan.Zones                       `yaml:"zones,omitempty"`
		Defaults plan.Defaults                    `yaml:"defaults"`
		Chains   map[string][]plan.ApprovalStep   `yaml:"chains"`
		Ladders  map[string][]plan.EscalationStep `yaml:"ladders"`
	}{p.ID, p.Year, p.Title, p.Source, p.Zones, p.Defaults, p.Chains, p.Ladders}
	out, err := yaml.Marshal(head)
	if err != nil {
		return fmt.Errorf("render plan header: %w", err)
	}
	b.Write(out)
	b.WriteString("\nsections:\n")
	for i, s := range p.Sections {
		sec, err := yaml.Marshal(struct {
			ID    string `yaml:"id"`
			Title string `yaml:"title"`
		}{s.ID, s.Title})
		if err != nil {
			return fmt.Errorf("render section %s: %w", s.ID, err)
		}
		b.WriteString(indent(string(sec), "  - ", "    "))
		b.WriteString("    templates:\n")
		for j, t := range s.Templates {
			for _, line := range comments(i, j, t) {
				fmt.Fprintf(b, "      # %s\n", oneLine(line))
			}
			out, err := yaml.Marshal(t)
			if err != nil {
				return fmt.Errorf("render template %s: %w", t.ID, err)
			}
			b.WriteString(indent(string(out), "      - ", "        "))
		}
	}
	return nil
}

func proposalComments(p *Proposal) []string {
	if p == nil {
		return nil
	}
	out := []string{
		"依据：" + p.Why.Obligation,
		"责任：" + p.Why.Responsible,
		"类型：" + p.Why.Kind,
		"期限：" + p.Why.Due,
	}
	if p.Why.Target != "" {
		out = append(out, "目标："+p.Why.Target)
	}
	out = append(out, "佐证："+p.Why.Evidence)
	for _, a := range p.Assumptions {
		out = append(out, "假设："+a)
	}
	return out
}

// indent prefixes the first line with first and the others with rest.
func indent(s, first, rest string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	var b strings.Builder
	for i, l := range lines {
		if i == 0 {
			b.WriteString(first)
		} else {
			b.WriteString(rest)
		}
		b.WriteString(l)
		b.WriteString("\n")
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// WriteReview prints the sentence-by-sentence review: each sentence with
// where it stands, the verdict and why, and the proposed template.
func (d *Draft) WriteReview(w io.Writer) error {
	var b strings.Builder
	obl, none, unread, props := d.Counts()
	fmt.Fprintf(&b, "《%s》 %d 年\n", d.Title, d.Year)
	for _, c := range d.Context {
		fmt.Fprintf(&b, "  %s\n", c)
	}
	fmt.Fprintf(&b, "共 %d 句：%d 句含任务（%d 个任务模板），%d 句非任务，%d 句无法识别\n\n", len(d.Sentences), obl, props, none, unread)
	for _, s := range d.Sentences {
		fmt.Fprintf(&b, "[%d] 第 %d 段，第 %s 部分", s.Index, s.Paragraph, s.Section)
		if s.Heading != "" {
			fmt.Fprintf(&b, "「%s」", s.Heading)
		}
		fmt.Fprintf(&b, "，字 %d–%d\n    %s\n", s.Start, s.End, oneLine(s.Text))
		fmt.Fprintf(&b, "    %s：%s\n", s.Verdict.Label(), s.Reason)
		if s.Verdict == NotObligation && len(s.Clauses) <= 1 {
			b.WriteString("\n")
			continue
		}
		for _, c := range s.Clauses {
			if c.Proposal == nil {
				if len(s.Clauses) > 1 {
					fmt.Fprintf(&b, "      · “%s” — %s：%s\n", c.Text, c.Verdict.Label(), c.Reason)
				}
				continue
			}
			writeProposal(&b, c.Proposal)
		}
		b.WriteString("\n")
	}
	if us := d.Unread(); len(us) > 0 {
		b.WriteString("无法识别的句子：\n")
		for _, s := range us {
			fmt.Fprintf(&b, "  [%d] %s — %s\n", s.Index, oneLine(s.Text), s.Reason)
		}
	} else {
		b.WriteString("没有无法识别的句子。\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeProposal(b *strings.Builder, p *Proposal) {
	t := p.Template
	fmt.Fprintf(b, "    → 任务 %s %s\n", t.ID, t.Title)
	fmt.Fprintf(b, "        原文：%s\n", t.Quote)
	fmt.Fprintf(b, "        责任：%s — %s\n", responsibleLabel(t.Responsible), p.Why.Responsible)
	fmt.Fprintf(b, "        类型：%s（%s） — %s\n", t.Kind.Label(), t.Kind, p.Why.Kind)
	fmt.Fprintf(b, "        期限：%s — %s\n", dueLabel(t), p.Why.Due)
	switch t.Kind {
	case duban.KindCount:
		fmt.Fprintf(b, "        目标：%d — %s\n", t.Target, p.Why.Target)
	case duban.KindRatio:
		fmt.Fprintf(b, "        比例：%d/%d 的%s — %s\n", t.Ratio.Num, t.Ratio.Den, t.Ratio.Of.Label(), p.Why.Target)
	}
	fmt.Fprintf(b, "        佐证：%s — %s\n", t.Evidence.Note, p.Why.Evidence)
	for _, a := range p.Assumptions {
		fmt.Fprintf(b, "        假设：%s\n", a)
	}
}

func responsibleLabel(r plan.Responsible) string {
	var parts []string
	for _, l := range r.Levels {
		parts = append(parts, l.Label())
	}
	parts = append(parts, r.Units...)
	return strings.Join(parts, "、")
}

func dueLabel(t plan.Template) string {
	if t.Kind == duban.KindRecurring && t.Due.Every == plan.PeriodFestivals {
		return "每逢" + strings.Join(t.Due.Festivals, "、")
	}
	if t.Kind == duban.KindRecurring {
		return "每" + periodNoun(t.Due.Every)
	}
	return t.Due.Date.String()
}
