package uitest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/pdftext"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

// notice2022 is next year's notice as an office would paste or save it:
// four obligations and a sentence the drafter cannot read.
const notice2022 = `湖南省计划生育协会文件
湘计生协发〔2022〕3号
关于印发《湖南省计划生育协会2022年工作要点》的通知
各市州计生协：
现将《湖南省计划生育协会2022年工作要点》印发给你们，请结合实际认真贯彻落实。
一、加强组织建设
1．市、县两级计生协于6月底前完成换届工作。
2．每个市州至少建成1个青春健康教育基地。
二、做好宣传工作
3．5月29日开展“5·29会员活动日”宣传服务活动。
4．县级计生协每季度报送一次工作动态。
力争全年新发展会员3000名。
`

func cardSel(id string) string { return fmt.Sprintf(`article.proposal[data-id=%q]`, id) }

// The province's admin drafts next year's plan from its notice: the notice
// and the draft side by side, the unreadable sentence listed; edits one
// proposal, drops another, sees an error by line and mends it, and
// imports the plan.
func TestDraftReviewInTheBrowser(t *testing.T) {
	f := getFixture(t)
	srv := f.juneServer(t)
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = f.stack.DB.Pool.Exec(ctx, `DELETE FROM templates WHERE plan_id = 'hunan-2022'`)
		_, _ = f.stack.DB.Pool.Exec(ctx, `DELETE FROM plans WHERE id = 'hunan-2022'`)
	})
	adm := f.signIn(t, srv, "hunan-admin")
	adm.goTo("#/plans")
	adm.click("#to-drafts")
	adm.settled()
	adm.waitText("h1", "起草计划")

	dir := t.TempDir()
	path := filepath.Join(dir, "2022年工作要点.txt")
	if err := os.WriteFile(path, []byte(notice2022), 0o644); err != nil {
		t.Fatal(err)
	}
	adm.uploadPaths("#draft-form input[type=file]", path)
	adm.click("#draft-run")
	// Other tests store plans of their own: the chains and ladders are
	// last year's plan's, chosen by name.
	adm.setValue(`#draft-head select[name=base]`, "hunan-2021")
	adm.waitText(".draft-counts", "共 12 句：4 句含任务，7 句非任务，1 句无法识别；起草 4 个任务。")
	// Every sentence of the notice is shown, marked by its verdict.
	var n int
	adm.eval(`document.querySelectorAll('.notice-text .sentence').length`, &n)
	if n != 12 {
		t.Fatalf("%d sentences shown, want 12", n)
	}
	adm.waitText(".notice-text .s-unreadable", "力争全年新发展会员3000名")
	adm.waitText(".draft-unread", "无法识别的句子（1）")
	adm.waitText(".draft-unread", "力争全年新发展会员3000名")
	adm.waitText(cardSel("1.1")+" .f-levels", "市级、县级")
	adm.waitText(cardSel("1.1")+" .f-due", "2022-06-30")
	adm.waitText(cardSel("2.2")+" .f-due", "每季度")
	adm.waitText(cardSel("2.1")+" .assumptions", "按主送单位")
	adm.waitText(cardSel("2.1")+" blockquote", "5月29日开展“5·29会员活动日”宣传服务活动")
	// The clause in the notice leads to its proposal.
	adm.click(`.notice-text a.clause[data-proposal="1.2"]`)
	adm.waitJS("the proposal focused", `document.activeElement?.dataset?.id === '1.2'`)
	adm.shot("12-draft", ".draft-review")

	// Edit the member day: counties too, and a shorter title.
	adm.click(cardSel("2.1") + ` [data-decide="edit"]`)
	adm.click(cardSel("2.1") + ` .proposal-edit input[value="county"]`)
	adm.fill(cardSel("2.1")+` .proposal-edit [data-field="title"] input`, "开展5·29会员活动日宣传服务活动")
	adm.click(cardSel("2.1") + ` .proposal-edit button[type=submit]`)
	adm.waitText(cardSel("2.1")+" .decision-tag", "已修改")
	adm.waitText(cardSel("2.1")+" .f-levels", "市级、县级")
	adm.waitText(cardSel("2.1")+" .proposal-title", "开展5·29会员活动日宣传服务活动")
	// Drop the bases.
	adm.click(cardSel("1.2") + ` [data-decide="drop"]`)
	adm.waitText(cardSel("1.2")+" .decision-tag", "已删除")
	adm.waitText(".draft-tally", "采纳 2 个，修改 1 个，删除 1 个。")

	// A deadline before the plan year: the plan file's error by line,
	// marked on the proposal and on the file's own line.
	adm.click(cardSel("1.1") + ` [data-decide="edit"]`)
	adm.setValue(cardSel("1.1")+` .proposal-edit input[type=date]`, "2021-12-15")
	adm.click(cardSel("1.1") + ` .proposal-edit button[type=submit]`)
	adm.click("#draft-check")
	adm.waitText(cardSel("1.1")+" .proposal-errors", "截止时间")
	adm.waitText(cardSel("1.1")+" .proposal-errors", "行")
	adm.waitText("table.plan-errors", "任务 1.1 · 截止时间")
	adm.waitText(".source li.bad", "2021-12-15")
	adm.shot("12b-draft-errors", ".draft-check")
	// Mended, it checks.
	adm.click(cardSel("1.1") + ` [data-decide="edit"]`)
	adm.setValue(cardSel("1.1")+` .proposal-edit input[type=date]`, "2022-06-30")
	adm.click(cardSel("1.1") + ` .proposal-edit button[type=submit]`)
	adm.click("#draft-check")
	adm.waitText(".draft-check .alert-ok", "计划有效：draft-2022（2022 年），3 个任务模板")

	// Import under the plan's real id.
	adm.fill(`#draft-head input[name=plan_id]`, "hunan-2022")
	adm.click("#draft-import")
	adm.waitText("#draft-imported", "已导入计划 hunan-2022（3 个任务模板）")
	p, err := f.stack.DB.Plan(context.Background(), "hunan-2022")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]plan.Template{}
	for _, st := range p.Templates() {
		got[st.Template.ID] = st.Template
	}
	if len(got) != 3 {
		t.Fatalf("imported templates %v", got)
	}
	if _, ok := got["1.2"]; ok {
		t.Fatal("the dropped proposal was imported")
	}
	if m := got["2.1"]; m.Title != "开展5·29会员活动日宣传服务活动" || len(m.Responsible.Levels) != 2 {
		t.Fatalf("the edit was not imported: %+v", m)
	}
	// Importing again would replace it: refused under the plan id.
	adm.click("#draft-import")
	adm.waitText(`#draft-head [data-field="plan_id"] .field-error`, "已于")
	adm.goTo("#/plans")
	adm.waitText("main", "hunan-2022")
}

