package draft

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/plan"
)

// Evaluation compares a draft with a plan written by hand from the same
// notice.
//
// Matching is by place in the notice: each hand-written template's quote is
// looked up in the notice text (ignoring spaces and the width of brackets,
// in its own section first), and each drafted template covers the clause it
// quotes. A drafted template matches a hand-written one when their stretches
// of text overlap by at least half of the shorter one. A hand-written
// template is found when some drafted template matches it; its fields are
// judged on the drafted template that overlaps it most. A drafted template is
// correct when it matches some hand-written one.
type Evaluation struct {
	Shipped int `json:"shipped"` // templates in the hand-written plan
	Drafted int `json:"drafted"` // templates in the draft
	Found   int `json:"found"`   // hand-written templates matched by a drafted one
	Correct int `json:"correct"` // drafted templates matching a hand-written one
	// Among the found templates, how many have the same responsible levels
	// and units, kind, due rule (date, or period for recurring) and target.
	RightLevels int             `json:"right_levels"`
	RightKind   int             `json:"right_kind"`
	RightDue    int             `json:"right_due"`
	RightTarget int             `json:"right_target"`
	Rows        []EvaluationRow `json:"rows"`
	// Unmatched lists drafted templates that match no hand-written one.
	Unmatched []string `json:"unmatched"`
}

// EvaluationRow is one hand-written template and its best drafted match.
type EvaluationRow struct {
	ID      string `json:"id"`
	Quote   string `json:"quote"`
	Located bool   `json:"located"` // the quote was found in the notice
	Match   string `json:"match,omitempty"`
	Levels  bool   `json:"levels"`
	Kind    bool   `json:"kind"`
	Due     bool   `json:"due"`
	Target  bool   `json:"target"`
	Note    string `json:"note,omitempty"`
}

// Precision is the share of drafted templates that match a hand-written one.
func (e Evaluation) Precision() float64 { return ratio(e.Correct, e.Drafted) }

// Recall is the share of hand-written templates found.
func (e Evaluation) Recall() float64 { return ratio(e.Found, e.Shipped) }

