package draft

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
)

// ErrNoText is returned for a notice with no Chinese text in it.
var ErrNoText = errors.New("通知中没有可读的中文正文")

// FromFile drafts a plan from a notice file's bytes; name gives the format
// (.docx, .md, .txt) and is quoted in errors.
func FromFile(name string, data []byte, opts Options) (*Draft, error) {
	ps, err := readParagraphs(name, data)
	if err != nil {
		return nil, err
	}
	return fromParagraphs(name, ps, opts)
}

// FromText drafts a plan from a notice given as plain text (one paragraph a
// line; Markdown headings are understood).
func FromText(name, text string, opts Options) (*Draft, error) {
	return FromFile(name, []byte(text), opts)
}

var (
	level1RE     = regexp.MustCompile(`^([一二三四五六七八九十]{1,3})\s*[、．.]\s*(.*)$`)
	partRE       = regexp.MustCompile(`^第([一二三四五六七八九十]{1,3})(?:部分|章)\s*[、：:]?\s*(.*)$`)
	level2RE     = regexp.MustCompile(`^[（(]([一二三四五六七八九十]{1,3})[）)]\s*(.*)$`)
	level3RE     = regexp.MustCompile(`^(?:([0-9]{1,2})\s*[．.、]|[（(]([0-9]{1,2})[）)])\s*([^0-9].*)$`)
	attachRE     = regexp.MustCompile(`^附\s*件\s*[0-9]*\s*[：:]?`)
	docNumberRE  = regexp.MustCompile(`\p{Han}{2,16}\s*[〔\[［【(（]\s*([0-9]{4})\s*[〕\]］】)）]\s*[0-9]+\s*号`)
	addresseeRE  = regexp.MustCompile(`^各[^。！？]{1,80}[：:]$`)
	itemNumberRE = regexp.MustCompile(`^(?:[0-9]{1,2}\s*[．.、]|[（(][0-9一二三四五六七八九十]{1,3}[）)])\s*`)
	titleYearRE  = regexp.MustCompile(`([0-9]{4})\s*年`)
	titleWordsRE = regexp.MustCompile(`工作要点|要点|工作计划|计划|实施方案|方案|工作安排|安排|意见|任务分工`)
	innerTitleRE = regexp.MustCompile(`《([^》]+)》`)
	terminalEnd  = "。！？!?；;：:…”’）)"
)

// block is a paragraph after page breaks are mended, with its role.
type block struct {
	text    string
	level   int    // 0 body; 1 section heading; 2 sub-heading; 3 item heading; 9 document heading
	number  int    // the heading's number
	heading string // the heading's words without the number
	// attachment marks a line of the list of attachments.
	attachment bool
}

func fromParagraphs(name string, ps []paragraph, opts Options) (*Draft, error) {
	if opts.Hierarchy == nil {
		opts.Hierarchy = org.Hunan()
	}
	var han bool
	for _, p := range ps {
		if hasHan(p.text) {
			han = true
			break
		}
	}
	if !han {
		return nil, fmt.Errorf("%s：%w", name, ErrNoText)
	}
	blocks := classifyBlocks(mendPageBreaks(ps))
	d := &Draft{Notice: name}
	numberStyledHeadings(blocks)
	first := firstSection(blocks)
	header := blocks[:first]
	if first == len(blocks) {
		header = blocks[:headerEnd(blocks)]
	}
	for i := range header {
		// A short line without closing punctuation in the header is a title
		// line (发文机关标志, the title), whatever the format marked.
		if header[i].level == 0 && isTitleLike(header[i].text) && !addresseeRE.MatchString(header[i].text) &&
			!docNumberRE.MatchString(header[i].text) {
			header[i].level = 9
		}
	}
	if err := d.readHeader(header, blocks, opts); err != nil {
		return nil, err
	}
	a := newAnalyzer(d, opts.Hierarchy)
	d.build(blocks, first, a)
	if opts.Base == nil {
		ids := plan.ShippedIDs()
		base, _, err := plan.Shipped(ids[len(ids)-1])
		if err != nil {
			return nil, err
		}
		opts.Base = base
	}
	d.base = opts.Base
	return d, nil
}

