package draft_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/draft"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
)

var hunan = org.Hunan()

// draft2021 drafts the notice the shipped plan hunan-2021 encodes.
func draft2021(t *testing.T) *draft.Draft {
	t.Helper()
	src, err := plan.ShippedSource("hunan-2021")
	if err != nil {
		t.Fatal(err)
	}
	d, err := draft.FromFile("work-points-2021.md", src, draft.Options{Hierarchy: hunan})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func draftFixture(t *testing.T, name string) *draft.Draft {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	d, err := draft.FromFile(name, data, draft.Options{Hierarchy: hunan})
	if err != nil {
		t.Fatalf("draft %s: %v", name, err)
	}
	return d
}

// mustImport renders the draft and checks it the way an import would: it
// parses and validates against the hierarchy with no error, and expands
// into task instances.
func mustImport(t *testing.T, d *draft.Draft) *plan.Plan {
	t.Helper()
	y, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Parse(d.PlanID+".yaml", y, hunan)
	if err != nil {
		t.Fatalf("drafted plan does not validate:\n%v\n--- YAML ---\n%s", err, y)
	}
	specs, err := plan.Expand(p, hunan, p.Year)
	if err != nil {
		t.Fatalf("drafted plan does not expand: %v", err)
	}
	if len(specs) == 0 {
		t.Fatal("drafted plan expands into no task instance")
	}
	if got, want := len(p.Templates()), len(d.Proposals()); got != want {
		t.Errorf("plan has %d templates, the draft proposed %d", got, want)
	}
	return p
}

// checkEverySentenceListed: no character of the notice is dropped; every
// sentence has a verdict and a reason; every quote is verbatim.
func checkEverySentenceListed(t *testing.T, d *draft.Draft) {
	t.Helper()
	runes := []rune(d.Text)
	covered := make([]bool, len(runes))
	for _, s := range d.Sentences {
		if got := string(runes[s.Start:s.End]); got != s.Text {
			t.Errorf("sentence %d: offsets %d–%d hold %q, not %q", s.Index, s.Start, s.End, got, s.Text)
		}
		for i := s.Start; i < s.End; i++ {
			covered[i] = true
		}
		if !slices.Contains([]draft.Verdict{draft.Obligation, draft.NotObligation, draft.Unreadable}, s.Verdict) || s.Reason == "" {
			t.Errorf("sentence %d %q: verdict %q, reason %q", s.Index, s.Text, s.Verdict, s.Reason)
		}
		for _, c := range s.Clauses {
			if got := string(runes[c.Start:c.End]); got != c.Text {
				t.Errorf("clause offsets %d–%d hold %q, not %q", c.Start, c.End, got, c.Text)
			}
			if (c.Verdict == draft.Obligation) != (c.Proposal != nil) {
				t.Errorf("clause %q: verdict %s but proposal %v", c.Text, c.Verdict, c.Proposal != nil)
			}
			if c.Proposal != nil && c.Proposal.Template.Quote != c.Text {
				t.Errorf("quote %q is not the clause %q", c.Proposal.Template.Quote, c.Text)
			}
		}
	}
	for i, r := range runes {
		if !covered[i] && !unicode.IsSpace(r) {
			t.Errorf("character %d %q of the notice is in no sentence", i, r)
			break
		}
	}
}

func TestDraft2021ImportsLikeAnyPlan(t *testing.T) {
	d := draft2021(t)
	checkEverySentenceListed(t, d)
	p := mustImport(t, d)
	if p.Year != 2021 || d.Issuer.Code != "43" || d.Addressee != duban.LevelCity {
		t.Errorf("year %d, issuer %s, addressee %s; want 2021, 43, city", p.Year, d.Issuer.Code, d.Addressee)
	}
	if !strings.Contains(p.Source, "湘计生协发〔2021〕4号") {
		t.Errorf("source %q does not name the document number", p.Source)
	}
	for _, tpl := range p.Templates() {
		if !strings.Contains(d.Text, tpl.Template.Quote) {
			t.Errorf("template %s quote %q is not verbatim in the notice", tpl.Template.ID, tpl.Template.Quote)
		}
	}
	obl, none, unread, n := d.Counts()
	t.Logf("2021 notice: %d sentences, %d with obligations (%d templates), %d without, %d unreadable", len(d.Sentences), obl, n, none, unread)
}

func TestDraftIsDeterministic(t *testing.T) {
	a, b := draft2021(t), draft2021(t)
	ya, _ := a.YAML()
	yb, _ := b.YAML()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ya, yb) || !bytes.Equal(ja, jb) {
		t.Fatal("two drafts of the same notice differ")
	}
}

