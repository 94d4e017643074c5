package draft

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
)

// analyzer reads clauses against what the header said (issuer, addressee,
// year) and the hierarchy (unit names).
type analyzer struct {
	d         *Draft
	h         *org.Hierarchy
	unitNames []org.Unit // units that may be named, longest name first
}

func newAnalyzer(d *Draft, h *org.Hierarchy) *analyzer {
	a := &analyzer{d: d, h: h}
	count := map[string]int{}
	var cands []org.Unit
	for _, u := range h.All() {
		if u.Code == d.Issuer.Code || u.Code == h.Root().Code || !org.Contains(d.Issuer.Code, u.Code) {
			continue
		}
		if utf8.RuneCountInString(u.Name) < 3 {
			continue
		}
		count[u.Name]++
		cands = append(cands, u)
	}
	for _, u := range cands {
		// A name two units share (城关镇) names neither.
		if count[u.Name] == 1 {
			a.unitNames = append(a.unitNames, u)
		}
	}
	sort.SliceStable(a.unitNames, func(i, j int) bool { return len(a.unitNames[i].Name) > len(a.unitNames[j].Name) })
	return a
}

// clauseContext is where a sentence sits.
type clauseContext struct {
	section, sectionTitle, heading string
	header                         bool // before the first numbered section
	attachment                     bool // the list of attachments
}

// sentenceState carries what a clause leaves to the next one of its sentence.
type sentenceState struct {
	subject  *responsibility // a clause-initial subject, which later clauses share
	steered  *responsibility // who an earlier 推动/指导 handed work to
	due      *dueFinding     // the time the subject's clause named
	when     *dueFinding     // a time phrase standing alone (在“5·29”会员活动日期间，…)
	modality string          // an optional or external opening (鼓励…, 争取…) that governs the rest
}

// sentence classifies each clause of s and sums up the sentence.
func (a *analyzer) sentence(s *Sentence, ctx clauseContext) {
	var st sentenceState
	whole := ""
	trimmed := strings.TrimSpace(s.Text)
	switch {
	case ctx.header && docNumberRE.MatchString(trimmed) && utf8.RuneCountInString(trimmed) <= 30:
		whole = "文号"
	case ctx.header && addresseeRE.MatchString(trimmed):
		whole = "主送单位"
	case dateLineRE.MatchString(trimmed):
		whole = "成文日期"
	case a.d.Issuer.Name != "" && strings.HasPrefix(trimmed, a.d.Issuer.Name) && isTitleLike(trimmed) && !ctx.header:
		whole = "落款"
	case ctx.attachment:
		whole = "附件目录"
	case hasAny(s.Text, summaryMarks):
		whole = "总体思路或指导思想，不设具体任务"
	case hasPrefixAny(strings.TrimSpace(s.Text), forwardingMarks):
		whole = "转发文件的通知语"
	}
	skip := 0
	if m := itemNumberRE.FindString(s.Text); m != "" {
		// 1．上半年召开…: the item's number is no part of what it says.
		skip = len(m)
	}
	for _, sp := range splitClauses(s.Text[skip:]) {
		sp[0], sp[1] = sp[0]+skip, sp[1]+skip
		raw := s.Text[sp[0]:sp[1]]
		c := Clause{Text: raw, Start: s.Start + utf8.RuneCountInString(s.Text[:sp[0]])}
		c.End = c.Start + utf8.RuneCountInString(raw)
		if whole == "" && hasPrefixAny(raw, contactMarks) {
			// 联系人：张三，电话：… closes the sentence.
			whole = "联系方式"
		}
		if whole != "" {
			c.Verdict, c.Reason = NotObligation, whole
		} else {
			a.clause(&c, ctx, &st)
		}
		s.Clauses = append(s.Clauses, c)
	}
	s.Verdict, s.Reason = summarize(s.Clauses)
}

func hasPrefixAny(s string, words []string) bool {
	for _, w := range words {
		if strings.HasPrefix(s, w) {
			return true
		}
	}
	return false
}

func summarize(cs []Clause) (Verdict, string) {
	var obl, unread, none []string
	for _, c := range cs {
		switch c.Verdict {
		case Obligation:
			obl = append(obl, fmt.Sprintf("“%s”", c.Text))
		case Unreadable:
			unread = append(unread, fmt.Sprintf("“%s”：%s", c.Text, c.Reason))
		default:
			if !slices.Contains(none, c.Reason) {
				none = append(none, c.Reason)
			}
		}
	}
	switch {
	case len(obl) > 0:
		return Obligation, fmt.Sprintf("%d 项任务：%s", len(obl), strings.Join(obl, "、"))
	case len(unread) > 0:
		return Unreadable, strings.Join(unread, "；")
	case len(none) == 0:
		return NotObligation, "没有内容"
	}
	return NotObligation, strings.Join(none, "；")
}

