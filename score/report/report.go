// Package report writes the year's 考核 for people to read and circulate:
// a ranking as an Excel workbook, and printable 考核通报 as PDF (one unit's
// explained score, or the ranking of the units under a city or the
// province), in Chinese with the font embedded.
package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/score"
)

// The fonts embedded in every PDF (only the glyphs used), see
// fonts/README.md: Droid Sans Fallback for Chinese, DejaVu Sans for the rest.
var (
	//go:embed fonts/DroidSansFallback.ttf
	cjkTTF []byte
	//go:embed fonts/DejaVuSans.ttf
	latinTTF []byte
)

const (
	cjkFont   = "droid"
	latinFont = "dejavu"
)

// pdfDoc is an A4 portrait document with the Chinese font loaded, page
// numbers in the footer and a fixed creation date (the day scored), so the
// same score gives the same file.
type pdfDoc struct {
	*fpdf.Fpdf
	lineH float64
	size  float64 // the font size text is set in
}

func newPDF(title string, day time.Time) *pdfDoc {
	f := fpdf.New("P", "mm", "A4", "")
	f.AddUTF8FontFromBytes(cjkFont, "", cjkTTF)
	f.AddUTF8FontFromBytes(latinFont, "", latinTTF)
	f.SetTitle(title, true)
	f.SetCreator("Duban 督办", true)
	f.SetCreationDate(day)
	f.SetModificationDate(day)
	f.SetCatalogSort(true)
	f.SetMargins(18, 18, 18)
	f.SetAutoPageBreak(true, 18)
	f.AliasNbPages("{nb}")
	d := &pdfDoc{Fpdf: f, lineH: 5.2, size: 9}
	f.SetFooterFunc(func() {
		size := d.size
		d.size = 8
		f.SetTextColor(110, 110, 110)
		left, _, right, _ := f.GetMargins()
		w, h := f.GetPageSize()
		d.text(left, h-12, w-left-right, 5, fmt.Sprintf("%s　%d / {nb}", title, f.PageNo()), "C")
		f.SetTextColor(0, 0, 0)
		d.size = size
	})
	f.AddPage()
	return d
}

func (d *pdfDoc) heading(text string, size float64) {
	d.lines(text, size, size*0.5, "C")
	d.Ln(2)
}

func (d *pdfDoc) para(text string, size float64) {
	d.lines(text, size, d.lineH*size/9, "L")
	d.Ln(1)
}

// lines writes text wrapped to the page width.
func (d *pdfDoc) lines(text string, size, h float64, align string) {
	d.size = size
	w, _ := d.GetPageSize()
	left, _, right, _ := d.GetMargins()
	for _, l := range d.wrap(text, w-left-right) {
		_, pageH := d.GetPageSize()
		_, _, _, bottom := d.GetMargins()
		if d.GetY()+h > pageH-bottom {
			d.AddPage()
		}
		y := d.GetY()
		d.text(left, y, w-left-right, h, l, align)
		d.SetXY(left, y+h)
	}
}

// isCJK reports whether r is set in the Chinese font: ideographs, CJK and
// full-width punctuation.
func isCJK(r rune) bool {
	return r >= 0x2E80 && r != 0xFFFD
}

// runs splits text into runs of one font.
func runs(s string) []string {
	var out []string
	start := 0
	var prev bool
	for i, r := range s {
		c := isCJK(r)
		if i > 0 && c != prev {
			out = append(out, s[start:i])
			start = i
		}
		prev = c
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func (d *pdfDoc) fontFor(run string) {
	r, _ := utf8.DecodeRuneInString(run)
	if isCJK(r) {
		d.SetFont(cjkFont, "", d.size)
	} else {
		d.SetFont(latinFont, "", d.size)
	}
}

// width is the width of s set in mixed fonts.
func (d *pdfDoc) width(s string) float64 {
	var w float64
	for _, run := range runs(s) {
		d.fontFor(run)
		w += d.GetStringWidth(run)
	}
	return w
}

// text sets one line of mixed text in a box, aligned L, C or R.
func (d *pdfDoc) text(x, y, w, h float64, s, align string) {
	switch align {
	case "C":
		x += (w - d.width(s)) / 2
	case "R":
		x += w - d.width(s)
	}
	for _, run := range runs(s) {
		d.fontFor(run)
		rw := d.GetStringWidth(run)
		d.SetXY(x, y)
		d.CellFormat(rw, h, run, "", 0, "L", false, 0, "")
		x += rw
	}
}

// wrap splits text into lines no wider than width in the current font.
// (fpdf's own SplitText and MultiCell drop the Chinese character they
// break at.) Chinese breaks between any two characters, Latin words and
// numbers at spaces, and closing punctuation never starts a line.
func (d *pdfDoc) wrap(text string, width float64) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		var line []rune
		var w float64
		for _, r := range para {
			rw := d.width(string(r))
			if w+rw > width && len(line) > 0 && !strings.ContainsRune(closing, r) {
				cut := len(line)
				if r < 0x2E80 && r != ' ' {
					// inside a Latin word: break at its last space, if any
					if i := lastSpace(line); i > 0 {
						cut = i
					}
				}
				out = append(out, strings.TrimRight(string(line[:cut]), " "))
				line = []rune(strings.TrimLeft(string(line[cut:]), " "))
				w = d.width(string(line))
			}
			line = append(line, r)
			w += rw
		}
		out = append(out, string(line))
	}
	return out
}

