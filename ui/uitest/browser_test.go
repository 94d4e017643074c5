package uitest_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	reformTask = "2021/2.1/430102" // 芙蓉区 issues its reform plan: three-step chain, evidence required
	filingTask = "2021/2.3/430102" // 芙蓉区's filing mechanism: the second item of the bulk approval
	memberDay  = "2021/8.1/430102" // 芙蓉区's member-day activity, due 29 May
)

func rowSel(id string) string { return fmt.Sprintf(`.task-row[data-id=%q]`, id) }
func trSel(id string) string  { return fmt.Sprintf(`tr[data-id=%q]`, id) }

// An official reports progress with a file and submits; the county
// approves; the city returns it with a reason; the official sees the
// reason and submits again; the county approves it together with another
// task; the city and the province approve; the chain is complete and the
// city's supervisor sees 芙蓉区's completion change on the board.
func TestApprovalChainInTheBrowser(t *testing.T) {
	f := getFixture(t)
	srv := f.juneServer(t)

	// Another task of the district waits on the county too, for the bulk
	// approval later (submitted through the API, as another office would).
	furong := srv.token(t, "furong-official")
	srv.submitWithFile(t, furong, filingTask, "备案制度已建立", "备案制度.pdf", pdf("芙蓉区乡村计生协负责人备案制度"))

	// The supervisor's board before: nothing completed in 芙蓉区.
	sup := f.signIn(t, srv, "changsha-supervisor")
	sup.goTo("#/board")
	sup.waitJS("芙蓉区 on the board", `document.querySelector('tr[data-unit="430102"]')`)
	if got := sup.text(`tr[data-unit="430102"] .n-completed`); got != "0" {
		t.Fatalf("芙蓉区 completed before: %q", got)
	}
	if got := sup.text(`tr[data-unit="430102"] .n-rate`); got != "0%" {
		t.Fatalf("芙蓉区 completion before: %q", got)
	}

	// The sign-in page, as everyone first sees it.
	login := f.open(t, srv)
	login.shot("01-login", "")

	// The official's list: both tasks, green, counting down; the unread
	// reminders beside it.
	off := f.signIn(t, srv, "furong-official")
	if h := off.str(`location.hash`); h != "#/tasks" {
		t.Fatalf("an official lands on %s, want #/tasks", h)
	}
	if lang := off.str(`document.documentElement.lang`); lang != "zh-CN" {
		t.Fatalf("lang=%q", lang)
	}
	off.waitJS("the reform task in the list", `document.querySelector(`+js(rowSel(reformTask))+`)`)
	if light := off.str(`document.querySelector(` + js(rowSel(reformTask)) + `).dataset.rowLight`); light != "green" {
		t.Fatalf("reform task light %q, want green", light)
	}
	off.waitText(rowSel(reformTask)+" .light", "正常")
	off.waitText(rowSel(reformTask)+" .countdown", "剩余")
	off.waitText(rowSel(reformTask), "市、县两级出台计生协改革方案")
	off.waitText(".reminders", "新任务")
	if n := off.bell(); n < 2 {
		t.Fatalf("bell shows %d unread, want the assignments", n)
	}
	off.shot("02-tasks", "")

	// The task page: the quoted sentence and the three-step chain.
	off.click(rowSel(reformTask) + " a.tr-title")
	off.settled()
	off.waitText("blockquote", "推动市、县两级于今年底前全部出台改革方案。")
	off.waitText(".chain", "芙蓉区")
	off.waitText(".chain", "长沙市")
	off.waitText(".chain", "湖南省")

	// The API's validation errors appear with the form: submitting without
	// the required evidence, asking for an extension without date or reason.
	off.click("#form-submit button[type=submit]")
	off.waitText("#form-submit .form-error", "此任务须附佐证材料")
	off.click("#form-extension button[type=submit]")
	off.waitText(`#form-extension [data-field="new_due"] .field-error`, "新的截止日期")
	off.waitText(`#form-extension [data-field="reason"] .field-error`, "理由")
	if inv := off.str(`document.querySelector('#form-extension [data-field="reason"] textarea').getAttribute('aria-invalid')`); inv != "true" {
		t.Fatalf("reason field aria-invalid=%q", inv)
	}

	// Progress with the reform plan as a PDF, then submission.
	off.fill("#form-progress textarea", "改革方案已起草，报送审定")
	off.upload("#form-progress input[type=file]", map[string][]byte{"芙蓉区改革方案.pdf": pdf("芙蓉区计生协改革方案")})
	off.click("#form-progress button[type=submit]")
	off.waitText("#task-status", "办理中")
	off.waitText(".files", "芙蓉区改革方案.pdf")
	off.waitText(".timeline", "报告进展")
	off.fill("#form-submit textarea", "改革方案已正式印发")
	off.click("#form-submit button[type=submit]")
	off.waitText("#task-status", "审批中")
	off.waitText(".task-badges", "第 1/3 步")
	off.waitText(".chain .step-waiting", "芙蓉区")

	// The county: both tasks wait; approve the reform plan on its row.
	county := f.signIn(t, srv, "furong-approver")
	if h := county.str(`location.hash`); h != "#/approvals" {
		t.Fatalf("an approver lands on %s, want #/approvals", h)
	}
	county.waitJS("two steps waiting", `document.querySelectorAll('table.approvals tbody tr').length === 2`)
	county.waitText(trSel(reformTask), "第 1/3 步")
	county.waitText(trSel(reformTask), "剩余") // the approval limit counts down
	county.shot("04-approvals", "")
	county.click(trSel(reformTask) + " button[data-action=approve]")
	county.waitJS("the approved row gone", `!document.querySelector(`+js(trSel(reformTask))+`)`)

	// The city returns it; the reason is required, and the API says so.
	city := f.signIn(t, srv, "changsha-approver")
	city.waitText(trSel(reformTask), "第 2/3 步")
	city.click(trSel(reformTask) + " button[data-action=reject]")
	city.waitJS("the reason dialog", `document.querySelector('dialog').open`)
	city.click("#reject-confirm")
	city.waitText(`dialog [data-field="reason"] .field-error`, "退回时必须填写理由")
	city.fill("dialog textarea", "请补充正式印发文号")
	city.click("#reject-confirm")
	city.waitJS("the dialog closed", `!document.querySelector('dialog').open`)
	city.waitText("main", "没有等待您审批的事项")

	// The official sees the reason (live: the notification refreshes the
	// page) and submits again.
	off.waitText(".returned", "请补充正式印发文号")
	off.waitText("#task-status", "办理中")
	off.waitText(".chain .step-rejected", "请补充正式印发文号")
	off.shot("03-task", "")
	// The list says so on the row, with the reason (in English too).
	off.goTo("#/tasks")
	off.waitText(rowSel(reformTask)+" .returned-tag", "已退回")
	off.waitText(rowSel(reformTask)+" .tr-reason", "退回理由：请补充正式印发文号")
	off.waitNoText(rowSel(filingTask), "已退回")
	off.shot("02c-tasks-returned", "")
	off.clickText("button.lang-switch", "English")
	off.waitText(rowSel(reformTask)+" .returned-tag", "Returned")
	off.waitText(rowSel(reformTask)+" .tr-reason", "Reason: 请补充正式印发文号")
	off.clickText("button.lang-switch", "中文")
	off.waitText(rowSel(reformTask)+" .returned-tag", "已退回")
	off.click(rowSel(reformTask) + " a.tr-title")
	off.settled()
	off.waitText(".returned", "请补充正式印发文号")
	off.fill("#form-submit textarea", "已补充文号：芙计生协发〔2021〕3号")
	off.click("#form-submit button[type=submit]")
	off.waitText("#task-status", "审批中")
	off.waitNoText("main", "已被退回修改")
	off.goTo("#/tasks")
	off.waitText(rowSel(reformTask), "审批中")
	off.waitNoText(rowSel(reformTask), "已退回")
	off.click(rowSel(reformTask) + " a.tr-title")
	off.settled()

	// The county approves both waiting tasks at once.
	county.reload()
	county.waitJS("two steps waiting again", `document.querySelectorAll('table.approvals tbody tr').length === 2`)
	county.click("#select-all")
	county.waitText(".sel-count", "已选 2 项")
	county.fill(".bulk-bar input[type=text]", "同意")
	county.click("#bulk-approve")
	county.waitText("main", "没有等待您审批的事项")

	// The city approves on the task page, the province on its list.
	city.goTo("#/tasks/" + escape(reformTask))
	city.waitText("#form-decide", "审批（第 2 步）")
	city.fill("#form-decide textarea", "同意上报")
	city.click(`#form-decide button[value="yes"]`)
	city.waitText(".task-badges", "第 3/3 步")
	prov := f.signIn(t, srv, "hunan-approver")
	prov.waitText(trSel(reformTask), "第 3/3 步")
	prov.click(trSel(reformTask) + " button[data-action=approve]")
	prov.waitJS("the last step decided", `!document.querySelector(`+js(trSel(reformTask))+`)`)

	// The chain is complete, with who decided each step.
	off.waitText("#task-status", "已办结")
	off.waitJS("three approved steps", `document.querySelectorAll('.chain .step-approved').length === 3`)
	off.waitText(".chain", "芙蓉区审核人")
	off.waitText(".chain", "长沙市审核人")
	off.waitText(".chain", "省计生协审核人")
	off.waitText(".timeline", "办结")

	// The board shows the change: one of 芙蓉区's two tasks completed.
	sup.reload()
	sup.waitJS("芙蓉区 completed", `document.querySelector('tr[data-unit="430102"] .n-completed')?.innerText === '1'`)
	// 2.1 completed, 2.3 in approval (and 8.1 overdue if that test ran
	// first): half or a third done.
	if got := sup.text(`tr[data-unit="430102"] .n-rate`); got != "50%" && got != "33.3%" {
		t.Fatalf("芙蓉区 completion after: %q", got)
	}
	sup.waitText(".ranking li:first-child", "芙蓉区")
	sup.shot("05-board", "")
	sup.click(`button[data-export="rollup"]`)
	sup.waitText("#toasts", "已下载 督办-完成情况-长沙市-hunan-2021-2021.xlsx")
	// Click through to the district and back up the path.
	sup.click(`tr[data-unit="430102"] a`)
	sup.settled()
	sup.waitText("h1", "芙蓉区")
	sup.waitText(".crumbs", "长沙市")
	sup.clickText(".crumbs a", "长沙市")
	sup.settled()
	sup.waitText("h1", "长沙市")

	// The official's notifications: the return and the completion; all read.
	off.goTo("#/notifications")
	off.waitText(".notice-list", "退回")
	off.shot("06-notifications", "")
	off.click("#mark-all")
	off.waitJS("the bell cleared", `document.getElementById('bell-count').hidden`)
	off.waitNoText(".notice-list", "标为已读")
}