// verbHit is a lexicon verb found in a clause.
type verbHit struct {
	start, end int
	word       string
	class      verbClass
}

func scanVerbs(s string, skip func(int) bool) []verbHit {
	var out []verbHit
	for i := 0; i < len(s); {
		if !skip(i) {
			matched := false
			r, _ := utf8.DecodeRuneInString(s[i:])
			for _, v := range verbsByFirstRune[r] {
				if strings.HasPrefix(s[i:], v.word) {
					if hasPrefixAny(s[i+len(v.word):], []string{"员", "者"}) {
						// 指导员, 宣传者: a person, not an act.
						continue
					}
					out = append(out, verbHit{i, i + len(v.word), v.word, v.class})
					i += len(v.word)
					matched = true
					break
				}
			}
			if matched {
				continue
			}
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
	}
	return out
}

// role is what a mention does in its clause.
type role int

const (
	roleSubject   role = iota + 1 // opens the clause: 市级计生协年内组织…
	roleSteered                   // after 推动/指导: 指导每个市州建成…
	roleEmbedded                  // subject of a clause inside the object: 建立县级计生协对…
	roleScope                     // 在所有乡镇…
	roleRecipient                 // 向县计生协备案
	roleObject                    // 对乡镇…培训, or what the verb acts on
	rolePossessor                 // 基层计生协“会员之家”
)

// clause reads one clause.
func (a *analyzer) clause(c *Clause, ctx clauseContext, st *sentenceState) {
	raw := c.Text
	masked := maskQuotes(raw)
	if !hasHan(raw) {
		if utf8.RuneCountInString(strings.TrimSpace(raw)) <= 4 {
			c.Verdict, c.Reason = NotObligation, "编号或符号"
		} else {
			c.Verdict, c.Reason = Unreadable, "没有中文内容，无法识别"
		}
		return
	}
	mentions := a.findMentions(masked)
	inMention := func(i int) bool {
		for _, m := range mentions {
			if i >= m.start && i < m.end {
				return true
			}
		}
		return false
	}
	hits := scanVerbs(masked, inMention)
	var head *verbHit
	var steers []verbHit
	for i := range hits {
		if hits[i].class == verbSteer {
			steers = append(steers, hits[i])
			continue
		}
		head = &hits[i]
		break
	}
	due := findDue(masked, raw, a.d.Year)
	target := findTarget(masked, func(pos int) (duban.Level, string, bool) { return levelAfter(masked, pos) })
	hasTarget := target.count > 0 || target.ratio != nil || target.missing != ""
	explicit := due.stated || hasTarget
	roles := a.roles(masked, mentions, head, steers)
	hasSubject := false
	for i := range mentions {
		if roles[i] == roleSubject || roles[i] == roleSteered || roles[i] == roleEmbedded {
			hasSubject = true
		}
	}

	if w := firstWord(masked, optionalMarks); w != "" {
		st.modality = fmt.Sprintf("可选或鼓励性表述（“%s”），不是硬性任务", w)
		c.Verdict, c.Reason = NotObligation, st.modality
		return
	}
	if len(steers) > 0 {
		end := len(masked)
		if head != nil {
			end = head.start
		}
		if w, _ := firstIn(masked[steers[len(steers)-1].end:end], externalBodies); w != "" {
			c.Verdict, c.Reason = NotObligation, fmt.Sprintf("行为主体是“%s”等外部机关，计生协只能推动，不作为任务", w)
			a.remember(st, mentions, roles, due)
			return
		}
	}
	if head == nil && due.stated && len(mentions) == 0 && !hasTarget {
		d := due
		st.when = &d
		c.Verdict, c.Reason = NotObligation, "时间状语，用于后面的分句"
		return
	}
	if head == nil {
		a.remember(st, mentions, roles, due)
		if len(steers) > 0 && st.modality == "" && !explicit {
			c.Verdict, c.Reason = NotObligation, fmt.Sprintf("“%s”之后没有可检查的具体工作", steers[0].word)
			return
		}
		switch {
		case st.modality != "":
			c.Verdict, c.Reason = NotObligation, st.modality+"（承接前文）"
		case explicit:
			c.Verdict, c.Reason = Unreadable, "写有时间或目标，但没有可识别的动作，请人工判断"
		default:
			c.Verdict, c.Reason = NotObligation, "没有可识别的具体工作"
		}
		return
	}
	switch head.class {
	case verbOptional:
		st.modality = fmt.Sprintf("鼓励性表述（“%s”），不是硬性任务", head.word)
		c.Verdict, c.Reason = NotObligation, st.modality
		return
	case verbExternal:
		st.modality = fmt.Sprintf("“%s”：结果取决于党委、政府等外部机关，不作为计生协的任务", head.word)
		c.Verdict, c.Reason = NotObligation, st.modality
		return
	}
	object := strings.TrimRight(strings.TrimSpace(masked[head.end:]), "等")
	why := ""
	switch head.class {
	case verbVague, verbGoal:
		label := "一般性要求"
		if head.class == verbGoal {
			label = "目标或效果表述"
		}
		if !explicit {
			c.Verdict, c.Reason = NotObligation, fmt.Sprintf("%s（“%s”），没有可检查的成果", label, head.word)
			a.remember(st, mentions, roles, due)
			return
		}
		why = fmt.Sprintf("%s（“%s”），但写明了时间或目标", label, head.word)
	case verbStrong:
		why = fmt.Sprintf("“%s”是可检查的具体工作", head.word)
	case verbWeak:
		if w := suffixIn(object, spiritObjects); w != "" || (strings.Contains(masked, "《") && hasSuffixAny(object, "落实", "贯彻", "执行")) {
			if w == "" {
				w = "文件"
			}
			c.Verdict, c.Reason = NotObligation, fmt.Sprintf("贯彻落实上级%s，没有具体成果", w)
			a.remember(st, mentions, roles, due)
			return
		}
		core := object
		for _, suf := range []string{"工作", "建设"} {
			if t := strings.TrimSuffix(core, suf); t != core && suffixIn(t, deliverables) != "" {
				core = t
			}
		}
		deliverable := suffixIn(core, deliverables)
		named := strings.ContainsAny(object, "“《\"")
		generic := suffixIn(core, genericObjects)
		switch {
		case deliverable != "":
			why = fmt.Sprintf("“%s”+“%s”：有具体成果", head.word, deliverable)
		case named && generic == "":
			why = fmt.Sprintf("“%s”一项有名称的工作", head.word)
		case explicit:
			why = fmt.Sprintf("“%s”，写明了时间或目标", head.word)
		case namesUnit(mentions, roles):
			why = fmt.Sprintf("“%s”，指明了具体单位", head.word)
		case len(mentions) > 0 && generic == "":
			why = fmt.Sprintf("“%s”，指明了责任单位（%s）", head.word, mentions[0].text)
		case generic != "":
			c.Verdict, c.Reason = NotObligation, fmt.Sprintf("工作内容笼统（“%s…%s”），没有可检查的成果", head.word, generic)
			a.remember(st, mentions, roles, due)
			return
		default:
			c.Verdict, c.Reason = NotObligation, fmt.Sprintf("“%s”的对象不是可检查的成果", head.word)
			a.remember(st, mentions, roles, due)
			return
		}
	}
	if st.modality != "" && !hasSubject {
		// 鼓励各地…，逐步实现…: the opening governs the clauses after it.
		c.Verdict, c.Reason = NotObligation, st.modality+"（承接前文）"
		return
	}
	c.Verdict, c.Reason = Obligation, why
	c.Proposal = a.propose(c, ctx, st, masked, object, head, mentions, roles, due, target)
	c.Proposal.Why.Obligation = why
}

// namesUnit reports whether a unit named by its name is to do the work.
func namesUnit(ms []mention, roles []role) bool {
	for i, m := range ms {
		if m.kind == mentionUnit && (roles[i] == roleSubject || roles[i] == roleSteered || roles[i] == roleEmbedded) {
			return true
		}
	}
	return false
}

func hasSuffixAny(s string, words ...string) bool {
	for _, w := range words {
		if strings.HasSuffix(s, w) {
			return true
		}
	}
	return false
}

func firstWord(s string, words []string) string {
	w, _ := firstIn(s, words)
	return w
}

// remember keeps a clause-initial subject (and its time) for the clauses
// after it, even when this clause sets no task of its own.
func (a *analyzer) remember(st *sentenceState, ms []mention, roles []role, due dueFinding) {
	for i, m := range ms {
		if roles[i] == roleSteered {
			if r := a.expand([]mention{m}, ""); len(r.levels) > 0 || len(r.units) > 0 {
				st.steered = &r
			}
		}
	}
	for i, m := range ms {
		if roles[i] == roleSubject {
			r := a.expand([]mention{m}, "")
			if len(r.levels) > 0 || len(r.units) > 0 {
				st.subject = &r
				if due.stated {
					d := due
					st.due = &d
				} else {
					st.due = nil
				}
			}
			return
		}
	}
}

// roles decides what each mention does, from where it stands against the
// head verb and the words around it.
func (a *analyzer) roles(s string, ms []mention, head *verbHit, steers []verbHit) []role {
	out := make([]role, len(ms))
	headAt := len(s)
	if head != nil {
		headAt = head.start
	}
	for i, m := range ms {
		before := strings.TrimRight(s[:m.start], " ")
		if q := quantityBefore.FindString(before); q != "" {
			// 三分之一以上的村: the units a share or count covers.
			before = strings.TrimRight(strings.TrimSuffix(before, q), " ")
			if m.start < headAt && !hasSuffixAny(before, "在", "向", "对") {
				out[i] = roleObject
				continue
			}
		}
		prep := ""
		for _, p := range []string{"在", "向", "报", "对", "为", "给", "与", "同", "于"} {
			if strings.HasSuffix(before, p) {
				prep = p
				break
			}
		}
		after := strings.TrimLeft(s[m.end:], " ")
		switch prep {
		case "在", "于":
			out[i] = roleScope
			continue
		case "向", "报":
			out[i] = roleRecipient
			continue
		case "对", "为", "给", "与", "同":
			out[i] = roleObject
			continue
		}
		if m.start < headAt {
			out[i] = roleSubject
			for _, sv := range steers {
				if sv.end <= m.start {
					out[i] = roleSteered
				}
			}
			continue
		}
		// After the head verb: the subject of an embedded clause (…县级计生协对…,
		// 县以上计生协机关列入…), the owner of the object, or the object.
		rest := after
		for {
			w := prefixIn(rest, orgWords)
			if w == "" {
				break
			}
			rest = rest[len(w):]
		}
		hadOrg := rest != after
		switch {
		case hadOrg && (startsWithAct(rest) || hasPrefixAny(rest, []string{"对", "向", "在", "于"})):
			out[i] = roleEmbedded
		case hadOrg || (strings.HasPrefix(after, "的") && prefixIn(after[len("的"):], orgWords) != ""):
			out[i] = rolePossessor
		case m.kind == mentionUp && startsWithAct(rest):
			out[i] = roleEmbedded
		default:
			out[i] = roleObject
		}
	}
	return out
}

var dateLineRE = regexp.MustCompile(`^[0-9〇零一二三四五六七八九]{4}\s*年\s*[0-9一二三四五六七八九十]{1,2}\s*月\s*[0-9一二三四五六七八九十]{1,3}\s*日$`)

var quantityBefore = regexp.MustCompile(`(?:(?:` + numPat + `)\s*分之\s*(?:` + numPat + `)|[0-9.]+\s*[%％]|百分之\s*(?:` + numPat + `))\s*(?:以上|以下|左右)?\s*的?$`)

// startsWithAct reports a verb at the start of s that is not also a noun
// of what is made (计生协组织调整: 组织 is the association's organisation).
func startsWithAct(s string) bool {
	for _, v := range verbsLongestFirst {
		if strings.HasPrefix(s, v.word) {
			return !slices.Contains(deliverables, v.word)
		}
	}
	return false
}

// levelAfter reads the level named right after pos (三分之一以上的村（社区）).
func levelAfter(s string, pos int) (duban.Level, string, bool) {
	rest := s[pos:]
	for {
		w := prefixIn(rest, []string{"以上", "以下", "左右", "及以上", "的", " "})
		if w == "" {
			break
		}
		rest = rest[len(w):]
	}
	best, bestWord := duban.Level(""), ""
	for _, lw := range levelWords {
		if strings.HasPrefix(rest, lw.word) && len(lw.word) > len(bestWord) {
			best, bestWord = lw.level, lw.word
		}
	}
	if w := prefixIn(rest, []string{"行政村", "社区"}); w != "" && len(w) > len(bestWord) {
		best, bestWord = duban.LevelVillage, w
	}
	return best, bestWord, best != ""
}

// maskQuotes blanks the inside of quoted names and titles (“…”, 《…》)
// with filler of the same byte length, so their words are not read as the
// clause's own while offsets stay put.
func maskQuotes(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '“' || r == '《' || r == '「':
			depth++
			b.WriteRune(r)
			continue
		case (r == '”' || r == '》' || r == '」') && depth > 0:
			depth--
			b.WriteRune(r)
			continue
		}
		if depth == 0 {
			b.WriteRune(r)
			continue
		}
		switch utf8.RuneLen(r) {
		case 1:
			b.WriteByte('_')
		case 2:
			b.WriteString("ß")
		case 3:
			b.WriteString("＿")
		default:
			b.WriteString("\U0001F600")
		}
	}
	return b.String()
}