// closing punctuation stays at the end of the line before.
const closing = "，。、；：？！）》」』】,.;:?!)%"

func lastSpace(rs []rune) int {
	for i := len(rs) - 1; i > 0; i-- {
		if rs[i] == ' ' {
			return i
		}
		if rs[i] >= 0x2E80 {
			return -1 // the word began after a Chinese character: break there instead
		}
	}
	return -1
}

// table draws rows with wrapped cells; the header repeats on each page.
func (d *pdfDoc) table(widths []float64, aligns []string, header []string, rows [][]string) {
	d.size = 9
	split := func(cells []string) ([][]string, float64) {
		lines := make([][]string, len(cells))
		n := 1
		for i, c := range cells {
			lines[i] = d.wrap(c, widths[i]-2)
			n = max(n, len(lines[i]))
		}
		return lines, float64(n)*d.lineH + 1.5
	}
	headLines, headH := split(header)
	drawHeader := func() {
		d.SetFillColor(235, 238, 245)
		d.row(widths, aligns, headLines, headH, true)
	}
	drawHeader()
	_, pageH := d.GetPageSize()
	_, _, _, bottom := d.GetMargins()
	for _, r := range rows {
		lines, h := split(r)
		if d.GetY()+h > pageH-bottom {
			d.AddPage()
			drawHeader()
		}
		d.row(widths, aligns, lines, h, false)
	}
	d.Ln(2)
}

// row draws one table row of height h at the current position.
func (d *pdfDoc) row(widths []float64, aligns []string, lines [][]string, h float64, fill bool) {
	left, _, _, _ := d.GetMargins()
	x, y := left, d.GetY()
	style := "D"
	if fill {
		style = "FD"
	}
	for i := range lines {
		d.Rect(x, y, widths[i], h, style)
		for j, l := range lines[i] {
			d.text(x+1, y+0.75+float64(j)*d.lineH, widths[i]-2, d.lineH, l, aligns[i])
		}
		x += widths[i]
	}
	d.SetXY(left, y+h)
}