// The measured figures on the 2021 notice against the hand-written plan.
// The floors are what the drafter reaches today (see docs/draft.md); the
// issue's goal of 85% found with the right levels is not reached.
func TestEvaluateAgainstShipped2021(t *testing.T) {
	d := draft2021(t)
	shipped, _, err := plan.Shipped("hunan-2021")
	if err != nil {
		t.Fatal(err)
	}
	e := d.Evaluate(shipped)
	var report strings.Builder
	if err := e.WriteReport(&report, "hunan-2021"); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + report.String())
	for _, r := range e.Rows {
		if !r.Located {
			t.Errorf("shipped template %s: quote %q not found in the notice", r.ID, r.Quote)
		}
	}
	floors := []struct {
		name      string
		got, want float64
	}{
		{"precision", e.Precision(), 0.938},
		{"recall", e.Recall(), 0.895},
		{"found with the right levels (of all shipped)", e.FoundWithLevels(), 0.5625},
		{"right kind (of found)", ratio(e.RightKind, e.Found), 0.93},
		{"right due (of found)", ratio(e.RightDue, e.Found), 0.976},
	}
	for _, f := range floors {
		if f.got+1e-9 < f.want {
			t.Errorf("%s = %.3f, below the floor %.3f", f.name, f.got, f.want)
		}
	}
	fmt.Printf("draft vs hunan-2021: precision %.1f%%, recall %.1f%%, found with right levels %.1f%%, right kind %d/%d, right due %d/%d\n",
		100*e.Precision(), 100*e.Recall(), 100*e.FoundWithLevels(), e.RightKind, e.Found, e.RightDue, e.Found)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// want is what a test expects of the template drafted from a clause.
type want struct {
	quote  string // a part of the clause
	levels []duban.Level
	units  []string
	kind   duban.Kind
	date   string      // deadline, count, ratio, event
	every  plan.Period // recurring
	basis  plan.DueBasis
	target int
	ratio  string // "1/3 village"
	assume string // a word one assumption must contain
}

func proposalFor(t *testing.T, d *draft.Draft, quote string) *draft.Proposal {
	t.Helper()
	for _, p := range d.Proposals() {
		if strings.Contains(p.Template.Quote, quote) {
			return p
		}
	}
	for _, s := range d.Sentences {
		for _, c := range s.Clauses {
			if strings.Contains(c.Text, quote) {
				t.Errorf("%q was not drafted: %s — %s", quote, c.Verdict.Label(), c.Reason)
				return nil
			}
		}
	}
	t.Errorf("no clause holds %q", quote)
	return nil
}

func checkWants(t *testing.T, d *draft.Draft, wants []want) {
	t.Helper()
	for _, w := range wants {
		p := proposalFor(t, d, w.quote)
		if p == nil {
			continue
		}
		tpl := p.Template
		if !slices.Equal(tpl.Responsible.Levels, w.levels) || !slices.Equal(tpl.Responsible.Units, w.units) {
			t.Errorf("%q: responsible %v %v, want %v %v (%s)", w.quote, tpl.Responsible.Levels, tpl.Responsible.Units, w.levels, w.units, p.Why.Responsible)
		}
		if tpl.Kind != w.kind {
			t.Errorf("%q: kind %s, want %s (%s)", w.quote, tpl.Kind, w.kind, p.Why.Kind)
		}
		if w.kind == duban.KindRecurring {
			if tpl.Due.Every != w.every {
				t.Errorf("%q: every %q, want %q", w.quote, tpl.Due.Every, w.every)
			}
		} else if tpl.Due.Date.String() != w.date {
			t.Errorf("%q: due %s, want %s (%s)", w.quote, tpl.Due.Date, w.date, p.Why.Due)
		}
		if w.basis != "" && tpl.Due.Basis != w.basis {
			t.Errorf("%q: basis %s, want %s", w.quote, tpl.Due.Basis, w.basis)
		}
		if tpl.Target != w.target {
			t.Errorf("%q: target %d, want %d", w.quote, tpl.Target, w.target)
		}
		gotRatio := ""
		if tpl.Ratio != nil {
			gotRatio = fmt.Sprintf("%d/%d %s", tpl.Ratio.Num, tpl.Ratio.Den, tpl.Ratio.Of)
		}
		if gotRatio != w.ratio {
			t.Errorf("%q: ratio %q, want %q", w.quote, gotRatio, w.ratio)
		}
		if w.assume != "" && !slices.ContainsFunc(p.Assumptions, func(a string) bool { return strings.Contains(a, w.assume) }) {
			t.Errorf("%q: no assumption mentions %q: %v", w.quote, w.assume, p.Assumptions)
		}
		if tpl.Evidence.Note == "" || !tpl.Evidence.Required {
			t.Errorf("%q: no evidence proposed", w.quote)
		}
	}
}