// mendPageBreaks joins a paragraph cut by a page break to the one after it:
// a long paragraph that stops without closing punctuation, followed by one
// that is neither a heading nor an addressee line.
func mendPageBreaks(ps []paragraph) []paragraph {
	var out []paragraph
	for _, p := range ps {
		if n := len(out); n > 0 {
			prev := out[n-1]
			last, _ := utf8.DecodeLastRuneInString(prev.text)
			cut := unbalanced(prev.text) || (utf8.RuneCountInString(prev.text) >= 20 && !strings.ContainsRune(terminalEnd, last))
			if !prev.heading && !p.heading && cut && headingLevel(p.text) == 0 &&
				!addresseeRE.MatchString(p.text) && hasHan(p.text) {
				out[n-1].text += p.text
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// unbalanced reports a paragraph that leaves a quote or title open.
func unbalanced(s string) bool {
	return strings.Count(s, "《") > strings.Count(s, "》") || strings.Count(s, "“") > strings.Count(s, "”") ||
		strings.Count(s, "（") > strings.Count(s, "）")
}

func headingLevel(s string) int {
	switch {
	case level1RE.MatchString(s) || partRE.MatchString(s):
		return 1
	case level2RE.MatchString(s):
		return 2
	case level3RE.MatchString(s):
		return 3
	}
	return 0
}

// classifyBlocks marks numbered headings; a numbered paragraph whose first
// sentence is its heading ("（一）加快推进改革。推动……") is split in two.
func classifyBlocks(ps []paragraph) []block {
	var out []block
	attachments := false
	for _, p := range ps {
		var m []string
		lvl := 0
		if m = level1RE.FindStringSubmatch(p.text); m != nil {
			lvl = 1
		} else if m = partRE.FindStringSubmatch(p.text); m != nil {
			lvl = 1
		} else if m = level2RE.FindStringSubmatch(p.text); m != nil {
			lvl = 2
		} else if m = level3RE.FindStringSubmatch(p.text); m != nil {
			lvl = 3
			m = []string{m[0], m[1] + m[2], m[3]}
		}
		switch {
		case attachRE.MatchString(p.text):
			attachments = true
		case attachments && (lvl == 3 || lvl == 0) && isTitleLike(p.text):
			// The list of attachments after 附件：, one a line.
			out = append(out, block{text: p.text, attachment: true})
			continue
		default:
			attachments = false
		}
		if lvl == 0 {
			b := block{text: p.text}
			if p.heading {
				b.level = 9
			}
			out = append(out, b)
			continue
		}
		n, _ := cnNumber(m[1])
		rest := m[2]
		head, body := rest, ""
		if i := strings.Index(rest, "。"); i >= 0 && i+len("。") < len(rest) {
			head, body = rest[:i], rest[i+len("。"):]
		}
		head = strings.TrimRight(head, "。")
		if lvl == 3 && (utf8.RuneCountInString(head) > 25 || (body == "" && strings.HasSuffix(rest, "。"))) {
			// A numbered item that is a whole sentence is body text.
			out = append(out, block{text: p.text})
			continue
		}
		if body == "" {
			out = append(out, block{text: p.text, level: lvl, number: n, heading: head})
			continue
		}
		cut := len(p.text) - len(body)
		out = append(out, block{text: p.text[:cut], level: lvl, number: n, heading: head})
		out = append(out, block{text: body})
	}
	return out
}

// numberStyledHeadings: a notice with no numbered heading whose body is
// divided by headings the format marks (Word's heading styles, whose numbers
// Word adds itself; Markdown ## lines) gets those as its sections, numbered
// in order.
func numberStyledHeadings(blocks []block) {
	if firstSection(blocks) < len(blocks) {
		return
	}
	body := -1
	for i, b := range blocks {
		if b.level == 0 && !addresseeRE.MatchString(b.text) && !isTitleLike(b.text) {
			body = i
			break
		}
	}
	if body < 0 {
		return
	}
	var marked []int
	for i := body + 1; i < len(blocks); i++ {
		if blocks[i].level == 9 {
			marked = append(marked, i)
		}
	}
	if len(marked) < 2 {
		return
	}
	for n, i := range marked {
		blocks[i].level, blocks[i].number, blocks[i].heading = 1, n+1, blocks[i].text
	}
}

// firstSection is the index of the first top-level numbered heading (level
// 1, or 2 when the notice has no level 1), or len(blocks) when there is none.
func firstSection(blocks []block) int {
	for _, lvl := range []int{1, 2} {
		for i, b := range blocks {
			if b.level == lvl {
				return i
			}
		}
	}
	return len(blocks)
}

// headerEnd, for a notice without numbered sections, is where its body
// starts: after the addressee line, or after the title.
func headerEnd(blocks []block) int {
	for i, b := range blocks {
		if addresseeRE.MatchString(b.text) {
			return i + 1
		}
	}
	for i, b := range blocks {
		if b.level == 9 || (i < 4 && isTitleLike(b.text)) {
			continue
		}
		return i
	}
	return 0
}

func isTitleLike(s string) bool {
	last, _ := utf8.DecodeLastRuneInString(s)
	return utf8.RuneCountInString(s) <= 60 && !strings.ContainsRune(terminalEnd, last)
}

// readHeader finds the title, document number, year, issuer and addressee.
func (d *Draft) readHeader(header, all []block, opts Options) error {
	h := opts.Hierarchy
	var titleCands []string
	for _, b := range header {
		t := strings.TrimSpace(b.text)
		if m := docNumberRE.FindString(t); m != "" && d.Source == "" {
			d.Source = m
		}
		if addresseeRE.MatchString(t) && d.Addressee == "" {
			d.Addressee = addresseeLevel(t)
			d.Context = append(d.Context, fmt.Sprintf("主送“%s”：未写明责任单位的任务默认由%s承担", t, d.Addressee.Label()))
		}
		if isTitleLike(t) && titleWordsRE.MatchString(t) {
			titleCands = append(titleCands, t)
		}
	}
	switch {
	case len(titleCands) > 0:
		// The last title-like line is the document's own title; a covering
		// note's 关于印发《X》的通知 names it too.
		t := titleCands[len(titleCands)-1]
		if m := innerTitleRE.FindStringSubmatch(t); m != nil {
			t = m[1]
		}
		d.Title = strings.Join(strings.Fields(t), " ")
	case len(header) > 0:
		d.Title = strings.TrimSpace(header[0].text)
	default:
		d.Title = strings.TrimSuffix(d.Notice, ".docx")
	}
	d.Source = strings.TrimSpace(d.Source + "《" + d.Title + "》")
	d.Context = append(d.Context, fmt.Sprintf("标题：%s", d.Title))

	switch {
	case opts.Year != 0:
		d.Year = opts.Year
		d.Context = append(d.Context, fmt.Sprintf("年度 %d：由调用方指定", d.Year))
	default:
		if m := titleYearRE.FindStringSubmatch(d.Title); m != nil {
			d.Year, _ = strconv.Atoi(m[1])
			d.Context = append(d.Context, fmt.Sprintf("年度 %d：取自标题", d.Year))
		} else if m := docNumberRE.FindStringSubmatch(d.Source); m != nil {
			d.Year, _ = strconv.Atoi(m[1])
			d.Context = append(d.Context, fmt.Sprintf("年度 %d：取自文号（假设文件当年执行）", d.Year))
		}
	}
	if d.Year < 2000 || d.Year > 2100 {
		return fmt.Errorf("%s：无法从标题或文号确定年度，请指定年度（--year）", d.Notice)
	}
	d.PlanID = opts.PlanID
	if d.PlanID == "" {
		d.PlanID = fmt.Sprintf("draft-%d", d.Year)
	}

	issuer, where := findIssuer(h, header, all)
	d.Issuer = issuer
	if where == "" {
		d.Context = append(d.Context, fmt.Sprintf("发文单位：文件头未写明，按%s（%s）（假设）", issuer.Name, issuer.Level.Label()))
	} else {
		d.Context = append(d.Context, fmt.Sprintf("发文单位：%s（%s，取自“%s”）", issuer.Name, issuer.Level.Label(), where))
	}
	if d.Addressee == "" || d.Addressee.Depth() <= issuer.Level.Depth() {
		d.Addressee = below(issuer.Level, 1)
		if d.Addressee == duban.LevelVillage || d.Addressee == "" {
			d.Addressee = issuer.Level
		}
		d.Context = append(d.Context, fmt.Sprintf("主送单位未写明：未写明责任单位的任务默认由%s承担（假设）", d.Addressee.Label()))
	}
	return nil
}

// addresseeLevel is the highest level an addressee line names (各市州计生协：
// is the cities).
func addresseeLevel(line string) duban.Level {
	a := &analyzer{}
	var best duban.Level
	for _, m := range a.findMentions(line) {
		for _, l := range m.levels {
			if best == "" || l.Depth() < best.Depth() {
				best = l
			}
		}
	}
	return best
}

// findIssuer looks for a unit's name opening a header line (湖南省计划生育协会文件),
// then in the last lines (the signature); else the hierarchy's root.
func findIssuer(h *org.Hierarchy, header, all []block) (org.Unit, string) {
	lines := make([]string, 0, len(header)+4)
	for _, b := range header {
		lines = append(lines, b.text)
	}
	for i := len(all) - 1; i >= 0 && i >= len(all)-4; i-- {
		lines = append(lines, all[i].text)
	}
	units := h.All()
	for _, line := range lines {
		t := strings.Join(strings.Fields(line), "")
		var best org.Unit
		for _, u := range units {
			if u.Level == duban.LevelTownship || u.Level == duban.LevelVillage {
				continue
			}
			if strings.HasPrefix(t, u.Name) && len(u.Name) > len(best.Name) {
				best = u
			}
		}
		if best.Code != "" {
			return best, line
		}
	}
	return h.Root(), ""
}

// build splits the blocks into sentences and clauses, and analyses each.
func (d *Draft) build(blocks []block, first int, a *analyzer) {
	sectionID, sectionTitle, heading := "0", "通知及前言", ""
	noSections := first == len(blocks)
	if noSections {
		first = headerEnd(blocks)
	}
	d.Sections = append(d.Sections, Section{ID: sectionID, Title: sectionTitle})
	topLevel := 0
	if !noSections {
		topLevel = blocks[first].level
	}
	used, maxUsed := map[int]bool{0: true}, 0
	if noSections {
		used[1], maxUsed = true, 1
	}
	var text strings.Builder
	for i, b := range blocks {
		if i == first && noSections {
			sectionID, sectionTitle, heading = "1", d.Title, d.Title
			d.Sections = append(d.Sections, Section{ID: sectionID, Title: sectionTitle})
		}
		if i > 0 {
			text.WriteString("\n")
		}
		offset := utf8.RuneCountInString(text.String())
		text.WriteString(b.text)
		inHeader := i < first
		switch {
		case b.level == topLevel && b.level != 0 && !inHeader:
			n := b.number
			if used[n] {
				// A number met twice (two numbered lists, a pasted part) still
				// gets a section of its own.
				n = maxUsed + 1
				d.Context = append(d.Context, fmt.Sprintf("标题“%s”的编号与前文重复：按第 %d 部分起草", oneLine(b.text), n))
			}
			used[n], maxUsed = true, max(maxUsed, n)
			sectionID, sectionTitle, heading = strconv.Itoa(n), b.heading, b.heading
			if strings.TrimSpace(sectionTitle) == "" {
				sectionTitle = fmt.Sprintf("第%d部分", n)
			}
			d.Sections = append(d.Sections, Section{ID: sectionID, Title: sectionTitle})
		case b.level != 0 && b.level != 9 && !inHeader:
			heading = b.heading
		}
		if b.level != 0 {
			d.Sentences = append(d.Sentences, Sentence{
				Index: len(d.Sentences) + 1, Text: b.text, Start: offset, End: offset + utf8.RuneCountInString(b.text),
				Paragraph: i + 1, Section: sectionID, Heading: heading, Verdict: NotObligation, Reason: "标题",
			})
			continue
		}
		ctx := clauseContext{section: sectionID, sectionTitle: sectionTitle, heading: heading, header: inHeader,
			attachment: b.attachment || attachRE.MatchString(b.text)}
		for _, sp := range splitSentences(b.text) {
			s := Sentence{
				Index: len(d.Sentences) + 1, Text: b.text[sp[0]:sp[1]],
				Start: offset + utf8.RuneCountInString(b.text[:sp[0]]), Paragraph: i + 1,
				Section: sectionID, Heading: heading,
			}
			s.End = s.Start + utf8.RuneCountInString(s.Text)
			a.sentence(&s, ctx)
			d.Sentences = append(d.Sentences, s)
		}
	}
	d.Text = text.String()
	d.numberProposals()
}

// numberProposals gives each proposal its id "section.n" in reading order.
func (d *Draft) numberProposals() {
	n := map[string]int{}
	for _, p := range d.Proposals() {
		n[p.Section]++
		p.Template.ID = fmt.Sprintf("%s.%d", p.Section, n[p.Section])
	}
}

var (
	openers = "“‘《（(「『【〔[\""
	closers = "”’》）)」』】〕]\""
)

// splitSentences returns byte spans of sentences: up to 。！？ (with a
// closing quote or bracket that follows), never inside quotes or brackets.
func splitSentences(s string) [][2]int {
	var out [][2]int
	start, depth := 0, 0
	prevTerminal := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		var closed bool
		depth, closed = nest(r, depth)
		terminal := strings.ContainsRune("。！？!?", r)
		if depth == 0 && (terminal || (closed && prevTerminal)) {
			for i < len(s) {
				r2, n := utf8.DecodeRuneInString(s[i:])
				if !strings.ContainsRune("”’）)", r2) {
					break
				}
				i += n
			}
			out = appendSpan(out, s, start, i)
			start = i
		}
		prevTerminal = terminal
	}
	return appendSpan(out, s, start, len(s))
}

// nest follows quotes and brackets: the depth after r, and whether r
// closed one.
func nest(r rune, depth int) (int, bool) {
	switch {
	case r == '"' && depth > 0:
		return depth - 1, true
	case r == '"' || strings.ContainsRune(openers, r):
		return depth + 1, false
	case strings.ContainsRune(closers, r) && depth > 0:
		return depth - 1, true
	}
	return depth, false
}

func appendSpan(out [][2]int, s string, a, b int) [][2]int {
	for a < b {
		r, n := utf8.DecodeRuneInString(s[a:])
		if r != ' ' && r != '\u3000' {
			break
		}
		a += n
	}
	if strings.TrimSpace(s[a:b]) == "" {
		return out
	}
	return append(out, [2]int{a, b})
}

// splitClauses returns byte spans of clauses: between ，；： at depth 0.
func splitClauses(s string) [][2]int {
	var out [][2]int
	start, depth, pos := 0, 0, 0
	for _, r := range s {
		size := utf8.RuneLen(r)
		depth, _ = nest(r, depth)
		pos += size
		if depth == 0 && strings.ContainsRune("，；：,;:", r) {
			out = appendSpan(out, s, start, pos-size)
			start = pos
		}
	}
	end := len(s)
	for end > start {
		r, n := utf8.DecodeLastRuneInString(s[:end])
		if !strings.ContainsRune("。！？!? ", r) {
			break
		}
		end -= n
	}
	return appendSpan(out, s, start, end)
}