// quotedSpans returns the byte spans of quoted names, quote marks included.
func quotedSpans(s string) [][2]int {
	var out [][2]int
	start, depth := 0, 0
	for i, r := range s {
		switch {
		case r == '“' || r == '《' || r == '「':
			if depth == 0 {
				start = i
			}
			depth++
		case (r == '”' || r == '》' || r == '」') && depth > 0:
			depth--
			if depth == 0 {
				out = append(out, [2]int{start, i + utf8.RuneLen(r)})
			}
		}
	}
	return out
}

// propose fills a template for an obligation clause.
func (a *analyzer) propose(c *Clause, ctx clauseContext, st *sentenceState, masked, object string, head *verbHit,
	ms []mention, roles []role, due dueFinding, target targetFinding) *Proposal {
	p := &Proposal{Section: ctx.section}
	t := &p.Template
	t.Quote = c.Text
	t.Title = makeTitle(c.Text)

	resp, inherited := a.responsible(ctx, st, masked, object, head, ms, roles)
	switch {
	case due.stated:
	case inherited && st.due != nil:
		due = *st.due
		due.why += "（承接前一分句）"
	case st.when != nil:
		due = *st.when
		due.why += "（句首的时间状语）"
	}
	if !inherited {
		a.remember(st, ms, roles, due)
	}
	p.Assumptions = append(p.Assumptions, resp.assumptions...)

	// Kind: recurring, then a share of units, a count, a day, else a deadline.
	kind := duban.KindDeadline
	kindWhy := "一次性完成，按截止日期考核"
	ratio := target.ratio
	if ratio == nil && resp.ratio != nil {
		ratio = resp.ratio
	}
	switch {
	case due.kind == duban.KindRecurring:
		kind, kindWhy = duban.KindRecurring, "按周期重复："+due.why
		if target.count > 0 || ratio != nil {
			p.Assumptions = append(p.Assumptions, "定期任务不设数量或比例目标，原文目标请在佐证说明中核对")
		}
		ratio = nil
	case ratio != nil:
		kind = duban.KindRatio
		kindWhy = "覆盖一定比例的下级单位"
		if target.ratio != nil {
			p.Why.Target = target.why
		} else {
			p.Why.Target = resp.ratioWhy
		}
	case target.count > 0:
		kind, kindWhy = duban.KindCount, "数量目标"
		t.Target = target.count
		p.Why.Target = target.why
	case due.kind == duban.KindEvent:
		kind, kindWhy = duban.KindEvent, "定日活动："+due.why
	}
	if ratio == nil && kind != duban.KindRecurring && target.missing != "" && strings.Contains(masked, "覆盖") {
		// 乡镇（街道）计生协组织覆盖率达到100%: the share is of the level named before.
		for _, m := range ms {
			if m.kind == mentionLevels && len(m.levels) > 0 && m.start < strings.Index(masked, "覆盖") {
				ratio = &plan.Ratio{Num: target.pendingNum, Den: target.pendingDen, Of: m.levels[0]}
				target.why = fmt.Sprintf("“%s…覆盖”：覆盖 %d/%d 的%s", m.text, ratio.Num, ratio.Den, m.levels[0].Label())
				target.missing = ""
				kind = duban.KindRatio
				kindWhy = "覆盖一定比例的下级单位"
				p.Why.Target = target.why
				break
			}
		}
	}
	if target.missing != "" {
		p.Assumptions = append(p.Assumptions, target.missing+"，未按比例起草")
	}
	if kind == duban.KindRatio {
		// The responsible units must sit above the units they cover.
		var keep []duban.Level
		for _, l := range resp.levels {
			if l.Depth() < ratio.Of.Depth() {
				keep = append(keep, l)
			}
		}
		if len(keep) == 0 && len(resp.units) == 0 {
			parent := below(ratio.Of, -1)
			keep = []duban.Level{parent}
			p.Assumptions = append(p.Assumptions, fmt.Sprintf("比例覆盖%s，由其上一级（%s）负责", ratio.Of.Label(), parent.Label()))
			resp.why += fmt.Sprintf("；改由%s负责覆盖%s", parent.Label(), ratio.Of.Label())
		}
		var units []org.Unit
		for _, u := range resp.units {
			if u.Level.Depth() >= ratio.Of.Depth() {
				// A named unit covering its own level: its parent carries the share.
				up, ok := a.h.Ancestor(u.Code, below(ratio.Of, -1))
				if !ok {
					continue
				}
				p.Assumptions = append(p.Assumptions, fmt.Sprintf("比例覆盖%s，由%s的上级%s负责", ratio.Of.Label(), u.Name, up.Name))
				u = up
			}
			if !slices.ContainsFunc(units, func(x org.Unit) bool { return x.Code == u.Code }) {
				units = append(units, u)
			}
		}
		resp.levels, resp.units = keep, units
		t.Ratio = ratio
	}
	t.Responsible = plan.Responsible{Levels: resp.levels}
	for _, u := range resp.units {
		t.Responsible.Units = append(t.Responsible.Units, u.Code)
	}
	t.Kind = kind
	t.Due = due.due
	if due.assumed != "" && (kind != duban.KindRecurring || due.kind == duban.KindRecurring) {
		p.Assumptions = append(p.Assumptions, due.assumed)
	}
	if kind == duban.KindRecurring && due.kind != duban.KindRecurring {
		t.Due = plan.Due{Every: due.due.Every, Basis: plan.BasisStated}
	}
	t.Evidence, p.Why.Evidence = evidenceFor(head.word, c.Text[head.end:], kind)
	if t.Evidence.Note == genericEvidence {
		// 将全年工作总结报市计生协: what is made can stand before the verb.
		t.Evidence, p.Why.Evidence = evidenceFor(head.word, c.Text, kind)
	}
	p.Why.Responsible = resp.why
	p.Why.Kind = kindWhy
	p.Why.Due = due.why
	return p
}