// A deadline passes in plan time (the clock runs 288× faster, two plan
// hours are 25 seconds): the real workflow's overdue alarm fires, the
// task turns red on the official's list (with the notification arriving
// live on the bell) and appears on the supervisor's board.
func TestDeadlinePassesAndTheTaskTurnsRed(t *testing.T) {
	f := getFixture(t)
	srv, realDue := f.memberDayServer(t)

	off := f.signIn(t, srv, "furong-official")
	row := rowSel(memberDay)
	off.waitJS("the member-day task", `document.querySelector(`+js(row)+`)`)
	if time.Now().After(realDue.Add(-3 * time.Second)) {
		t.Fatalf("setup took too long: the deadline passed before the first look")
	}
	off.waitText(row+" .light", "临近截止")
	if light := off.str(`document.querySelector(` + js(row) + `).dataset.rowLight`); light != "yellow" {
		t.Fatalf("before the deadline: light %q, want yellow", light)
	}
	off.waitText(row+" .countdown", "剩余")
	off.waitText(".plan-clock", "2021/05/29")
	off.waitText(".plan-clock", "288")
	before := off.bell()

	sup := f.signIn(t, srv, "changsha-supervisor")
	sup.waitJS("the overdue list", `document.querySelector('.list-box .empty, .list-box table')`)
	sup.waitNoText(".list-box", "会员活动日")

	// The deadline passes; the workflow records it and notifies the unit.
	off.waitJSFor("the overdue notification on the bell", fmt.Sprintf(`(() => { const c = document.getElementById('bell-count'); return c && !c.hidden && Number(c.textContent) > %d; })()`, before), time.Until(realDue)+60*time.Second)
	off.waitText("#toasts", "逾期")
	off.waitJS("the row red", `document.querySelector(`+js(row)+`)?.dataset.rowLight === 'red'`)
	off.reload()
	off.waitJS("the row red after a reload", `document.querySelector(`+js(row)+`)?.dataset.rowLight === 'red'`)
	off.waitText(row+" .light", "已逾期")
	off.waitText(row+" .countdown", "已逾期")
	off.shot("02b-tasks-overdue", "")
	off.click(row + " a.tr-title")
	off.settled()
	off.waitText(".timeline", "已逾期")

	// The official asks for more time; the city's approver sees the request
	// as asked on the extensions list: the new date, how much later, why,
	// who. (It stays pending: the task is still overdue below.)
	off.setValue("#form-extension input[type=date]", "2021-06-30")
	off.fill("#form-extension textarea", "会员日活动改在六月集中开展")
	off.click("#form-extension button[type=submit]")
	off.waitText(".alert-info", "会员日活动改在六月集中开展")
	appr := f.signIn(t, srv, "changsha-approver")
	appr.goTo("#/approvals?kind=extension")
	ext := trSel(memberDay)
	appr.waitText(ext+" .ext-new-due", "2021/06/30")
	appr.waitText(ext, "延后 32 天")
	appr.waitText(ext+" .ext-reason", "会员日活动改在六月集中开展")
	appr.waitText(ext+" .ext-requester", "芙蓉区承办人")
	appr.waitText(ext, "2021/05/29") // the deadline as it stands
	appr.shot("04b-approvals-extension", "")

	// The supervisor's board lists it, and 芙蓉区's light is no longer green.
	sup.reload()
	sup.waitText(".list-box", "开展“5.29 会员活动日”宣传服务活动")
	sup.waitJS("芙蓉区 overdue count", `document.querySelector('tr[data-unit="430102"] .n-overdue')?.innerText === '1'`)
	if light := sup.str(`document.querySelector('tr[data-unit="430102"] .light').dataset.light`); light != "red" && light != "yellow" {
		t.Fatalf("芙蓉区 light %q with a task overdue", light)
	}
	sup.shot("05b-board-overdue", "")

	// The province sees every city's overdue member days: a long list, 20
	// at a time.
	adm := f.signIn(t, srv, "hunan-admin")
	adm.waitText(".list-box .pager", "已显示 20 条")
	adm.click(`.list-box button[data-action="more"]`)
	adm.waitText(".list-box .pager", "已显示 40 条")
	adm.waitJS("40 overdue rows", `document.querySelectorAll('table.overdue tbody tr').length === 40`)
	// Filter the overdue list by section and level, then click through.
	sup.setValue(`form.filters select[name=section]`, "8")
	sup.setValue(`form.filters select[name=level]`, "county")
	sup.click(`form.filters button[type=submit]`)
	sup.settled()
	sup.waitText(".list-box", "芙蓉区")
	sup.waitNoText(".list-box", "长沙市本级")
	sup.clickText(`.list-box tr[data-id="2021/8.1/430102"] a`, "会员活动日")
	sup.settled()
	sup.waitText("h1", "会员活动日")
	sup.waitText(".task-badges", "已逾期")
}