// downloads makes the tab save what it downloads into a directory of its
// own; each call of the function it returns waits for the next file saved
// and returns the name the page gave it and its bytes.
func (p *page) downloads() func() (string, []byte) {
	p.t.Helper()
	dir := p.t.TempDir()
	names := make(chan string, 8)
	done := make(chan string, 8)
	go func() {
		for ev, err := range chromedp.Events(p.ctx, browser.DownloadWillBegin) {
			if err != nil {
				return
			}
			names <- ev.SuggestedFilename
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(p.ctx, browser.DownloadProgress) {
			if err != nil {
				return
			}
			if ev.State == browser.DownloadProgressStateCompleted {
				done <- ev.GUID
			}
		}
	}()
	on := true
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, BrowserContextID: chromedp.FromContext(p.ctx).BrowserContextID,
		DownloadPath: dir, EventsEnabled: &on}); err != nil {
		p.t.Fatalf("allow downloads: %v", err)
	}
	return func() (string, []byte) {
		p.t.Helper()
		var name string
		select {
		case name = <-names:
		case <-time.After(waitFor):
			p.t.Fatalf("no download began\n%s", p.snapshot())
		}
		select {
		case guid := <-done:
			b, err := os.ReadFile(filepath.Join(dir, guid))
			if err != nil {
				p.t.Fatal(err)
			}
			return name, b
		case <-time.After(waitFor):
			p.t.Fatalf("download %s did not finish", name)
		}
		return "", nil
	}
}