// responsibility is who carries an obligation and why.
type responsibility struct {
	levels      []duban.Level
	units       []org.Unit
	why         string
	assumptions []string
	ratio       *plan.Ratio // set when the scope is every unit of a lower level
	ratioWhy    string
}

// responsible applies the rules in order; inherited reports that the clause
// shares the subject of an earlier clause.
func (a *analyzer) responsible(ctx clauseContext, st *sentenceState, masked, object string, head *verbHit,
	ms []mention, roles []role) (responsibility, bool) {
	pickRole := func(want ...role) []mention {
		var out []mention
		for i, m := range ms {
			if slices.Contains(want, roles[i]) {
				out = append(out, m)
			}
		}
		return out
	}
	// 1. Who the clause names as doing it.
	if actors := pickRole(roleSubject, roleSteered, roleEmbedded); len(actors) > 0 {
		r := a.expand(actors, "文中写明")
		if len(r.levels) > 0 || len(r.units) > 0 {
			return r, false
		}
	}
	// 2. The subject of an earlier clause of the sentence.
	if st.subject != nil {
		r := *st.subject
		r.why = "承接前一分句的主语：" + r.why
		return r, true
	}
	// 3. Work a superior body does once for everyone: meetings, commendations,
	// bulletins, province-wide trainings, joint work with other departments.
	area := pickRole(roleObject, rolePossessor)
	areaEvent := false
	for _, m := range area {
		if m.kind == mentionArea && hasAny(masked[m.end:], eventNouns) {
			areaEvent = true
		}
	}
	eventVerb := (head.word == "组织" || head.word == "举办") && hasAny(object, convenedEvents) && !strings.HasPrefix(object, "开展")
	honours, _ := firstIn(object, []string{"表彰", "评选", "评比"})
	if slices.Contains(issuerVerbs, head.word) || areaEvent || eventVerb || honours != "" || strings.Contains(masked, "联合") {
		return a.issuerOnly(fmt.Sprintf("“%s”这类工作由发文单位自己组织", head.word)), false
	}
	// 4. Whom an earlier clause handed the work to (推动各地…，建立…).
	if st.steered != nil {
		r := *st.steered
		r.why = "承接前一分句“推动/指导”的对象：" + r.why
		return r, false
	}
	// 5. Where the work is done: 在全省 (everyone below), 在所有乡镇 (the level
	// above them, covering all of them).
	if scopes := pickRole(roleScope); len(scopes) > 0 {
		if r, ok := a.fromScope(scopes[0]); ok {
			return r, false
		}
	}
	// 6. A mechanism for reporting to a body is that body's (建立…向县计生协备案的机制).
	if slices.Contains([]string{"建立", "健全", "完善", "制定"}, head.word) {
		if rec := pickRole(roleRecipient); len(rec) > 0 {
			r := a.expand(rec, "报送或备案的接收方建立此机制")
			if len(r.levels) > 0 {
				return r, false
			}
		}
	}
	// 7. Work done to lower units (对乡镇…培训) falls to the level above them.
	if objs := pickRole(roleObject); len(objs) > 0 {
		for _, m := range objs {
			if m.kind == mentionLevels && len(m.levels) > 0 && strings.HasSuffix(strings.TrimSpace(masked[:m.start]), "对") {
				parent := below(m.levels[0], -1)
				if slices.Contains(responsibleLevels, parent) {
					return responsibility{levels: []duban.Level{parent},
						why: fmt.Sprintf("对“%s”开展的工作，由其上一级（%s）负责", m.text, parent.Label())}, false
				}
			}
		}
	}
	// 8. The owner of what is built (基层计生协“会员之家”).
	if own := pickRole(rolePossessor); len(own) > 0 {
		r := a.expand(own[:1], "成果属于")
		if len(r.levels) > 0 || len(r.units) > 0 {
			return r, false
		}
	}
	// 9. A section on the issuer's own office (机关自身建设).
	if hasAny(ctx.sectionTitle, []string{"自身建设", "机关建设"}) || strings.HasPrefix(masked, "本会") {
		return a.issuerOnly(fmt.Sprintf("所在部分“%s”讲发文单位自身", ctx.sectionTitle)), false
	}
	// 10. Otherwise the addressees.
	l := a.d.Addressee
	return responsibility{levels: []duban.Level{l}, why: "文中未写明责任单位，按主送单位",
		assumptions: []string{fmt.Sprintf("文中未写明责任单位：按主送单位（%s）（假设，请核实）", l.Label())}}, false
}