// FoundWithLevels is the share of hand-written templates found with the
// right responsible levels: the goal is 85%.
func (e Evaluation) FoundWithLevels() float64 { return ratio(e.RightLevels, e.Shipped) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

type span struct{ start, end int }

func (s span) overlap(o span) int { return max(0, min(s.end, o.end)-max(s.start, o.start)) }
func (s span) len() int           { return s.end - s.start }

// Evaluate matches the draft against a hand-written plan of the same notice.
func (d *Draft) Evaluate(p *plan.Plan) Evaluation {
	text := newNormText(d.Text)
	sections := map[string]span{}
	for _, s := range d.Sentences {
		r, ok := sections[s.Section]
		if !ok {
			r = span{s.Start, s.End}
		}
		sections[s.Section] = span{min(r.start, s.Start), max(r.end, s.End)}
	}
	type drafted struct {
		p    *Proposal
		at   span
		used bool
	}
	var ds []*drafted
	for i := range d.Sentences {
		for _, c := range d.Sentences[i].Clauses {
			if c.Proposal != nil {
				ds = append(ds, &drafted{p: c.Proposal, at: span{c.Start, c.End}})
			}
		}
	}
	e := Evaluation{Drafted: len(ds)}
	for _, st := range p.Templates() {
		t := st.Template
		e.Shipped++
		row := EvaluationRow{ID: t.ID, Quote: t.Quote}
		at, ok := text.find(t.Quote, sections[st.Section.ID])
		if !ok {
			at, ok = text.find(t.Quote, span{0, len([]rune(d.Text))})
		}
		row.Located = ok
		if !ok {
			row.Note = "原文中找不到该引文"
			e.Rows = append(e.Rows, row)
			continue
		}
		var best *drafted
		bestOverlap := 0
		for _, x := range ds {
			o := at.overlap(x.at)
			if o*2 >= min(at.len(), x.at.len()) && o > 0 {
				x.used = true
				if o > bestOverlap {
					best, bestOverlap = x, o
				}
			}
		}
		if best == nil {
			row.Note = "未起草"
			e.Rows = append(e.Rows, row)
			continue
		}
		e.Found++
		dt := best.p.Template
		row.Match = dt.ID
		row.Levels = sameResponsible(t.Responsible, dt.Responsible)
		row.Kind = t.Kind == dt.Kind
		row.Due = sameDue(t, dt)
		row.Target = t.Target == dt.Target && sameRatio(t.Ratio, dt.Ratio)
		var wrong []string
		if !row.Levels {
			wrong = append(wrong, fmt.Sprintf("责任 %s≠%s", responsibleLabel(dt.Responsible), responsibleLabel(t.Responsible)))
		}
		if !row.Kind {
			wrong = append(wrong, fmt.Sprintf("类型 %s≠%s", dt.Kind, t.Kind))
		}
		if !row.Due {
			wrong = append(wrong, fmt.Sprintf("期限 %s≠%s", dueLabel(dt), dueLabel(t)))
		}
		if !row.Target {
			wrong = append(wrong, "目标不同")
		}
		row.Note = strings.Join(wrong, "；")
		e.RightLevels += b2i(row.Levels)
		e.RightKind += b2i(row.Kind)
		e.RightDue += b2i(row.Due)
		e.RightTarget += b2i(row.Target)
		e.Rows = append(e.Rows, row)
	}
	for _, x := range ds {
		if x.used {
			e.Correct++
		} else {
			e.Unmatched = append(e.Unmatched, fmt.Sprintf("%s %s", x.p.Template.ID, x.p.Template.Quote))
		}
	}
	return e
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sameResponsible(a, b plan.Responsible) bool {
	return slices.Equal(sortLevels(a.Levels), sortLevels(b.Levels)) &&
		slices.Equal(slices.Sorted(slices.Values(a.Units)), slices.Sorted(slices.Values(b.Units)))
}

func sameDue(a, b plan.Template) bool {
	if (a.Kind == duban.KindRecurring) != (b.Kind == duban.KindRecurring) {
		return false
	}
	if a.Kind == duban.KindRecurring {
		return a.Due.Every == b.Due.Every
	}
	return a.Due.Date == b.Due.Date
}

func sameRatio(a, b *plan.Ratio) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Num*b.Den == b.Num*a.Den && a.Of == b.Of
}

// normText is a text with spaces dropped and bracket widths unified, each
// kept character remembering where it was.
type normText struct {
	runes []rune
	at    []int // at[i] is the offset in the original text of runes[i]
}

func normRune(r rune) rune {
	switch r {
	case '（':
		return '('
	case '）':
		return ')'
	case '，':
		return ','
	case '：':
		return ':'
	case '；':
		return ';'
	}
	if r >= '０' && r <= '９' {
		return '0' + (r - '０')
	}
	return r
}

func newNormText(s string) normText {
	var n normText
	for i, r := range []rune(s) {
		if unicode.IsSpace(r) {
			continue
		}
		n.runes = append(n.runes, normRune(r))
		n.at = append(n.at, i)
	}
	return n
}

// find locates q within the original range in, returning its original span.
func (n normText) find(q string, in span) (span, bool) {
	var want []rune
	for _, r := range q {
		if !unicode.IsSpace(r) {
			want = append(want, normRune(r))
		}
	}
	// Trailing sentence punctuation in a quote need not be in the clause.
	for len(want) > 0 && strings.ContainsRune("。；;", want[len(want)-1]) {
		want = want[:len(want)-1]
	}
	if len(want) == 0 {
		return span{}, false
	}
	for i := 0; i+len(want) <= len(n.runes); i++ {
		if n.at[i] < in.start || n.at[i+len(want)-1] >= in.end {
			continue
		}
		if slices.Equal(n.runes[i:i+len(want)], want) {
			return span{n.at[i], n.at[i+len(want)-1] + 1}, true
		}
	}
	return span{}, false
}

// WriteReport prints the figures and the rows.
func (e Evaluation) WriteReport(w io.Writer, against string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "与 %s 对比（按原文位置匹配：两段引文重叠不少于较短者的一半）\n", against)
	fmt.Fprintf(&b, "  手写模板 %d 个，起草模板 %d 个\n", e.Shipped, e.Drafted)
	fmt.Fprintf(&b, "  查准率 precision：%d/%d = %.1f%%（起草的模板中对应手写模板的比例）\n", e.Correct, e.Drafted, 100*e.Precision())
	fmt.Fprintf(&b, "  查全率 recall：%d/%d = %.1f%%（手写模板被起草出来的比例）\n", e.Found, e.Shipped, 100*e.Recall())
	fmt.Fprintf(&b, "  找到且责任层级正确：%d/%d = %.1f%%（目标 85%%）\n", e.RightLevels, e.Shipped, 100*e.FoundWithLevels())
	fmt.Fprintf(&b, "  已找到的 %d 个中：责任层级正确 %d，类型正确 %d，期限正确 %d，目标正确 %d\n", e.Found, e.RightLevels, e.RightKind, e.RightDue, e.RightTarget)
	b.WriteString("\n逐项：\n")
	for _, r := range e.Rows {
		mark := "✓"
		switch {
		case r.Match == "":
			mark = "✗"
		case !(r.Levels && r.Kind && r.Due && r.Target):
			mark = "~"
		}
		match := r.Match
		if match == "" {
			match = "—"
		}
		fmt.Fprintf(&b, "  %s %-5s ← %-5s %s", mark, r.ID, match, r.Quote)
		if r.Note != "" {
			fmt.Fprintf(&b, "  [%s]", r.Note)
		}
		b.WriteString("\n")
	}
	if len(e.Unmatched) > 0 {
		b.WriteString("\n起草了但手写计划中没有的：\n")
		for _, u := range e.Unmatched {
			fmt.Fprintf(&b, "  %s\n", u)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