func checkVerdicts(t *testing.T, d *draft.Draft, verdicts map[string]draft.Verdict) {
	t.Helper()
	for quote, v := range verdicts {
		found := false
		for _, s := range d.Sentences {
			for _, c := range s.Clauses {
				if strings.Contains(c.Text, quote) {
					found = true
					if c.Verdict != v {
						t.Errorf("%q: %s (%s), want %s", quote, c.Verdict, c.Reason, v)
					}
				}
			}
		}
		if !found {
			t.Errorf("no clause holds %q", quote)
		}
	}
}

var (
	province = duban.LevelProvince
	city     = duban.LevelCity
	county   = duban.LevelCounty
	township = duban.LevelTownship
	l        = func(ls ...duban.Level) []duban.Level { return ls }
)

// A city's notice to its counties: the issuer is a city, named units are its
// counties, "市计生协" is the issuer itself.
func TestDraftCityNotice(t *testing.T) {
	d := draftFixture(t, "yueyang-2023.txt")
	checkEverySentenceListed(t, d)
	mustImport(t, d)
	if d.Issuer.Code != "4306" || d.Addressee != county || d.Year != 2023 {
		t.Fatalf("issuer %s, addressee %s, year %d; want 4306, county, 2023", d.Issuer.Code, d.Addressee, d.Year)
	}
	checkWants(t, d, []want{
		{quote: "各县市区计生协于6月底前完成换届", levels: l(county), kind: duban.KindDeadline, date: "2023-06-30", basis: plan.BasisStated},
		{quote: "换届情况报市计生协备案", levels: l(county), kind: duban.KindDeadline, date: "2023-06-30"},
		{quote: "每个县市区至少建成2个", levels: l(county), kind: duban.KindCount, date: "2023-12-31", basis: plan.BasisYearEnd, target: 2, assume: "未规定日期"},
		{quote: "覆盖率达到100%", levels: l(county), kind: duban.KindRatio, date: "2023-12-31", ratio: "1/1 township"},
		{quote: "上半年召开全市计生协工作推进会", units: []string{"4306"}, kind: duban.KindDeadline, date: "2023-06-30"},
		{quote: "5月29日开展", levels: l(county), kind: duban.KindEvent, date: "2023-05-29", assume: "主送单位"},
		{quote: "每季度向市计生协报送", levels: l(county), kind: duban.KindRecurring, every: plan.PeriodQuarter},
		{quote: "平江县要认真做好", units: []string{"430626"}, kind: duban.KindDeadline, date: "2023-12-31"},
		{quote: "年底前形成试点总结报告", units: []string{"430626"}, kind: duban.KindDeadline, date: "2023-12-31", basis: plan.BasisStated},
		{quote: "对50%以上的村", levels: l(county), kind: duban.KindRatio, date: "2023-12-31", ratio: "1/2 village"},
		{quote: "县级计生协下半年组织开展一次", levels: l(county), kind: duban.KindCount, date: "2023-12-31", target: 1},
		{quote: "春节前完成困难家庭慰问金发放", levels: l(county), kind: duban.KindDeadline, date: "2023-01-21"},
		{quote: "适时组织青春健康进校园活动", levels: l(county), kind: duban.KindDeadline, date: "2023-12-31", assume: "适时"},
		{quote: "定期开展调研督导", units: []string{"4306"}, kind: duban.KindRecurring, every: plan.PeriodQuarter, assume: "定期"},
		{quote: "覆盖率达到95%以上", levels: l(county, township), kind: duban.KindRatio, date: "2024-12-31", basis: plan.BasisStated, ratio: "19/20 village"},
	})
	checkVerdicts(t, d, map[string]draft.Verdict{
		"鼓励有条件的县市区建立帮扶基金": draft.NotObligation,
		"加大计生特殊家庭帮扶力度":    draft.NotObligation,
		"做到应访尽访":          draft.NotObligation,
		"坚持以人民为中心":        draft.NotObligation,
		"力争全年新发展会员3000名":  draft.Unreadable,
	})
}