func (a *analyzer) issuerOnly(why string) responsibility {
	l := a.d.Issuer.Level
	if a.d.Issuer.Code != "" && l == duban.LevelProvince {
		return responsibility{levels: []duban.Level{l}, why: why}
	}
	// A city or county issuer is one unit: name it.
	return responsibility{units: []org.Unit{a.d.Issuer}, why: why}
}

// subordinates are the two levels below the issuer (各级, 各地, 全省).
func (a *analyzer) subordinates() []duban.Level {
	var out []duban.Level
	for n := 1; n <= 2; n++ {
		if l := below(a.d.Issuer.Level, n); slices.Contains(responsibleLevels, l) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		out = []duban.Level{a.d.Issuer.Level}
	}
	return out
}

func (a *analyzer) fromScope(m mention) (responsibility, bool) {
	switch {
	case m.kind == mentionArea || m.kind == mentionSubordinate:
		return responsibility{levels: a.subordinates(),
			why: fmt.Sprintf("“在%s”开展：发文单位以下两级（%s）", m.text, levelsLabel(a.subordinates()))}, true
	case m.kind == mentionLevels && len(m.levels) > 0:
		top := m.levels[0]
		if m.distributive {
			parent := below(top, -1)
			if parent.Depth() >= a.d.Issuer.Level.Depth() && slices.Contains(responsibleLevels, parent) {
				return responsibility{levels: []duban.Level{parent},
					ratio:    &plan.Ratio{Num: 1, Den: 1, Of: top},
					ratioWhy: fmt.Sprintf("“%s”：覆盖全部%s", m.text, top.Label()),
					why:      fmt.Sprintf("“在%s”：由其上一级（%s）负责全覆盖", m.text, parent.Label())}, true
			}
		}
		r := a.expand([]mention{m}, "工作开展的地方")
		return r, len(r.levels) > 0
	case m.kind == mentionUnit:
		return a.expand([]mention{m}, "工作开展的地方"), true
	}
	return responsibility{}, false
}