// Sign-in says clearly what went wrong: a wrong password (with the tries
// left), then a locked account; and the page switches to English.
func TestSignInMessages(t *testing.T) {
	f := getFixture(t)
	srv := f.juneServer(t)
	p := f.open(t, srv)
	p.login("lockme", "wrong password 1")
	p.loginAnswered()
	p.waitText(`[data-field="password"] .field-error`, "用户名或密码错误")
	p.waitText(".form-error", "登录失败")
	if inv := p.str(`document.querySelector('input[name=password]').getAttribute('aria-invalid')`); inv != "true" {
		t.Fatalf("password aria-invalid=%q", inv)
	}
	for i := 2; i <= 4; i++ {
		p.login("lockme", fmt.Sprintf("wrong password %d", i))
		p.loginAnswered()
	}
	p.waitText(`[data-field="password"] .field-error`, "再错 1 次账号将被锁定")
	p.login("lockme", "wrong password 5")
	p.loginAnswered()
	p.waitText(".form-error", "账号已锁定")
	p.waitText(".form-error", "联系管理员解锁")
	// Even the right password is refused while it is locked.
	p.login("lockme", pw)
	p.loginAnswered()
	p.waitText(".form-error", "账号已锁定")

	p.clickText("button.lang-switch", "English")
	p.waitText("h1", "Sign in")
	p.waitText("label", "Username")
	if lang := p.str(`document.documentElement.lang`); lang != "en" {
		t.Fatalf("lang=%q after switching", lang)
	}
	p.clickText("button.lang-switch", "中文")
	p.waitText("h1", "登录")

	// The keyboard alone signs in: the first field has the focus, Enter
	// submits, and the new page's heading takes the focus.
	k := f.open(t, srv)
	if a := k.str(`document.activeElement.name`); a != "username" {
		t.Fatalf("focus on %q, want the username field", a)
	}
	k.do(chromedp.KeyEvent("furong-official"), chromedp.KeyEvent("\t"), chromedp.KeyEvent(pw), chromedp.KeyEvent("\r"))
	k.waitJS("signed in by keyboard", `!document.getElementById('topbar').hidden && location.hash === '#/tasks'`)
	k.waitText("h1", "我的待办")
	k.waitJS("the skip link first in tab order", `document.querySelector('body > a.skip-link').getAttribute('href') === '#main'`)
}