// addUser creates a person of the tests' own (once per database).
func (f *fixture) addUser(t *testing.T, username, name, unit string, role duban.Role) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.stack.DB.UserByUsername(ctx, username); err == nil {
		return
	}
	hash, err := password.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.stack.DB.CreateUser(ctx, store.User{Username: username, DisplayName: name, UnitCode: unit, Roles: []duban.Role{role}, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
}

// A city's supervisor reads the 考核: the ranking of its counties, a
// county's score with each line linked to its task and the events behind
// it; awards a bonus (a missing reason refused under its field); downloads
// the Excel ranking, the county's report and the city's 考核通报, whose
// text names the units; and sees the year's trend on the board.
func TestScoresInTheBrowser(t *testing.T) {
	f := getFixture(t)
	srv := f.juneServer(t)
	// 长沙县 files its mechanism (2.3) and it is approved up the chain, on
	// time: its own tasks, which no other test touches.
	const county, filing = "430121", "2021/2.3/430121"
	f.addUser(t, "changshaxian-official", "长沙县承办人", county, duban.RoleOfficial)
	f.addUser(t, "changshaxian-approver", "长沙县审核人", county, duban.RoleApprover)
	srv.submitWithFile(t, srv.token(t, "changshaxian-official"), filing, "备案制度已建立", "备案制度.pdf", pdf("长沙县备案制度"))
	for step, who := range []string{"changshaxian-approver", "changsha-approver", "hunan-approver"} {
		srv.call(t, srv.token(t, who), "POST", "/api/v1/tasks/"+escape(filing)+"/decision", map[string]any{"step": step + 1, "approve": true, "reason": "同意"})
	}
	// Snapshots for the trend: today's, and the year before's.
	ctx := context.Background()
	if _, err := f.stack.DB.TakeSnapshot(ctx, plan.Date{Year: 2021, Month: time.June, Day: 1}); err != nil {
		t.Fatal(err)
	}
	for i, day := range []string{"2020-03-31", "2020-06-01", "2020-09-30", "2020-12-31"} {
		if _, err := f.stack.DB.Pool.Exec(ctx, `INSERT INTO rollup_snapshots (unit_code, year, plan_id, day, total, completed, cancelled, submitted, overdue)
			VALUES ('4301', 2020, 'hunan-2020', $1, 20, $2, 0, 0, $3) ON CONFLICT DO NOTHING`, day, 4*(i+1), 4-i); err != nil {
			t.Fatal(err)
		}
	}

	// What the page must show is what the API computes: other tests may
	// have changed the other counties' records (and launched the member
	// day), so the figures are read, not assumed.
	supTok := srv.token(t, "changsha-supervisor")
	scoreOf := func() (plan.Points, map[string]any) {
		s := srv.call(t, supTok, "GET", "/api/v1/scores?plan=hunan-2021&year=2021&unit="+county, nil)
		p, err := plan.ParsePoints(s["total"].(string))
		if err != nil {
			t.Fatal(err)
		}
		return p, s
	}
	before, s := scoreOf()
	place := s["place"].(map[string]any)

	sup := f.signIn(t, srv, "changsha-supervisor")
	sup.waitText(".topnav", "考核")
	sup.clickText(".topnav a", "考核")
	sup.settled()
	// Other tests launch plans of their own: this one is 2021's.
	sup.goTo("#/scores?py=hunan-2021:2021")
	sup.waitText("h1", "考核 · 长沙市")
	row := `table.score-ranking tr[data-unit="430121"]`
	sup.waitText(row+" .rank-text", place["text"].(string))
	sup.waitText(row+" .score-total", before.Short())
	sup.waitText("table.score-ranking", "芙蓉区")
	sup.shot("13-scores", "")

	// The county's score: the filing task's line links to its page and
	// cites its submission and completion.
	sup.click(row + " a")
	sup.settled()
	sup.waitText("h1", "考核 · 长沙县")
	sup.waitText("#score-total", before.Short())
	sup.waitText(".score-place", fmt.Sprintf("在长沙市所属 9 个单位中%s", place["text"]))
	line := fmt.Sprintf(`table.score-lines tr[data-task=%q]`, filing)
	sup.waitText(line, "按期办结")
	sup.waitText(line, "15") // 10 points × the reform section's weight 1.5
	sup.waitText(line+" .line-task", "2.3")
	sup.waitText(line+" .line-events", "提交审批")
	sup.waitText(line+" .line-events", "办结")

	// A bonus: the reason is required, and the API says so under it.
	sup.setValue(`#award-form [data-field="unit"] select`, county)
	sup.setValue(`#award-form [data-field="bonus_id"] select`, "provincial-promotion")
	sup.click(`#award-form button[type=submit]`)
	sup.waitText(`#award-form [data-field="reason"] .field-error`, "理由")
	sup.fill(`#award-form textarea`, "备案制度经验被省计生协推广")
	sup.click(`#award-form button[type=submit]`)
	sup.waitText("table.awards", "备案制度经验被省计生协推广")
	after, s := scoreOf()
	if after != before+200 {
		t.Fatalf("score %s after a 2-point award, was %s", after, before)
	}
	sup.waitText("#score-total", after.Short())
	sup.waitText("table.score-lines", "经验被省级推广")
	sup.shot("14-score-unit", ".unit-score")

	// The county's report, downloaded and read.
	saved := sup.downloads()
	sup.click("#score-pdf")
	name, data := saved()
	if !strings.HasPrefix(name, "考核得分通报-长沙县-hunan-2021-截至") || !strings.HasSuffix(name, ".pdf") {
		t.Fatalf("the report is saved as %q", name)
	}
	text := pdftext.Text(data)
	place = s["place"].(map[string]any)
	for _, want := range []string{"长沙县考核得分通报", "考核得分：" + after.String() + " 分", "在长沙市所属 9 个单位中" + place["text"].(string), filing, "备案制度经验被省计生协推广"} {
		if !strings.Contains(text, want) {
			t.Errorf("the county's report does not say %q", want)
		}
	}

	// The line's task opens the task page.
	sup.click(line + " .line-task")
	sup.settled()
	sup.waitText("h1", "备案机制")
	sup.waitText(".timeline", "办结")

	// The city's ranking: Excel and the 考核通报, which names the counties.
	sup.goTo("#/scores?py=hunan-2021:2021")
	sup.click("#ranking-xlsx")
	name, data = saved()
	if !strings.HasPrefix(name, "考核排名-长沙市所属单位-hunan-2021-截至") || len(data) < 1000 || string(data[:2]) != "PK" {
		t.Fatalf("the ranking is saved as %q (%d bytes)", name, len(data))
	}
	sup.click("#ranking-pdf")
	name, data = saved()
	if !strings.HasPrefix(name, "考核通报-长沙市所属单位-") {
		t.Fatalf("the city's report is saved as %q", name)
	}
	text = pdftext.Text(data)
	for _, want := range []string{"长沙市所属单位考核情况通报", "长沙县", "芙蓉区", "天心区", "岳麓区", "浏阳市", "宁乡市"} {
		if !strings.Contains(text, want) {
			t.Errorf("the city's report does not name %q", want)
		}
	}

	// The board's trend: this year's line and the year before's.
	sup.goTo("#/board?py=hunan-2021:2021")
	sup.waitJS("the trend chart", `document.querySelector('.trend-card svg.trend path.trend-prev')`)
	sup.waitJS("this year's point", `document.querySelector('.trend-card svg.trend .trend-completion:not(.trend-prev)')`)
	sup.waitText(".trend-card", "2020 年完成率")
	if d := sup.str(`document.querySelector('#trend-desc').textContent`); !strings.Contains(d, "截至 2021-06-01") || !strings.Contains(d, "上一年度同期：完成率 40%") {
		t.Fatalf("trend text alternative: %q", d)
	}
	sup.shot("05c-board-trend", ".trend-card")
}