// expand turns mentions into levels and units.
func (a *analyzer) expand(ms []mention, prefix string) responsibility {
	var r responsibility
	var words []string
	for _, m := range ms {
		words = append(words, "“"+m.text+"”")
		switch m.kind {
		case mentionLevels:
			for _, l := range m.levels {
				switch {
				case l == a.d.Issuer.Level && l != duban.LevelProvince:
					// 市计生协 in a city's notice is the issuer itself.
					r.units = append(r.units, a.d.Issuer)
				case slices.Contains(responsibleLevels, l):
					r.levels = append(r.levels, l)
				case l == duban.LevelVillage && len(m.levels) == 1:
					r.levels = append(r.levels, duban.LevelTownship)
					r.assumptions = append(r.assumptions, "村（社区）不是系统中的责任单位：由乡镇（街道）负责（假设）")
				}
			}
		case mentionSubordinate, mentionArea:
			r.levels = append(r.levels, a.subordinates()...)
		case mentionUp:
			top := below(a.d.Issuer.Level, 1)
			for _, l := range responsibleLevels {
				if l.Depth() >= top.Depth() && l.Depth() <= m.levels[0].Depth() {
					r.levels = append(r.levels, l)
				}
			}
		case mentionUnit:
			for _, u := range m.units {
				if u.Level == duban.LevelProvince {
					r.levels = append(r.levels, u.Level)
					continue
				}
				if !slices.ContainsFunc(r.units, func(x org.Unit) bool { return x.Code == u.Code }) {
					r.units = append(r.units, u)
				}
			}
		}
	}
	r.levels = sortLevels(r.levels)
	// A unit already covered by a named level is not named twice.
	var units []org.Unit
	for _, u := range r.units {
		if !slices.Contains(r.levels, u.Level) {
			units = append(units, u)
		}
	}
	r.units = units
	var parts []string
	if len(r.levels) > 0 {
		parts = append(parts, levelsLabel(r.levels))
	}
	for _, u := range r.units {
		parts = append(parts, fmt.Sprintf("%s（%s）", u.Name, u.Code))
	}
	r.why = fmt.Sprintf("%s%s → %s", prefix, strings.Join(words, "、"), strings.Join(parts, "、"))
	return r
}