// The admin's pages: a plan file's errors shown by line, a valid file
// checked, a launch watched to the end; the audit trail with a filter.
func TestPlansAndAudit(t *testing.T) {
	f := getFixture(t)
	srv := f.juneServer(t)
	adm := f.signIn(t, srv, "hunan-admin")
	if h := adm.str(`location.hash`); h != "#/board" {
		t.Fatalf("the admin lands on %s, want #/board", h)
	}
	for _, item := range []string{"督办看板", "审计", "计划管理"} {
		adm.waitText(".topnav", item)
	}
	adm.waitNoText(".topnav", "我的待办")

	adm.goTo("#/plans")
	adm.waitText("main", "hunan-2021")
	broken, err := filepath.Abs("../../plan/testdata/broken/several-errors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	adm.uploadPaths("#plan-upload input[type=file]", broken)
	adm.click("#plan-validate")
	adm.waitText("table.plan-errors caption", "处错误")
	adm.waitText(`table.plan-errors tr[data-line="2"]`, "计划编号")
	adm.waitText(".source li.bad", "Test_2021")
	adm.waitText("#plan-upload .form-error", "计划文件有")
	adm.shot("08-plans", ".plan-result")

	shipped, err := filepath.Abs("../../plan/plans/hunan-2021.yaml")
	if err != nil {
		t.Fatal(err)
	}
	adm.uploadPaths("#plan-upload input[type=file]", shipped)
	adm.click("#plan-validate")
	adm.waitText(".plan-result", "计划有效：hunan-2021")
	adm.waitText(".plan-result", "10103")

	// Launch one template (岳阳市's reform pilot: one task) and watch it.
	adm.waitJS("the templates to choose from", `document.querySelector('#plan-launch input[value="2.4"]')`)
	adm.click(`#plan-launch input[value="2.4"]`)
	adm.click(`#plan-launch button[type=submit]`)
	adm.waitJSFor("the launch to finish", `document.getElementById('launch-status')?.dataset.status === 'done'`, 60*time.Second)
	adm.waitText("#launch-status", "共 1 个任务")

	adm.goTo("#/audit")
	adm.waitJS("audit rows", `document.querySelectorAll('table.audit tbody tr').length > 0`)
	adm.waitText("table.audit", "下达计划")
	adm.shot("07-audit", "")
	adm.setValue(`form.filters select`, "plan.launch")
	adm.click(`form.filters button[type=submit]`)
	adm.settled()
	adm.waitJS("only launches", `[...document.querySelectorAll('table.audit tbody tr')].every((r) => r.innerText.includes('下达计划'))`)
	// The user filter takes a username.
	adm.fill(`form.filters [data-field="actor"] input`, "hunan-admin")
	adm.click(`form.filters button[type=submit]`)
	adm.settled()
	adm.waitJS("the admin's launches", `(() => { const rows = [...document.querySelectorAll('table.audit tbody tr')];
		return rows.length > 0 && rows.every((r) => r.innerText.includes('省计生协管理员') && r.innerText.includes('下达计划')); })()`)
	if h := adm.str(`location.hash`); !strings.Contains(h, "actor=hunan-admin") {
		t.Fatalf("the filter is not in the address: %s", h)
	}
	// A bad filter is answered next to its field.
	adm.fill(`form.filters [data-field="actor"] input`, "a b")
	adm.click(`form.filters button[type=submit]`)
	adm.settled()
	adm.waitText(`form.filters [data-field="actor"] .field-error`, "应为用户名或用户编号")
}

func escape(id string) string { return strings.ReplaceAll(id, "/", "%2F") }