func (d *pdfDoc) write(w io.Writer) error {
	var b bytes.Buffer
	if err := d.Output(&b); err != nil {
		return fmt.Errorf("write pdf: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func asOfTime(s score.Score) time.Time {
	return time.Date(s.AsOf.Year, s.AsOf.Month, s.AsOf.Day, 0, 0, 0, 0, duban.Shanghai)
}

func countsText(c score.Counts) string {
	return fmt.Sprintf("计分任务 %d 项：按期办结 %d 项，逾期办结 %d 项，逾期未办结 %d 项，尚未到期 %d 项（审批中暂按提交日期计 %d 项）；撤销 %d 项不计入考核。退回修改 %d 次，被催办 %d 次，批准延期 %d 次。",
		c.Tasks, c.OnTime, c.Late, c.NotDone, c.NotYetDue, c.InApproval, c.Cancelled, c.Returned, c.Urged, c.Extensions)
}

// Place says where a unit stands among its peers, for a unit's report.
type Place struct {
	Parent string // the parent's name
	Of     int    // how many units are ranked
	Ranked score.Ranked
}

// UnitPDF writes one unit's 考核通报: its score, how its tasks stood, and
// every line of the explanation with the task and events behind it.
func UnitPDF(w io.Writer, planTitle string, s score.Score, place *Place) error {
	title := fmt.Sprintf("%s考核得分通报", s.Unit.Name)
	d := newPDF(title, asOfTime(s))
	d.heading(planTitle, 12)
	d.heading(title, 17)
	d.para(fmt.Sprintf("单位：%s（区划代码 %s）　　统计截至：%s", s.Unit.Name, s.Unit.Code, s.AsOf), 10.5)
	summary := fmt.Sprintf("考核得分：%s 分。", s.Total)
	if place != nil {
		summary += fmt.Sprintf("在%s所属 %d 个单位中%s。", place.Parent, place.Of, place.Ranked.RankText())
	}
	d.para(summary, 12)
	d.para(countsText(s.Counts), 10.5)
	if s.Attainable > 0 {
		d.para(fmt.Sprintf("已到期或已办结任务得分 %s 分，应得 %s 分。", s.Earned, s.Attainable), 10.5)
	}
	d.Ln(2)
	d.para("得分明细（依据栏为任务编号及时间线事件序号）", 11)
	rows := make([][]string, 0, len(s.Lines)+1)
	for _, l := range s.Lines {
		rows = append(rows, []string{l.Points.Signed(), l.Rule.Label(), lineTask(l), l.Text, lineBasis(l)})
	}
	rows = append(rows, []string{s.Total.String(), "合计", "", "", ""})
	d.table([]float64{16, 20, 34, 68, 36}, []string{"R", "L", "L", "L", "L"}, []string{"得分", "规则", "任务", "说明", "依据"}, rows)
	return d.write(w)
}

// RankingPDF writes the 考核通报 of the units under a parent (a city's
// counties, the province's cities): the ranking, how ties are placed, and
// each unit's deductions, bonuses and unfinished tasks.
func RankingPDF(w io.Writer, r score.Ranking) error {
	title := fmt.Sprintf("%s所属单位考核情况通报", r.Parent.Name)
	day := time.Date(r.AsOf.Year, r.AsOf.Month, r.AsOf.Day, 0, 0, 0, 0, duban.Shanghai)
	d := newPDF(title, day)
	d.heading(r.PlanTitle, 12)
	d.heading(title, 17)
	d.para(fmt.Sprintf("根据《%s》考核规则，现将%s所属 %d 个单位截至 %s 的考核得分通报如下。", r.PlanTitle, r.Parent.Name, len(r.Rows), r.AsOf), 10.5)
	rows := make([][]string, 0, len(r.Rows))
	for _, row := range r.Rows {
		s := row.Score
		rows = append(rows, []string{row.RankText(), s.Unit.Name, s.Total.String(),
			fmt.Sprint(s.Counts.OnTime), fmt.Sprint(s.Counts.Late), fmt.Sprint(s.Counts.NotDone), fmt.Sprint(s.Counts.NotYetDue), adjustments(s).Signed()})
	}
	d.table([]float64{26, 36, 20, 18, 18, 20, 18, 18}, []string{"L", "L", "R", "R", "R", "R", "R", "R"},
		[]string{"名次", "单位", "得分", "按期", "逾期办结", "逾期未办结", "未到期", "加减分"}, rows)
	d.para("名次说明："+r.TieRule, 9.5)
	d.Ln(2)
	d.para("各单位扣分、加分及未办结事项", 11)
	for _, row := range r.Rows {
		s := row.Score
		var items [][]string
		for _, l := range s.Lines {
			switch l.Rule {
			case score.RuleOnTime, score.RuleNotYetDue, score.RuleCancelled, score.RuleScale:
				continue
			case score.RuleYesNo, score.RulePercent:
				if l.Points >= 0 && l.Rule == score.RuleYesNo {
					continue
				}
			}
			items = append(items, []string{l.Points.Signed(), lineTask(l), l.Text})
		}
		d.para(fmt.Sprintf("%s　%s　%s 分", row.RankText(), s.Unit.Name, s.Total), 10.5)
		if len(items) == 0 {
			d.para("全部按期办结，无扣分。", 9.5)
			continue
		}
		d.table([]float64{16, 50, 108}, []string{"R", "L", "L"}, []string{"得分", "任务", "说明"}, items)
	}
	return d.write(w)
}

// adjustments are a score's deductions and bonuses: what is not task points.
func adjustments(s score.Score) (p plan.Points) {
	for _, l := range s.Lines {
		switch l.Rule {
		case score.RuleExtension, score.RuleReturned, score.RuleUrged, score.RuleBonus, score.RuleBonusLimit:
			p += l.Points
		}
	}
	return p
}

func lineTask(l score.Line) string {
	if l.Award != 0 {
		return fmt.Sprintf("加减分 #%d", l.Award)
	}
	return l.TemplateID + " " + l.Title
}

func lineBasis(l score.Line) string {
	if l.Award != 0 {
		return fmt.Sprintf("加减分记录 #%d", l.Award)
	}
	if len(l.Events) == 0 {
		return l.Task
	}
	out := l.Task + " 事件"
	for i, e := range l.Events {
		if i > 0 {
			out += "、"
		}
		out += fmt.Sprintf("#%d", e.Seq)
	}
	return out
}