func levelsLabel(ls []duban.Level) string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Label()
	}
	return strings.Join(out, "、")
}

// makeTitle shortens a clause to a task title.
func makeTitle(s string) string {
	t := strings.TrimSpace(s)
	for changed := true; changed; {
		changed = false
		if w := prefixIn(t, leadingFillers); w != "" && len(w) < len(t) {
			t = strings.TrimSpace(t[len(w):])
			changed = true
		}
	}
	t = strings.TrimSuffix(t, "等")
	if utf8.RuneCountInString(t) > 40 {
		r := []rune(t)
		t = string(r[:38]) + "…"
	}
	return t
}

const genericEvidence = "工作开展情况报告及佐证材料"

// evidenceFor says what a submission should carry, from what the work makes.
func evidenceFor(verb, object string, kind duban.Kind) (plan.Evidence, string) {
	rules := []struct {
		words []string
		note  string
	}{
		{[]string{"方案", "办法", "细则", "规划", "意见"}, "正式印发的文件"},
		{[]string{"制度", "机制"}, "制度或机制文件（印发稿）及执行记录"},
		{[]string{"换届"}, "换届会议文件，或届期情况说明"},
		{[]string{"表彰", "评选", "评比"}, "表彰或评选结果文件"},
		{[]string{"推进会", "座谈会", "现场会", "研讨会", "会议", "大会"}, "会议通知、议程、签到表及会议材料"},
		{[]string{"观摩"}, "观摩活动通知、签到表及照片"},
		{[]string{"培训", "课堂", "讲座"}, "培训通知、日程、签到表及照片"},
		{[]string{"通报", "简报", "会刊", "刊物"}, "当期印发件"},
		{[]string{"基地", "阵地", "之家", "中心", "驿站", "家园", "小屋", "示范点", "项目点"}, "场所挂牌照片及建设情况报告"},
		{[]string{"队伍", "名册"}, "人员名册"},
		{[]string{"公约"}, "公约文本及推广情况"},
		{[]string{"报送", "上报", "报告", "总结", "信息", "数据", "统计表"}, "报送的材料及报送记录"},
		{[]string{"备案"}, "备案材料"},
		{[]string{"试点"}, "试点工作方案及工作总结"},
		{[]string{"赠险", "保险"}, "参保名单及保单汇总"},
		{[]string{"项目", "工程", "计划"}, "项目实施及资金使用情况报告"},
		{[]string{"活动", "行动", "教育"}, "活动方案、开展情况记录及照片"},
		{[]string{"计生协组织", "协会组织", "红十字会组织", "基层组织"}, "组织及负责人名册"},
	}
	// The verb when it names the product (表彰, 培训), else the word nearest
	// the object's end: what is made, not how it is described.
	best, bestAt, bestNote := "", -1, ""
	for _, r := range rules {
		if slices.Contains(r.words, verb) && slices.Contains(verbLexicon[verbStrong], verb) {
			best, bestNote = verb, r.note
			break
		}
		for _, w := range r.words {
			if i := strings.LastIndex(object, w); i >= 0 && (i+len(w) > bestAt || (i+len(w) == bestAt && len(w) > len(best))) {
				best, bestAt, bestNote = w, i+len(w), r.note
			}
		}
	}
	if best != "" {
		if kind == duban.KindRatio {
			bestNote += "；覆盖的单位名单"
		}
		return plan.Evidence{Required: true, Note: bestNote}, fmt.Sprintf("由“%s”推断", best)
	}
	note := genericEvidence
	if kind == duban.KindRatio {
		note += "；覆盖的单位名单"
	}
	return plan.Evidence{Required: true, Note: note}, "文中未写成果形式，要求提交情况报告"
}