// Another association (the Red Cross), a province's notice, read from .docx.
func TestDraftOtherAssociationFromDocx(t *testing.T) {
	txt, err := os.ReadFile("testdata/redcross-2024.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(txt)), "\n")
	docx := makeDocx(t, lines)
	d, err := draft.FromFile("redcross-2024.docx", docx, draft.Options{Hierarchy: hunan})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(d.Text, "删除的文字") {
		t.Error("deleted text (w:delText) was read as the notice's")
	}
	fromText := draftFixture(t, "redcross-2024.txt")
	if d.Text != fromText.Text {
		t.Errorf(".docx and plain text read differently:\n%s\n---\n%s", d.Text, fromText.Text)
	}
	checkEverySentenceListed(t, d)
	mustImport(t, d)
	if d.Issuer.Code != "43" || d.Addressee != city || d.Year != 2024 || d.Title != "2024年全省红十字工作要点" {
		t.Fatalf("issuer %s, addressee %s, year %d, title %q", d.Issuer.Code, d.Addressee, d.Year, d.Title)
	}
	checkWants(t, d, []want{
		{quote: "各市州红十字会全年培训持证救护员不少于2000人", levels: l(city), kind: duban.KindCount, date: "2024-12-31", basis: plan.BasisStated, target: 2000},
		{quote: "县级红十字会于每季度末", levels: l(county), kind: duban.KindRecurring, every: plan.PeriodQuarter},
		{quote: "在全省开展“博爱送万家”活动", levels: l(city, county), kind: duban.KindDeadline, date: "2024-12-31"},
		{quote: "春节前完成困难群众走访慰问", levels: l(city), kind: duban.KindDeadline, date: "2024-02-09"},
		{quote: "建立健全县级红十字会救助工作台账", levels: l(county), kind: duban.KindDeadline, date: "2024-12-31"},
		{quote: "每个市州至少举办1次", levels: l(city), kind: duban.KindCount, date: "2024-12-31", target: 1},
		{quote: "省红十字会下半年召开", levels: l(province), kind: duban.KindDeadline, date: "2024-12-31", basis: plan.BasisStated},
		{quote: "表彰一批先进集体和先进个人", levels: l(province), kind: duban.KindDeadline, date: "2024-12-31"},
		{quote: "定期在门户网站公开", levels: l(province), kind: duban.KindRecurring, every: plan.PeriodQuarter},
	})
	checkVerdicts(t, d, map[string]draft.Verdict{
		"鼓励各地设立人道救助基金":     draft.NotObligation,
		"全面贯彻党的二十大精神":      draft.NotObligation,
		"力争全省新增造血干细胞捐献志愿者": draft.Unreadable,
	})
}

// A county-level city's notice to its townships, numbered （一）（二） only,
// in Markdown.
func TestDraftCountyNotice(t *testing.T) {
	d := draftFixture(t, "liuyang-2022.md")
	checkEverySentenceListed(t, d)
	p := mustImport(t, d)
	if d.Issuer.Code != "430181" || d.Addressee != township || d.Year != 2022 {
		t.Fatalf("issuer %s, addressee %s, year %d; want 430181, township, 2022", d.Issuer.Code, d.Addressee, d.Year)
	}
	var ids []string
	for _, s := range p.Sections {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []string{"1", "2", "3"}) {
		t.Errorf("sections %v, want 1 2 3 (（四）其他 sets no task)", ids)
	}
	checkWants(t, d, []want{
		{quote: "各乡镇（街道）计生协于3月底前完成", levels: l(township), kind: duban.KindDeadline, date: "2022-03-31"},
		{quote: "覆盖率保持100%", levels: l(township), kind: duban.KindRatio, date: "2022-12-31", ratio: "1/1 village"},
		{quote: "每月召开一次工作例会", levels: l(township), kind: duban.KindRecurring, every: plan.PeriodMonth},
		{quote: "市计生协年内举办2期", units: []string{"430181"}, kind: duban.KindCount, date: "2022-12-31", target: 2},
		{quote: "集中开展宣传服务活动", levels: l(township), kind: duban.KindEvent, date: "2022-05-29"},
		{quote: "对三分之二以上的村", levels: l(township), kind: duban.KindRatio, date: "2022-12-31", ratio: "2/3 village"},
		{quote: "重阳节前走访慰问", levels: l(township), kind: duban.KindDeadline, date: "2022-10-03"},
		{quote: "集里街道要做好", units: []string{"430181002"}, kind: duban.KindDeadline, date: "2022-12-31"},
	})
	checkVerdicts(t, d, map[string]draft.Verdict{
		"完成上级交办的其他工作": draft.NotObligation,
		"做到底数清、情况明":   draft.NotObligation,
	})
}

// Sentences the drafter cannot read are listed, in the review and at the
// top of the plan file.
func TestUnreadableSentencesAreListed(t *testing.T) {
	notice := "湖南省计划生育协会\n2025年工作要点\n一、重点工作\n各市州计生协于6月底前完成换届。\n力争全年会员增长10%以上。\n※※※ 12345 ※※※\n"
	d, err := draft.FromText("notice.txt", notice, draft.Options{Hierarchy: hunan})
	if err != nil {
		t.Fatal(err)
	}
	checkEverySentenceListed(t, d)
	var unread []string
	for _, s := range d.Unread() {
		unread = append(unread, s.Text)
	}
	if !slices.Equal(unread, []string{"力争全年会员增长10%以上。", "※※※ 12345 ※※※"}) {
		t.Fatalf("unread sentences %q", unread)
	}
	y, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(y), "无法识别的句子") || !strings.Contains(string(y), "力争全年会员增长10%以上") {
		t.Errorf("the plan file does not list the unread sentences:\n%s", y)
	}
	var review bytes.Buffer
	if err := d.WriteReview(&review); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(review.String(), "无法识别的句子：\n  [") {
		t.Errorf("the review does not list the unread sentences:\n%s", review.String())
	}
}

func TestReadsGB18030Text(t *testing.T) {
	utf, err := os.ReadFile("testdata/yueyang-2023.txt")
	if err != nil {
		t.Fatal(err)
	}
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes(utf)
	if err != nil {
		t.Fatal(err)
	}
	if utf8.Valid(gb) {
		t.Fatal("the encoded fixture is still valid UTF-8: the test proves nothing")
	}
	d, err := draft.FromFile("yueyang-2023.txt", gb, draft.Options{Hierarchy: hunan})
	if err != nil {
		t.Fatal(err)
	}
	if want := draftFixture(t, "yueyang-2023.txt"); d.Text != want.Text || len(d.Proposals()) != len(want.Proposals()) {
		t.Error("the GB18030 file reads differently from the UTF-8 one")
	}
}

func TestRefusesWhatItCannotRead(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"old.doc", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0}, "另存为 .docx"},
		{"empty.txt", []byte("\n\n"), "没有可读的中文正文"},
		{"english.txt", []byte("Work points for the year\n1. Hold a meeting.\n"), "没有可读的中文正文"},
		{"binary.txt", []byte("湖南\x00\x01"), "不是文本文件"},
		{"noyear.txt", []byte("湖南省计划生育协会工作要点\n一、工作\n各市州召开会议。\n"), "--year"},
		{"broken.docx", append([]byte("PK\x03\x04"), make([]byte, 20)...), ".docx"},
	}
	for _, c := range cases {
		_, err := draft.FromFile(c.name, c.data, draft.Options{Hierarchy: hunan})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
		if c.name == "empty.txt" && !errors.Is(err, draft.ErrNoText) {
			t.Errorf("%s: error %v is not ErrNoText", c.name, err)
		}
	}
}

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	src, err := plan.ShippedSource("hunan-2021")
	if err != nil {
		t.Fatal(err)
	}
	notice := filepath.Join(dir, "work-points-2021.md")
	if err := os.WriteFile(notice, src, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "draft.yaml")
	var stdout, stderr bytes.Buffer
	// Flags after the notice, as people type them.
	if err := draft.Command([]string{notice, "-o", out, "--score-against", "hunan-2021"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	text := stdout.String()
	for _, w := range []string{"推动市、县两级于今年底前全部出台改革方案", "→ 任务", "非任务：", "计划草稿已写入", "查准率 precision", "查全率 recall", "找到且责任层级正确"} {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if _, _, err := plan.LoadFile(out, hunan); err != nil {
		t.Errorf("the written draft does not load: %v", err)
	}

	stdout.Reset()
	if err := draft.Command([]string{"--json", notice}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Sentences []struct {
			Verdict string `json:"verdict"`
			Clauses []struct {
				Proposal *struct {
					Template plan.Template `json:"template"`
				} `json:"proposal"`
			} `json:"clauses"`
		} `json:"sentences"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || len(got.Sentences) == 0 {
		t.Fatalf("--json output does not decode (%v): %.200s", err, stdout.String())
	}

	var u draft.UsageError
	if err := draft.Command(nil, &stdout, &stderr); !errors.As(err, &u) {
		t.Errorf("no notice: error %v, want a usage error", err)
	}
	if err := draft.Command([]string{filepath.Join(dir, "missing.txt")}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "读取通知文件失败") {
		t.Errorf("missing notice: error %v", err)
	}
}

// makeDocx builds a minimal Word document: the first line styled as a
// title, each paragraph split over two runs, and one deleted run that must
// not be read.
func makeDocx(t *testing.T, lines []string) []byte {
	t.Helper()
	var body strings.Builder
	esc := func(s string) string {
		var b bytes.Buffer
		if err := xml.EscapeText(&b, []byte(s)); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for i, line := range lines {
		body.WriteString("<w:p>")
		if i == 0 {
			body.WriteString(`<w:pPr><w:pStyle w:val="Heading1"/></w:pPr>`)
		}
		r := []rune(line)
		half := len(r) / 2
		fmt.Fprintf(&body, `<w:r><w:t>%s</w:t></w:r>`, esc(string(r[:half])))
		if i == 8 {
			body.WriteString(`<w:del w:id="1" w:author="x"><w:r><w:delText>删除的文字</w:delText></w:r></w:del>`)
		}
		fmt.Fprintf(&body, `<w:r><w:t xml:space="preserve">%s</w:t></w:r>`, esc(string(r[half:])))
		body.WriteString("</w:p>")
	}
	doc := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
		body.String() + `</w:body></w:document>`
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"word/document.xml":   doc,
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Headings Word numbers itself carry no number in the text: the styled
// headings after the body starts become the sections, in order.
func TestStyledHeadingsAreSections(t *testing.T) {
	notice := "# 长沙市计划生育协会2024年工作要点\n\n各县市区计生协：\n\n现将2024年工作要点印发给你们，请认真贯彻落实。\n\n## 加强组织建设\n\n各县市区计生协于6月底前完成换届。\n\n## 开展宣传活动\n\n每个县市区至少举办1次宣传活动。\n"
	d, err := draft.FromText("notice.md", notice, draft.Options{Hierarchy: hunan})
	if err != nil {
		t.Fatal(err)
	}
	p := mustImport(t, d)
	var got []string
	for _, s := range p.Sections {
		got = append(got, s.ID+" "+s.Title)
	}
	if !slices.Equal(got, []string{"1 加强组织建设", "2 开展宣传活动"}) {
		t.Errorf("sections %q", got)
	}
	checkWants(t, d, []want{
		{quote: "各县市区计生协于6月底前完成换届", levels: l(county), kind: duban.KindDeadline, date: "2024-06-30"},
		{quote: "每个县市区至少举办1次宣传活动", levels: l(county), kind: duban.KindCount, date: "2024-12-31", target: 1},
	})
}
